export {
  type AcceptedRecord,
  type AcceptedRecordParse,
  MAX_CONTENT_ID_LENGTH,
  parseAcceptedRecord,
  videoFramesReadable,
} from "./accepted-record.js";
export { addedEntries, addedSince, listedValues, type ReleaseStep, releaseSteps } from "./release-diff.js";
export {
  MAX_RECORD_LINE_BYTES,
  ndjsonLines,
  REMATCH_FAILURES_LISTED,
  type RecordFailure,
  type RematchSummary,
  type RetroactiveHit,
  rematchRecords,
  retroactiveHit,
} from "./rematch.js";

// The hash-set layer: entry model, readers, the .phs store, integrity, versions, overrides.

export { HashSetBuilder } from "./builder.js";
export { diffHashSets, type HashSetChange } from "./diff.js";
export { decryptStore, encryptStore, isEncryptedStore, parseListKey } from "./encryption.js";
export type { EntryFields, HashSetEntry, HashSetRecord, ListedVideoFrame, Withdrawal } from "./entry.js";
export {
  csvCell,
  type ExportTally,
  exportCsv,
  exportNdjson,
  listedVideoCounts,
  withdrawnIn,
} from "./export.js";
export { HashSet, type PackedSection } from "./hash-set.js";
export { degenerateValue, parseHashValue } from "./hash-value.js";
export {
  type DetectedFormat,
  detectFormatOfText,
  detectHashSetFormat,
  HASH_SET_FORMATS,
  type HashSetFormat,
  type ImportOptions,
  importHashSet,
} from "./import.js";
export { type ImportProblem, ImportReport, type InputEnding } from "./import-report.js";
export {
  checkKeyRoles,
  DEFAULT_MAX_URL_BYTES,
  isListUrl,
  type LoadedHashSet,
  type LoadOptions,
  loadHashSet,
  parseStore,
} from "./load.js";
export { STATE_LOCK_STALE_MS, STATE_LOCK_WAIT_MS, withLock } from "./locked-file.js";
export {
  addOverride,
  checkOverrides,
  type Override,
  type OverridesCheck,
  type OverridesFile,
  type OverridesHeader,
  type OverridesProvenance,
  type OverridesWrite,
  type OverridesWritten,
  overridesForRelease,
  overridesPath,
  overridesSignaturePath,
  readOverrides,
  readOverridesFile,
  removeOverride,
  signOverrides,
} from "./overrides.js";
export type { HashSetReader, ReaderOptions } from "./readers/reader.js";
export { parseVpdqSignal, vpdqSignalId } from "./readers/vpdq.js";
export { generateSigningKeys, keyId, parseTrustedKeys, signStore, verifyStore } from "./signature.js";
export type { ListInfo, PhsHeader, StoreProvenance } from "./store-format.js";
export { serializeStore } from "./store-writer.js";
export { type AuditHead, auditLogKey, ListVersionState, RollbackState } from "./version-state.js";
export { type ListedVideoIdentity, listedVideoEntries } from "./video-entries.js";
export { formatVpdqText, parseVpdqLine, parseVpdqText, type VpdqFrame } from "./vpdq-text.js";

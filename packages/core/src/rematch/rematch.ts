import { type CheckResult, decide } from "../check/checker.js";
import type { Matcher } from "../match/matcher.js";
import type { HashRecord } from "../record/hash-record.js";
import { type AcceptedRecord, parseAcceptedRecord } from "./accepted-record.js";
import type { ReleaseStep } from "./release-diff.js";

/** A stored record that a later release matches: the match result, decided, with the platform's own fields. */
export type RetroactiveHit = Omit<CheckResult, "path"> & {
  path?: string;
  contentId: string;
  uploadedAt: string;
  retroactive: true;
  /** Each list a hit is in: its version now and the earlier version it was compared with. */
  release: ReleaseStep[];
};

/** A line of records that was not read, by number, with a stable code and why (never the line's text). */
export interface RecordFailure {
  line: number;
  code: "PHM_REMATCH_RECORD";
  why: string;
}

/** What a retroactive run did. */
export interface RematchSummary {
  read: number;
  failed: number;
  matched: number;
  /** The first failures ({@link REMATCH_FAILURES_LISTED} at most; `failed` counts them all). */
  failures: RecordFailure[];
}

/** How many failed lines a summary lists one by one. */
export const REMATCH_FAILURES_LISTED = 100;
/**
 * The longest line taken: a record of a long video (one PDQ frame a second for hours) is a few MiB. A longer line is
 * a failure, skipped without being held, so a file without newlines cannot make the reader hold all of it.
 */
export const MAX_RECORD_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Matches accepted-upload records (NDJSON, streamed: one line in memory at a time) with `matcher`, which holds what a
 * release added (or a whole list), and hands every record that hits to `onHit`. A line that is not a record is
 * counted, given to `onFailure`, and the run goes on.
 */
export async function rematchRecords(
  input: AsyncIterable<Buffer | string>,
  matcher: Matcher,
  steps: readonly ReleaseStep[],
  onHit: (hit: RetroactiveHit) => void | Promise<void>,
  onFailure: (failure: RecordFailure) => void = () => {},
): Promise<RematchSummary> {
  const summary: RematchSummary = { read: 0, failed: 0, matched: 0, failures: [] };
  const byList = new Map(steps.map((s) => [s.listId, s]));
  for await (const item of ndjsonLines(input)) {
    if (item.text !== undefined && item.text.trim() === "") continue;
    summary.read++;
    const parsed =
      item.text === undefined
        ? { ok: false as const, why: `the line is longer than ${MAX_RECORD_LINE_BYTES} bytes` }
        : parseAcceptedRecord(item.text);
    if (!parsed.ok) {
      summary.failed++;
      const failure: RecordFailure = { line: item.line, code: "PHM_REMATCH_RECORD", why: parsed.why };
      if (summary.failures.length < REMATCH_FAILURES_LISTED) summary.failures.push(failure);
      onFailure(failure);
      continue;
    }
    const hit = retroactiveHit(parsed.record, matcher, byList);
    if (hit === undefined) continue;
    summary.matched++;
    await onHit(hit);
  }
  return summary;
}

/** One record against the matcher: a {@link RetroactiveHit} when it is known (an overridden hit alone is not). */
export function retroactiveHit(
  record: AcceptedRecord,
  matcher: Matcher,
  byList: ReadonlyMap<string, ReleaseStep>,
): RetroactiveHit | undefined {
  const { contentId, uploadedAt, path, ...hashes } = record;
  const result = matcher.match({ ...hashes, path: path ?? "" } as HashRecord);
  if (result.status !== "known") return undefined;
  const { path: _path, ...decided } = decide(result);
  const lists = [...new Set(result.matches.map((m) => m.list))];
  return {
    contentId,
    uploadedAt,
    ...(path !== undefined && { path }),
    ...decided,
    retroactive: true,
    release: lists.map((listId) => byList.get(listId) ?? { listId, version: 0 }),
  };
}

/**
 * The lines of an NDJSON stream, numbered from 1, split on "\n" (a "\r" before it dropped). A line longer than
 * {@link MAX_RECORD_LINE_BYTES} comes out as `{line}` without text, its bytes dropped as they arrive.
 */
export async function* ndjsonLines(
  input: AsyncIterable<Buffer | string>,
  maxBytes = MAX_RECORD_LINE_BYTES,
): AsyncGenerator<{ line: number; text?: string }> {
  let parts: Buffer[] = [];
  let held = 0;
  let tooLong = false;
  let line = 0;
  const finish = (last: Buffer) => {
    line++;
    if (tooLong || held + last.length > maxBytes) return { line };
    let bytes = parts.length === 0 ? last : Buffer.concat([...parts, last]);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    return { line, text: bytes.toString("utf8") };
  };
  for await (const chunk of input) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (;;) {
      const end = buffer.indexOf(0x0a, start);
      if (end < 0) break;
      yield finish(buffer.subarray(start, end));
      parts = [];
      held = 0;
      tooLong = false;
      start = end + 1;
    }
    if (start < buffer.length && !tooLong) {
      const rest = buffer.subarray(start);
      if (held + rest.length > maxBytes) {
        tooLong = true;
        parts = [];
        held = 0;
      } else {
        parts.push(Buffer.from(rest)); // a copy: the stream may reuse its chunk
        held += rest.length;
      }
    }
  }
  if (held > 0 || tooLong) yield finish(Buffer.alloc(0));
}

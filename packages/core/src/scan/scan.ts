import { lstat } from "node:fs/promises";
import { hasherSpec } from "../hashers/index.js";
import { PHMATCH_VERSION } from "../version.js";
import type { LoadedHashSet } from "../hashset/load.js";
import type { Matcher } from "../match/matcher.js";
import { readFileOnce } from "../decode/read-file.js";
import { displayPath, pathBytesOf, recordPath, type FilePath } from "../pipeline/file-path.js";
import { orderedMap } from "../pool/ordered-map.js";
import type { MatchResult } from "../match/match-result.js";
import type { HashRecord } from "../record/hash-record.js";
import { walkInputs } from "../pipeline/walk.js";
import type { SupervisedHashPool } from "../pool/supervised-pool.js";
import { after } from "./resume.js";
import { SCAN_REPORT_VERSION, ScanTally, type ScanFileRecord, type ScanHeader } from "./scan-report.js";


/** Algorithms a scan computes: what the lists hold that phmatch computes, plus SHA-256 always (chain of custody). */
export function scanAlgorithms(sets: LoadedHashSet[], requested?: string[]): string[] {
  const listed = new Set(sets.flatMap((s) => s.set.algorithms).filter((id) => hasherSpec(id)?.input !== "imported"));
  const chosen = requested ?? [...listed];
  return [...new Set([...chosen, "sha256"])];
}

/** The report's header: tool, lists with the SHA-256 of each store file, case and examiner. */
export function scanHeader(options: { inputs: string[]; sets: LoadedHashSet[]; algorithms: string[]; policies: string[]; case?: string; examiner?: string; rollbackState?: ScanHeader["rollbackState"] }): ScanHeader {
  const lists: ScanHeader["lists"] = [];
  for (const loaded of options.sets) {
    for (const list of loaded.set.lists) {
      lists.push({ listId: list.listId, version: list.version, store: loaded.path, storeSha256: loaded.storeSha256, ...(loaded.signedBy !== undefined && { signedBy: loaded.signedBy }) });
    }
  }
  const overrides: NonNullable<ScanHeader["overrides"]> = options.sets.flatMap((loaded) => {
    const o = loaded.overridesProvenance;
    return o === undefined ? [] : [{ store: loaded.path, count: o.count, ...(o.release !== undefined && { release: o.release }), ...(o.signedBy !== undefined && { signedBy: o.signedBy }), sha256: o.sha256 }];
  });
  return {
    type: "header",
    schema: `urn:phmatch:schema:scan-report:${SCAN_REPORT_VERSION}`,
    tool: "phmatch",
    version: PHMATCH_VERSION,
    startedAt: new Date().toISOString(),
    ...(options.case !== undefined && { case: options.case }),
    ...(options.examiner !== undefined && { examiner: options.examiner }),
    inputs: options.inputs,
    algorithms: options.algorithms,
    policies: options.policies,
    lists,
    ...(overrides.length > 0 && { overrides }),
    ...(options.rollbackState !== undefined && { rollbackState: options.rollbackState }),
  };
}

/**
 * Scans inputs: walks them streaming (symlinks not followed), hashes every file read-only on the supervised pool,
 * matches it, and yields one record per file in walk order; the tally gives the summary. A bad file is a record
 * with its error code, never the end of the scan. Identical files (same SHA-256) are hashed once: each later copy
 * is reported as a duplicate of the first, with its hashes and matches, without being decoded again.
 */
export async function* scanFiles(
  inputs: string[],
  pool: SupervisedHashPool,
  matcher: Matcher,
  tally: ScanTally,
  resume: { after?: string; firsts?: Map<string, string>; followSymlinks?: boolean } = {},
): AsyncGenerator<ScanFileRecord> {
  // SHA-256 -> the first file with those bytes: its record as compact JSON once hashed (bench/soak: about 1.9 KB
  // of RSS per distinct file with six algorithms and the query views, so 4 million take ~7 GB), or the pending
  // hash, which a second copy in flight awaits, so copies are hashed once even when they arrive together. A
  // resumed scan starts from the report's first copies.
  const firsts: Map<string, Promise<ScanFileRecord> | string> = resume.firsts ?? new Map();
  const scanOne = async (file: FilePath): Promise<ScanFileRecord> => {
    const digest = await fileSha256(file);
    const first = digest === undefined ? undefined : firsts.get(digest);
    if (first !== undefined) return duplicateRecord(typeof first === "string" ? (JSON.parse(first) as ScanFileRecord) : await first, file);
    const pending = pool.hash(file).then((hashed) => scanRecord(hashed, matcher.match(hashed), digest));
    if (digest !== undefined) firsts.set(digest, pending);
    const record = await pending;
    if (digest !== undefined) {
      if (record.error !== undefined) firsts.delete(digest); // a failed read is not a reference
      else firsts.set(digest, JSON.stringify(record));
    }
    return record;
  };
  for await (const record of orderedMap(after(walkInputs(inputs, { followSymlinks: resume.followSymlinks === true }), resume.after), pool.jobs * 4, scanOne)) {
    await withSize(record);
    tally.add(record);
    yield record;
  }
}

/**
 * A file's report record from its hashes, its match result and the SHA-256 read beside the worker (kept when the
 * worker died on the file twice). Without size: the scan adds it from lstat as the record is reported.
 */
export function scanRecord(hashed: HashRecord, result: MatchResult, digest: string | undefined): ScanFileRecord {
  return withSha256(fileRecord(hashed, result), digest);
}

function fileRecord(hashed: HashRecord, result: MatchResult): ScanFileRecord {
  const record: ScanFileRecord = { type: "file", path: hashed.path, status: result.status, matches: result.matches };
  if (hashed.pathBytes !== undefined) record.pathBytes = hashed.pathBytes;
  if (hashed.hashes !== undefined) record.hashes = hashed.hashes;
  if (hashed.quality !== undefined) record.quality = hashed.quality;
  if (result.notes !== undefined) record.notes = result.notes;
  if (result.error !== undefined) record.error = result.error;
  return record;
}

// A file whose worker died on it twice comes back with no hashes: it keeps the SHA-256 read here (chain of custody).
function withSha256(record: ScanFileRecord, digest: string | undefined): ScanFileRecord {
  if (digest !== undefined && record.hashes?.sha256 === undefined) record.hashes = { ...record.hashes, sha256: digest };
  return record;
}

/** The record of a later copy of `first` (same SHA-256): its hashes and matches, its own path; size added later. */
export function duplicateRecord(first: ScanFileRecord, file: FilePath): ScanFileRecord {
  const record: ScanFileRecord = { ...first, path: displayPath(file), duplicateOf: first.path };
  delete record.pathBytes;
  delete record.size;
  const bytes = pathBytesOf(file);
  if (bytes !== undefined) record.pathBytes = bytes;
  return record;
}

// SHA-256 of a file's bytes, streamed read-only (the worker reads it again, from the page cache), or undefined
// when it cannot be read (the worker then reports why).
/** SHA-256 of a file's bytes (streamed, read-only), or undefined when it cannot be read. */
export async function fileSha256(file: FilePath): Promise<string | undefined> {
  try {
    return (await readFileOnce(file, { digests: ["sha256"], keepBytes: false })).digests.sha256;
  } catch {
    return undefined;
  }
}

/** Adds the file's size (lstat, as reported) to its record; a file gone since is left without one. */
export async function withSize(record: ScanFileRecord): Promise<ScanFileRecord> {
  const size = await lstat(recordPath(record)).then((s) => s.size, () => undefined);
  if (size !== undefined) record.size = size;
  return record;
}

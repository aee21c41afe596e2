import { lstat, stat } from "node:fs/promises";
import { readFileOnce } from "../decode/read-file.js";
import {
  displayPath,
  type FilePath,
  pathBytesOf,
  recordPath,
  reportPath,
  reportPathFields,
} from "../files/file-path.js";
import { isDigest } from "../files/streaming-digests.js";
import { hasherSpec } from "../hashers/index.js";
import type { LoadedHashSet } from "../hashset/load.js";
import { digestOrder, ignorableAlgorithms, ignorableHits, type ScanIgnorable } from "../ignorable/scan-ignorable.js";
import type { MatchResult } from "../match/match-result.js";
import type { Matcher } from "../match/matcher.js";
import type { AccessTimeWatch } from "../pipeline/access-times.js";
import { type FileTimes, readFileTimes } from "../pipeline/file-times.js";
import { type WalkEntry, walkEntries } from "../pipeline/walk.js";
import { CallOrder, orderedMap } from "../pool/ordered-map.js";
import type { SupervisedHashPool } from "../pool/supervised-pool.js";
import type { HashRecord } from "../record/hash-record.js";
import type { ScanFileRecord, ScanTally } from "../report/scan-report.js";
import { type FirstCopies, MemoryFirstCopies } from "./first-copies.js";
import { after } from "./resume.js";
import { SpillFirstCopies } from "./spill-first-copies.js";

/** Algorithms a scan computes: what the lists hold that phmatch computes, plus SHA-256 always (chain of custody). */
export function scanAlgorithms(sets: LoadedHashSet[], requested?: string[]): string[] {
  const listed = new Set(sets.flatMap((s) => s.set.algorithms).filter((id) => hasherSpec(id)?.input !== "imported"));
  const chosen = requested ?? [...listed];
  return [...new Set([...chosen, "sha256"])];
}

/** How {@link scanFiles} walks, and where a resumed scan picks up. */
export interface ScanWalkOptions {
  /** Key (pathKey) of the last entry already reported: the walk resumes after it. */
  after?: string;
  /**
   * The first reported file of each content, from the report being resumed (closed by the caller). Default: a new
   * {@link SpillFirstCopies}, closed when the scan ends.
   */
  firsts?: FirstCopies;
  followSymlinks?: boolean;
  /** Watches (and may set back) the access times of the directories and links the walk reads. */
  accessTimes?: AccessTimeWatch;
  /** The `--ignorable` lists: a file whose digest one holds, and no list of known material does, is set aside. */
  ignorable?: readonly ScanIgnorable[];
}

/**
 * Scans inputs: walks them streaming, hashes every file read-only on the supervised pool, matches it, and yields
 * one record per entry in walk order; the tally gives the summary. A symbolic link is a record of its own, with its
 * target, never hashed (followed, with `followSymlinks`, once per target). A bad file is a record with its error
 * code, never the end of the scan. Identical files (same SHA-256) are hashed once: each later copy is reported as a
 * duplicate of the first, with its hashes and matches, without being decoded again.
 */
export async function* scanFiles(
  inputs: string[],
  pool: SupervisedHashPool,
  matcher: Matcher,
  tally: ScanTally,
  resume: ScanWalkOptions = {},
): AsyncGenerator<ScanFileRecord> {
  // What grows with the case: on disk unless given (see FirstCopies); the one made here ends with the scan.
  const firsts = resume.firsts ?? new SpillFirstCopies();
  try {
    const scanEntry = createEntryScanner(pool, matcher, {
      firsts,
      digestOnly: pool.algorithms,
      ...(resume.ignorable !== undefined && { ignorable: resume.ignorable }),
    });
    const walk = walkEntries(inputs, {
      followSymlinks: resume.followSymlinks === true,
      ...(resume.accessTimes !== undefined && { accessTimes: resume.accessTimes }),
    });
    for await (const record of orderedMap(after(walk, resume.after), pool.jobs * 4, scanEntry)) {
      tally.add(record);
      yield record;
    }
  } finally {
    if (resume.firsts === undefined) firsts.close();
  }
}

/** Options of {@link createEntryScanner}. */
export interface EntryScannerOptions {
  /** The first reported file of each content (default: a new {@link MemoryFirstCopies}); from a resumed report. */
  firsts?: FirstCopies;
  /**
   * Ignorable lists (issue 22): the read that gives the SHA-256 gives also the digests they hold and the exact
   * digests the lists of known material hold. A file on a list of known material is hashed and matched as always
   * (known first); otherwise a file on an ignorable list is recorded `ignorable`, never decoded or hashed on the pool.
   */
  ignorable?: readonly ScanIgnorable[];
  /**
   * The pool's algorithms: when every one is a digest of the bytes (MD5, SHA-1, SHA-256: a scan with
   * `--algorithms sha256`, or lists holding only exact digests), they are computed in the read that gives the
   * SHA-256 and the file is not sent to the pool, which would only read it again for the same digests (the record
   * is the one the pool would give). A file that cannot be read still goes to the pool, which says why.
   */
  digestOnly?: readonly string[];
}

/**
 * The scan's per-file step, the same for a local scan and a distributed worker: one walked entry to its complete
 * report record. A symbolic link recorded as such: its record, never hashed. A file: its SHA-256 read (read-only,
 * streamed), then, if an earlier file had those bytes, a duplicate of that file's record (hashes and matches, not
 * decoded again); otherwise hashed on the pool and matched. Then the target of the link it was reached through, and
 * its size.
 *
 * Call it in walk order: files are read for their SHA-256 side by side, but claim "first copy" in call order, so a
 * later copy whose read ended sooner (a busy disk or machine) is never reported as the first, and two scans of one
 * tree give the same duplicateOf.
 */
export function createEntryScanner(
  pool: Pick<SupervisedHashPool, "hash">,
  matcher: Matcher,
  options: EntryScannerOptions = {},
): (entry: WalkEntry) => Promise<ScanFileRecord> {
  // The first file of each content once reported (what grows with the case: see FirstCopies), and the hashes in
  // flight by SHA-256, which a second copy arriving meanwhile awaits, so copies are hashed once even when they
  // arrive together (bounded by the files in flight).
  const firsts: FirstCopies = options.firsts ?? new MemoryFirstCopies();
  const inFlight = new Map<string, Promise<ScanFileRecord>>();
  const claims = new CallOrder();
  const ignorable = options.ignorable ?? [];
  const digestOnly =
    options.digestOnly !== undefined && options.digestOnly.length > 0 && options.digestOnly.every(isDigest)
      ? options.digestOnly
      : undefined;
  // One read gives the SHA-256; with ignorable lists also their digests and the exact digests known lists hold; in
  // a digest-only scan, every algorithm asked.
  const digestIds =
    ignorable.length === 0 && digestOnly === undefined
      ? ["sha256"]
      : digestOrder([
          "sha256",
          ...(digestOnly ?? []),
          ...ignorableAlgorithms(ignorable),
          ...(ignorable.length > 0 ? matcher.matchable(["md5", "sha1", "sha256"]) : []),
        ]);
  const hash = (file: FilePath, digests: Record<string, string> | undefined): Promise<HashRecord> =>
    digestOnly !== undefined && digests !== undefined
      ? Promise.resolve(digestRecord(file, digestOnly, digests))
      : pool.hash(file);
  const scanFile = async (file: FilePath, times: Promise<FileTimes | undefined>): Promise<ScanFileRecord> => {
    // times first (stat: the file not opened), then the digests
    const read = times.then(() => fileDigests(file, digestIds));
    const { digest, first, pending } = await claims.run(read, (digests) => {
      const digest = digests?.sha256;
      if (digest !== undefined) {
        const first = firsts.get(digest) ?? inFlight.get(digest);
        if (first !== undefined) return { digest, first };
      }
      const set = digests === undefined ? undefined : ignorableRecord(file, digests, ignorable, matcher);
      const pending =
        set !== undefined
          ? Promise.resolve(set)
          : hash(file, digests).then((hashed) => scanRecord(hashed, matcher.match(hashed), digest));
      if (digest !== undefined) inFlight.set(digest, pending);
      return { digest, pending };
    });
    if (first !== undefined) return duplicateRecord(await first, file);
    let record: ScanFileRecord;
    try {
      record = await (pending as Promise<ScanFileRecord>);
    } finally {
      if (digest !== undefined && inFlight.get(digest) === pending) inFlight.delete(digest);
    }
    // A failed read is not a reference: a later copy is read again.
    if (digest !== undefined && record.error === undefined) firsts.set(digest, record);
    return record;
  };
  return async (entry) => {
    if (entry.kind === "symlink") return withSize(symlinkRecord(entry));
    const times = readFileTimes(entry.path, entry.linkTarget !== undefined);
    const record = await withSize(withLinkTarget(await scanFile(entry.path, times), entry.linkTarget));
    return withTimes(record, await times);
  };
}

/**
 * The hash record of a file whose algorithms are all digests of its bytes, from the digests read in the scan: the
 * record the pool gives for it (its path as the pool writes it, the digests in the order asked, the path's bytes).
 */
function digestRecord(file: FilePath, algorithms: readonly string[], digests: Record<string, string>): HashRecord {
  const hashes: Record<string, string> = {};
  for (const id of algorithms) {
    const digest = digests[id];
    if (digest !== undefined) hashes[id] = digest;
  }
  const record: HashRecord = { path: displayPath(file) };
  if (Object.keys(hashes).length > 0) record.hashes = hashes;
  const pathBytes = pathBytesOf(file);
  if (pathBytes !== undefined) record.pathBytes = pathBytes;
  return record;
}

/**
 * A file's report record from its hashes, its match result and the SHA-256 read beside the worker (kept when the
 * worker died on the file twice). Without size: the scan adds it from lstat as the record is reported.
 */
export function scanRecord(hashed: HashRecord, result: MatchResult, digest: string | undefined): ScanFileRecord {
  return withSha256(fileRecord(hashed, result), digest);
}

function fileRecord(hashed: HashRecord, result: MatchResult): ScanFileRecord {
  // The record's path is escaped when not UTF-8 (PATH_ESCAPE), not the hash record's readable form.
  const path = hashed.pathBytes !== undefined ? reportPath(Buffer.from(hashed.pathBytes, "base64")) : hashed.path;
  const record: ScanFileRecord = { type: "file", path, status: result.status, matches: result.matches };
  if (hashed.pathBytes !== undefined) record.pathBytes = hashed.pathBytes;
  if (hashed.hashes !== undefined) record.hashes = hashed.hashes;
  if (hashed.quality !== undefined) record.quality = hashed.quality;
  if (hashed.video !== undefined) {
    const { durationSeconds, frameRate, secondsPerHash, frames } = hashed.video;
    record.video = { durationSeconds, frameRate, secondsPerHash, frames: frames.length };
  }
  if (result.notes !== undefined) record.notes = result.notes;
  if (result.error !== undefined) record.error = result.error;
  return record;
}

// A file whose worker died on it twice comes back with no hashes: it keeps the SHA-256 read here (chain of custody).
function withSha256(record: ScanFileRecord, digest: string | undefined): ScanFileRecord {
  if (digest !== undefined && record.hashes?.sha256 === undefined) record.hashes = { ...record.hashes, sha256: digest };
  return record;
}

/**
 * The record of a later copy of `first` (same SHA-256): its hashes and matches, its own path (and none of the
 * first's link fields or times); size and times added later.
 */
export function duplicateRecord(first: ScanFileRecord, file: FilePath): ScanFileRecord {
  const record: ScanFileRecord = { ...first, path: reportPath(file), duplicateOf: first.path };
  for (const key of ["pathBytes", "size", "duplicateOfBytes", "linkTarget", "linkTargetBytes", "times"] as const)
    delete record[key];
  const bytes = pathBytesOf(file);
  if (bytes !== undefined) record.pathBytes = bytes;
  if (first.pathBytes !== undefined) record.duplicateOfBytes = first.pathBytes;
  return record;
}

/**
 * The record of a symbolic link recorded as such: its path, its target as readlink gives it (escaped as paths are
 * when not UTF-8), the path its target was already reported under (followed links), and why it was not followed;
 * never hashed, no size. A link that could not be read is an error record.
 */
export function symlinkRecord(entry: Extract<WalkEntry, { kind: "symlink" }>): ScanFileRecord {
  const { path, pathBytes } = reportPathFields(entry.path);
  const record: ScanFileRecord = {
    type: "file",
    path,
    status: entry.error !== undefined ? "error" : "symlink",
    matches: [],
  };
  if (pathBytes !== undefined) record.pathBytes = pathBytes;
  withLinkTarget(record, entry.linkTarget);
  if (entry.duplicateOf !== undefined) {
    const first = reportPathFields(entry.duplicateOf);
    record.duplicateOf = first.path;
    if (first.pathBytes !== undefined) record.duplicateOfBytes = first.pathBytes;
  }
  record.notes = [entry.note];
  if (entry.error !== undefined) record.error = entry.error;
  return record;
}

/** Adds the target of the symbolic link a file was reached through (escaped, with its bytes when not UTF-8). */
export function withLinkTarget(record: ScanFileRecord, target: Uint8Array | undefined): ScanFileRecord {
  if (target === undefined) return record;
  const fields = reportPathFields(target);
  record.linkTarget = fields.path;
  if (fields.pathBytes !== undefined) record.linkTargetBytes = fields.pathBytes;
  return record;
}

/** Digests (hex) of a file's bytes in one streamed read-only read, or undefined when it cannot be read. */
export async function fileDigests(file: FilePath, ids: readonly string[]): Promise<Record<string, string> | undefined> {
  try {
    return (await readFileOnce(file, { digests: ids, keepBytes: false })).digests;
  } catch {
    return undefined;
  }
}

/**
 * The record of a file set aside as ignorable, or undefined when it is not: when no ignorable list holds its
 * digests, or when a list of known material holds one exactly (known first: that file is hashed and matched as
 * always, so an ignorable list cannot hide listed material). Any exact hit counts, even one an override sets aside:
 * such a file is checked in full, never skipped. Without size and times: the scan adds them as for every record.
 */
export function ignorableRecord(
  file: FilePath,
  digests: Record<string, string>,
  ignorable: readonly ScanIgnorable[],
  matcher: Matcher,
): ScanFileRecord | undefined {
  if (ignorable.length === 0) return undefined;
  const hits = ignorableHits(ignorable, digests);
  if (hits.length === 0) return undefined;
  const { path, pathBytes } = reportPathFields(file);
  if (matcher.match({ path, hashes: digests }).matches.length > 0) return undefined;
  const record: ScanFileRecord = { type: "file", path, status: "ignorable", matches: [] };
  if (pathBytes !== undefined) record.pathBytes = pathBytes;
  record.hashes = digests;
  record.ignorable = hits;
  return record;
}

/**
 * Adds the file's size to its record (lstat, or stat for a file reached through a followed link: the size of what
 * was hashed); a file gone since is left without one, and a link recorded as such has none.
 */
export async function withSize(record: ScanFileRecord): Promise<ScanFileRecord> {
  if (record.status === "symlink") return record;
  const size = await (record.linkTarget !== undefined ? stat : lstat)(recordPath(record)).then(
    (s) => s.size,
    () => undefined,
  );
  if (size !== undefined) record.size = size;
  return record;
}

/**
 * Adds the file's times, read before it was opened, as the record's last field (a local scan and the distributed
 * collector write its keys in one order); a file that could not be stat-ed is left without them.
 */
export function withTimes(record: ScanFileRecord, times: FileTimes | undefined): ScanFileRecord {
  if (times !== undefined) record.times = times;
  return record;
}

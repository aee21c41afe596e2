import type { Readable } from "node:stream";
import { isVideoContainer } from "../decode/video.js";
import { PhmatchError } from "../errors/index.js";
import type { FilePath } from "../files/file-path.js";
import { type LoadedHashSet, type LoadOptions, loadHashSet } from "../hashset/load.js";
import type { MatchResult } from "../match/match-result.js";
import { Matcher, type MatcherOptions } from "../match/matcher.js";
import { hashFile, hashImageBytes } from "../pipeline/hash-file.js";
import type { HashOptions } from "../pipeline/hash-options.js";
import { buildHashOptions, SUPPORTED_ALGORITHMS } from "../pipeline/hash-options.js";
import type { HashCallControl } from "../pool/supervised-pool.js";
import type { HashRecord } from "../record/hash-record.js";

/**
 * What a platform does with an upload: `match` (refuse it, and meet its reporting duties), `no_match` (accept),
 * `low_quality` (no list hit, but a perceptual hash too weak to decide: the platform's policy), `error` (the
 * upload could not be checked).
 */
export type Decision = "match" | "no_match" | "low_quality" | "review" | "error";

/** A match result with the decision and a stable reason code a platform can turn into a refusal message. */
export interface CheckResult extends MatchResult {
  decision: Decision;
  /** `LIST_MATCH`, `NO_MATCH`, `LOW_QUALITY`, or the error's code (e.g. `PHM_DECODE_CORRUPT`). */
  reason_code: string;
}

/** The decision and reason code for a match result. */
export function decide(result: MatchResult): CheckResult {
  switch (result.status) {
    case "known":
      return { ...result, decision: "match", reason_code: "LIST_MATCH" };
    case "unseen":
      return { ...result, decision: "no_match", reason_code: "NO_MATCH" };
    case "low_quality":
      return { ...result, decision: "low_quality", reason_code: "LOW_QUALITY" };
    case "error":
      return { ...result, decision: "error", reason_code: result.error?.code ?? "PHM_INTERNAL" };
  }
}

/**
 * Where a checker hashes uploads: a {@link SupervisedHashPool} (worker processes: a decoder crash or out-of-memory
 * costs a restart and one retry, and the upload gets a PHM_WORKER_* error, never the caller's process) or a
 * {@link HashPool} (worker threads in this process; such a crash takes the process with it).
 */
export interface CheckerPool {
  hashBytes(bytes: Uint8Array, name: string, options: HashOptions, control?: HashCallControl): Promise<HashRecord>;
  hash(path: FilePath, options: HashOptions, control?: HashCallControl): Promise<HashRecord>;
}

/** Options of {@link createChecker}. */
export interface CheckerOptions {
  /** Lists: loaded sets, or paths of `.phs` stores loaded with `load`. */
  hashsets: (LoadedHashSet | string)[];
  /** How stores given by path are verified and opened (trusted keys, list key, rollback state). */
  load?: LoadOptions;
  /** Policies and index choice. */
  matcher?: MatcherOptions;
  /** Largest upload accepted, in bytes (default 64 MiB); larger input is refused with PHM_FILE_TOO_LARGE. */
  maxBytes?: number;
  /**
   * Decoding limits: pixels (default {@link DEFAULT_CHECK_MAX_PIXELS}), what to do above them (default `shrink`:
   * JPEG and WebP decoded at reduced size, other formats refused from the header; see HashOptions), time; `video`
   * (true or VideoOptions: limits, frame rate of hashing, FFmpeg paths) to take videos, matched as vPDQ (left out,
   * a video is answered PHM_DECODE_UNSUPPORTED).
   */
  hash?: Pick<HashOptions, "maxPixels" | "oversize" | "decodeTimeoutSeconds" | "mode" | "video">;
  /**
   * Hash on this pool instead of the calling thread (a server uses every core this way). A
   * {@link SupervisedHashPool} also keeps a decoder crash or out-of-memory out of the server's process.
   */
  pool?: CheckerPool;
  /**
   * Also match the content inside uniform borders and caption bars (frames, screenshots, memes) as an extra query
   * (default true: bench/robustness measured it adding recall on borders and padding at no false positive).
   */
  trim?: boolean;
  /**
   * Also match the upload turned back by small angles (rotation hypotheses, default true: bench/robustness measured
   * 5-degree rotations found on augmented lists at no false positive, for a few ms per image).
   */
  rotations?: boolean;
  /**
   * Also match the parts of the upload: its top, bottom, left and right 60% and 34%, and the upload with each 2/3
   * corner block masked (default true: an overlay over one region leaves a part whole; bench/robustness measured it
   * on augmented lists at no false positive). Hashed only when a loaded list holds sub-window hashes (one built
   * with `--augment`): a plain list has no parts for them to meet.
   */
  parts?: boolean;
}

/** A loaded checker: `check` hashes an upload in memory and matches it; nothing is written anywhere. */
export interface Checker {
  /** The lists it matches against, with their versions. */
  readonly lists: { listId: string; version: number }[];
  /** The algorithms it computes (those the lists hold and phmatch can compute). */
  readonly algorithms: string[];
  /**
   * Checks one upload (bytes, or a stream read into memory up to `maxBytes`). The rest of `options` goes to a
   * supervised pool: `signal` (a request's deadline: an upload no thread has started yet is dropped, PHM_ABORTED),
   * `client` (a cap on what one client has in the worker process), `onWorkerTime` (what the upload cost).
   */
  check(
    input: Uint8Array | Readable | AsyncIterable<Uint8Array>,
    options?: { name?: string; onRecord?: (record: HashRecord) => void } & HashCallControl,
  ): Promise<CheckResult>;
  /**
   * Checks one file by its path, read read-only where it lies (up to `maxBytes`; a file that cannot be read is an
   * error result with its code, e.g. PHM_FILE_NOT_FOUND). `options` as for {@link check}'s control.
   */
  checkFile(path: FilePath, options?: HashCallControl): Promise<CheckResult>;
  /** Matches a hash record computed elsewhere (e.g. on the device with `@phmatch/wasm`). */
  matchRecord(record: HashRecord): CheckResult;
}

export const DEFAULT_CHECK_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Pixels an upload may declare before it is decoded at reduced size (JPEG, WebP) or refused (other formats): half
 * the 100 MP of `hash` and `scan`, which read the operator's own files. A gate takes files from anyone, and a
 * full-size decode and hash costs in proportion to the pixels (measured on a 2-core machine: 0.1-0.13 s of one
 * thread per MP for a flat image, 3 bytes a pixel of output plus 4 of PDQ's luma; 6.6 s and 700 MB at 50 MP), so the
 * limit sits just above what legitimate uploads reach: 48-50 MP camera and phone images, 8K screenshots (33 MP),
 * A4 scans at 600 dpi (35 MP). Photos over it are JPEG (or WebP) almost always, and those are still hashed.
 */
export const DEFAULT_CHECK_MAX_PIXELS = 50_000_000;

/**
 * Loads the lists once and returns a checker for a server that already accepts uploads:
 *
 * ```ts
 * const checker = await createChecker({ hashsets: ["lists/hotline.phs"], load: { trustedKeys } });
 * const result = await checker.check(uploadBuffer); // result.decision: "match" | "no_match" | ...
 * ```
 */
export async function createChecker(options: CheckerOptions): Promise<Checker> {
  const sets: LoadedHashSet[] = [];
  for (const h of options.hashsets) sets.push(typeof h === "string" ? await loadHashSet(h, options.load ?? {}) : h);
  return checkerFor(sets, options);
}

/**
 * Whether the part views can meet anything in these lists: only a list that holds sub-window hashes (built with
 * `--augment`) has parts for them to meet; against others they would cost about a fifth of a query's time and find
 * next to nothing (docs/robustness.md). check, serve and scan hash parts only when this holds.
 */
export function partsCanMatch(sets: readonly LoadedHashSet[]): boolean {
  return sets.some((s) => s.set.holdsWindows);
}

/** A checker over lists already loaded (used by `serve` to swap lists on reload). */
export function checkerFor(sets: LoadedHashSet[], options: Omit<CheckerOptions, "hashsets" | "load"> = {}): Checker {
  const matcher = new Matcher(sets, options.matcher ?? {});
  const listed = new Set(sets.flatMap((s) => s.set.algorithms));
  const algorithms = SUPPORTED_ALGORITHMS.filter((id) => listed.has(id));
  matcher.requireMatchable(algorithms);
  const maxBytes = options.maxBytes ?? DEFAULT_CHECK_MAX_BYTES;
  const hashOptions = buildHashOptions({
    maxPixels: DEFAULT_CHECK_MAX_PIXELS,
    oversize: "shrink",
    ...options.hash,
    algorithms,
    maxFileBytes: maxBytes,
    trim: options.trim ?? true,
    rotations: options.rotations ?? true,
    parts: (options.parts ?? true) && partsCanMatch(sets),
  });
  const lists = sets.flatMap((s) => s.set.lists.map((l) => ({ listId: l.listId, version: l.version })));
  // A video upload runs under the video's time limit (videoTimeoutSeconds), not the pool's per-file limit for
  // images: a gate keeps images to seconds and gives a video the time its decode takes.
  const video = hashOptions.video;
  const videoSeconds = typeof video === "object" ? video.videoTimeoutSeconds : undefined;
  const videoTimeout = (bytes: Uint8Array): Pick<HashCallControl, "timeoutMs"> =>
    videoSeconds !== undefined && isVideoContainer(bytes) ? { timeoutMs: videoSeconds * 1000 } : {};
  return {
    lists,
    algorithms,
    async check(input, checkOptions = {}) {
      const { name = "upload", onRecord, ...control } = checkOptions;
      let bytes: Uint8Array;
      try {
        bytes = input instanceof Uint8Array ? input : await readAll(input, maxBytes);
        if (bytes.length > maxBytes)
          throw new PhmatchError("PHM_FILE_TOO_LARGE", `the upload is over the ${maxBytes}-byte limit`);
      } catch (error) {
        const e =
          error instanceof PhmatchError
            ? error
            : new PhmatchError("PHM_FILE_UNREADABLE", `the upload could not be read: ${(error as Error).message}`);
        return decide({ path: name, status: "error", matches: [], checked: [], error: e.toJSON() });
      }
      const record =
        options.pool !== undefined
          ? await options.pool.hashBytes(bytes, name, hashOptions, { ...control, ...videoTimeout(bytes) })
          : await hashImageBytes(bytes, name, hashOptions);
      onRecord?.(record);
      return decide(matcher.match(record));
    },
    async checkFile(path, control = {}) {
      const { pool } = options;
      const record =
        pool !== undefined ? await pool.hash(path, hashOptions, control) : await hashFile(path, hashOptions);
      return decide(matcher.match(record));
    },
    matchRecord(record) {
      return decide(matcher.match(record));
    },
  };
}

async function readAll(input: Readable | AsyncIterable<Uint8Array>, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of input as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    if (size > limit) {
      if ("destroy" in input && typeof input.destroy === "function") input.destroy();
      throw new PhmatchError("PHM_FILE_TOO_LARGE", `the upload is over the ${limit}-byte limit`);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

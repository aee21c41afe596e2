/**
 * Every error phmatch raises on purpose is a {@link PhmatchError} with a stable string `code`. Codes are part of
 * the public contract (NDJSON records, exit codes, later the HTTP API): add new ones, never rename one.
 * Messages say what was wrong, where, and what to do; they never contain image bytes. They name API options as the
 * library spells them (`maxPixels`), never a command-line flag: the CLI says which flag sets each option.
 */

/**
 * Stable error codes with what each means and what to do about it: core's own. A program built on core (the CLI)
 * adds its codes in a table of its own that extends this one.
 */
export const ERROR_CODES = {
  PHM_USAGE: "the command line or an API call was used wrongly",
  PHM_FILE_NOT_FOUND: "the input path does not exist",
  PHM_FILE_UNREADABLE:
    "the input exists but cannot be read (permissions, a directory where a file was expected, an I/O error)",
  PHM_FILE_TOO_LARGE: "the file is larger than the decode size limit (maxFileBytes)",
  PHM_DECODE_EMPTY: "the file is empty (0 bytes)",
  PHM_DECODE_UNSUPPORTED: "the bytes are not an image format phmatch decodes",
  PHM_DECODE_VECTOR:
    "vector input (SVG) is refused: rasterising untrusted vector files is unsafe and lists hash raster images",
  PHM_DECODE_TRUNCATED: "the image data ends early (truncated or partially copied file)",
  PHM_DECODE_CORRUPT: "the image data is corrupt and the decoder gave up",
  PHM_DECODE_TOO_MANY_PIXELS:
    "the image declares more pixels than the limit (maxPixels); a decompression bomb is refused before decoding",
  PHM_DECODE_TIMEOUT: "decoding took longer than the per-file time limit",
  PHM_HASH_MEMORY: "the hash kernel could not get memory for this image",
  PHM_WORKER_CRASHED: "the worker process died twice while hashing this file (native crash, out of memory or killed)",
  PHM_WORKER_TIMEOUT: "the file was still being hashed when the per-file time limit ran out, twice",
  PHM_WORKER_MEMORY: "the worker exceeded its memory limit twice while hashing this file",
  PHM_POOL_CLOSED: "the hashing pool was closed before the file was hashed",
  PHM_ABORTED:
    "the caller stopped waiting (its AbortSignal fired, e.g. a request's time limit) before the file was hashed",
  PHM_HASHSET_PARSE:
    "a hash-set file has a record that cannot be imported (in strict mode), or is not in the format named",
  PHM_HASHSET_FORMAT: "a .phs store is damaged, truncated or of an unknown version",
  PHM_IGNORABLE_FORMAT:
    "an ignorable digest store or digest list is damaged, truncated, altered (its checksum does not match) or has " +
    "lines that are not digests: it was not used, nothing was set aside by it",
  PHM_HASHSET_SIGNATURE:
    "a hash set's signature is missing, wrong, or made by an untrusted key: the list was not loaded",
  PHM_HASHSET_ROLLBACK: "an older release of a list than one already loaded was refused (rollback protection)",
  PHM_HASHSET_KEY: "an encrypted hash set cannot be opened: no key, or the wrong key",
  PHM_REPORT_ALTERED: "a scan report does not match its .sha256 or its signature: it was altered or damaged",
  PHM_REPORT_FORMAT:
    "a file given as a scan report is not a finished phmatch NDJSON scan report (no header, a line that is not " +
    "JSON, a schema version this phmatch does not read, or no summary: the scan was interrupted): nothing was exported",
  PHM_AUDIT_ALTERED:
    "an audit log's hash chain or signed checkpoints do not verify: records were edited, deleted, moved or cut",
  PHM_MATCH_INPUT:
    "a line given to match is not a phmatch hash record (one JSON object per line, as phmatch hash prints)",
  PHM_HASHSET_EMPTY:
    "a hash set would match nothing: an import or build took no entry (nothing was written), " +
    "or the lists given hold no entry for any algorithm computed",
  PHM_STATE_LOCKED:
    "the rollback state folder stayed locked by another process: " +
    "nothing was loaded (remove the lock file if no phmatch uses that folder)",
  PHM_VIDEO_DECODER_MISSING:
    "a video needs FFmpeg (ffmpeg and ffprobe), which was not found on the PATH or at the configured path: " +
    "install Debian's ffmpeg package (apt-get install ffmpeg)",
  PHM_VIDEO_MEMORY_FILE:
    "the video could not be held in a memory file on /dev/shm (missing or full; in Docker raise the container's " +
    "shm-size): videos are never written to disk",
  PHM_VIDEO_LIMIT:
    "the video's headers exceed a limit (maxVideoBytes, maxVideoSeconds, maxVideoFrames, maxVideoPixels) or are " +
    "absurd, or its decoder gave more frames than declared: refused before or while decoding",
  PHM_VIDEO_TRUNCATED:
    "the video ends early: cut before its index is whole (refused before decoding), or fewer frames decoded " +
    "than its header declares (the frames that were decoded are kept; none when the cut comes before the first)",
  PHM_REMATCH_SINCE:
    "the earlier release given to rematch is not an earlier release of the new store's lists (the same " +
    "store, a list missing, the same or a newer version, another signer): nothing was matched",
  PHM_REMATCH_RECORD:
    "a line of accepted-upload records is not a hash record with the platform's contentId and uploadedAt " +
    "(ISO 8601): it was skipped, the others were matched",
  PHM_INTERNAL: "an unexpected internal error (a bug: please report it with the command line, never the image)",
} as const;

/** One of the stable error codes. */
export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Base class of phmatch's errors. `code` is stable; `path` is the file concerned, if any; `optionNames` are the API
 * options the message names, as the library spells them (`maxPixels`), so that a program offering them under other
 * names (the CLI's `--max-pixels`) can say so. `Code` is core's {@link ErrorCode}; a program with codes of its own
 * extends the class with its wider table (the CLI's queue codes).
 */
export class PhmatchError<Code extends string = ErrorCode> extends Error {
  readonly code: Code;
  readonly path: string | undefined;
  readonly optionNames: readonly string[];

  constructor(
    code: NoInfer<Code>,
    message: string,
    options: { path?: string; cause?: unknown; optionNames?: readonly string[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PhmatchError";
    this.code = code;
    this.path = options.path;
    this.optionNames = options.optionNames ?? [];
  }

  /** The serialisable form used in records: code and message only (no stack, no bytes). */
  toJSON(): { code: Code; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** True if `code` is one of {@link ERROR_CODES}. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}

/** Wraps anything thrown into a PhmatchError, keeping a PhmatchError as it is. */
export function toPhmatchError(error: unknown, path?: string): PhmatchError {
  if (error instanceof PhmatchError) return error;
  if (isErrorLike(error) && isErrorCode(error.code)) {
    return new PhmatchError(error.code, error.message, { path, cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new PhmatchError("PHM_INTERNAL", `unexpected error: ${message}`, { path, cause: error });
}

function isErrorLike(error: unknown): error is { code: unknown; message: string } {
  return typeof error === "object" && error !== null && "code" in error && "message" in error;
}

/**
 * @phmatch/core/internal: everything the phmatch CLI, benchmarks and tests use from core, the public entry's names
 * included. NO STABILITY PROMISE: any name here that is not also exported by `@phmatch/core` may be renamed,
 * retyped or removed in any release, patch releases included. Embedders use `@phmatch/core` (docs/library.md).
 */

/** The public API, so this entry is a superset of it. */
export * from "./index.js";
/** Error base class, stable codes and helpers. */
export { PhmatchError, ERROR_CODES, isErrorCode, toPhmatchError, type ErrorCode } from "./errors/index.js";

/** Decoding untrusted bytes into pixels (all sharp options for untrusted input live there). */
export { decodeImage, DEFAULT_MAX_PIXELS, DEFAULT_DECODE_TIMEOUT_SECONDS, type DecodeOptions } from "./decode/decode-image.js";
/** Read-only file reading: whole (with a size limit) or once with streamed digests. */
export { readImageFile, readFileOnce, DEFAULT_MAX_FILE_BYTES, type FileRead } from "./decode/read-file.js";
/** Decoded pixels. */
export type { Pixels, DecodedImage } from "./decode/pixels.js";

/** PDQ: hash, quality and dihedral variants of decoded pixels. */
export {
  pdqHash,
  PDQ,
  PDQ_BITS,
  PDQ_MATCH_THRESHOLD,
  PDQ_MIN_QUALITY,
  PDQ_DIHEDRAL_VARIANTS,
  type PdqHash,
} from "./hashers/pdq.js";

/** The algorithm registry: every id with its bits, input and default threshold. */
export {
  hasherSpec,
  hasherSpecs,
  hexDigits,
  isComputable,
  whyNotComputable,
  type HasherSpec,
  type HasherInput,
} from "./hashers/index.js";
/** The imagehash family (imagehash 4.x compatible), blockhash (blockhash-core), and several kernel hashes in one pass. */
export { ahash } from "./hashers/ahash.js";
export { phash } from "./hashers/phash.js";
export { dhash } from "./hashers/dhash.js";
export { whash } from "./hashers/whash.js";
export { blockhash } from "./hashers/blockhash.js";
export { kernelHashes, type ComputedHash } from "./hashers/imagehash-family.js";
/** Streaming digests of file bytes. */
export { StreamingDigests, isDigest } from "./files/streaming-digests.js";
/** Every requested pixel hash of one decoded image. */
export { hashPixels } from "./pipeline/hash-pixels.js";

/** This package's version. */
export { PHMATCH_VERSION } from "./version.js";
/** Hex at the edges, and Hamming distance. */
export { bytesToHex, hexToBytes, hammingDistance } from "./record/hex.js";
/** The hash record `phmatch hash` prints, and its JSON Schema. */
export {
  hashRecordSchema,
  isFailedRecord,
  HASH_RECORD_VERSION,
  type HashRecord,
  type HashedRecord,
  type FailedRecord,
  type TrimmedHashes,
  type WindowHashes,
  type RotatedHashes,
} from "./record/hash-record.js";

/** One file (or one in-memory image) to one record. */
export { hashFile, hashImageBytes } from "./pipeline/hash-file.js";
/** What to compute and how. */
export {
  SUPPORTED_ALGORITHMS,
  DEFAULT_ALGORITHMS,
  FAST_MODE_MIN_LONG_SIDE,
  validateHashOptions,
  buildHashOptions,
  type HashChoice,
  type HashMode,
  type HashOptions,
} from "./pipeline/hash-options.js";
/** Walking input paths; paths that are not valid UTF-8 kept as bytes, symbolic links as entries of their own. */
export { walkInputs, walkEntries, SYMLINK_NOTES, type WalkOptions, type WalkEntry } from "./pipeline/walk.js";
export { displayPath, pathBytesOf, recordPath, pathKey, reportPath, reportPathFields, unescapeReportPath, PATH_ESCAPE, type FilePath } from "./files/file-path.js";
/** What reading directories and links does to their access times, watched and reported. */
export { AccessTimeWatch, isoNs, type AccessTimeWatchOptions, type AccessTimeReport, type AccessTimeChange } from "./pipeline/access-times.js";

/** Worker threads in this process. */
export { HashPool, type HashPoolOptions } from "./pool/hash-pool.js";
/** Worker threads in a supervised child process, restarted on death, with per-file limits. */
export {
  SupervisedHashPool,
  DEFAULT_FILE_TIMEOUT_MS,
  type SupervisedHashPoolOptions,
  type SupervisorStats,
  type HashCallControl,
} from "./pool/supervised-pool.js";
/** Bounded, order-preserving concurrent map. */
export { orderedMap } from "./pool/ordered-map.js";

/** Hash sets: formats, the .phs store, signatures, encryption, versions, overrides. */
export * from "./hashset/index.js";

/** Hamming indexes: flat scan, multi-index hashing, BK-tree, exact lookup, and the choice between them. */
export { PackedValues, FlatIndex, MihIndex, BkTreeIndex, ExactIndex, buildIndex, chooseIndexKind, chooseSlices, mihCost, FLAT_SCAN_MAX, type HammingIndex, type IndexHit, type IndexKind, type PackedValuesView } from "./index/index.js";
/** The matcher: policies, dihedral PDQ, overrides, and the versioned result. */
export * from "./match/index.js";
/** Scanning: walk, hash on the supervised pool, match, report. */
export * from "./scan/index.js";
/** The scan report: format, header, tally, writers (NDJSON, CSV, VICS), resume reading, checksum and signature. */
export * from "./report/index.js";

export * from "./audit/index.js";
export * from "./check/index.js";
export { findContentBox, cropPixels, windowBox, unrotatedSize, AUGMENT_WINDOWS, PART_WINDOWS, ROTATION_HYPOTHESES, type ContentBox, type ImageWindow } from "./decode/trim.js";

/**
 * @phmatch/core/internal: everything the phmatch CLI, benchmarks and tests use from core, the public entry's names
 * included. NO STABILITY PROMISE: any name here that is not also exported by `@phmatch/core` may be renamed,
 * retyped or removed in any release, patch releases included. Embedders use `@phmatch/core` (docs/library.md).
 */

export * from "./audit/index.js";
export { partsCanMatch } from "./check/checker.js";
export * from "./check/index.js";
/** Near-duplicate clustering by leader (centre) linkage over the Hamming indexes. */
export * from "./cluster/index.js";
/** Decoding untrusted bytes into pixels (all sharp options for untrusted input live there). */
export {
  DEFAULT_DECODE_TIMEOUT_SECONDS,
  DEFAULT_MAX_PIXELS,
  type DecodeOptions,
  decodeImage,
} from "./decode/decode-image.js";
/** Which single files a command decodes in its own process. */
export { fitsInProcess, IN_PROCESS_MAX_BYTES, IN_PROCESS_MAX_PIXELS } from "./decode/in-process.js";
/** The ISO BMFF container pre-check of videos, before FFmpeg (issue 20). */
export {
  type IsoBmffFacts,
  type IsoBmffTrack,
  isIsoBmff,
  precheckVideoContainer,
  readIsoBmff,
} from "./decode/iso-bmff.js";
/** Decoded pixels. */
export type { DecodedImage, Pixels } from "./decode/pixels.js";
/** Read-only file reading: whole (with a size limit) or once with streamed digests. */
export { DEFAULT_MAX_FILE_BYTES, type FileRead, readFileOnce, readImageFile } from "./decode/read-file.js";
export {
  AUGMENT_WINDOWS,
  type ContentBox,
  cropPixels,
  findContentBox,
  type ImageWindow,
  maskPixels,
  PART_MASKS,
  PART_WINDOWS,
  ROTATION_HYPOTHESES,
  unrotatedSize,
  windowBox,
} from "./decode/trim.js";
/** Video decoding through FFmpeg (issue 20): tools, probe, limits, frame choice, and the vPDQ hash of a video. */
export {
  checkVideoLimits,
  DEFAULT_VIDEO_LIMITS,
  DEFAULT_VIDEO_TIMEOUT_SECONDS,
  decodeVideo,
  findVideoTools,
  frameStep,
  isVideoContainer,
  type ProbeJson,
  readProbe,
  type VideoLimits,
  type VideoOptions,
  type VideoProbe,
} from "./decode/video.js";
/** Error base class, stable codes and helpers. */
export { ERROR_CODES, type ErrorCode, isErrorCode, PhmatchError, toPhmatchError } from "./errors/index.js";
/** Reviewers' verdicts, proposed overrides, entries held for review, hit spread (issue 21 part 2). */
export * from "./feedback/index.js";
export {
  displayPath,
  type FilePath,
  PATH_ESCAPE,
  pathBytesOf,
  pathKey,
  recordPath,
  reportPath,
  reportPathFields,
  unescapeReportPath,
} from "./files/file-path.js";
/** Streaming digests of file bytes. */
export { isDigest, StreamingDigests } from "./files/streaming-digests.js";
/**
 * The imagehash family (imagehash 4.x compatible), blockhash (blockhash-core), and several kernel hashes in one
 * pass.
 */
export { ahash } from "./hashers/ahash.js";
export { blockhash } from "./hashers/blockhash.js";
export { dhash } from "./hashers/dhash.js";
export { type ComputedHash, kernelHashes } from "./hashers/imagehash-family.js";
/** The algorithm registry: every id with its bits, input and default threshold. */
export {
  type HasherInput,
  type HasherSpec,
  hasherSpec,
  hasherSpecs,
  hexDigits,
  isComputable,
  whyNotComputable,
} from "./hashers/index.js";
/** The WebAssembly kernels of this thread (benchmarks time their stages). */
export { hashKernel } from "./hashers/kernel.js";
/** PDQ: hash, quality and dihedral variants of decoded pixels. */
export {
  PDQ,
  PDQ_BITS,
  PDQ_DIHEDRAL_VARIANTS,
  PDQ_MATCH_THRESHOLD,
  PDQ_MIN_QUALITY,
  type PdqHash,
  pdqHash,
} from "./hashers/pdq.js";
export { phash } from "./hashers/phash.js";
export { whash } from "./hashers/whash.js";
/** Hash sets: formats, the .phs store, signatures, encryption, versions, overrides. */
export * from "./hashset/index.js";
/** Ignorable known files (issue 22): exact sorted digest stores (NSRL-sized) and plain MD5/SHA-1/SHA-256 lists. */
export * from "./ignorable/index.js";
/** Hamming indexes: flat scan, multi-index hashing, BK-tree, exact lookup, and the choice between them. */
export {
  BkTreeIndex,
  buildIndex,
  chooseIndexKind,
  chooseSlices,
  ExactIndex,
  FLAT_SCAN_MAX,
  FlatIndex,
  type HammingIndex,
  type IndexHit,
  type IndexKind,
  MihIndex,
  mihCost,
  type NeedleHit,
  PackedValues,
  type PackedValuesView,
} from "./index/index.js";
/** The public API, so this entry is a superset of it. */
export * from "./index.js";
/** The matcher: policies, dihedral PDQ, overrides, and the versioned result. */
export * from "./match/index.js";
/** What reading directories and links does to their access times, watched and reported. */
export {
  type AccessTimeChange,
  type AccessTimeReport,
  AccessTimeWatch,
  type AccessTimeWatchOptions,
  isoNs,
} from "./pipeline/access-times.js";
/** One file (or one in-memory image) to one record. */
/** A file's times (modified, changed, accessed, born) as a scan reads them before hashing (issue 22). */
export {
  type BirthTimeSource,
  birthTimeSource,
  type FileTimes,
  fileTimesOf,
  readFileTimes,
} from "./pipeline/file-times.js";
export { hashFile, hashImageBytes } from "./pipeline/hash-file.js";
/** What to compute and how. */
export {
  buildHashOptions,
  DEFAULT_ALGORITHMS,
  FAST_MODE_MIN_LONG_SIDE,
  type HashChoice,
  type HashMode,
  type HashOptions,
  SUPPORTED_ALGORITHMS,
  validateHashOptions,
  validateVideoOptions,
} from "./pipeline/hash-options.js";
/** Every requested pixel hash of one decoded image. */
export { hashPixels } from "./pipeline/hash-pixels.js";
export { hashVideoBytes, TruncatedVideoError } from "./pipeline/hash-video.js";
/** Walking input paths; paths that are not valid UTF-8 kept as bytes, symbolic links as entries of their own. */
export { SYMLINK_NOTES, type WalkEntry, type WalkOptions, walkEntries, walkInputs } from "./pipeline/walk.js";
/** Worker threads in this process. */
export { HashPool, type HashPoolOptions } from "./pool/hash-pool.js";
/** Bounded, order-preserving concurrent map. */
export { orderedMap } from "./pool/ordered-map.js";
/** Worker threads in a supervised child process, restarted on death, with per-file limits. */
export {
  DEFAULT_FILE_TIMEOUT_MS,
  type HashCallControl,
  mallocTuning,
  SupervisedHashPool,
  type SupervisedHashPoolOptions,
  type SupervisorStats,
} from "./pool/supervised-pool.js";
/** The hash record `phmatch hash` prints, and its JSON Schema. */
export {
  type FailedRecord,
  HASH_RECORD_VERSION,
  type HashedRecord,
  type HashRecord,
  hashRecordSchema,
  isFailedRecord,
  type RotatedHashes,
  type TrimmedHashes,
  type VideoFrameHash,
  type VideoHash,
  type WindowHashes,
} from "./record/hash-record.js";
/** Hex at the edges, and Hamming distance. */
export { bytesToHex, hammingDistance, hexToBytes } from "./record/hex.js";
/** Retroactive matching: stored records of accepted uploads against what a list release added (issue 21). */
export * from "./rematch/index.js";
/** The scan report: format, header, tally, writers (NDJSON, CSV, VICS), resume reading, checksum and signature. */
export * from "./report/index.js";
/** The VICS 2.0 export of every file of a finished scan report (`phmatch report vics`). */
export {
  exportVics,
  VICS_SCHEMES,
  type VicsExportOptions,
  type VicsExportResult,
  vicsContext,
  vicsMedia,
  vicsStatus,
} from "./report/vics-export.js";
/** Scanning: walk, hash on the supervised pool, match, report. */
export * from "./scan/index.js";
/** This package's version. */
export { PHMATCH_VERSION } from "./version.js";

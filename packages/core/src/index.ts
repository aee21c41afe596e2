/**
 * @phmatch/core: perceptual-hash known-image matching for a program that embeds it. Untrusted images are decoded
 * safely, hashed (PDQ bit-exact with Meta's reference, the imagehash family, blockhash), and matched against signed
 * hash lists; a checker gives an upload's decision, a scan walks a tree, an audit log records decisions.
 *
 * This entry is the public API, in pipeline order (decode, hash, lists, index, match, check, scan, report, audit);
 * docs/library.md describes each name. `@phmatch/core/internal` holds what the CLI, benchmarks and tests also use,
 * with no stability promise. test/public-api.test.ts pins this list: adding or removing a name is a conscious change.
 * @example
 * import { createChecker, parseTrustedKeys } from "@phmatch/core";
 * const checker = await createChecker({ hashsets: ["lists/hotline.phs"], load: { trustedKeys } });
 * const result = await checker.check(uploadBytes); // result.decision: "match" | "no_match" | "low_quality" | "error"
 */

// --- Audit: a tamper-evident log of decisions --------------------------------------------------------------------
/** An append-only, hash-chained, optionally signed log of decisions. */
/** Verifies an audit log's chain and signatures, optionally against a known head. */
export {
  type AuditDecision,
  type AuditEvent,
  AuditLog,
  type AuditLogOptions,
  type AuditPosition,
  type AuditVerification,
  verifyAuditLog,
} from "./audit/audit-log.js";
// --- Check: one upload, one decision -----------------------------------------------------------------------------
/** Loads lists once and returns a checker: upload bytes in, decision out; nothing is written. */
/** A checker over lists already loaded (to swap lists without reloading them). */
/** The decision and reason code for a match result (for records matched elsewhere). */
export {
  type Checker,
  type CheckerOptions,
  type CheckerPool,
  type CheckResult,
  checkerFor,
  createChecker,
  type Decision,
  decide,
} from "./check/checker.js";
// --- Decode: untrusted bytes to pixels ---------------------------------------------------------------------------
/** Decodes untrusted image bytes into pixels, with the pixel, time and format limits of untrusted input. */
/** Pixels an image may declare before decoding is refused (or shrunk), unless `maxPixels` says otherwise. */
export { DEFAULT_MAX_PIXELS, type DecodeOptions, decodeImage } from "./decode/decode-image.js";
export type { DecodedImage, Pixels } from "./decode/pixels.js";
/** How videos are hashed (vPDQ through FFmpeg): frames per hash, limits, FFmpeg paths. */
export type { VideoLimits, VideoOptions } from "./decode/video.js";
// --- Errors and version ----------------------------------------------------------------------------------------
/** The one error class: every failure carries a stable string `code` (see {@link ERROR_CODES}). */
/** Every error code with its meaning; the CLI maps each to a documented exit code. */
export { ERROR_CODES, type ErrorCode, PhmatchError } from "./errors/index.js";
export type { FilePath } from "./files/file-path.js";
export type { ComputedHash } from "./hashers/imagehash-family.js";
/** The registry entry of an algorithm id (bits, input, default threshold), or undefined. */
export { type HasherInput, type HasherSpec, hasherSpec } from "./hashers/index.js";
/** Collects entries of one or more lists for a store. */
export { HashSetBuilder } from "./hashset/builder.js";
/** A list key from its text form, for {@link LoadOptions.key} (encrypted stores). */
export { parseListKey } from "./hashset/encryption.js";
export type { HashSetEntry, Withdrawal } from "./hashset/entry.js";
export type { HashSet } from "./hashset/hash-set.js";
/** Parses one hash value of an algorithm from its text form (hex; PhotoDNA also base64), saying what is wrong. */
export { type ParsedValue, parseHashValue } from "./hashset/hash-value.js";
/** Imports one list file (text, PyTX, CSV, NDJSON, VICS, ICSE, NCMEC) into a builder, streaming, with a report. */
/** The list formats importHashSet reads. */
export { HASH_SET_FORMATS, type HashSetFormat, type ImportOptions, importHashSet } from "./hashset/import.js";
export type { ImportProblem, ImportReport } from "./hashset/import-report.js";
// --- Lists: import, build, sign, load ----------------------------------------------------------------------------
/** Loads a `.phs` store (file or list-server URL), all or nothing: signature, decryption, checks, overrides. */
/** Parses `.phs` store bytes already in memory (no signature or rollback check: use loadHashSet for that). */
export { type LoadedHashSet, type LoadOptions, loadHashSet, parseStore } from "./hashset/load.js";
export type { Override, OverridesProvenance } from "./hashset/overrides.js";
/** A detached Ed25519 signature of store bytes. */
/** Verifies a detached signature against trusted keys; returns the signing key's id. */
/** A new Ed25519 key pair (PEM) for signing stores. */
/** Public keys from PEM text, for {@link LoadOptions.trustedKeys}. */
export { generateSigningKeys, parseTrustedKeys, signStore, verifyStore } from "./hashset/signature.js";
export type { ListInfo, PhsHeader, StoreProvenance } from "./hashset/store-format.js";
/** Writes a builder as `.phs` store bytes. */
export { serializeStore } from "./hashset/store-writer.js";
/** The rollback state folder, for {@link LoadOptions.versionState}: an older list release is refused once seen. */
export { type AuditHead, RollbackState } from "./hashset/version-state.js";
// --- Index: Hamming search structures ----------------------------------------------------------------------------
/** The index kind (flat, MIH, BK-tree, exact) for a set of values and a search radius. */
/** Builds a Hamming index of a kind over packed values. */
export {
  buildIndex,
  chooseIndexKind,
  type HammingIndex,
  type IndexHit,
  type IndexKind,
  type NeedleHit,
  type PackedValuesView,
} from "./index/index.js";
/** The versioned match result's JSON Schema. */
export { type AppliedOverride, type MatchHit, type MatchResult, matchResultSchema } from "./match/match-result.js";
// --- Match: hashes against lists ---------------------------------------------------------------------------------
/** Matches hash records against loaded lists under per-algorithm policies, with dihedral PDQ and overrides. */
export { Matcher, type MatcherOptions } from "./match/matcher.js";
/** The default policy (threshold, quality gate) of an algorithm. */
/** A policy with your own maximum distance and minimum quality. */
export { defaultPolicy, type MatchPolicy, makePolicy } from "./match/policy.js";
// --- Hash: pixels to hashes, files to hash records ---------------------------------------------------------------
/** Hashes one file (read-only) into a hash record; a bad file gives a failed record, never a throw. */
/** Hashes one image held in memory into a hash record. */
export { hashFile, hashImageBytes } from "./pipeline/hash-file.js";
/** The algorithm ids phmatch can compute, in report order. */
/** The algorithms computed when none are asked for. */
export { DEFAULT_ALGORITHMS, type HashMode, type HashOptions, SUPPORTED_ALGORITHMS } from "./pipeline/hash-options.js";
/** Every requested pixel hash of one decoded image (the step under hashFile, for pixels you decoded yourself). */
export { hashPixels } from "./pipeline/hash-pixels.js";
/** Walks input paths streaming: the files a scan would read, in its order. */
export { type WalkEntry, type WalkOptions, walkInputs } from "./pipeline/walk.js";
/** Worker threads in this process (lighter; a decoder crash takes the process with it). */
export { HashPool, type HashPoolOptions } from "./pool/hash-pool.js";
/** Worker threads in a supervised child process: a decoder crash or out-of-memory costs a restart, not the caller. */
export {
  type HashCallControl,
  SupervisedHashPool,
  type SupervisedHashPoolOptions,
  type SupervisorStats,
} from "./pool/supervised-pool.js";
/** The hash record (`phmatch hash` prints one per file): tells a failed record from a hashed one. */
/** The hash record's JSON Schema. */
export {
  type FailedRecord,
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
/** Hex of hash bytes (hex appears only at the edges: files, JSON). */
/** Hash bytes from hex, checked against the expected length. */
/** Hamming distance of two hashes of the same length. */
export { bytesToHex, hammingDistance, hexToBytes } from "./record/hex.js";
/** Writes a finished report's SHA-256 beside it, and its Ed25519 signature with a key. */
/** Verifies a report against its SHA-256, and its signature against trusted keys; throws PHM_REPORT_ALTERED. */
export { type ReportVerification, verifyReport, writeReportIntegrity } from "./report/integrity.js";
/** Counts a scan's records into its summary. */
/** The scan report's JSON Schema. */
export {
  type IgnorableHit,
  type ScanClusterLine,
  type ScanClusterMember,
  type ScanClusterSettings,
  type ScanClustersSeal,
  type ScanFileRecord,
  type ScanHeader,
  type ScanIgnorableList,
  type ScanSummary,
  ScanTally,
  scanReportSchema,
} from "./report/scan-report.js";
// --- Report: writing and verifying scan reports ------------------------------------------------------------------
/** Writes a scan report as it goes (NDJSON, CSV or VICS): header, one record per file, summary. */
export { createReportWriter, type ReportFormat, type ReportWriter } from "./report/writers.js";
// --- Scan: a tree of files ---------------------------------------------------------------------------------------
/** Walks inputs, hashes every file read-only on the supervised pool, matches it, yields one record per entry. */
export { type ScanWalkOptions, scanFiles } from "./scan/scan.js";
/** This package's version (also written into records and reports). */
export { PHMATCH_VERSION } from "./version.js";

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

// --- Errors and version ----------------------------------------------------------------------------------------
/** The one error class: every failure carries a stable string `code` (see {@link ERROR_CODES}). */
export { PhmatchError, type ErrorCode } from "./errors/index.js";
/** Every error code with its meaning; the CLI maps each to a documented exit code. */
export { ERROR_CODES } from "./errors/index.js";
/** This package's version (also written into records and reports). */
export { PHMATCH_VERSION } from "./version.js";

// --- Decode: untrusted bytes to pixels ---------------------------------------------------------------------------
/** Decodes untrusted image bytes into pixels, with the pixel, time and format limits of untrusted input. */
export { decodeImage, type DecodeOptions } from "./decode/decode-image.js";
export type { Pixels, DecodedImage } from "./decode/pixels.js";
/** Pixels an image may declare before decoding is refused (or shrunk), unless `maxPixels` says otherwise. */
export { DEFAULT_MAX_PIXELS } from "./decode/decode-image.js";

// --- Hash: pixels to hashes, files to hash records ---------------------------------------------------------------
/** Hashes one file (read-only) into a hash record; a bad file gives a failed record, never a throw. */
export { hashFile } from "./pipeline/hash-file.js";
/** Hashes one image held in memory into a hash record. */
export { hashImageBytes } from "./pipeline/hash-file.js";
/** Every requested pixel hash of one decoded image (the step under hashFile, for pixels you decoded yourself). */
export { hashPixels } from "./pipeline/hash-pixels.js";
export type { ComputedHash } from "./hashers/imagehash-family.js";
/** The algorithm ids phmatch can compute, in report order. */
export { SUPPORTED_ALGORITHMS, type HashMode, type HashOptions } from "./pipeline/hash-options.js";
/** The algorithms computed when none are asked for. */
export { DEFAULT_ALGORITHMS } from "./pipeline/hash-options.js";
/** The registry entry of an algorithm id (bits, input, default threshold), or undefined. */
export { hasherSpec, type HasherSpec, type HasherInput } from "./hashers/index.js";
/** The hash record (`phmatch hash` prints one per file): tells a failed record from a hashed one. */
export {
  isFailedRecord,
  type HashRecord,
  type HashedRecord,
  type FailedRecord,
  type TrimmedHashes,
  type WindowHashes,
  type RotatedHashes,
} from "./record/hash-record.js";
/** The hash record's JSON Schema. */
export { hashRecordSchema } from "./record/hash-record.js";
/** Hex of hash bytes (hex appears only at the edges: files, JSON). */
export { bytesToHex } from "./record/hex.js";
/** Hash bytes from hex, checked against the expected length. */
export { hexToBytes } from "./record/hex.js";
/** Hamming distance of two hashes of the same length. */
export { hammingDistance } from "./record/hex.js";
/** Worker threads in a supervised child process: a decoder crash or out-of-memory costs a restart, not the caller. */
export {
  SupervisedHashPool,
  type SupervisedHashPoolOptions,
  type SupervisorStats,
  type HashCallControl,
} from "./pool/supervised-pool.js";
/** Worker threads in this process (lighter; a decoder crash takes the process with it). */
export { HashPool, type HashPoolOptions } from "./pool/hash-pool.js";

// --- Lists: import, build, sign, load ----------------------------------------------------------------------------
/** Loads a `.phs` store (file or list-server URL), all or nothing: signature, decryption, checks, overrides. */
export { loadHashSet, type LoadOptions, type LoadedHashSet } from "./hashset/load.js";
/** The rollback state folder, for {@link LoadOptions.versionState}: an older list release is refused once seen. */
export { RollbackState, type AuditHead } from "./hashset/version-state.js";
export type { Override, OverridesProvenance } from "./hashset/overrides.js";
/** Parses `.phs` store bytes already in memory (no signature or rollback check: use loadHashSet for that). */
export { parseStore } from "./hashset/load.js";
export type { HashSet } from "./hashset/hash-set.js";
export type { HashSetEntry, Withdrawal } from "./hashset/entry.js";
export type { ListInfo, PhsHeader, StoreProvenance } from "./hashset/store-format.js";
/** Collects entries of one or more lists for a store. */
export { HashSetBuilder } from "./hashset/builder.js";
/** Imports one list file (text, PyTX, CSV, NDJSON, VICS, ICSE, NCMEC) into a builder, streaming, with a report. */
export { importHashSet, type ImportOptions, type HashSetFormat } from "./hashset/import.js";
export type { ImportReport, ImportProblem } from "./hashset/import-report.js";
/** The list formats importHashSet reads. */
export { HASH_SET_FORMATS } from "./hashset/import.js";
/** Parses one hash value of an algorithm from its text form (hex; PhotoDNA also base64), saying what is wrong. */
export { parseHashValue, type ParsedValue } from "./hashset/hash-value.js";
/** Writes a builder as `.phs` store bytes. */
export { serializeStore } from "./hashset/store-writer.js";
/** A detached Ed25519 signature of store bytes. */
export { signStore } from "./hashset/signature.js";
/** Verifies a detached signature against trusted keys; returns the signing key's id. */
export { verifyStore } from "./hashset/signature.js";
/** A new Ed25519 key pair (PEM) for signing stores. */
export { generateSigningKeys } from "./hashset/signature.js";
/** Public keys from PEM text, for {@link LoadOptions.trustedKeys}. */
export { parseTrustedKeys } from "./hashset/signature.js";
/** A list key from its text form, for {@link LoadOptions.key} (encrypted stores). */
export { parseListKey } from "./hashset/encryption.js";

// --- Index: Hamming search structures ----------------------------------------------------------------------------
/** The index kind (flat, MIH, BK-tree, exact) for a set of values and a search radius. */
export { chooseIndexKind, type IndexKind } from "./index/index.js";
/** Builds a Hamming index of a kind over packed values. */
export { buildIndex, type HammingIndex, type IndexHit, type PackedValuesView } from "./index/index.js";

// --- Match: hashes against lists ---------------------------------------------------------------------------------
/** Matches hash records against loaded lists under per-algorithm policies, with dihedral PDQ and overrides. */
export { Matcher, type MatcherOptions } from "./match/matcher.js";
/** The default policy (threshold, quality gate) of an algorithm. */
export { defaultPolicy, type MatchPolicy } from "./match/policy.js";
/** A policy with your own maximum distance and minimum quality. */
export { makePolicy } from "./match/policy.js";
/** The versioned match result's JSON Schema. */
export { matchResultSchema, type MatchResult, type MatchHit, type AppliedOverride } from "./match/match-result.js";

// --- Check: one upload, one decision -----------------------------------------------------------------------------
/** Loads lists once and returns a checker: upload bytes in, decision out; nothing is written. */
export {
  createChecker,
  type Checker,
  type CheckerOptions,
  type CheckerPool,
  type CheckResult,
  type Decision,
} from "./check/checker.js";
/** A checker over lists already loaded (to swap lists without reloading them). */
export { checkerFor } from "./check/checker.js";
/** The decision and reason code for a match result (for records matched elsewhere). */
export { decide } from "./check/checker.js";

// --- Scan: a tree of files ---------------------------------------------------------------------------------------
/** Walks inputs, hashes every file read-only on the supervised pool, matches it, yields one record per entry. */
export { scanFiles, type ScanWalkOptions } from "./scan/scan.js";
/** Counts a scan's records into its summary. */
export { ScanTally, type ScanHeader, type ScanFileRecord, type ScanSummary } from "./report/scan-report.js";
/** The scan report's JSON Schema. */
export { scanReportSchema } from "./report/scan-report.js";
/** Walks input paths streaming: the files a scan would read, in its order. */
export { walkInputs, type WalkOptions, type WalkEntry } from "./pipeline/walk.js";
export type { FilePath } from "./files/file-path.js";

// --- Report: writing and verifying scan reports ------------------------------------------------------------------
/** Writes a scan report as it goes (NDJSON, CSV or VICS): header, one record per file, summary. */
export { createReportWriter, type ReportFormat, type ReportWriter } from "./report/writers.js";
/** Writes a finished report's SHA-256 beside it, and its Ed25519 signature with a key. */
export { writeReportIntegrity } from "./report/integrity.js";
/** Verifies a report against its SHA-256, and its signature against trusted keys; throws PHM_REPORT_ALTERED. */
export { verifyReport, type ReportVerification } from "./report/integrity.js";

// --- Audit: a tamper-evident log of decisions --------------------------------------------------------------------
/** An append-only, hash-chained, optionally signed log of decisions. */
export { AuditLog, type AuditDecision, type AuditLogOptions, type AuditVerification } from "./audit/audit-log.js";
/** Verifies an audit log's chain and signatures, optionally against a known head. */
export { verifyAuditLog } from "./audit/audit-log.js";

// The hash-set layer: entry model, readers, the .phs store, integrity, versions, overrides.
export type { HashSetEntry, Withdrawal, EntryFields, HashSetRecord } from "./entry.js";
export { ImportReport, type ImportProblem, type InputEnding } from "./import-report.js";
export { parseHashValue, degenerateValue } from "./hash-value.js";
export { HashSetBuilder } from "./builder.js";
export { serializeStore } from "./store-writer.js";
export { HashSet, type PackedSection } from "./hash-set.js";
export { DEFAULT_MAX_URL_BYTES, isListUrl, loadHashSet, parseStore, type LoadOptions, type LoadedHashSet } from "./load.js";
export { signStore, verifyStore, parseTrustedKeys, generateSigningKeys, keyId } from "./signature.js";
export { encryptStore, decryptStore, isEncryptedStore, parseListKey } from "./encryption.js";
export { RollbackState, ListVersionState, auditLogKey, type AuditHead } from "./version-state.js";
export { withLock, STATE_LOCK_WAIT_MS, STATE_LOCK_STALE_MS } from "./locked-file.js";
export {
  readOverrides,
  readOverridesFile,
  addOverride,
  removeOverride,
  signOverrides,
  checkOverrides,
  overridesPath,
  overridesSignaturePath,
  type Override,
  type OverridesHeader,
  type OverridesFile,
  type OverridesProvenance,
  type OverridesCheck,
  type OverridesWrite,
  type OverridesWritten,
} from "./overrides.js";
export { diffHashSets, type HashSetChange } from "./diff.js";
export { exportNdjson, exportCsv, csvCell, withdrawnIn, type ExportTally } from "./export.js";
export { importHashSet, detectHashSetFormat, detectFormatOfText, HASH_SET_FORMATS, type HashSetFormat, type ImportOptions, type DetectedFormat } from "./import.js";
export type { ListInfo, PhsHeader, StoreProvenance } from "./store-format.js";
export type { HashSetReader, ReaderOptions } from "./readers/reader.js";

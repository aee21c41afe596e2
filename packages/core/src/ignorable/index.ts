/** Ignorable known files (issue 22): exact digest stores and plain digest lists. */
export {
  algorithmOfHexLength,
  DIGEST_WIDTH,
  type DigestAlgorithm,
  isDigestAlgorithm,
  parseHexDigest,
} from "./digest-algorithm.js";
export {
  DEFAULT_DIGEST_LIST_MAX_ENTRIES,
  DigestListError,
  type DigestListOptions,
  type DigestListProblem,
  loadDigestList,
  openIgnorable,
  readDigestList,
} from "./digest-list.js";
export type { IgnorableDigestSet } from "./digest-set.js";
export {
  closeScanIgnorables,
  digestOrder,
  ignorableAlgorithms,
  ignorableHits,
  openScanIgnorables,
  type ScanIgnorable,
  sameIgnorableLists,
} from "./scan-ignorable.js";
export {
  buildDigestStore,
  DEFAULT_DIGEST_RAM_BUDGET,
  DigestStoreBuilder,
  type DigestStoreBuildOptions,
  type DigestStoreBuildResult,
} from "./store-builder.js";
export { DIGEST_STORE_MAGIC, DIGEST_STORE_VERSION } from "./store-format.js";
export { DEFAULT_DIGEST_MEMORY_BYTES, type OpenDigestStoreOptions, openDigestStore } from "./store-reader.js";

export { type FirstCopies, MemoryFirstCopies } from "./first-copies.js";
export {
  createEntryScanner,
  duplicateRecord,
  type EntryScannerOptions,
  fileDigests,
  ignorableRecord,
  type ScanWalkOptions,
  scanAlgorithms,
  scanFiles,
  scanRecord,
  symlinkRecord,
  withLinkTarget,
  withSize,
  withTimes,
} from "./scan.js";
export { SpillFirstCopies, type SpillFirstCopiesOptions } from "./spill-first-copies.js";

export { scanFiles, scanAlgorithms, scanRecord, duplicateRecord, symlinkRecord, withLinkTarget, fileSha256, withSize, type ScanWalkOptions } from "./scan.js";

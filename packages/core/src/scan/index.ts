export { scanFiles, scanHeader, scanWalkHeader, scanAlgorithms, scanRecord, duplicateRecord, symlinkRecord, withLinkTarget, fileSha256, withSize, type ScanWalkOptions } from "./scan.js";
export { readScanProgress, type ScanProgress } from "./resume.js";
export { ScanTally, scanReportSchema, SCAN_REPORT_VERSION, type ScanHeader, type ScanWalkHeader, type ScanFileRecord, type ScanSummary } from "./scan-report.js";

export { scanFiles, scanHeader, scanAlgorithms, scanRecord, duplicateRecord, fileSha256, withSize } from "./scan.js";
export { readScanProgress, type ScanProgress } from "./resume.js";
export { ScanTally, scanReportSchema, SCAN_REPORT_VERSION, type ScanHeader, type ScanFileRecord, type ScanSummary } from "./scan-report.js";

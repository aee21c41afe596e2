export {
  ScanTally,
  scanReportSchema,
  SCAN_REPORT_VERSION,
  type ScanHeader,
  type ScanWalkHeader,
  type ScanFileRecord,
  type ScanSummary,
} from "./scan-report.js";
export { scanHeader, scanWalkHeader } from "./header.js";
export { readScanProgress, type ScanProgress } from "./progress.js";
export { createReportWriter, type ReportFormat, type ReportWriter } from "./writers.js";
export { writeReportIntegrity, verifyReport, type ReportVerification } from "./integrity.js";

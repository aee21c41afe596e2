export { scanHeader, scanWalkHeader } from "./header.js";
export { type ReportVerification, verifyReport, writeReportIntegrity } from "./integrity.js";
export { readScanProgress, type ScanProgress } from "./progress.js";
export {
  SCAN_REPORT_VERSION,
  type ScanFileRecord,
  type ScanHeader,
  type ScanSummary,
  ScanTally,
  type ScanWalkHeader,
  scanReportSchema,
  scanReportSchemaId,
} from "./scan-report.js";
export { createReportWriter, type ReportFormat, type ReportWriter } from "./writers.js";

export { type ClusterSectionCheck, checkClusterSection } from "./cluster-seal.js";
export { scanHeader, scanWalkHeader } from "./header.js";
export { type ReportVerification, verifyReport, writeReportIntegrity } from "./integrity.js";
export { type ReadScanProgressOptions, readScanProgress, type ScanProgress } from "./progress.js";
export {
  type IgnorableHit,
  SCAN_REPORT_VERSION,
  type ScanClusterLine,
  type ScanClusterMember,
  type ScanClusterSettings,
  type ScanClustersSeal,
  type ScanFileRecord,
  type ScanHeader,
  type ScanIgnorableList,
  type ScanSummary,
  ScanTally,
  type ScanWalkHeader,
  scanReportSchema,
  scanReportSchemaId,
} from "./scan-report.js";
export { createReportWriter, type ReportFormat, type ReportWriter } from "./writers.js";

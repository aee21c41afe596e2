export {
  type AuditDecision,
  AuditLog,
  type AuditLogOptions,
  type AuditVerification,
  verifyAuditLog,
} from "./audit-log.js";

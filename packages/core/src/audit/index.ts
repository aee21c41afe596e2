export {
  type AuditDecision,
  type AuditEvent,
  AuditLog,
  type AuditLogOptions,
  type AuditPosition,
  type AuditVerification,
  verifyAuditLog,
} from "./audit-log.js";

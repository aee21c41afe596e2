export { AuditLog, verifyAuditLog, type AuditDecision, type AuditLogOptions, type AuditVerification } from "./audit-log.js";

import { ERROR_CODES, PhmatchError } from "@phmatch/core";

/**
 * Codes only the CLI raises (the distributed scan's queue, serve's list reload), beside core's: as stable as
 * core's (records, exit codes, docs), added to, never renamed.
 */
export const CLI_ONLY_ERROR_CODES = {
  PHM_QUEUE_UNAVAILABLE: "the distributed scan's queue (Redis) cannot be reached, or holds no such scan",
  PHM_QUEUE_LIST_MISMATCH:
    "a worker's lists are not the releases the distributed scan started with: scans never mix list versions",
  PHM_QUEUE_IGNORABLE_MISMATCH:
    "a worker's --ignorable lists are not the ones (same bytes, same order) the distributed scan started with: " +
    "it would set other files aside than the report's header says",
  PHM_NSRL_FORMAT:
    "an NSRL RDS database cannot be imported: not a regular file, not an SQLite database (or a damaged one), no " +
    "METADATA or FILE table or view with the digest column asked for (the message names what it found), or no " +
    "valid digest in it; nothing was written",
  PHM_QUEUE_DEAD_LETTER:
    "the file's batch failed on every attempt (workers died or erred on it); it is on the scan's dead-letter list",
  PHM_HASHSET_LIST_CHANGE:
    "a list reload would stop serving a list id the gate serves (another list put in its place): " +
    "refused unless allowed (serve --allow-list-change)",
  PHM_REPORT_XML:
    "a CyberTipline XML document (a report to check, or the server's answer) is not well-formed XML in the subset " +
    "phmatch reads (no DOCTYPE, comments, CDATA or processing instructions)",
  PHM_REPORT_INVALID:
    "a CyberTipline report or file details document does not follow the element structure of NCMEC's " +
    "documentation (a required element missing, elements out of order, a value of the wrong form): not written, " +
    "not sent",
  PHM_REPORT_SUBMIT:
    "the CyberTipline submit sequence failed (refused credentials, an error answer, a broken connection, a file " +
    "hash the server saw differently); the message says which step and what state the report was left in " +
    "(its report id, retracted or still open)",
  PHM_JOURNAL_ALTERED:
    "a file of serve's record journal is damaged or was altered (a record fails authentication, is missing, moved " +
    "or cut): nothing after it was read",
  PHM_JOURNAL_KEY: "a file of serve's record journal was not written with the key given (or its header was altered)",
} as const;

/** Every code `phmatch` can report: core's table extended with the CLI's own. */
export const CLI_ERROR_CODES = { ...ERROR_CODES, ...CLI_ONLY_ERROR_CODES } as const;

/** One of the codes `phmatch` can report. */
export type CliErrorCode = keyof typeof CLI_ERROR_CODES;

/** An error with one of the CLI's own codes: a PhmatchError like core's (same `code`, `toJSON`, `instanceof`). */
export class CliError extends PhmatchError<CliErrorCode> {}

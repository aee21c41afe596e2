import type { ErrorCode } from "@phmatch/core";

/** Exit codes of `phmatch`, documented in the README; stable across versions. */
export const EXIT_CODES = {
  /** Everything asked for was done. */
  OK: 0,
  /** An unexpected internal error (a bug): report it with the command line, never with the images. */
  INTERNAL: 1,
  /** The command ran, but one or more inputs failed (records or the report carry the error codes and lines). */
  INPUT_FAILED: 2,
  /** A hash set must not be used: bad or missing signature, damaged store, rollback, wrong key, nothing to match. */
  VERIFICATION_FAILED: 3,
  /** The command line was wrong (unknown option, bad value): nothing was done. */
  USAGE: 64,
} as const;

/** The exit code for an error that ended a command. */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case "PHM_USAGE":
      return EXIT_CODES.USAGE;
    case "PHM_HASHSET_SIGNATURE":
    case "PHM_HASHSET_FORMAT":
    case "PHM_HASHSET_ROLLBACK":
    case "PHM_HASHSET_KEY":
    case "PHM_REPORT_ALTERED":
    case "PHM_AUDIT_ALTERED":
    case "PHM_QUEUE_LIST_MISMATCH":
    case "PHM_HASHSET_EMPTY":
    case "PHM_STATE_LOCKED":
    case "PHM_HASHSET_LIST_CHANGE":
      return EXIT_CODES.VERIFICATION_FAILED;
    case "PHM_INTERNAL":
      return EXIT_CODES.INTERNAL;
    default:
      return EXIT_CODES.INPUT_FAILED;
  }
}

let commandExitCode: number = EXIT_CODES.OK;

/** Called by a command that finished but wants a non-zero exit (some inputs failed). */
export function setCommandExitCode(code: number): void {
  commandExitCode = code;
}

/** The exit code a finished command asked for (and resets it). */
export function takeCommandExitCode(): number {
  const code = commandExitCode;
  commandExitCode = EXIT_CODES.OK;
  return code;
}

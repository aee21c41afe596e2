/** Exit codes of `phmatch`, documented in the README; stable across versions. */
export const EXIT_CODES = {
  /** Everything asked for was done (every input hashed). */
  OK: 0,
  /** An unexpected internal error (a bug): report it with the command line, never with the images. */
  INTERNAL: 1,
  /** The command ran to the end but one or more inputs failed (their records carry the error codes). */
  INPUT_FAILED: 2,
  /** The command line was wrong (unknown option, bad value): nothing was done. */
  USAGE: 64,
} as const;

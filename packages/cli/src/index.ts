/** @phmatch/cli as a library: build or run the `phmatch` command programmatically. */

/** The codes only the CLI raises (the distributed scan's queue, serve's list reload), and core's table with them. */
export { CLI_ERROR_CODES, CLI_ONLY_ERROR_CODES, type CliErrorCode } from "./errors.js";
/** Documented exit codes. */
export { EXIT_CODES } from "./exit-codes.js";
export { createProgram, run } from "./program.js";

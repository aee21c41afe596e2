/** @phmatch/cli as a library: build or run the `phmatch` command programmatically. */
export { createProgram, run } from "./program.js";
/** Documented exit codes. */
export { EXIT_CODES } from "./exit-codes.js";

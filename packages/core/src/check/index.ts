export { createChecker, checkerFor, decide, DEFAULT_CHECK_MAX_BYTES, type Checker, type CheckerOptions, type CheckerPool, type CheckResult, type Decision } from "./checker.js";

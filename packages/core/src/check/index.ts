export {
  type Checker,
  type CheckerOptions,
  type CheckerPool,
  type CheckResult,
  checkerFor,
  createChecker,
  DEFAULT_CHECK_MAX_BYTES,
  DEFAULT_CHECK_MAX_PIXELS,
  type Decision,
  decide,
} from "./checker.js";

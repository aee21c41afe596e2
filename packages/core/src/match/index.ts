export { Matcher, type MatcherOptions } from "./matcher.js";
export { defaultPolicy, makePolicy, POLICY_VERSION, type MatchPolicy } from "./policy.js";
export { matchResultSchema, MATCH_RESULT_VERSION, type MatchResult, type MatchHit, type AppliedOverride } from "./match-result.js";

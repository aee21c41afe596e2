export {
  type AppliedOverride,
  MATCH_RESULT_VERSION,
  type MatchHit,
  type MatchResult,
  matchResultSchema,
} from "./match-result.js";
export { Matcher, type MatcherOptions } from "./matcher.js";
export { defaultPolicy, type MatchPolicy, makePolicy, POLICY_VERSION } from "./policy.js";
export {
  type FrameHit,
  type ListedImage,
  type ListedVideo,
  type VideoEntryMatch,
  VideoIndex,
  type VideoQueryResult,
} from "./video-index.js";
export {
  checkPdqBytes,
  defaultVideoPolicy,
  type FramePair,
  keptVideoFrames,
  type ListedSide,
  listedSide,
  makeVideoPolicy,
  matchVideoFrames,
  type VideoMatch,
  type VideoMatchPolicy,
  type VideoSegment,
  videoMatchFromPairs,
} from "./video-match.js";

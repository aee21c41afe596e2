import { PhmatchError } from "../errors/index.js";
import { PDQ_MIN_QUALITY } from "../hashers/pdq.js";
import type { VpdqFrame } from "../hashset/vpdq-text.js";
import { hammingDistance } from "../record/hex.js";
import { POLICY_VERSION } from "./policy.js";

/**
 * How two vPDQ video hashes decide a match, as Meta's vPDQ README and python-threatexchange define it: frames with
 * the same hash count once (the first kept), frames below `minQuality` are left out, a frame is matched when some
 * frame on the other side is within `maxDistance` bits, and the videos match when the share of the listed video's
 * frames matched is at least `minTargetPercent` and the query's share at least `minQueryPercent`.
 * The id says all of it: `vpdq:d31:q50:t80:s0@1` (t = listed video's share, s = query's share).
 */
export interface VideoMatchPolicy {
  id: string;
  maxDistance: number;
  minQuality: number;
  minTargetPercent: number;
  minQueryPercent: number;
}

/**
 * The reference's defaults: PDQ distance <= 31, quality >= 50 (vpdq_match.py's defaults), and a match when 80 % of
 * the listed video's frames are matched, with any share of the query (vpdq/README's example values).
 */
export function defaultVideoPolicy(): VideoMatchPolicy {
  return makeVideoPolicy(31, PDQ_MIN_QUALITY, 80, 0);
}

/** A video policy with its id derived from its parameters. */
export function makeVideoPolicy(
  maxDistance: number,
  minQuality: number,
  minTargetPercent: number,
  minQueryPercent: number,
): VideoMatchPolicy {
  const check = (name: string, value: number, max: number) => {
    if (!Number.isInteger(value) || value < 0 || value > max) {
      throw new PhmatchError("PHM_USAGE", `vPDQ ${name} must be an integer 0..${max}, got ${value}`);
    }
  };
  check("distance", maxDistance, 256);
  check("quality", minQuality, 100);
  check("listed video share", minTargetPercent, 100);
  check("query share", minQueryPercent, 100);
  const id = `vpdq:d${maxDistance}:q${minQuality}:t${minTargetPercent}:s${minQueryPercent}@${POLICY_VERSION}`;
  return { id, maxDistance, minQuality, minTargetPercent, minQueryPercent };
}

/**
 * The frames of a video that take part in matching, in their order: the first of each run of identical hashes
 * anywhere in the video (before the quality gate, as the reference drops duplicates first), then quality >= gate.
 * A hash that is not 32 bytes is refused (PHM_USAGE): it would be read as the next frame's bits in an index.
 */
export function keptVideoFrames(frames: readonly VpdqFrame[], minQuality: number, source = "video"): VpdqFrame[] {
  const seen = new Set<string>();
  const kept: VpdqFrame[] = [];
  for (const frame of frames) {
    checkPdqBytes(frame.hash.bytes, `${source} frame ${frame.frame}`);
    const key = Buffer.from(frame.hash.bytes).toString("hex");
    if (seen.has(key)) continue;
    seen.add(key);
    if (frame.hash.quality >= minQuality) kept.push(frame);
  }
  return kept;
}

/** A stretch of the query whose kept frames all matched, and the listed video's times they matched. */
export interface VideoSegment {
  /** Seconds in the query: its first and last matched frame of the stretch. */
  queryStart: number;
  queryEnd: number;
  /** Seconds in the listed video: the earliest and latest frame that matched the stretch's frames. */
  targetStart: number;
  targetEnd: number;
}

/** One query video against one listed video. Percentages are 0-100 with no rounding. */
export interface VideoMatch {
  /** The policy that decided, e.g. `vpdq:d31:q50:t80:s0@1`. */
  policy: string;
  match: boolean;
  /** Share of the query's kept frames within the distance of some kept frame of the listed video. */
  queryPercent: number;
  /** Share of the listed video's kept frames within the distance of some kept query frame. */
  targetPercent: number;
  queryFramesUsed: number;
  targetFramesUsed: number;
  /** Runs of consecutive matched kept query frames, in query order. */
  segments: VideoSegment[];
}

/**
 * Matches a query video's frames against a listed video's frames, pair by pair (the reference's brute force).
 * For one listed video this is all it takes; against a list of many videos use {@link VideoIndex}, which gives
 * the same answer through the Hamming index.
 * @example matchVideoFrames(parseVpdqText(q), parseVpdqText(t)).targetPercent // 95.65...
 */
export function matchVideoFrames(
  query: readonly VpdqFrame[],
  target: readonly VpdqFrame[],
  policy: VideoMatchPolicy = defaultVideoPolicy(),
): VideoMatch {
  const q = keptVideoFrames(query, policy.minQuality, "query video");
  const t = keptVideoFrames(target, policy.minQuality, "listed video");
  const pairs: FramePair[] = [];
  for (let i = 0; i < q.length; i++) {
    for (let j = 0; j < t.length; j++) {
      if (hammingDistance((q[i] as VpdqFrame).hash.bytes, (t[j] as VpdqFrame).hash.bytes) <= policy.maxDistance) {
        pairs.push({ query: i, target: j });
      }
    }
  }
  return videoMatchFromPairs(q, listedSide(t, pairs), pairs, policy);
}

/** The listed side of {@link videoMatchFromPairs} for a listed video held as its kept frames (`pairs` index them). */
export function listedSide(kept: readonly VpdqFrame[], pairs: readonly FramePair[]): ListedSide {
  const timestamps = new Map<number, number>();
  for (const { target } of pairs) timestamps.set(target, (kept[target] as VpdqFrame).timestamp);
  return { frames: kept.length, timestamps };
}

/**
 * Kept query frame `query` (its position in the query's kept frames) is within the distance of the listed frame
 * `target`: any number naming one kept frame of the listed video (its position, or a store entry's row).
 */
export interface FramePair {
  query: number;
  target: number;
}

/**
 * The listed video's side of a match: how many frames it keeps (the listed share's denominator) and the time in
 * seconds of each listed frame the pairs name, by `target`. A store holds a listed video as entries that say their
 * kept count, so its other frames need not be read to decide.
 */
export interface ListedSide {
  frames: number;
  timestamps: ReadonlyMap<number, number>;
}

/** The percentages, verdict and segments from every close pair of kept frames. */
export function videoMatchFromPairs(
  q: readonly VpdqFrame[],
  listed: ListedSide,
  pairs: readonly FramePair[],
  policy: VideoMatchPolicy,
): VideoMatch {
  const targetMatched = new Set<number>();
  // Per matched query frame: the earliest and latest listed time it matched.
  const span = new Map<number, { from: number; to: number }>();
  for (const { query, target } of pairs) {
    targetMatched.add(target);
    const time = listed.timestamps.get(target);
    if (time === undefined) throw new RangeError(`listed frame ${target} has no timestamp`);
    const seen = span.get(query);
    if (seen === undefined) span.set(query, { from: time, to: time });
    else span.set(query, { from: Math.min(seen.from, time), to: Math.max(seen.to, time) });
  }
  // The reference gives 0 % on both sides when either side keeps no frame.
  const empty = q.length === 0 || listed.frames === 0;
  const queryPercent = empty ? 0 : (span.size * 100) / q.length;
  const targetPercent = empty ? 0 : (targetMatched.size * 100) / listed.frames;
  const segments: VideoSegment[] = [];
  let open: VideoSegment | undefined;
  for (let i = 0; i < q.length; i++) {
    const s = span.get(i);
    if (s === undefined) {
      open = undefined;
      continue;
    }
    const time = (q[i] as VpdqFrame).timestamp;
    if (open === undefined) {
      open = { queryStart: time, queryEnd: time, targetStart: s.from, targetEnd: s.to };
      segments.push(open);
    } else {
      open.queryEnd = time;
      open.targetStart = Math.min(open.targetStart, s.from);
      open.targetEnd = Math.max(open.targetEnd, s.to);
    }
  }
  return {
    policy: policy.id,
    match: !empty && targetPercent >= policy.minTargetPercent && queryPercent >= policy.minQueryPercent,
    queryPercent,
    targetPercent,
    queryFramesUsed: q.length,
    targetFramesUsed: listed.frames,
    segments,
  };
}

/** Refuses a value that is not a 256-bit PDQ hash, saying which frame or image it was. */
export function checkPdqBytes(bytes: Uint8Array, what: string): void {
  if (bytes.length !== 32) {
    throw new PhmatchError("PHM_USAGE", `${what}: a vPDQ frame hash is 32 bytes (PDQ), got ${bytes.length}`);
  }
}

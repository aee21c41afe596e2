import { readFileSync } from "node:fs";
import type { ErrorCode } from "../errors/index.js";

/** Version of the match result shape (schema/match-result.schema.json). */
export const MATCH_RESULT_VERSION = 2;

/** A local override that applied to a hit (who, when, why), as recorded beside the list. */
export interface AppliedOverride {
  action: "disable" | "allow";
  who: string;
  when: string;
  why: string;
  /** Release of the overrides file it came from, when the file has one. */
  release?: number;
  /** Key whose signature over that file was verified (only when trusted keys were given). */
  signedBy?: string;
}

/** One list entry the file matches. Says "matches list X, category Y", never anything about a person. */
export interface MatchHit {
  list: string;
  listVersion: number;
  entryId?: string;
  category?: string;
  algorithm: string;
  distance: number;
  /**
   * For PDQ: which transform of the queried image matched the entry (original, rotate90 = a quarter turn
   * counter-clockwise, ...): a copy turned clockwise matches through rotate90.
   */
  variant?: string;
  /** The policy that decided, e.g. pdq:d31:q50@1. */
  policy: string;
  /**
   * Which query hash matched when it was not the whole image's: `trimmed`, the content inside uniform borders;
   * `rotated`, the image turned back by a small angle (`rotation` says which); `part`, one part of the image
   * (`part` says which), as when an overlay covers another.
   */
  query?: "trimmed" | "rotated" | "part";
  /** For `query: "rotated"`: the angle in degrees the query was turned back by. */
  rotation?: number;
  /** For `query: "part"`: which part of the queried image matched (PART_WINDOWS), e.g. top-60. */
  part?: string;
  /** The entry's hash that matched was of part of the listed image (list-side augmentation), e.g. centre-90. */
  window?: string;
  /**
   * A query video against a listed video (algorithm `vpdq`, policy e.g. `vpdq:d31:q50:t80:s0@1`; `distance` is the
   * closest frame pair's): the shares of kept frames matched on each side and the stretches that matched.
   */
  video?: {
    queryPercent: number;
    targetPercent: number;
    queryFramesUsed: number;
    targetFramesUsed: number;
    segments: { queryStart: number; queryEnd: number; targetStart: number; targetEnd: number }[];
  };
  /**
   * Seconds into a video where a frame matched: for a query video hitting a listed image, the query's frame
   * (`frame` its number); for a still image hitting a frame of a listed video, the listed video's frame.
   */
  timestamp?: number;
  frame?: number;
  /** A local override applied: the hit is reported but does not make the file known. */
  override?: AppliedOverride;
}

/**
 * The outcome for one file, used by every output (match, check, scan, the HTTP API, the audit log):
 * - `known`: at least one list entry matched (a digest hit counts even if the image failed to decode);
 * - `unseen`: every requested check ran and nothing matched;
 * - `low_quality`: nothing matched and a perceptual hash was too weak to decide: never a silent "no match";
 * - `error`: the file could not be checked (its record's error is given).
 */
export interface MatchResult {
  path: string;
  status: "known" | "unseen" | "low_quality" | "error";
  matches: MatchHit[];
  /** Algorithms whose hashes were looked up. */
  checked: string[];
  /** What was not checked and why (low quality, no dihedral variants, no list for an algorithm). */
  notes?: string[];
  error?: { code: ErrorCode | string; message: string };
}

let schema: object | undefined;

/**
 * JSON Schema (draft 2020-12) of {@link MatchResult}, `$id` urn:phmatch:schema:match-result:2; version 2 adds video
 * hits (`video`, `timestamp`, `frame`, the `vpdq:...:t80:s0` policy ids), and every version 1 result stays valid.
 */
export function matchResultSchema(): object {
  schema ??= JSON.parse(
    readFileSync(new URL("../../schema/match-result.schema.json", import.meta.url), "utf8"),
  ) as object;
  return schema;
}

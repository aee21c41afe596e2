import { PhmatchError } from "../errors/index.js";
import { hasherSpec } from "../hashers/index.js";
import { PDQ_MIN_QUALITY } from "../hashers/pdq.js";

/**
 * How one algorithm's hashes decide a match, named and versioned so a report can say which rule decided:
 * `pdq:d31:q50@1` is "PDQ, distance <= 31, quality >= 50, version 1 of that rule"; digests are `md5:exact@1`.
 */
export interface MatchPolicy {
  id: string;
  algorithm: string;
  maxDistance: number;
  /** Hashes below this quality are too featureless to decide (PDQ). */
  minQuality?: number;
}

/** Version of the policy definitions; bumped when a default changes meaning. */
export const POLICY_VERSION = 1;

/**
 * The default policy of an algorithm (its registry threshold). PDQ: the reference's 31 and pytx's quality 50.
 * 64-bit hashes: phash 10, dhash 8, ahash 4, whash 5, blockhash8 7, measured by bench/policy-64bit on benign
 * photographs (between the 95th-percentile mild edit and the closest distinct pair), provisional until the
 * robustness benchmark measures them on a larger corpus; 256-bit imagehash/blockhash: 32 (bench/robustness:
 * no distractor-known pair within 79 bits for the 256-bit pHash, so 32 keeps a margin like PDQ's 31 under 83).
 * Digests: exact.
 */
export function defaultPolicy(algorithm: string): MatchPolicy {
  const spec = hasherSpec(algorithm);
  if (spec === undefined) throw new PhmatchError("PHM_USAGE", `unknown algorithm "${algorithm}"`);
  return makePolicy(algorithm, spec.defaultThreshold, algorithm === "pdq" ? PDQ_MIN_QUALITY : undefined);
}

/** A policy with its id derived from its parameters. */
export function makePolicy(algorithm: string, maxDistance: number, minQuality?: number): MatchPolicy {
  const spec = hasherSpec(algorithm);
  if (spec === undefined) throw new PhmatchError("PHM_USAGE", `unknown algorithm "${algorithm}"`);
  if (!Number.isInteger(maxDistance) || maxDistance < 0 || maxDistance > spec.bits) {
    throw new PhmatchError("PHM_USAGE", `${algorithm} distance must be 0..${spec.bits}, got ${maxDistance}`);
  }
  const exact = spec.input === "bytes";
  const id = exact
    ? `${algorithm}:exact@${POLICY_VERSION}`
    : `${algorithm}:d${maxDistance}${minQuality !== undefined ? `:q${minQuality}` : ""}@${POLICY_VERSION}`;
  const policy: MatchPolicy = { id, algorithm, maxDistance: exact ? 0 : maxDistance };
  if (minQuality !== undefined) policy.minQuality = minQuality;
  return policy;
}

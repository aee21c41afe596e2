import { createHash } from "node:crypto";
import { type HasherSpec, hasherSpec, PhmatchError } from "@phmatch/core";
import { hasherSpecs } from "@phmatch/core/internal";

/**
 * What a token may see: `full` (a platform's backend: list ids, entry ids, categories, distances) or `decision`
 * (only `decision` and `reason_code`, for tokens that end users could get hold of: they cannot probe which
 * hashes a list holds beyond yes/no).
 */
export type Detail = "full" | "decision";

/**
 * What a token may do: `check` (POST /v1/check, and /v1/match with a grant), `feedback` (POST /v1/feedback: a
 * reviewer's verdict on a match), `report` (build the CyberTipline report and preservation record of a match).
 * A token without `scopes` in the file has `check` only; one that names scopes has exactly those, so a reviewer's
 * token need not be able to check uploads, nor an upload client's to reject list entries.
 */
export type Scope = "check" | "feedback" | "report";
export const SCOPES: readonly Scope[] = ["check", "feedback", "report"];

/**
 * One bearer token: its name (for metrics and logs; never the token), detail level, rate limit and the
 * algorithms it may send by hash to `/v1/match`.
 */
export interface TokenSpec {
  name: string;
  detail: Detail;
  /** Units per minute: one per request, and on /v1/match one per hash looked up (default: unlimited). */
  ratePerMinute?: number;
  /**
   * The algorithms this token may send by hash to /v1/match (`matchAlgorithms` in the file). Full tokens: every
   * algorithm phmatch matches unless the file names fewer. Decision tokens: none unless the file names them (no
   * /v1/match at all), and never a 64-bit one (see {@link byHashForDecision}).
   */
  matchAlgorithms: ReadonlySet<string>;
  /** What the token may do (see {@link Scope}); `check` only unless the file names scopes. */
  scopes: ReadonlySet<Scope>;
}

/** Algorithms phmatch matches (PhotoDNA is imported and carried, never matched). */
export const MATCHABLE_ALGORITHMS: readonly string[] = hasherSpecs()
  .filter((spec) => spec.input !== "imported")
  .map((spec) => spec.id);

/**
 * Whether a decision token may send this algorithm by hash. With yes/no answers, a hash sent by hash is a probe:
 * a random 64-bit value lands within the match distance of some entry of a 200,000-entry list about once in 500
 * tries for pHash (distance 10), once in 18,000 for dHash, so random search finds listed values and a bit-by-bit
 * walk then recovers them exactly. For 256-bit hashes (PDQ within 31 bits: 2^-123 per entry) random search finds
 * nothing; recovering an entry needs a near match to start from (a matching image) and then one yes/no answer
 * per bit, which the rate limit bounds (SECURITY.md). Exact digests match only the very file.
 */
export function byHashForDecision(spec: HasherSpec): boolean {
  return spec.input === "bytes" || (spec.input === "pixels" && spec.bits >= 256);
}

/**
 * Bearer tokens from JSON: `{"tokens":[{"name":"backend","token":"...","detail":"full","ratePerMinute":6000}]}`;
 * instead of `token`, `sha256` may give the hex SHA-256 of the token so the file holds no secret. Tokens are
 * compared by their SHA-256, so the time taken says nothing about how much of a guess was right.
 */
export class TokenAuth {
  readonly #byDigest = new Map<string, TokenSpec>();

  constructor(json: string, source: string) {
    let parsed: { tokens?: unknown };
    try {
      parsed = JSON.parse(json) as { tokens?: unknown };
    } catch {
      throw new PhmatchError(
        "PHM_USAGE",
        `${source} is not JSON: expected ` +
          '{"tokens":[{"name":...,"token":...,"detail":"full"|"decision",' +
          '"ratePerMinute":...,"matchAlgorithms":[...]}]}',
      );
    }
    if (!Array.isArray(parsed.tokens) || parsed.tokens.length === 0)
      throw new PhmatchError("PHM_USAGE", `${source} has no "tokens" array`);
    parsed.tokens.forEach((t: unknown, i) => {
      const entry = t as {
        name?: unknown;
        token?: unknown;
        sha256?: unknown;
        detail?: unknown;
        ratePerMinute?: unknown;
        matchAlgorithms?: unknown;
        scopes?: unknown;
      };
      const where = `${source}: token ${i + 1}`;
      if (typeof entry.name !== "string" || entry.name === "")
        throw new PhmatchError("PHM_USAGE", `${where} has no name`);
      if (entry.detail !== "full" && entry.detail !== "decision")
        throw new PhmatchError("PHM_USAGE", `${where} (${entry.name}): detail must be "full" or "decision"`);
      let digest: string;
      if (typeof entry.token === "string" && entry.token.length >= 16) digest = sha256(entry.token);
      else if (typeof entry.sha256 === "string" && /^[0-9a-f]{64}$/i.test(entry.sha256))
        digest = entry.sha256.toLowerCase();
      else
        throw new PhmatchError(
          "PHM_USAGE",
          `${where} (${entry.name}): give "token" (at least 16 characters) or "sha256" (64 hex digits)`,
        );
      if (
        entry.ratePerMinute !== undefined &&
        (typeof entry.ratePerMinute !== "number" || !(entry.ratePerMinute > 0))
      ) {
        throw new PhmatchError("PHM_USAGE", `${where} (${entry.name}): ratePerMinute must be a positive number`);
      }
      const spec: TokenSpec = {
        name: entry.name,
        detail: entry.detail,
        matchAlgorithms: matchAlgorithmsOf(entry.matchAlgorithms, entry.detail, `${where} (${entry.name})`),
        scopes: scopesOf(entry.scopes, `${where} (${entry.name})`),
      };
      if (entry.ratePerMinute !== undefined) spec.ratePerMinute = entry.ratePerMinute;
      // The rate is what bounds how fast a decision token's yes/no answers can reveal an entry (SECURITY.md).
      if (spec.detail === "decision" && spec.matchAlgorithms.size > 0 && spec.ratePerMinute === undefined) {
        throw new PhmatchError(
          "PHM_USAGE",
          `${where} (${entry.name}): a decision token with "matchAlgorithms" needs a "ratePerMinute" (each ` +
            "hash it sends counts against it)",
        );
      }
      if (this.#byDigest.has(digest))
        throw new PhmatchError("PHM_USAGE", `${where} (${entry.name}): the same token is given twice`);
      this.#byDigest.set(digest, spec);
    });
  }

  /** The token named by an `Authorization: Bearer ...` header, or undefined. */
  authenticate(header: string | undefined): TokenSpec | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    return match === null ? undefined : this.#byDigest.get(sha256(match[1] as string));
  }
}

// The algorithms a token may send by hash, checked against the registry: unknown ids (also in another case) and
// PhotoDNA are refused, and 64-bit ones for decision tokens.
function matchAlgorithmsOf(value: unknown, detail: Detail, where: string): ReadonlySet<string> {
  if (value === undefined) return new Set(detail === "full" ? MATCHABLE_ALGORITHMS : []);
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === "string")) {
    throw new PhmatchError("PHM_USAGE", `${where}: "matchAlgorithms" must be an array of algorithm ids, e.g. ["pdq"]`);
  }
  for (const id of value) {
    const spec = hasherSpec(id);
    if (spec === undefined || !MATCHABLE_ALGORITHMS.includes(id)) {
      throw new PhmatchError(
        "PHM_USAGE",
        `${where}: "matchAlgorithms" names ${JSON.stringify(id)}, not an algorithm phmatch matches ` +
          `(${MATCHABLE_ALGORITHMS.join(", ")})`,
      );
    }
    if (detail === "decision" && !byHashForDecision(spec)) {
      throw new PhmatchError(
        "PHM_USAGE",
        `${where}: a decision token cannot send ${id} (${spec.bits}-bit) by hash: random ${spec.bits}-bit ` +
          "values find listed entries and yes/no answers then recover them; grant 256-bit algorithms (pdq, " +
          "phash16, ...) or digests, or use a full token on the platform's backend",
      );
    }
  }
  return new Set(value);
}

// The scopes a token is given: `check` when the file names none; otherwise a non-empty list of known scopes.
function scopesOf(value: unknown, where: string): ReadonlySet<Scope> {
  if (value === undefined) return new Set<Scope>(["check"]);
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((v): v is Scope => typeof v === "string" && (SCOPES as readonly string[]).includes(v))
  ) {
    throw new PhmatchError(
      "PHM_USAGE",
      `${where}: "scopes" must be a non-empty array of ${SCOPES.map((s) => JSON.stringify(s)).join(", ")}`,
    );
  }
  return new Set(value);
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * Token buckets per token name: `ratePerMinute` refills, bursts of up to ten seconds' worth. A request takes one
 * unit, each hash /v1/match looks up one more; the clock is given so tests can drive it.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { units: number; at: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Takes `units` if the bucket holds them (or is full, for more than a full bucket: the bucket then goes below
   * zero and refills from there); when over the rate, the seconds until they can be taken.
   */
  take(name: string, ratePerMinute: number, units = 1): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const bucket = this.#refill(name, ratePerMinute);
    const needed = Math.min(units, capacityOf(ratePerMinute));
    if (bucket.units >= needed) {
      bucket.units -= units;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(((needed - bucket.units) * 60) / ratePerMinute)) };
  }

  /** Takes `units` whatever the bucket holds (below zero, later requests wait until it has refilled). */
  charge(name: string, ratePerMinute: number, units: number): void {
    this.#refill(name, ratePerMinute).units -= units;
  }

  #refill(name: string, ratePerMinute: number): { units: number; at: number } {
    const now = this.#now();
    const bucket = this.#buckets.get(name) ?? { units: capacityOf(ratePerMinute), at: now };
    // A clock set back adds nothing, and does not move the bucket's time back (which would credit it twice).
    bucket.units = Math.min(
      capacityOf(ratePerMinute),
      bucket.units + (Math.max(0, now - bucket.at) * ratePerMinute) / 60_000,
    );
    bucket.at = Math.max(bucket.at, now);
    this.#buckets.set(name, bucket);
    return bucket;
  }
}

const capacityOf = (ratePerMinute: number) => Math.max(1, ratePerMinute / 6);

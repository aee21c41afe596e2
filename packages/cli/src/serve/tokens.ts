import { createHash } from "node:crypto";
import { PhmatchError } from "@phmatch/core";

/**
 * What a token may see: `full` (a platform's backend: list ids, entry ids, categories, distances) or `decision`
 * (only `decision` and `reason_code`, for tokens that end users could get hold of: they cannot probe which
 * hashes a list holds beyond yes/no).
 */
export type Detail = "full" | "decision";

/** One bearer token: its name (for metrics and logs; never the token), detail level and rate limit. */
export interface TokenSpec {
  name: string;
  detail: Detail;
  /** Requests per minute (default: unlimited). */
  ratePerMinute?: number;
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
      throw new PhmatchError("PHM_USAGE", `${source} is not JSON: expected {"tokens":[{"name":...,"token":...,"detail":"full"|"decision"}]}`);
    }
    if (!Array.isArray(parsed.tokens) || parsed.tokens.length === 0) throw new PhmatchError("PHM_USAGE", `${source} has no "tokens" array`);
    parsed.tokens.forEach((t: unknown, i) => {
      const entry = t as { name?: unknown; token?: unknown; sha256?: unknown; detail?: unknown; ratePerMinute?: unknown };
      const where = `${source}: token ${i + 1}`;
      if (typeof entry.name !== "string" || entry.name === "") throw new PhmatchError("PHM_USAGE", `${where} has no name`);
      if (entry.detail !== "full" && entry.detail !== "decision") throw new PhmatchError("PHM_USAGE", `${where} (${entry.name}): detail must be "full" or "decision"`);
      let digest: string;
      if (typeof entry.token === "string" && entry.token.length >= 16) digest = sha256(entry.token);
      else if (typeof entry.sha256 === "string" && /^[0-9a-f]{64}$/i.test(entry.sha256)) digest = entry.sha256.toLowerCase();
      else throw new PhmatchError("PHM_USAGE", `${where} (${entry.name}): give "token" (at least 16 characters) or "sha256" (64 hex digits)`);
      if (entry.ratePerMinute !== undefined && (typeof entry.ratePerMinute !== "number" || !(entry.ratePerMinute > 0))) {
        throw new PhmatchError("PHM_USAGE", `${where} (${entry.name}): ratePerMinute must be a positive number`);
      }
      const spec: TokenSpec = { name: entry.name, detail: entry.detail };
      if (entry.ratePerMinute !== undefined) spec.ratePerMinute = entry.ratePerMinute;
      this.#byDigest.set(digest, spec);
    });
  }

  /** The token named by an `Authorization: Bearer ...` header, or undefined. */
  authenticate(header: string | undefined): TokenSpec | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
    return match === null ? undefined : this.#byDigest.get(sha256(match[1] as string));
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Token buckets per token name: `ratePerMinute` refills, bursts of up to ten seconds' worth. */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** Takes one request; when over the rate, the seconds until one is allowed. */
  take(name: string, ratePerMinute: number, now = Date.now()): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const perMs = ratePerMinute / 60_000;
    const capacity = Math.max(1, ratePerMinute / 6);
    const bucket = this.#buckets.get(name) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    this.#buckets.set(name, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)) };
  }
}

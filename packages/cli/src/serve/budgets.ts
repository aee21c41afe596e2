// Decode budgets: what one client may spend of the worker threads. Every upload is charged to its token and to its
// client address the thread time it took beyond its first second (a photo hashes well within it: 0.15 s for 12 MP
// on one thread here), so normal uploads cost nothing, and a client sending files that take seconds each (a full
// decode near the pixel limit, a slow format) spends its budget and gets 429 until it is paid back, while other
// tokens and addresses are served.
import { PhmatchError } from "@phmatch/core";

/** Worker seconds, beyond each upload's first, one token and one address may spend per minute (also the burst). */
export const DEFAULT_DECODE_BUDGET_SECONDS = 30;
/** The thread time of each upload that is not charged. */
export const DECODE_FREE_MS = 1_000;

/** Options of {@link DecodeBudget}. */
export interface DecodeBudgetOptions {
  /** Charged worker seconds per minute (refill), and the most that can be banked (burst). */
  secondsPerMinute: number;
  /** Thread time of each upload that is free, ms. Default {@link DECODE_FREE_MS}. */
  freeMs?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

/** Over budget: the seconds until every key that was over may start an upload again. */
export type Admission = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * Per-key token buckets of worker time, in debt: an upload may start while each of its keys (a token name, a client
 * address) has credit left, and its cost is taken afterwards, when it is known, so one expensive upload can take a
 * key below zero, and the next waits until the refill has paid it back. Only keys below a full bucket are kept.
 */
export class DecodeBudget {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #freeMs: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, { credit: number; at: number }>();
  #swept = 0;

  constructor(options: DecodeBudgetOptions) {
    if (!(Number.isFinite(options.secondsPerMinute) && options.secondsPerMinute > 0)) {
      throw new PhmatchError(
        "PHM_USAGE",
        `the decode budget must be a positive number of seconds, got ${String(options.secondsPerMinute)}`,
      );
    }
    this.#capacity = options.secondsPerMinute * 1000;
    this.#perMs = this.#capacity / 60_000;
    this.#freeMs = options.freeMs ?? DECODE_FREE_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Whether an upload for all of `keys` may start now. */
  admit(keys: string[], now = this.#now()): Admission {
    let waitMs = 0;
    for (const key of keys) {
      const credit = this.#credit(key, now);
      if (credit <= 0) waitMs = Math.max(waitMs, (-credit + 1) / this.#perMs);
    }
    return waitMs === 0 ? { ok: true } : { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  /** Charges an upload's thread time beyond the free part to every key. */
  charge(keys: string[], workerMs: number, now = this.#now()): void {
    const cost = workerMs - this.#freeMs;
    if (!(cost > 0)) return;
    for (const key of keys) this.#buckets.set(key, { credit: this.#credit(key, now) - cost, at: now });
    this.#sweep(now);
  }

  /** True while any of `keys` is paying back a charge (its bucket is not full). */
  charged(keys: string[], now = this.#now()): boolean {
    return keys.some((key) => this.#credit(key, now) < this.#capacity);
  }

  /** Keys held (those below a full bucket, and not yet swept). */
  get size(): number {
    return this.#buckets.size;
  }

  #credit(key: string, now: number): number {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return this.#capacity;
    return Math.min(this.#capacity, bucket.credit + Math.max(0, now - bucket.at) * this.#perMs);
  }

  // Once a minute, forget the keys whose bucket has refilled: memory follows the clients charged lately.
  #sweep(now: number): void {
    if (now - this.#swept < 60_000) return;
    this.#swept = now;
    for (const key of [...this.#buckets.keys()])
      if (this.#credit(key, now) >= this.#capacity) this.#buckets.delete(key);
  }
}

/** Options of {@link EntrySpread}. */
export interface SpreadOptions {
  /** An entry matched by more than this many distinct clients within the window is held. */
  clients: number;
  /** The window, in ms. */
  windowMs: number;
  /** Entries followed at once (the oldest seen is forgotten past it); default 10,000. */
  maxEntries?: number;
}

/**
 * Who an entry matched, within a sliding window: distinct clients, where a client is a token AND a client address
 * (a pair). One client re-encoding a listed image over and over is one pair however many copies it sends, so it
 * cannot put the entry on hold; a blank or a meme wrongly listed is uploaded by many. Memory is bounded: at most
 * `clients + 1` pairs per entry (one more than the limit is all the decision needs) and `maxEntries` entries.
 */
export class EntrySpread {
  readonly #options: Required<SpreadOptions>;
  // entry key -> pair -> last time seen (ms); Map order is insertion order, refreshed on each hit.
  readonly #seen = new Map<string, Map<string, number>>();

  constructor(options: SpreadOptions) {
    this.#options = { maxEntries: 10_000, ...options };
  }

  /**
   * Counts one match of an entry by a client (`token`, `address`) at `now`; returns the distinct clients within
   * the window after it, and whether that is more than the limit.
   */
  hit(entry: string, token: string, address: string, now: number): { clients: number; over: boolean } {
    let pairs = this.#seen.get(entry);
    if (pairs === undefined) {
      pairs = new Map();
      if (this.#seen.size >= this.#options.maxEntries) {
        const oldest = this.#seen.keys().next().value;
        if (oldest !== undefined) this.#seen.delete(oldest);
      }
    } else this.#seen.delete(entry);
    this.#seen.set(entry, pairs);
    const since = now - this.#options.windowMs;
    for (const [pair, time] of pairs) if (time < since) pairs.delete(pair);
    // JSON of the two, so no token name or address can make two pairs one.
    const pair = JSON.stringify([token, address]);
    pairs.delete(pair);
    pairs.set(pair, now);
    while (pairs.size > this.#options.clients + 1) {
      const first = pairs.keys().next().value;
      if (first === undefined) break;
      pairs.delete(first);
    }
    return { clients: pairs.size, over: pairs.size > this.#options.clients };
  }
}

/** One entry's hit counts since the gate started. */
export interface EntryHits {
  list: string;
  entry: string;
  hits: number;
}

/**
 * Hits per list entry since start, for /metrics. Bounded: at most `maxEntries` entries are counted (an entry first
 * hit after that is counted in `others`), and the exposition shows the `top` most hit.
 */
export class EntryHitCounter {
  readonly #hits = new Map<string, EntryHits>();
  readonly #maxEntries: number;
  others = 0;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  hit(list: string, entry: string): void {
    const k = JSON.stringify([list, entry]);
    const counted = this.#hits.get(k);
    if (counted !== undefined) counted.hits++;
    else if (this.#hits.size < this.#maxEntries) this.#hits.set(k, { list, entry, hits: 1 });
    else this.others++;
  }

  /** The `n` most hit entries, most first (ties by list and entry id). */
  top(n: number): EntryHits[] {
    return [...this.#hits.values()]
      .sort((a, b) => b.hits - a.hits || a.list.localeCompare(b.list) || a.entry.localeCompare(b.entry))
      .slice(0, n);
  }
}

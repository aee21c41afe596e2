import type { ScanFileRecord } from "../report/scan-report.js";

/**
 * The first reported file of each content (SHA-256, hex), so that a later copy is reported as its duplicate with
 * its hashes and matches, not decoded again. A scan remembers one entry per distinct file, so this is what grows
 * with the case: an implementation decides what an entry costs in memory and where the records are kept.
 */
export interface FirstCopies {
  /** The record of the first file with this SHA-256, as {@link FirstCopies.set} was given it, or undefined. */
  get(sha256: string): ScanFileRecord | undefined;
  /** Whether a file with this SHA-256 is remembered. */
  has(sha256: string): boolean;
  /**
   * Remembers `record` as the first file with this SHA-256 (serialised now: later changes to the object are not
   * kept). Its size, times and link fields are not used: a duplicate has its own.
   */
  set(sha256: string, record: ScanFileRecord): void;
  /** Distinct files remembered. */
  readonly size: number;
  /** Releases what is held (a file, if any); the set is not used after. */
  close(): void;
}

/**
 * {@link FirstCopies} in memory: each record as compact JSON in a Map (bench/soak: about 1.9 KB of RSS per distinct
 * file with six algorithms and the query views). With `max`, at most that many are remembered: at the limit all are
 * forgotten and the count starts again (a distributed worker, whose collector marks the copies: forgetting costs a
 * decode, not a record).
 */
export class MemoryFirstCopies implements FirstCopies {
  readonly #records = new Map<string, string>();
  readonly #max: number;

  constructor(max: number = Number.POSITIVE_INFINITY) {
    this.#max = max;
  }

  get(sha256: string): ScanFileRecord | undefined {
    const json = this.#records.get(sha256);
    return json === undefined ? undefined : (JSON.parse(json) as ScanFileRecord);
  }

  has(sha256: string): boolean {
    return this.#records.has(sha256);
  }

  set(sha256: string, record: ScanFileRecord): void {
    if (!this.#records.has(sha256) && this.#records.size >= this.#max) this.#records.clear();
    this.#records.set(sha256, JSON.stringify(record));
  }

  get size(): number {
    return this.#records.size;
  }

  close(): void {
    this.#records.clear();
  }
}

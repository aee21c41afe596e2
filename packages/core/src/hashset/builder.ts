import { hasherSpec } from "../hashers/index.js";
import { PackedValues } from "../index/packed-values.js";
import type { HashSetEntry, Withdrawal } from "./entry.js";
import type { ListInfo, StoredMeta, StoreProvenance } from "./store-format.js";

/** Append-only bytes that double as they grow. */
class AppendBuffer {
  #data = new Uint8Array(4096);
  #length = 0;

  append(bytes: Uint8Array): void {
    if (this.#length + bytes.length > this.#data.length) {
      const grown = new Uint8Array(Math.max(this.#data.length * 2, this.#length + bytes.length));
      grown.set(this.#data.subarray(0, this.#length));
      this.#data = grown;
    }
    this.#data.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  get bytes(): Uint8Array {
    return this.#data.subarray(0, this.#length);
  }
}

/** Entries of one algorithm, in insertion order: packed values, and one metadata object each. */
export interface AlgorithmEntries {
  algorithm: string;
  bytesPerValue: number;
  count: number;
  values: Uint8Array;
  /** Metadata blob and the offsets (count + 1) of each entry's JSON in it. */
  metaBlob: Uint8Array;
  metaOffsets: Uint32Array;
}

class AlgorithmGroup {
  readonly values = new AppendBuffer();
  readonly blob = new AppendBuffer();
  offsets: Uint32Array = new Uint32Array(1024);
  count = 0;

  constructor(
    readonly algorithm: string,
    readonly bytesPerValue: number,
  ) {}

  add(value: Uint8Array, meta: Uint8Array): void {
    this.values.append(value);
    if (this.count + 2 > this.offsets.length) {
      const grown = new Uint32Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    this.blob.append(meta);
    this.count++;
    this.offsets[this.count] = this.blob.bytes.length;
  }
}

/**
 * Collects entries and withdrawals for a store. Deduplicates per (list, algorithm, value): the same hash in two
 * lists is two entries, since a match reports every list it hits.
 */
export class HashSetBuilder {
  readonly lists: ListInfo[] = [];
  readonly withdrawals: Withdrawal[] = [];
  /** How the store is being made (import, build, merge records), written to its header. */
  readonly provenance: StoreProvenance[] = [];
  readonly #groups = new Map<string, AlgorithmGroup>();
  readonly #seen = new Map<string, PackedValues>();
  readonly #withdrawn = new Map<string, PackedValues>();
  readonly #withdrawnIds = new Set<string>();

  /** Adds a list, or updates and returns the one already added with that id. */
  addList(info: ListInfo): number {
    const existing = this.lists.findIndex((l) => l.listId === info.listId);
    if (existing >= 0) return existing;
    this.lists.push(info);
    return this.lists.length - 1;
  }

  /**
   * Adds an entry; false if the same list already holds this algorithm's value (for a frame of a listed video: if
   * that video already holds it).
   */
  addEntry(entry: HashSetEntry): boolean {
    const listIndex = this.addList({ listId: entry.listId, version: 1 });
    // A listed video's frames are deduplicated within that video only: two videos of one list may share a frame
    // (an intro, a title card), and each needs it to count its own matched share.
    const scope = entry.fields?.video === undefined ? entry.algorithm : `${entry.algorithm}\0video\0${entry.entryId}`;
    if (!firstTime(this.#seen, listIndex, scope, entry.value, entry.algorithm)) return false;
    let group = this.#groups.get(entry.algorithm);
    if (group === undefined) {
      group = new AlgorithmGroup(entry.algorithm, bytesOf(entry.algorithm));
      this.#groups.set(entry.algorithm, group);
    }
    const meta: StoredMeta = {};
    if (listIndex !== 0) meta.l = listIndex;
    if (entry.entryId !== undefined) meta.i = entry.entryId;
    if (entry.category !== undefined) meta.c = entry.category;
    if (entry.fields !== undefined && Object.keys(entry.fields).length > 0)
      meta.f = entry.fields as Record<string, unknown>;
    group.add(entry.value, Buffer.from(JSON.stringify(meta)));
    return true;
  }

  /** Records a withdrawal (of a value, or of an entry id); false if already recorded for that list. */
  addWithdrawal(withdrawal: Withdrawal): boolean {
    const listIndex = this.addList({ listId: withdrawal.listId, version: 1 });
    if (withdrawal.algorithm !== undefined && withdrawal.value !== undefined) {
      if (!firstTime(this.#withdrawn, listIndex, withdrawal.algorithm, withdrawal.value)) return false;
    } else {
      if (withdrawal.entryId === undefined) throw new RangeError("a withdrawal names a value or an entry id");
      const key = `${listIndex}\0${withdrawal.entryId}`;
      if (this.#withdrawnIds.has(key)) return false;
      this.#withdrawnIds.add(key);
    }
    this.withdrawals.push(withdrawal);
    return true;
  }

  /** Entries per algorithm, in algorithm id order. */
  groups(): AlgorithmEntries[] {
    return [...this.#groups.values()]
      .sort((a, b) => (a.algorithm < b.algorithm ? -1 : a.algorithm > b.algorithm ? 1 : 0))
      .map((g) => ({
        algorithm: g.algorithm,
        bytesPerValue: g.bytesPerValue,
        count: g.count,
        values: g.values.bytes,
        metaBlob: g.blob.bytes,
        metaOffsets: g.offsets.subarray(0, g.count + 1),
      }));
  }

  get entryCount(): number {
    let n = 0;
    for (const g of this.#groups.values()) n += g.count;
    return n;
  }
}

function bytesOf(algorithm: string): number {
  const spec = hasherSpec(algorithm);
  if (spec === undefined) throw new RangeError(`unknown algorithm ${algorithm}`);
  return spec.bits / 8;
}

function firstTime(
  seen: Map<string, PackedValues>,
  listIndex: number,
  scope: string,
  value: Uint8Array,
  algorithm = scope,
): boolean {
  const key = `${listIndex}\0${scope}`;
  let set = seen.get(key);
  if (set === undefined) {
    set = new PackedValues(bytesOf(algorithm));
    seen.set(key, set);
  }
  return set.add(value) >= 0;
}

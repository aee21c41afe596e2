import {
  type HammingIndex,
  type IndexHit,
  type NeedleHit,
  type PackedValuesView,
  searchEach,
} from "./hamming-index.js";
import { PackedValues } from "./packed-values.js";

/** Exact lookup (digests): an open-addressing table over the bytes; only distance 0 exists. */
export class ExactIndex implements HammingIndex {
  readonly kind = "exact" as const;
  readonly size: number;
  readonly overheadBytes: number;
  readonly #table: PackedValues;
  /** Positions of values that repeat (the same digest in two lists): value index -> every position. */
  readonly #repeats = new Map<number, number[]>();
  /** Table index -> the first position holding that value. */
  readonly #positions: number[] = [];

  constructor(packed: PackedValuesView) {
    this.size = packed.count;
    this.#table = new PackedValues(packed.bytesPerValue, Math.max(16, packed.count));
    const b = packed.bytesPerValue;
    for (let i = 0; i < packed.count; i++) {
      const value = packed.values.subarray(i * b, (i + 1) * b);
      const first = this.#table.add(value);
      if (first < 0) {
        const owner = this.#table.indexOf(value);
        const list = this.#repeats.get(owner) ?? [this.#positionOf(owner)];
        list.push(i);
        this.#repeats.set(owner, list);
      } else {
        this.#positions.push(i);
      }
    }
    this.overheadBytes = packed.count * (b + 8) + this.#positions.length * 8;
  }

  #positionOf(tableIndex: number): number {
    return this.#positions[tableIndex] as number;
  }

  searchMany(queries: readonly Uint8Array[], maxDistance: number): NeedleHit[] {
    return searchEach(this, queries, maxDistance);
  }

  search(query: Uint8Array, maxDistance: number): IndexHit[] {
    void maxDistance;
    const found = this.#table.indexOf(query);
    if (found < 0) return [];
    const positions = this.#repeats.get(found) ?? [this.#positionOf(found)];
    return positions.map((index) => ({ index, distance: 0 }));
  }
}

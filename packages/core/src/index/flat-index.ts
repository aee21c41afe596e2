import { asWords, distanceWithin } from "./hamming.js";
import type { HammingIndex, IndexHit, PackedValuesView } from "./hamming-index.js";

/** Linear scan with popcount: no memory beyond the values; the oracle every other index is tested against. */
export class FlatIndex implements HammingIndex {
  readonly kind = "flat" as const;
  readonly size: number;
  readonly overheadBytes = 0;
  readonly #words: Uint32Array;
  readonly #wordsPerValue: number;

  constructor(packed: PackedValuesView) {
    if (packed.bytesPerValue % 4 !== 0) throw new RangeError("flat index needs values of whole 32-bit words");
    this.size = packed.count;
    this.#words = asWords(packed.values);
    this.#wordsPerValue = packed.bytesPerValue / 4;
  }

  search(query: Uint8Array, maxDistance: number): IndexHit[] {
    const q = asWords(query);
    const hits: IndexHit[] = [];
    for (let i = 0; i < this.size; i++) {
      const d = distanceWithin(this.#words, i, this.#wordsPerValue, q, maxDistance);
      if (d <= maxDistance) hits.push({ index: i, distance: d });
    }
    return hits;
  }
}

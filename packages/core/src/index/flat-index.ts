import { asWords, distanceWithin } from "./hamming.js";
import type { HammingIndex, IndexHit, NeedleHit, PackedValuesView } from "./hamming-index.js";

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

  // One pass over the values for all the queries: each value is read once, whatever the number of needles.
  searchMany(queries: readonly Uint8Array[], maxDistance: number): NeedleHit[] {
    const q = queries.map(asWords);
    const hits: NeedleHit[] = [];
    for (let i = 0; i < this.size; i++) {
      let best = maxDistance + 1;
      let needle = -1;
      for (let n = 0; n < q.length; n++) {
        const d = distanceWithin(this.#words, i, this.#wordsPerValue, q[n] as Uint32Array, best - 1);
        if (d < best) {
          best = d;
          needle = n;
        }
      }
      if (needle >= 0) hits.push({ index: i, distance: best, needle });
    }
    return hits;
  }
}

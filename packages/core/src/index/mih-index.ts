import { asWords, distanceWithin, popcount32 } from "./hamming.js";
import type { HammingIndex, IndexHit, PackedValuesView } from "./hamming-index.js";

const SLICE_BITS = 16;
const BUCKETS = 1 << SLICE_BITS;

/**
 * Multi-index hashing (Norouzi, Punjani, Fleet, "Fast exact search in Hamming space with multi-index hashing"):
 * the b-bit values are cut into m = b/16 slices, each indexed in its own table (CSR: bucket offsets and value
 * positions, 4 bytes per value per table). By pigeonhole, a value within r = m*rho + a bits of the query has, in
 * one of the first a + 1 slices, at most rho differing bits, or in one of the others at most rho - 1. So those
 * tables are probed with every key within that radius of the query's slice, and each candidate is checked
 * exactly. Exact, never approximate; any radius works on the same tables.
 */
export class MihIndex implements HammingIndex {
  readonly kind = "mih" as const;
  readonly size: number;
  readonly overheadBytes: number;
  readonly #words: Uint32Array;
  readonly #wordsPerValue: number;
  readonly #slices: number;
  readonly #offsets: Uint32Array[] = [];
  readonly #positions: Uint32Array[] = [];

  constructor(packed: PackedValuesView) {
    if (packed.bytesPerValue % 4 !== 0) throw new RangeError("MIH needs values of whole 32-bit words");
    this.size = packed.count;
    this.#words = asWords(packed.values);
    this.#wordsPerValue = packed.bytesPerValue / 4;
    this.#slices = (packed.bytesPerValue * 8) / SLICE_BITS;
    this.#buildTables();
    this.overheadBytes = this.#slices * (this.size * 4 + (BUCKETS + 1) * 4);
  }

  // Per table: count values per bucket, prefix-sum into offsets, then place each value's position.
  #buildTables(): void {
    for (let t = 0; t < this.#slices; t++) {
      const offsets = new Uint32Array(BUCKETS + 1);
      for (let i = 0; i < this.size; i++) offsets[this.#slice(i, t) + 1]!++;
      for (let k = 0; k < BUCKETS; k++) offsets[k + 1]! += offsets[k]!;
      const fill = offsets.slice(0, BUCKETS);
      const positions = new Uint32Array(this.size);
      for (let i = 0; i < this.size; i++) positions[fill[this.#slice(i, t)]!++] = i;
      this.#offsets.push(offsets);
      this.#positions.push(positions);
    }
  }

  // Slice t (16 bits) of value i: half of word t >> 1.
  #slice(i: number, t: number): number {
    return ((this.#words[i * this.#wordsPerValue + (t >> 1)] as number) >>> ((t & 1) * 16)) & 0xffff;
  }

  search(query: Uint8Array, maxDistance: number): IndexHit[] {
    const q = asWords(query);
    const m = this.#slices;
    const rho = Math.floor(maxDistance / m);
    const a = maxDistance - rho * m;
    const found = new Map<number, number>();
    const keys: number[] = [];
    for (let t = 0; t < m; t++) {
      const radius = t <= a ? rho : rho - 1;
      if (radius < 0) continue;
      keys.length = 0;
      ballKeys(((q[t >> 1] as number) >>> ((t & 1) * 16)) & 0xffff, radius, 0, keys);
      const offsets = this.#offsets[t] as Uint32Array;
      const positions = this.#positions[t] as Uint32Array;
      for (const key of keys) this.#check(positions, offsets[key] as number, offsets[key + 1] as number, q, maxDistance, found);
    }
    return [...found].sort((x, y) => x[0] - y[0]).map(([index, distance]) => ({ index, distance }));
  }

  // A value can be a candidate in several tables; only hits (few) are deduplicated, since checking a candidate
  // again costs less than looking it up in a set. 256-bit values (PDQ) get a loop with the query in locals.
  #check(positions: Uint32Array, start: number, end: number, q: Uint32Array, maxDistance: number, found: Map<number, number>): void {
    const w = this.#words;
    if (this.#wordsPerValue !== 8) {
      for (let p = start; p < end; p++) {
        const i = positions[p] as number;
        const d = distanceWithin(w, i, this.#wordsPerValue, q, maxDistance);
        if (d <= maxDistance) found.set(i, d);
      }
      return;
    }
    const q0 = q[0] as number, q1 = q[1] as number, q2 = q[2] as number, q3 = q[3] as number;
    const q4 = q[4] as number, q5 = q[5] as number, q6 = q[6] as number, q7 = q[7] as number;
    for (let p = start; p < end; p++) {
      const i = positions[p] as number;
      const b = i << 3;
      let d = popcount32((w[b] as number) ^ q0) + popcount32((w[b + 1] as number) ^ q1) + popcount32((w[b + 2] as number) ^ q2) + popcount32((w[b + 3] as number) ^ q3);
      if (d > maxDistance) continue;
      d += popcount32((w[b + 4] as number) ^ q4) + popcount32((w[b + 5] as number) ^ q5) + popcount32((w[b + 6] as number) ^ q6) + popcount32((w[b + 7] as number) ^ q7);
      if (d <= maxDistance) found.set(i, d);
    }
  }
}

// Every 16-bit key within `radius` flipped bits of `key` (flipping bits >= `from` only, so each once).
function ballKeys(key: number, radius: number, from: number, out: number[]): void {
  out.push(key);
  if (radius === 0) return;
  for (let b = from; b < SLICE_BITS; b++) ballKeys(key ^ (1 << b), radius - 1, b + 1, out);
}

/** Keys probed per query by MIH for values of `bits` bits at radius `r` (the refined pigeonhole). */
export function mihProbes(bits: number, r: number): number {
  const m = bits / SLICE_BITS;
  const rho = Math.floor(r / m);
  const a = r - rho * m;
  const ball = (radius: number) => {
    let total = 0;
    let c = 1;
    for (let k = 0; k <= radius; k++) {
      total += c;
      c = (c * (SLICE_BITS - k)) / (k + 1);
    }
    return radius < 0 ? 0 : total;
  };
  return (a + 1) * ball(rho) + (m - a - 1) * ball(rho - 1);
}

import { asWords, distanceAt } from "./hamming.js";
import {
  type HammingIndex,
  type IndexHit,
  type NeedleHit,
  type PackedValuesView,
  searchEach,
} from "./hamming-index.js";

/**
 * BK-tree over typed arrays (no object per node): node i is value i; each node keeps its first child, its next
 * sibling, and the distance to its parent. Good for 64-bit hashes at small radii, where the triangle inequality
 * prunes most of the tree; at PDQ's 31 of 256 bits it visits nearly every node (use MIH there).
 */
export class BkTreeIndex implements HammingIndex {
  readonly kind = "bktree" as const;
  readonly size: number;
  readonly overheadBytes: number;
  readonly #words: Uint32Array;
  readonly #wordsPerValue: number;
  readonly #firstChild: Int32Array;
  readonly #nextSibling: Int32Array;
  readonly #edge: Uint16Array;

  constructor(packed: PackedValuesView) {
    if (packed.bytesPerValue % 4 !== 0) throw new RangeError("BK-tree needs values of whole 32-bit words");
    this.size = packed.count;
    this.#words = asWords(packed.values);
    this.#wordsPerValue = packed.bytesPerValue / 4;
    this.#firstChild = new Int32Array(this.size).fill(-1);
    this.#nextSibling = new Int32Array(this.size).fill(-1);
    this.#edge = new Uint16Array(this.size);
    this.overheadBytes = this.size * (4 + 4 + 2);
    const value = new Uint32Array(this.#wordsPerValue);
    for (let i = 1; i < this.size; i++) {
      value.set(this.#words.subarray(i * this.#wordsPerValue, (i + 1) * this.#wordsPerValue));
      this.#insert(i, value);
    }
  }

  #insert(i: number, value: Uint32Array): void {
    let node = 0;
    for (;;) {
      const d = distanceAt(this.#words, node, this.#wordsPerValue, value);
      let child = this.#firstChild[node] as number;
      while (child >= 0 && this.#edge[child] !== d) child = this.#nextSibling[child] as number;
      if (child < 0) {
        this.#edge[i] = d;
        this.#nextSibling[i] = this.#firstChild[node] as number;
        this.#firstChild[node] = i;
        return;
      }
      node = child;
    }
  }

  searchMany(queries: readonly Uint8Array[], maxDistance: number): NeedleHit[] {
    return searchEach(this, queries, maxDistance);
  }

  search(query: Uint8Array, maxDistance: number): IndexHit[] {
    if (this.size === 0) return [];
    const q = asWords(query);
    const hits: IndexHit[] = [];
    const stack = [0];
    while (stack.length > 0) {
      const node = stack.pop() as number;
      const d = distanceAt(this.#words, node, this.#wordsPerValue, q);
      if (d <= maxDistance) hits.push({ index: node, distance: d });
      for (let child = this.#firstChild[node] as number; child >= 0; child = this.#nextSibling[child] as number) {
        const e = this.#edge[child] as number;
        if (e >= d - maxDistance && e <= d + maxDistance) stack.push(child);
      }
    }
    return hits.sort((x, y) => x.index - y.index);
  }

  /** Nodes a search visits (for the benchmark's explanation of when a BK-tree pays). */
  visited(query: Uint8Array, maxDistance: number): number {
    if (this.size === 0) return 0;
    const q = asWords(query);
    let visited = 0;
    const stack = [0];
    while (stack.length > 0) {
      const node = stack.pop() as number;
      visited++;
      const d = distanceAt(this.#words, node, this.#wordsPerValue, q);
      for (let child = this.#firstChild[node] as number; child >= 0; child = this.#nextSibling[child] as number) {
        const e = this.#edge[child] as number;
        if (e >= d - maxDistance && e <= d + maxDistance) stack.push(child);
      }
    }
    return visited;
  }
}

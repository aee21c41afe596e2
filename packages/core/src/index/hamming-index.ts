/** One hit: the position of the value in the indexed section, and its Hamming distance to the query. */
export interface IndexHit {
  index: number;
  distance: number;
}

/** Index kinds: flat scan, multi-index hashing, BK-tree, exact lookup. */
export type IndexKind = "flat" | "mih" | "bktree" | "exact";

/**
 * Exact Hamming search over the fixed-width values of one algorithm: every value within `maxDistance` bits of the
 * query, never approximate. Hits come back sorted by index.
 */
export interface HammingIndex {
  readonly kind: IndexKind;
  /** Values indexed. */
  readonly size: number;
  /** Bytes the index holds beyond the values themselves. */
  readonly overheadBytes: number;
  search(query: Uint8Array, maxDistance: number): IndexHit[];
}

/** The values an index is built over: `count` values of `bytesPerValue` bytes, back to back. */
export interface PackedValuesView {
  bytesPerValue: number;
  count: number;
  values: Uint8Array;
}

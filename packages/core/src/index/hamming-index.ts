/** One hit: the position of the value in the indexed section, and its Hamming distance to the query. */
export interface IndexHit {
  index: number;
  distance: number;
}

/** A value near some of several queries: its position, its least distance to them, and the first query there. */
export interface NeedleHit extends IndexHit {
  /** Position of the query in the list searched. */
  needle: number;
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
  /**
   * Every value within `maxDistance` of any of `queries` (a request's needles, e.g. PDQ's 8 dihedral variants), in
   * one pass: each value once, at its least distance, with the first query at that distance; sorted by index.
   * Exactly what searching each query and keeping the closest would give.
   */
  searchMany(queries: readonly Uint8Array[], maxDistance: number): NeedleHit[];
}

/** searchMany by one search per query (for indexes with no pass to share): the closest query per value. */
export function searchEach(index: HammingIndex, queries: readonly Uint8Array[], maxDistance: number): NeedleHit[] {
  if (queries.length === 1) return index.search(queries[0] as Uint8Array, maxDistance).map(needleZero);
  const best = new Map<number, NeedleHit>();
  queries.forEach((query, needle) => {
    for (const hit of index.search(query, maxDistance)) {
      const seen = best.get(hit.index);
      if (seen === undefined || hit.distance < seen.distance) best.set(hit.index, { ...hit, needle });
    }
  });
  return [...best.values()].sort((a, b) => a.index - b.index);
}

function needleZero(hit: IndexHit): NeedleHit {
  return { index: hit.index, distance: hit.distance, needle: 0 };
}

/** The values an index is built over: `count` values of `bytesPerValue` bytes, back to back. */
export interface PackedValuesView {
  bytesPerValue: number;
  count: number;
  values: Uint8Array;
}

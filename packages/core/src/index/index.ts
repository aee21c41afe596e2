import { BkTreeIndex } from "./bktree-index.js";
import { ExactIndex } from "./exact-index.js";
import { FlatIndex } from "./flat-index.js";
import type { HammingIndex, IndexKind, PackedValuesView } from "./hamming-index.js";
import { MihIndex } from "./mih-index.js";

export type { HammingIndex, IndexHit, IndexKind, PackedValuesView } from "./hamming-index.js";
export { FlatIndex, ExactIndex, MihIndex, BkTreeIndex };

/** Below this many values a flat scan beats building anything (measured in bench/match). */
export const FLAT_SCAN_MAX = 4096;

/**
 * The index that answers fastest for these values and this radius (bench/match shows the numbers behind it):
 * exact lookup for digests (radius 0 or not a perceptual hash), a flat scan for small sets, a BK-tree for 64-bit
 * hashes at radius <= 8 up to a million values, multi-index hashing otherwise.
 */
export function chooseIndexKind(packed: PackedValuesView, maxDistance: number, perceptual: boolean): IndexKind {
  if (!perceptual || maxDistance === 0) return "exact";
  if (packed.count <= FLAT_SCAN_MAX) return "flat";
  if (packed.bytesPerValue === 8 && maxDistance <= 8 && packed.count <= 1_000_000) return "bktree";
  return "mih";
}

/** Builds an index of the given kind. */
export function buildIndex(kind: IndexKind, packed: PackedValuesView): HammingIndex {
  switch (kind) {
    case "flat":
      return new FlatIndex(packed);
    case "exact":
      return new ExactIndex(packed);
    case "bktree":
      return new BkTreeIndex(packed);
    case "mih":
      return new MihIndex(packed);
  }
}

import { BkTreeIndex } from "./bktree-index.js";
import { ExactIndex } from "./exact-index.js";
import { FlatIndex } from "./flat-index.js";
import type { HammingIndex, IndexKind, PackedValuesView } from "./hamming-index.js";
import { MihIndex, mihProbes } from "./mih-index.js";

export type { HammingIndex, IndexHit, IndexKind, PackedValuesView } from "./hamming-index.js";
export { FlatIndex, ExactIndex, MihIndex, BkTreeIndex, mihProbes };

/** Below this many values a flat scan beats building anything (measured in bench/match). */
export const FLAT_SCAN_MAX = 4096;

/**
 * The index that answers fastest for these values and this radius. bench/match measured: multi-index hashing
 * beats the flat scan by 10-170x wherever its probes stay few (PDQ up to ~47 bits, 64-bit hashes up to 12), and
 * loses where they explode (PDQ at 63 on 100 thousand values); the typed-array BK-tree never beat MIH, and beat
 * the flat scan only at radius 4. So: exact lookup for digests, a flat scan for small sets or when MIH's
 * expected work (probes, and the candidates they bring, ~N/65536 each) exceeds a quarter of a scan, MIH
 * otherwise. A BK-tree is used only when forced.
 */
export function chooseIndexKind(packed: PackedValuesView, maxDistance: number, perceptual: boolean): IndexKind {
  if (!perceptual || maxDistance === 0) return "exact";
  if (packed.count <= FLAT_SCAN_MAX || packed.bytesPerValue % 2 !== 0) return "flat";
  const probes = mihProbes(packed.bytesPerValue * 8, maxDistance);
  return probes * (1 + packed.count / 65536) * 4 < packed.count ? "mih" : "flat";
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

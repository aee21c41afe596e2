import { BkTreeIndex } from "./bktree-index.js";
import { ExactIndex } from "./exact-index.js";
import { FlatIndex } from "./flat-index.js";
import type { HammingIndex, IndexKind, PackedValuesView } from "./hamming-index.js";
import { chooseSlices, MihIndex, mihCost } from "./mih-index.js";

export type { HammingIndex, IndexHit, IndexKind, NeedleHit, PackedValuesView } from "./hamming-index.js";
export { searchEach } from "./hamming-index.js";
export { PackedValues } from "./packed-values.js";
export { BkTreeIndex, chooseSlices, ExactIndex, FlatIndex, MihIndex, mihCost };

/** Below this many values a flat scan beats building anything (measured in bench/match). */
export const FLAT_SCAN_MAX = 4096;

/**
 * The index that answers fastest for these values and this radius. bench/match measured: multi-index hashing
 * costs ~37 ns per unit of its expected work (probes and the candidates they bring, see chooseSlices), the flat
 * scan ~15 ns per value, and MIH beat the flat scan everywhere from 100 thousand values (4x at PDQ 63, 100-2500x
 * at PDQ 16-31); the typed-array BK-tree never beat MIH, and beat the flat scan only at radius 4. So: exact lookup
 * for digests, a flat scan for small sets or when MIH's expected work times 2.5 exceeds the number of values,
 * MIH otherwise. A BK-tree is used only when forced.
 */
export function chooseIndexKind(packed: PackedValuesView, maxDistance: number, perceptual: boolean): IndexKind {
  if (!perceptual || maxDistance === 0) return "exact";
  if (packed.count <= FLAT_SCAN_MAX || packed.bytesPerValue % 4 !== 0) return "flat";
  const slices = chooseSlices(packed.bytesPerValue * 8, packed.count, maxDistance);
  if (slices.bytes + packed.count * packed.bytesPerValue > MIH_MAX_BYTES) return "flat";
  return slices.cost * 2.5 < packed.count ? "mih" : "flat";
}

// MIH keeps values and tables in one WebAssembly memory (at most 4 GiB); beyond ~3.5 GiB a flat scan answers.
const MIH_MAX_BYTES = 3.5 * 2 ** 30;

/**
 * Builds an index of the given kind; `radius` is the distance searches will mostly use (MIH cuts its slices for
 * it).
 */
export function buildIndex(kind: IndexKind, packed: PackedValuesView, radius?: number): HammingIndex {
  switch (kind) {
    case "flat":
      return new FlatIndex(packed);
    case "exact":
      return new ExactIndex(packed);
    case "bktree":
      return new BkTreeIndex(packed);
    case "mih":
      return radius === undefined ? new MihIndex(packed) : new MihIndex(packed, { radius });
  }
}

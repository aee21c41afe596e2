import type { HammingIndex, IndexKind, PackedValuesView } from "../index/hamming-index.js";
import { buildIndex, chooseIndexKind } from "../index/index.js";

/**
 * Leader (centre) clustering of packed Hamming values: every value joins the cluster of a centre within
 * `maxDistance` bits of it, so no two members of a cluster are more than 2 * maxDistance apart (triangle
 * inequality through the centre). Single linkage, which joins two values whenever some path of close pairs links
 * them, would chain unrelated pictures through gradual edits into one giant cluster; a centre bounds that.
 *
 * Centres are chosen by degree: the value with the most neighbours within `maxDistance` goes first (the densest
 * point of a family is its most typical member), ties by position, so the same values in the same order give the
 * same clusters. Each centre claims its neighbours not yet claimed. Values with no neighbour are singletons
 * without a second search.
 *
 * Cost: one index search per value for the degrees, one per centre with neighbours; with multi-index hashing each
 * search touches far fewer values than the whole set, so the work grows near-linearly for hashes that are
 * mostly far apart (near-duplicate families, random others). Memory: 4 bytes per value for degrees and centres,
 * plus the index.
 *
 * Returns, per value, the position of its centre (a centre points to itself).
 */
export function leaderClusters(packed: PackedValuesView, maxDistance: number, kind?: IndexKind): Int32Array {
  const { count, bytesPerValue, values } = packed;
  const centreOf = new Int32Array(count).fill(-1);
  if (count === 0) return centreOf;
  const index: HammingIndex = buildIndex(kind ?? chooseIndexKind(packed, maxDistance, true), packed, maxDistance);
  const valueAt = (i: number) => values.subarray(i * bytesPerValue, (i + 1) * bytesPerValue);

  // Degrees: neighbours within maxDistance, self excluded (an identical copy counts as a neighbour).
  const degree = new Uint32Array(count);
  let withNeighbours = 0;
  for (let i = 0; i < count; i++) {
    const d = index.search(valueAt(i), maxDistance).length - 1;
    degree[i] = d;
    if (d > 0) withNeighbours++;
  }
  const order = new Uint32Array(withNeighbours);
  for (let i = 0, k = 0; i < count; i++) if ((degree[i] as number) > 0) order[k++] = i;
  // Most neighbours first, then input position: a total order, so the result does not depend on the sort.
  order.sort((a, b) => (degree[b] as number) - (degree[a] as number) || a - b);

  for (const centre of order) {
    if ((centreOf[centre] as number) >= 0) continue;
    centreOf[centre] = centre;
    for (const hit of index.search(valueAt(centre), maxDistance)) {
      if ((centreOf[hit.index] as number) < 0) centreOf[hit.index] = centre;
    }
  }
  for (let i = 0; i < count; i++) if ((centreOf[i] as number) < 0) centreOf[i] = i;
  return centreOf;
}

import type { HammingIndex, IndexKind, PackedValuesView } from "../index/hamming-index.js";
import { buildIndex, chooseIndexKind } from "../index/index.js";

/**
 * Leader (centre) clustering of packed Hamming values: every value joins the cluster of a centre within
 * `maxDistance` bits of it, so no two members of a cluster are more than 2 * maxDistance apart (triangle
 * inequality through the centre). Single linkage, which joins two values whenever some path of close pairs links
 * them, would chain unrelated pictures through gradual edits into one giant cluster; a centre bounds that.
 *
 * Centres are chosen in input order: the first value not yet in a cluster becomes a centre and claims every
 * value within `maxDistance` not yet claimed. So the same values in the same order give the same clusters, and
 * there is one index search per centre (singletons included) and none for a claimed value: a family of k
 * near-duplicates costs one search returning k hits. Choosing centres by degree (most neighbours first) needs a
 * search from every value first, k searches of k hits per family: quadratic in the family's size (a family of
 * 8,000 near-duplicates took 45 s that way, against 1 s for 50,000 singletons), which a case of video frames or
 * burst shots would hit. See docs/design/clustering.md.
 *
 * `index`: the kind to build (chosen by chooseIndexKind otherwise), or an index over exactly these values.
 * Returns, per value, the position of its centre (a centre points to itself).
 */
export function leaderClusters(
  packed: PackedValuesView,
  maxDistance: number,
  index?: IndexKind | HammingIndex,
): Int32Array {
  const { count, bytesPerValue, values } = packed;
  const centreOf = new Int32Array(count).fill(-1);
  if (count === 0) return centreOf;
  const searched =
    typeof index === "object"
      ? index
      : buildIndex(index ?? chooseIndexKind(packed, maxDistance, true), packed, maxDistance);
  if (searched.size !== count) throw new RangeError(`the index holds ${searched.size} values, not ${count}`);
  for (let centre = 0; centre < count; centre++) {
    if ((centreOf[centre] as number) >= 0) continue;
    centreOf[centre] = centre;
    const query = values.subarray(centre * bytesPerValue, (centre + 1) * bytesPerValue);
    for (const hit of searched.search(query, maxDistance)) {
      if ((centreOf[hit.index] as number) < 0) centreOf[hit.index] = centre;
    }
  }
  return centreOf;
}

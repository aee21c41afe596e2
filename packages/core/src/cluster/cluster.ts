import { PhmatchError } from "../errors/index.js";
import type { IndexKind } from "../index/hamming-index.js";
import { leaderClusters } from "./leader.js";

/** One image to group: its PDQ hash (32 bytes) with its quality (0..100), and/or its 64-bit pHash (8 bytes). */
export interface ClusterItem {
  pdq?: Uint8Array;
  /** PDQ quality, an integer 0..100; required with `pdq` (a PDQ of unknown quality is not trusted). */
  pdqQuality?: number;
  phash?: Uint8Array;
}

/** Thresholds of {@link clusterImages}; the defaults are the match thresholds. */
export interface ClusterOptions {
  /** Greatest PDQ distance from a member to its cluster's centre (default 31, the PDQ match distance). */
  pdqDistance?: number;
  /** Least PDQ quality for clustering by PDQ (default 50, the match quality floor); below it pHash is used. */
  minPdqQuality?: number;
  /** Greatest pHash distance from a member to its centre (default 10, the 64-bit pHash match distance). */
  phashDistance?: number;
  /** Forces the Hamming index (benchmarks and tests); chosen by chooseIndexKind otherwise. */
  index?: IndexKind;
}

/** A group of near-duplicate images, as positions in the input. */
export interface Cluster {
  /** 1 for the biggest cluster, then 2, ... (the order of {@link Clustering.clusters}). */
  id: number;
  size: number;
  /** Input position of the centre: every member is within the algorithm's distance of it. */
  centre: number;
  /** Input positions, ascending, the centre included. */
  members: number[];
  /** The hash the cluster was formed by: PDQ, or pHash for images whose PDQ quality is low. */
  algorithm: "pdq" | "phash";
}

/** The clusters of two or more images, biggest first; images alone in their cluster are only counted. */
export interface Clustering {
  clusters: Cluster[];
  /** Images with a usable hash and no near-duplicate. */
  singletons: number;
  /** Images with no usable hash (no PDQ of enough quality and no pHash): not grouped. */
  unclustered: number;
}

export const CLUSTER_PDQ_DISTANCE = 31;
export const CLUSTER_PHASH_DISTANCE = 10;
export const CLUSTER_MIN_PDQ_QUALITY = 50;

const PDQ_BYTES = 32;
const PHASH_BYTES = 8;

/**
 * The images of {@link clusterImages} as columns, for case-sized inputs (42 bytes an image, no object per image):
 * row i's PDQ at pdq[32i..32i+32) with its quality pdqQuality[i] (0..100, or {@link NO_PDQ} for none), its pHash
 * at phash[8i..8i+8) when hasPhash[i] is 1 (0: none).
 */
export interface PackedClusterInput {
  count: number;
  pdq: Uint8Array;
  pdqQuality: Uint8Array;
  phash: Uint8Array;
  hasPhash: Uint8Array;
}

/** pdqQuality of a row with no PDQ hash in {@link PackedClusterInput}. */
export const NO_PDQ = 255;

/**
 * Groups images into near-duplicate clusters by leader (centre) clustering (see leaderClusters): by PDQ for
 * images whose PDQ quality reaches `minPdqQuality`, by 64-bit pHash for the others that have one; the two
 * populations are clustered apart (their distances are not comparable). Every member is within the distance of
 * its cluster's centre, so a cluster's diameter is at most twice it. Deterministic: the same items in the same
 * order give the same clusters. Clusters are sorted by size (biggest first), then by their first member.
 */
export function clusterImages(items: readonly ClusterItem[], options: ClusterOptions = {}): Clustering {
  const count = items.length;
  const input: PackedClusterInput = {
    count,
    pdq: new Uint8Array(count * PDQ_BYTES),
    pdqQuality: new Uint8Array(count).fill(NO_PDQ),
    phash: new Uint8Array(count * PHASH_BYTES),
    hasPhash: new Uint8Array(count),
  };
  items.forEach((item, i) => {
    const { pdq, pdqQuality, phash } = item;
    if (pdq !== undefined) {
      if (!(pdq instanceof Uint8Array) || pdq.length !== PDQ_BYTES) {
        throw new PhmatchError("PHM_USAGE", `cluster: item ${i}: a PDQ hash is ${PDQ_BYTES} bytes`);
      }
      if (typeof pdqQuality !== "number" || !Number.isInteger(pdqQuality) || pdqQuality < 0 || pdqQuality > 100) {
        throw new PhmatchError("PHM_USAGE", `cluster: item ${i}: a PDQ hash needs its quality, an integer 0..100`);
      }
      input.pdq.set(pdq, i * PDQ_BYTES);
      input.pdqQuality[i] = pdqQuality;
    }
    if (phash !== undefined) {
      if (!(phash instanceof Uint8Array) || phash.length !== PHASH_BYTES) {
        throw new PhmatchError("PHM_USAGE", `cluster: item ${i}: a 64-bit pHash is ${PHASH_BYTES} bytes`);
      }
      input.phash.set(phash, i * PHASH_BYTES);
      input.hasPhash[i] = 1;
    }
  });
  return clusterPacked(input, options);
}

/** {@link clusterImages} over columns: the same clusters for the same images. */
export function clusterPacked(input: PackedClusterInput, options: ClusterOptions = {}): Clustering {
  const pdqDistance = checkDistance("pdqDistance", options.pdqDistance ?? CLUSTER_PDQ_DISTANCE, PDQ_BYTES * 8);
  const phashDistance = checkDistance("phashDistance", options.phashDistance ?? CLUSTER_PHASH_DISTANCE, 64);
  const minQuality = options.minPdqQuality ?? CLUSTER_MIN_PDQ_QUALITY;
  if (!Number.isFinite(minQuality) || minQuality < 0 || minQuality > 100) {
    throw new PhmatchError("PHM_USAGE", `cluster: minPdqQuality must be 0..100, got ${minQuality}`);
  }
  const { count, pdq, pdqQuality, phash, hasPhash } = input;
  if (
    !Number.isInteger(count) ||
    count < 0 ||
    !(pdq instanceof Uint8Array && pdq.length === count * PDQ_BYTES) ||
    !(pdqQuality instanceof Uint8Array && pdqQuality.length === count) ||
    !(phash instanceof Uint8Array && phash.length === count * PHASH_BYTES) ||
    !(hasPhash instanceof Uint8Array && hasPhash.length === count)
  ) {
    throw new PhmatchError("PHM_USAGE", `cluster: packed columns do not hold ${count} images (32, 1, 8, 1 bytes each)`);
  }

  let pdqCount = 0;
  let phashCount = 0;
  for (let i = 0; i < count; i++) {
    const q = pdqQuality[i] as number;
    if (q !== NO_PDQ && q > 100)
      throw new PhmatchError("PHM_USAGE", `cluster: row ${i}: PDQ quality ${q} is not 0..100`);
    if (q !== NO_PDQ && q >= minQuality) pdqCount++;
    else if (hasPhash[i] === 1) phashCount++;
  }
  const byPdq = new Uint32Array(pdqCount);
  const byPhash = new Uint32Array(phashCount);
  for (let i = 0, a = 0, b = 0; i < count; i++) {
    const q = pdqQuality[i] as number;
    if (q !== NO_PDQ && q >= minQuality) byPdq[a++] = i;
    else if (hasPhash[i] === 1) byPhash[b++] = i;
  }
  const unclustered = count - pdqCount - phashCount;

  const groups: Array<Omit<Cluster, "id">> = [];
  let singletons = 0;
  const population = (positions: Uint32Array, column: Uint8Array, bytes: number, distance: number) => {
    const algorithm: Cluster["algorithm"] = bytes === PDQ_BYTES ? "pdq" : "phash";
    const values = new Uint8Array(positions.length * bytes);
    positions.forEach((p, k) => {
      values.set(column.subarray(p * bytes, (p + 1) * bytes), k * bytes);
    });
    const centreOf = leaderClusters({ values, bytesPerValue: bytes, count: positions.length }, distance, options.index);
    // Sizes first, so only clusters of two or more get a member list (most images of a case are alone).
    const size = new Uint32Array(positions.length);
    for (const centre of centreOf) size[centre] = (size[centre] as number) + 1;
    const members = new Map<number, number[]>();
    // Ascending k gives ascending input positions, so members come out sorted.
    centreOf.forEach((centre, k) => {
      if ((size[centre] as number) < 2) return;
      const list = members.get(centre);
      if (list === undefined) members.set(centre, [positions[k] as number]);
      else list.push(positions[k] as number);
    });
    for (let k = 0; k < positions.length; k++) if (size[k] === 1) singletons++;
    for (const [centre, list] of members)
      groups.push({ size: list.length, centre: positions[centre] as number, members: list, algorithm });
  };
  population(byPdq, pdq, PDQ_BYTES, pdqDistance);
  population(byPhash, phash, PHASH_BYTES, phashDistance);

  // Clusters are disjoint, so (size, first member) is a total order.
  groups.sort((a, b) => b.size - a.size || (a.members[0] as number) - (b.members[0] as number));
  return { clusters: groups.map((g, k) => ({ id: k + 1, ...g })), singletons, unclustered };
}

function checkDistance(name: string, value: number, bits: number): number {
  if (!Number.isInteger(value) || value < 0 || value > bits) {
    throw new PhmatchError("PHM_USAGE", `cluster: ${name} must be an integer 0..${bits}, got ${value}`);
  }
  return value;
}

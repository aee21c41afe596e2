// Near-duplicate clustering (leader linkage over the Hamming indexes): families come out whole, chains do not run
// together (every cluster's diameter <= 2 * threshold), low-quality PDQ falls back to pHash, and the index-based
// result equals an all-pairs reference of the same rule.
import {
  type ClusterItem,
  type Clustering,
  clusterImages,
  clusterPacked,
  FlatIndex,
  type HammingIndex,
  hammingDistance,
  leaderClusters,
  NO_PDQ,
} from "@phmatch/core/internal";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function randomHash(next: () => number, bytes: number): Uint8Array {
  return Uint8Array.from({ length: bytes }, () => Math.floor(next() * 256));
}

// `base` with exactly `flips` distinct bits flipped.
function flip(next: () => number, base: Uint8Array, flips: number): Uint8Array {
  const out = base.slice();
  const bits = new Set<number>();
  while (bits.size < flips) bits.add(Math.floor(next() * base.length * 8));
  for (const b of bits) out[b >> 3] = (out[b >> 3] as number) ^ (1 << (b & 7));
  return out;
}

function diameter(items: readonly ClusterItem[], members: readonly number[], key: "pdq" | "phash"): number {
  let d = 0;
  for (const a of members)
    for (const b of members)
      d = Math.max(d, hammingDistance(items[a]?.[key] as Uint8Array, items[b]?.[key] as Uint8Array));
  return d;
}

// The rule written out over all pairs: in input order, an image not yet claimed becomes a centre and claims every
// unclaimed image within the threshold; PDQ for quality >= 50, pHash for the rest.
function reference(items: readonly ClusterItem[], pdqT = 31, phashT = 10): Clustering {
  const clusters: Array<Omit<Clustering["clusters"][number], "id">> = [];
  let singletons = 0;
  let unclustered = 0;
  const byPdq: number[] = [];
  const byPhash: number[] = [];
  items.forEach((item, i) => {
    if (item.pdq !== undefined && (item.pdqQuality as number) >= 50) byPdq.push(i);
    else if (item.phash !== undefined) byPhash.push(i);
    else unclustered++;
  });
  const run = (positions: number[], key: "pdq" | "phash", t: number) => {
    const centreOf = new Map<number, number>();
    for (const p of positions) {
      if (centreOf.has(p)) continue;
      for (const q of positions)
        if (!centreOf.has(q) && hammingDistance(items[p]?.[key] as Uint8Array, items[q]?.[key] as Uint8Array) <= t)
          centreOf.set(q, p);
    }
    const groups = new Map<number, number[]>();
    for (const p of positions)
      groups.set(centreOf.get(p) as number, [...(groups.get(centreOf.get(p) as number) ?? []), p]);
    for (const [centre, members] of groups) {
      if (members.length === 1) singletons++;
      else clusters.push({ size: members.length, centre, members, algorithm: key });
    }
  };
  run(byPdq, "pdq", pdqT);
  run(byPhash, "phash", phashT);
  clusters.sort((a, b) => b.size - a.size || (a.members[0] as number) - (b.members[0] as number));
  return { clusters: clusters.map((c, k) => ({ id: k + 1, ...c })), singletons, unclustered };
}

describe("clusterImages", () => {
  it("gives nothing for no images", () => {
    expect(clusterImages([])).toEqual({ clusters: [], singletons: 0, unclustered: 0 });
  });

  it("groups each family of near-duplicates into one cluster, biggest first, and counts the rest", () => {
    const next = rng(1);
    const items: ClusterItem[] = [];
    const families: number[][] = [];
    for (let f = 0; f < 6; f++) {
      const base = randomHash(next, 32);
      families.push([]);
      // Members within 12 bits of the base: within 24 of each other, all inside one centre's reach of 31.
      for (let m = 0; m < 3 + f; m++) {
        families[f]?.push(items.length);
        items.push({ pdq: flip(next, base, m === 0 ? 0 : 1 + Math.floor(next() * 12)), pdqQuality: 100 });
      }
      for (let s = 0; s < 5; s++) items.push({ pdq: randomHash(next, 32), pdqQuality: 90 });
    }
    // Interleave families so input order is not family order.
    const result = clusterImages(items);
    expect(result.clusters.map((c) => c.members)).toEqual(families.map((f) => f).reverse());
    expect(result.clusters.map((c) => c.size)).toEqual([8, 7, 6, 5, 4, 3]);
    expect(result.clusters.map((c) => c.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(result.singletons).toBe(30);
    expect(result.unclustered).toBe(0);
    for (const c of result.clusters) {
      expect(c.algorithm).toBe("pdq");
      expect(c.members).toContain(c.centre);
    }
  });

  it("does not chain: a run of small steps is cut, every cluster within 2x the threshold", () => {
    const next = rng(2);
    // 40 images, each 20 bits from the one before (new bits each time): single linkage joins them all, though the
    // ends are hundreds of bits apart.
    const items: ClusterItem[] = [];
    let value = randomHash(next, 32);
    for (let i = 0; i < 40; i++) {
      items.push({ pdq: value, pdqQuality: 80 });
      value = flip(next, value, 20);
    }
    const first = items[0]?.pdq as Uint8Array;
    const last = items[39]?.pdq as Uint8Array;
    expect(hammingDistance(first, last)).toBeGreaterThan(62);
    const result = clusterImages(items);
    expect(result.clusters.length).toBeGreaterThan(1);
    for (const c of result.clusters) {
      expect(diameter(items, c.members, "pdq")).toBeLessThanOrEqual(62);
      for (const m of c.members)
        expect(hammingDistance(items[m]?.pdq as Uint8Array, items[c.centre]?.pdq as Uint8Array)).toBeLessThanOrEqual(
          31,
        );
    }
    expect(result.clusters.some((c) => c.members.includes(0) && c.members.includes(39))).toBe(false);
  });

  it("clusters images of low PDQ quality by pHash, apart from the others", () => {
    const next = rng(3);
    const flat = randomHash(next, 32);
    const phBase = randomHash(next, 8);
    const items: ClusterItem[] = [
      // Low quality: identical PDQs (as flat images give) but far-apart pHashes: PDQ must not join them.
      { pdq: flat, pdqQuality: 10, phash: randomHash(next, 8) },
      { pdq: flat, pdqQuality: 10, phash: randomHash(next, 8) },
      // Low quality, PDQs far apart, pHashes within 10 of a base: one pHash cluster.
      { pdq: randomHash(next, 32), pdqQuality: 49, phash: phBase },
      { pdq: randomHash(next, 32), pdqQuality: 0, phash: flip(next, phBase, 4) },
      { phash: flip(next, phBase, 5) },
      // Good quality with the same pHash: clustered by PDQ (alone), not pulled into the pHash cluster.
      { pdq: randomHash(next, 32), pdqQuality: 50, phash: phBase },
      // Nothing usable.
      { pdq: flat, pdqQuality: 20 },
      {},
    ];
    const result = clusterImages(items);
    expect(result.clusters).toEqual([{ id: 1, size: 3, centre: 2, members: [2, 3, 4], algorithm: "phash" }]);
    expect(result.singletons).toBe(3);
    expect(result.unclustered).toBe(2);
  });

  it("equals the all-pairs reference on a few hundred overlapping images, with every index", () => {
    const next = rng(4);
    const root = randomHash(next, 32);
    const items: ClusterItem[] = [];
    // Family bases ~40 bits apart and members up to 14 bits out: many images are near two or more centres, so the
    // order of centres decides; a few low-quality ones with pHash families too.
    const bases = Array.from({ length: 12 }, () => flip(next, root, 20));
    const phBases = Array.from({ length: 4 }, () => randomHash(next, 8));
    for (let i = 0; i < 360; i++) {
      const r = next();
      if (r < 0.8)
        items.push({ pdq: flip(next, bases[i % 12] as Uint8Array, Math.floor(next() * 15)), pdqQuality: 60 });
      else if (r < 0.9)
        items.push({
          pdq: randomHash(next, 32),
          pdqQuality: 30,
          phash: flip(next, phBases[i % 4] as Uint8Array, Math.floor(next() * 7)),
        });
      else items.push({ pdq: randomHash(next, 32), pdqQuality: 70 });
    }
    const expected = reference(items);
    expect(expected.clusters.length).toBeGreaterThan(12);
    expect(clusterImages(items)).toEqual(expected);
    expect(clusterImages(items, { index: "mih" })).toEqual(expected);
    expect(clusterImages(items, { index: "flat" })).toEqual(expected);
    expect(clusterImages(items, { index: "bktree" })).toEqual(expected);
    // The same images as columns.
    const packed = {
      count: items.length,
      pdq: new Uint8Array(items.length * 32),
      pdqQuality: new Uint8Array(items.length).fill(NO_PDQ),
      phash: new Uint8Array(items.length * 8),
      hasPhash: new Uint8Array(items.length),
    };
    items.forEach((item, i) => {
      if (item.pdq) packed.pdq.set(item.pdq, i * 32);
      if (item.pdqQuality !== undefined) packed.pdqQuality[i] = item.pdqQuality;
      if (item.phash) {
        packed.phash.set(item.phash, i * 8);
        packed.hasPhash[i] = 1;
      }
    });
    expect(clusterPacked(packed)).toEqual(expected);
    for (const c of expected.clusters)
      expect(diameter(items, c.members, c.algorithm)).toBeLessThanOrEqual(c.algorithm === "pdq" ? 62 : 20);
  });

  it("is deterministic: the same images in the same order give the same clusters", () => {
    const next = rng(5);
    const base = randomHash(next, 32);
    // Images ~32 bits apart, many near several others: which centre claims which image depends only on the order.
    const items: ClusterItem[] = Array.from({ length: 50 }, () => ({ pdq: flip(next, base, 16), pdqQuality: 100 }));
    const a = clusterImages(items);
    const b = clusterImages(items.map((i) => ({ ...i })));
    expect(b).toEqual(a);
    expect(a).toEqual(reference(items));
  });

  it("refuses malformed hashes and thresholds with PHM_USAGE", () => {
    const bad: Array<[ClusterItem[], object]> = [
      [[{ pdq: new Uint8Array(31), pdqQuality: 90 }], {}],
      [[{ pdq: new Uint8Array(32) }], {}],
      [[{ pdq: new Uint8Array(32), pdqQuality: Number.NaN }], {}],
      [[{ pdq: new Uint8Array(32), pdqQuality: 101 }], {}],
      [[{ pdq: new Uint8Array(32), pdqQuality: 49.5 }], {}],
      [[{ phash: new Uint8Array(32) }], {}],
      [[{ phash: "00" as unknown as Uint8Array }], {}],
      [[], { pdqDistance: 257 }],
      [[], { pdqDistance: 1.5 }],
      [[], { phashDistance: -1 }],
      [[], { minPdqQuality: Number.NaN }],
    ];
    for (const [items, options] of bad)
      expect(() => clusterImages(items, options)).toThrow(expect.objectContaining({ code: "PHM_USAGE" }));
    const columns = (count: number) => ({
      count,
      pdq: new Uint8Array(count * 32),
      pdqQuality: new Uint8Array(count),
      phash: new Uint8Array(count * 8),
      hasPhash: new Uint8Array(count),
    });
    const badColumns = [
      { ...columns(3), count: 4 },
      { ...columns(3), pdq: new Uint8Array(95) },
      { ...columns(3), hasPhash: new Uint8Array(2) },
      { ...columns(3), phash: new Uint8Array(24).buffer as unknown as Uint8Array },
      { ...columns(3), pdqQuality: Uint8Array.of(0, 101, 0) },
      { ...columns(3), count: -1 },
    ];
    for (const input of badColumns)
      expect(() => clusterPacked(input)).toThrow(expect.objectContaining({ code: "PHM_USAGE" }));
  });

  it("searches once per centre, not once per image: a big family costs one search, not a quadratic pass", () => {
    const next = rng(6);
    const base = randomHash(next, 32);
    const hashes = [
      ...Array.from({ length: 2000 }, () => flip(next, base, Math.floor(next() * 9))),
      ...Array.from({ length: 200 }, () => randomHash(next, 32)),
    ];
    const values = new Uint8Array(hashes.length * 32);
    hashes.forEach((h, i) => {
      values.set(h, i * 32);
    });
    const packed = { values, bytesPerValue: 32, count: hashes.length };
    const flat = new FlatIndex(packed);
    let searches = 0;
    let hits = 0;
    const counting: HammingIndex = {
      kind: flat.kind,
      size: flat.size,
      overheadBytes: 0,
      search: (query, maxDistance) => {
        const found = flat.search(query, maxDistance);
        searches++;
        hits += found.length;
        return found;
      },
      searchMany: (queries, maxDistance) => flat.searchMany(queries, maxDistance),
    };
    const centreOf = leaderClusters(packed, 31, counting);
    expect(new Set(centreOf.subarray(0, 2000))).toEqual(new Set([0]));
    expect(searches).toBe(201);
    expect(hits).toBe(2200);
  });

  it("equals the reference and keeps every member within the threshold of its centre, on random sets", () => {
    // Hashes drawn near a few shared roots at random spreads, so neighbourhoods overlap in many ways.
    const arbitrarySet = fc.record({
      seed: fc.integer({ min: 1, max: 2 ** 30 }),
      roots: fc.integer({ min: 1, max: 4 }),
      count: fc.integer({ min: 0, max: 80 }),
      spread: fc.integer({ min: 0, max: 40 }),
      threshold: fc.integer({ min: 0, max: 40 }),
    });
    fc.assert(
      fc.property(arbitrarySet, ({ seed, roots, count, spread, threshold }) => {
        const next = rng(seed);
        const bases = Array.from({ length: roots }, () => randomHash(next, 32));
        const phBases = Array.from({ length: roots }, () => randomHash(next, 8));
        const items: ClusterItem[] = Array.from({ length: count }, (_, i) => ({
          pdq: flip(next, bases[i % roots] as Uint8Array, Math.floor(next() * (spread + 1))),
          pdqQuality: next() < 0.8 ? 50 + Math.floor(next() * 51) : Math.floor(next() * 50),
          phash: flip(next, phBases[i % roots] as Uint8Array, Math.floor(next() * (spread / 4 + 1))),
        }));
        const result = clusterImages(items, { pdqDistance: threshold });
        expect(result).toEqual(reference(items, threshold));
        for (const c of result.clusters)
          for (const m of c.members) {
            const t = c.algorithm === "pdq" ? threshold : 10;
            expect(
              hammingDistance(items[m]?.[c.algorithm] as Uint8Array, items[c.centre]?.[c.algorithm] as Uint8Array),
            ).toBeLessThanOrEqual(t);
          }
        const listed = result.clusters.reduce((n, c) => n + c.size, 0);
        expect(listed + result.singletons + result.unclustered).toBe(count);
      }),
      { numRuns: 60, seed: 22 },
    );
  });
});

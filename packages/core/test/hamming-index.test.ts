// Every index returns exactly what brute force returns (fast-check: random, clustered and adversarial sets,
// distances exactly at the threshold), and MIH reproduces the reference's mih-query output at distance 31.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildIndex,
  chooseIndexKind,
  HashSetBuilder,
  type IndexHit,
  type NeedleHit,
  type PackedValuesView,
  parseStore,
  serializeStore,
} from "@phmatch/core";
import { BkTreeIndex, chooseSlices, ExactIndex, FlatIndex, MihIndex } from "@phmatch/core/internal";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { conformanceDir, hasConformance, skipReason } from "../../../test/support/conformance.js";

function pack(values: readonly Uint8Array[], bytes: number): PackedValuesView {
  const data = new Uint8Array(values.length * bytes);
  for (const [i, v] of values.entries()) data.set(v, i * bytes);
  return { bytesPerValue: bytes, count: values.length, values: data };
}

// The oracle of the oracle: distance bit by bit.
function bruteForce(values: readonly Uint8Array[], query: Uint8Array, r: number): IndexHit[] {
  const hits: IndexHit[] = [];
  values.forEach((v, index) => {
    let d = 0;
    for (let i = 0; i < v.length; i++)
      for (let b = 0; b < 8; b++) d += (((v[i] as number) ^ (query[i] as number)) >> b) & 1;
    if (d <= r) hits.push({ index, distance: d });
  });
  return hits;
}

// Every value within r of any query, at its least distance and the first query there (what searchMany promises).
function bruteNearest(values: readonly Uint8Array[], queries: readonly Uint8Array[], r: number): NeedleHit[] {
  const best = new Map<number, NeedleHit>();
  queries.forEach((q, needle) => {
    for (const hit of bruteForce(values, q, r)) {
      const seen = best.get(hit.index);
      if (seen === undefined || hit.distance < seen.distance) best.set(hit.index, { ...hit, needle });
    }
  });
  return [...best.values()].sort((a, b) => a.index - b.index);
}

// Flips `count` distinct bits of a value (clustered sets and planted matches at an exact distance).
function flip(value: Uint8Array, bits: number[]): Uint8Array {
  const out = value.slice();
  for (const b of bits) out[b >> 3] = (out[b >> 3] as number) ^ (1 << (b & 7));
  return out;
}

const setOf = (bytes: number) =>
  fc.oneof(
    // random
    fc.array(fc.uint8Array({ minLength: bytes, maxLength: bytes }), { minLength: 0, maxLength: 200 }),
    // clustered: a few centres, each with many near-duplicates
    fc
      .tuple(
        fc.array(fc.uint8Array({ minLength: bytes, maxLength: bytes }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(3), fc.uniqueArray(fc.nat(bytes * 8 - 1), { maxLength: 12 })), { maxLength: 150 }),
      )
      .map(([centres, members]) => [
        ...centres,
        ...members.map(([c, bits]) => flip(centres[c % centres.length] as Uint8Array, bits)),
      ]),
    // adversarial: all-zero, all-one, duplicates
    fc.constantFrom([
      new Uint8Array(bytes),
      new Uint8Array(bytes).fill(255),
      new Uint8Array(bytes),
      new Uint8Array(bytes).fill(255),
    ]),
  );

describe.each([
  ["256-bit (PDQ)", 32, [0, 1, 16, 31, 32, 63]],
  ["64-bit (pHash)", 8, [0, 1, 4, 8, 12]],
])("%s indexes agree with brute force", (_name, bytes, radii) => {
  for (const Index of [FlatIndex, MihIndex, BkTreeIndex]) {
    it(`${Index.name} at radii ${radii.join(", ")}`, () => {
      fc.assert(
        fc.property(
          setOf(bytes),
          fc.uint8Array({ minLength: bytes, maxLength: bytes }),
          fc.constantFrom(...radii),
          fc.nat(200),
          fc.uniqueArray(fc.nat(bytes * 8 - 1), { maxLength: 64 }),
          (values, random, r, pick, bits) => {
            // Queries: a random value, and a member with exactly r bits flipped (a match exactly at the threshold).
            const queries = [
              random,
              ...(values.length > 0 ? [flip(values[pick % values.length] as Uint8Array, bits.slice(0, r))] : []),
            ];
            const index = new Index(pack(values, bytes));
            for (const q of queries) expect(index.search(q, r)).toEqual(bruteForce(values, q, r));
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  for (const Index of [FlatIndex, MihIndex, BkTreeIndex]) {
    it(`${Index.name} searches a request's needles in one pass exactly as one by one`, () => {
      fc.assert(
        fc.property(
          setOf(bytes),
          fc.array(fc.uint8Array({ minLength: bytes, maxLength: bytes }), { minLength: 1, maxLength: 8 }),
          fc.constantFrom(...radii),
          fc.array(fc.tuple(fc.nat(200), fc.uniqueArray(fc.nat(bytes * 8 - 1), { maxLength: 64 })), {
            maxLength: 8,
          }),
          (values, random, r, planted) => {
            // Random needles and members with up to r bits flipped, interleaved (a PDQ record's 8 variants are
            // mostly far from each other; several near the same entry make ties between needles).
            const queries = [
              ...random,
              ...(values.length > 0
                ? planted.map(([pick, bits]) => flip(values[pick % values.length] as Uint8Array, bits.slice(0, r)))
                : []),
            ];
            const index = new Index(pack(values, bytes));
            const many = index.searchMany(queries, r);
            expect(many).toEqual(bruteNearest(values, queries, r));
            // ... and exactly what one search per needle gives, keeping each entry's closest needle.
            const one = new Map<number, NeedleHit>();
            queries.forEach((q, needle) => {
              for (const hit of index.search(q, r)) {
                const seen = one.get(hit.index);
                if (seen === undefined || hit.distance < seen.distance) one.set(hit.index, { ...hit, needle });
              }
            });
            expect(many).toEqual([...one.values()].sort((a, b) => a.index - b.index));
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it("MIH splits more needles than its query area holds into several kernel calls, none lost", () => {
    const rand = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 151 + n * 7 + 13) & 255);
    const centre = rand(bytes);
    const values = Array.from({ length: 300 }, (_, i) => flip(centre, [i % (bytes * 8), (i * 7) % (bytes * 8)]));
    const queries = Array.from({ length: Math.floor(2100 / bytes) }, (_, k) => flip(centre, [k % (bytes * 8)]));
    const index = new MihIndex(pack(values, bytes));
    expect(index.searchMany(queries, 3)).toEqual(bruteNearest(values, queries, 3));
    expect(index.searchMany([], 3)).toEqual([]);
  });

  it("ExactIndex finds every position of a value, duplicates across lists included", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: bytes, maxLength: bytes }), { maxLength: 100 }),
        fc.nat(99),
        (values, pick) => {
          const all = values.length > 0 ? [...values, values[pick % values.length] as Uint8Array] : values;
          const index = new ExactIndex(pack(all, bytes));
          for (const q of all) expect(index.search(q, 0)).toEqual(bruteForce(all, q, 0));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("MIH slices and its memory", () => {
  it("agrees with brute force whatever slices it was cut for (the radius it expects vs the one asked)", () => {
    const layouts = new Set<string>();
    fc.assert(
      fc.property(
        setOf(32),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom(0, 2, 8, 31, 63, 100),
        fc.constantFrom(0, 5, 31, 47, 63),
        fc.nat(200),
        fc.uniqueArray(fc.nat(255), { maxLength: 64 }),
        (values, random, expected, r, pick, bits) => {
          const index = new MihIndex(pack(values, 32), { radius: expected });
          layouts.add(index.widths.join(","));
          const queries = [
            random,
            ...(values.length > 0 ? [flip(values[pick % values.length] as Uint8Array, bits.slice(0, r))] : []),
          ];
          for (const q of queries) expect(index.search(q, r)).toEqual(bruteForce(values, q, r));
        },
      ),
      { numRuns: 80 },
    );
    expect(layouts.size).toBeGreaterThan(1);
  });

  it("cuts 256-bit values into fewer, wider slices as the set grows, within twice the values' bytes", () => {
    const at = (n: number) => chooseSlices(256, n, 31);
    expect(at(1e6).widths.length).toBeLessThanOrEqual(16);
    expect(at(1e7).widths.length).toBeLessThan(at(1e6).widths.length);
    expect(Math.max(...at(1e7).widths)).toBeGreaterThan(Math.max(...at(1e6).widths));
    for (const n of [1e6, 1e7]) expect(at(n).bytes).toBeLessThanOrEqual(2 * 32 * n);
    expect(at(1e7).widths.reduce((a, b) => a + b)).toBe(256);
  });

  it("lays its tables out with u32 offsets when compact ones cannot hold hundreds of copies of one value", () => {
    const rand = (seed: number) => Uint8Array.from({ length: 32 }, (_, i) => (seed * 2654435761 + i * 40503) >>> 13);
    const spread = Array.from({ length: 600 }, (_, i) => rand(i + 1));
    const copies = [...spread.slice(0, 300), ...Array.from({ length: 300 }, (_, i) => flip(rand(0), [i % 5]))];
    const compact = new MihIndex(pack(spread, 32), { slices: 16 });
    const fallback = new MihIndex(pack(copies, 32), { slices: 16 });
    // 16 tables of 16-bit keys: compact offsets take 2^13 + 2^16 bytes each (and 2^18 of scratch to build them),
    // u32 offsets 2^18 each
    expect(fallback.overheadBytes - compact.overheadBytes).toBeGreaterThan(
      16 * (2 ** 18 - 2 ** 13 - 2 ** 16) - 2 ** 19,
    );
    for (const [values, index] of [
      [spread, compact],
      [copies, fallback],
    ] as const) {
      for (const q of [rand(0), rand(7), flip(rand(0), [1, 2, 3, 200])])
        for (const r of [0, 4, 31]) expect(index.search(q, r)).toEqual(bruteForce(values, q, r));
    }
  });

  it("answers exactly when the hits outgrow its scratch (a scan over its own copy)", () => {
    const n = 140_000; // more identical values than the hit scratch holds
    const values = new Uint8Array(n * 8);
    values.fill(7, 8 * 1000, 8 * 1001);
    const index = new MihIndex({ bytesPerValue: 8, count: n, values });
    const hits = index.search(new Uint8Array(8), 0);
    expect(hits.length).toBe(n - 1);
    expect(hits[999]).toEqual({ index: 999, distance: 0 });
    expect(hits[1000]).toEqual({ index: 1001, distance: 0 });
    expect(index.search(new Uint8Array(8).fill(7), 2)).toEqual([{ index: 1000, distance: 0 }]);
  });

  it("holds the values once: a hash set adopts the index's copy, and refuses bytes that are not its own", () => {
    const builder = new HashSetBuilder();
    builder.addList({ listId: "L", version: 1 });
    const values = Array.from({ length: 50 }, (_, i) => new Uint8Array(32).fill(i));
    for (const [i, value] of values.entries())
      builder.addEntry({ algorithm: "pdq", value, listId: "L", entryId: String(i), category: "c" });
    builder.addEntry({ algorithm: "md5", value: new Uint8Array(16).fill(9), listId: "L", entryId: "m" });
    const file = serializeStore(builder);
    const set = parseStore(file, "test");
    expect(set.packed("md5").values.buffer).toBe(file.buffer); // views into the file until adoption
    const index = new MihIndex(set.packed("pdq"));
    expect(() => set.adoptValues("pdq", new Uint8Array(index.values.length))).toThrow(RangeError);
    set.adoptValues("pdq", index.values);
    expect(set.packed("pdq").values).toBe(index.values);
    // Nothing points into the file any more, so it can be collected; entries read as before.
    expect(set.packed("md5").values.buffer).not.toBe(file.buffer);
    file.fill(0);
    expect(set.entry("pdq", 7)).toMatchObject({ value: new Uint8Array(32).fill(7), entryId: "7", category: "c" });
    expect(set.entry("md5", 0)).toMatchObject({ value: new Uint8Array(16).fill(9), entryId: "m" });
  });
});

describe.skipIf(!hasConformance)(
  `MIH conformance: mih-query -d 31 on the reference's needles and haystack (${hasConformance ? "" : skipReason})`,
  () => {
    it("reproduces every (needle, match, distance) of the reference output", () => {
      const dir = join(conformanceDir, "pdq", "mih");
      const read = (f: string) =>
        readFileSync(join(dir, f), "utf8")
          .trim()
          .split("\n")
          .map((l) => l.trim());
      const needles = read("needles.txt");
      const haystack = read("haystack.txt");
      const expected: string[] = [];
      let needle = "";
      for (const line of read("mih-query-d31.generated.txt")) {
        if (line.startsWith("needle=")) needle = line.slice(7);
        const m = /^d=(\d+),match=([0-9a-f]{64}),idx=(\d+)$/.exec(line);
        if (m !== null) expected.push(`${needle} ${m[2]} ${m[1]} ${m[3]}`);
      }
      expect(expected.length).toBeGreaterThan(100);
      const values = haystack.map((h) => new Uint8Array(Buffer.from(h, "hex")));
      const index = buildIndex("mih", pack(values, 32));
      const ours: string[] = [];
      for (const n of needles) {
        // The reference prints idx as the 1-based line of haystack.txt.
        for (const hit of index.search(new Uint8Array(Buffer.from(n, "hex")), 31))
          ours.push(`${n} ${haystack[hit.index]} ${hit.distance} ${hit.index + 1}`);
      }
      expect(ours.sort()).toEqual(expected.sort());
    });
  },
);

describe("chooseIndexKind", () => {
  const packed = (count: number, bytesPerValue: number): PackedValuesView => ({
    count,
    bytesPerValue,
    values: new Uint8Array(0),
  });
  it("takes exact lookup for digests, a flat scan for small sets or hopeless radii, MIH otherwise", () => {
    expect(chooseIndexKind(packed(1e6, 32), 31, false)).toBe("exact");
    expect(chooseIndexKind(packed(1000, 32), 31, true)).toBe("flat");
    expect(chooseIndexKind(packed(1e6, 32), 31, true)).toBe("mih");
    expect(chooseIndexKind(packed(1e7, 8), 12, true)).toBe("mih");
    expect(chooseIndexKind(packed(5000, 32), 63, true)).toBe("flat");
    expect(chooseIndexKind(packed(1e5, 32), 120, true)).toBe("flat");
  });
});

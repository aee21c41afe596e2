// Every index returns exactly what brute force returns (fast-check: random, clustered and adversarial sets,
// distances exactly at the threshold), and MIH reproduces the reference's mih-query output at distance 31.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BkTreeIndex, ExactIndex, FlatIndex, MihIndex, buildIndex, type IndexHit, type PackedValuesView } from "@phmatch/core";
import { conformanceDir, hasConformance, skipReason } from "../../../test/support/conformance.js";

function pack(values: Uint8Array[], bytes: number): PackedValuesView {
  const data = new Uint8Array(values.length * bytes);
  values.forEach((v, i) => data.set(v, i * bytes));
  return { bytesPerValue: bytes, count: values.length, values: data };
}

// The oracle of the oracle: distance bit by bit.
function bruteForce(values: Uint8Array[], query: Uint8Array, r: number): IndexHit[] {
  const hits: IndexHit[] = [];
  values.forEach((v, index) => {
    let d = 0;
    for (let i = 0; i < v.length; i++) for (let b = 0; b < 8; b++) d += (((v[i] as number) ^ (query[i] as number)) >> b) & 1;
    if (d <= r) hits.push({ index, distance: d });
  });
  return hits;
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
      .tuple(fc.array(fc.uint8Array({ minLength: bytes, maxLength: bytes }), { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(3), fc.uniqueArray(fc.nat(bytes * 8 - 1), { maxLength: 12 })), { maxLength: 150 }))
      .map(([centres, members]) => [...centres, ...members.map(([c, bits]) => flip(centres[c % centres.length] as Uint8Array, bits))]),
    // adversarial: all-zero, all-one, duplicates
    fc.constantFrom([new Uint8Array(bytes), new Uint8Array(bytes).fill(255), new Uint8Array(bytes), new Uint8Array(bytes).fill(255)]),
  );

describe.each([
  ["256-bit (PDQ)", 32, [0, 1, 16, 31, 32, 63]],
  ["64-bit (pHash)", 8, [0, 1, 4, 8, 12]],
])("%s indexes agree with brute force", (_name, bytes, radii) => {
  for (const Index of [FlatIndex, MihIndex, BkTreeIndex]) {
    it(`${Index.name} at radii ${radii.join(", ")}`, () => {
      fc.assert(
        fc.property(setOf(bytes), fc.uint8Array({ minLength: bytes, maxLength: bytes }), fc.constantFrom(...radii), fc.nat(200), fc.uniqueArray(fc.nat(bytes * 8 - 1), { maxLength: 64 }), (values, random, r, pick, bits) => {
          // Queries: a random value, and a member with exactly r bits flipped (a match exactly at the threshold).
          const queries = [random, ...(values.length > 0 ? [flip(values[pick % values.length] as Uint8Array, bits.slice(0, r))] : [])];
          const index = new Index(pack(values, bytes));
          for (const q of queries) expect(index.search(q, r)).toEqual(bruteForce(values, q, r));
        }),
        { numRuns: 60 },
      );
    });
  }

  it("ExactIndex finds every position of a value, duplicates across lists included", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: bytes, maxLength: bytes }), { maxLength: 100 }), fc.nat(99), (values, pick) => {
        const all = values.length > 0 ? [...values, values[pick % values.length] as Uint8Array] : values;
        const index = new ExactIndex(pack(all, bytes));
        for (const q of all) expect(index.search(q, 0)).toEqual(bruteForce(all, q, 0));
      }),
      { numRuns: 60 },
    );
  });
});

describe.skipIf(!hasConformance)(`MIH conformance: mih-query -d 31 on the reference's needles and haystack (${hasConformance ? "" : skipReason})`, () => {
  it("reproduces every (needle, match, distance) of the reference output", () => {
    const dir = join(conformanceDir, "pdq", "mih");
    const read = (f: string) => readFileSync(join(dir, f), "utf8").trim().split("\n").map((l) => l.trim());
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
      for (const hit of index.search(new Uint8Array(Buffer.from(n, "hex")), 31)) ours.push(`${n} ${haystack[hit.index]} ${hit.distance} ${hit.index + 1}`);
    }
    expect(ours.sort()).toEqual(expected.sort());
  });
});

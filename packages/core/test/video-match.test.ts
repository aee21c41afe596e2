// vPDQ matching as Meta's reference defines it: the conformance pairs (matches.tsv) and a synthetic video.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  defaultVideoPolicy,
  makeVideoPolicy,
  matchVideoFrames,
  parseVpdqText,
  type VpdqFrame,
} from "@phmatch/core/internal";
import { describe, expect, it } from "vitest";
import { conformanceDir, hasConformance, readTsv, skipReason } from "../../../test/support/conformance.js";

const vpdqDir = join(conformanceDir, "vpdq");
const load = (name: string, set = "") =>
  parseVpdqText(readFileSync(join(vpdqDir, set, `${name}.vpdq.txt`), "utf8"), name);
// matches-extra.tsv's hash sets and the folders that hold them.
const SET_DIRS: Record<string, string> = {
  "cpath-1s": "cpath",
  "cpath-allframes": "allframes-cpath",
  "default-allframes": "allframes",
};

describe.skipIf(!hasConformance)(`vPDQ matches.tsv (${hasConformance ? vpdqDir : skipReason})`, () => {
  const rows = hasConformance ? readTsv(join(vpdqDir, "matches.tsv")) : [];
  it("reads the 15 reference pairs", () => expect(rows).toHaveLength(15));
  for (const row of rows) {
    it(`${row.query} against ${row.compared}: the reference's percentages, frames used and verdict`, () => {
      const result = matchVideoFrames(load(row.query as string), load(row.compared as string));
      // Percentages printed with 2 decimals, as matches.tsv prints them: equal, not just within 5 points.
      expect(result.queryPercent.toFixed(2)).toBe(row.query_match_percent);
      expect(result.targetPercent.toFixed(2)).toBe(row.compared_match_percent);
      expect(result.queryFramesUsed).toBe(Number(row.query_frames_used));
      expect(result.targetFramesUsed).toBe(Number(row.compared_frames_used));
      expect(result.match ? "MATCH" : "NO_MATCH").toBe(row.verdict);
      expect(result.policy).toBe("vpdq:d31:q50:t80:s0@1");
    });
  }

  // Every-frame rows are where removing repeated hashes changes the percentages (the C++ brute CLI does not).
  const extra = hasConformance ? readTsv(join(vpdqDir, "matches-extra.tsv")) : [];
  it("reads the 45 extra pairs", () => expect(extra).toHaveLength(45));
  for (const row of extra) {
    it(`${row.hash_set}: ${row.query} against ${row.compared}`, () => {
      const set = SET_DIRS[row.hash_set as string] as string;
      const result = matchVideoFrames(load(row.query as string, set), load(row.compared as string, set));
      expect([result.queryPercent.toFixed(2), result.targetPercent.toFixed(2)]).toEqual([
        row.query_match_percent,
        row.compared_match_percent,
      ]);
      expect([result.queryFramesUsed, result.targetFramesUsed]).toEqual([
        Number(row.query_frames_used),
        Number(row.compared_frames_used),
      ]);
      expect(result.match ? "MATCH" : "NO_MATCH").toBe(row.verdict);
    });
  }

  it("chair-20 against the original: one matched stretch, its times in both videos", () => {
    const result = matchVideoFrames(load("chair-20-sd-bar"), load("chair-orig-22-sd-bar"));
    expect(result.segments.length).toBeGreaterThanOrEqual(1);
    const first = result.segments[0];
    expect(first?.queryStart).toBe(0);
    expect(result.segments.at(-1)?.queryEnd).toBeGreaterThanOrEqual(19);
  });
});

/** A frame with a hash from a seeded generator: 128 bits set (as PDQ's median threshold makes them). */
function frame(n: number, bytes: Uint8Array, quality = 100): VpdqFrame {
  return { frame: n, hash: { algorithm: "pdq", bytes, quality }, timestamp: n };
}
function randomHash(seed: number): Uint8Array {
  const bytes = new Uint8Array(32);
  let s = seed * 2654435761 + 1;
  for (let i = 0; i < 32; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    bytes[i] = s >>> 24;
  }
  return bytes;
}
function flip(bytes: Uint8Array, bits: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let b = 0; b < bits; b++) out[b >> 3] = (out[b >> 3] as number) ^ (1 << (b & 7));
  return out;
}

describe("vPDQ matching, synthetic", () => {
  const listed = Array.from({ length: 10 }, (_, i) => frame(i, randomHash(i + 1)));

  it("counts the shares the reference counts: duplicates once, low quality out, distance <= 31", () => {
    const query = [
      frame(0, flip(listed[2]?.hash.bytes as Uint8Array, 31)), // within 31: matched
      frame(1, flip(listed[3]?.hash.bytes as Uint8Array, 32)), // 32 bits: not matched
      frame(2, flip(listed[2]?.hash.bytes as Uint8Array, 31)), // identical to frame 0: dropped
      frame(3, listed[4]?.hash.bytes as Uint8Array, 49), // quality 49: dropped
      frame(4, listed[5]?.hash.bytes as Uint8Array), // matched
    ];
    const result = matchVideoFrames(query, listed);
    expect(result.queryFramesUsed).toBe(3);
    expect(result.targetFramesUsed).toBe(10);
    expect(result.queryPercent).toBeCloseTo(200 / 3, 10);
    expect(result.targetPercent).toBe(20);
    expect(result.match).toBe(false);
    expect(result.segments).toEqual([
      { queryStart: 0, queryEnd: 0, targetStart: 2, targetEnd: 2 },
      { queryStart: 4, queryEnd: 4, targetStart: 5, targetEnd: 5 },
    ]);
  });

  it("a trimmed copy matches at 80 % of the listed frames, one segment with its times", () => {
    const query = listed.slice(1, 9).map((f, i) => frame(i, flip(f.hash.bytes, 10)));
    const result = matchVideoFrames(query, listed);
    expect(result.queryPercent).toBe(100);
    expect(result.targetPercent).toBe(80);
    expect(result.match).toBe(true);
    expect(result.segments).toEqual([{ queryStart: 0, queryEnd: 7, targetStart: 1, targetEnd: 8 }]);
    // A stricter policy says so in its id and its verdict.
    const strict = matchVideoFrames(query, listed, makeVideoPolicy(31, 50, 90, 0));
    expect(strict.policy).toBe("vpdq:d31:q50:t90:s0@1");
    expect(strict.match).toBe(false);
  });

  it("gives 0 % when a side keeps no frame, as the reference does", () => {
    const low = listed.map((f) => frame(f.frame, f.hash.bytes, 10));
    expect(matchVideoFrames(low, listed)).toMatchObject({ queryPercent: 0, targetPercent: 0, match: false });
    expect(defaultVideoPolicy().id).toBe("vpdq:d31:q50:t80:s0@1");
  });
});

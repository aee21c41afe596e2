// The Matcher answering video records (hash record v2 `video`) against stores holding listed videos as their kept
// frames: the conformance pairs through a store (one target, and all 14 beside 10^5 filler frames through MIH),
// listed images seen in a video, a still image taken from a listed video, withdrawals, overrides, low quality.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type HashRecord,
  HashSetBuilder,
  type HashSetEntry,
  hammingDistance,
  listedVideoEntries,
  Matcher,
  type MatcherOptions,
  type MatchResult,
  matchResultSchema,
  matchVideoFrames,
  type Override,
  parseStore,
  parseVpdqText,
  serializeStore,
  type VpdqFrame,
  type Withdrawal,
} from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { conformanceDir, hasConformance, readTsv, skipReason } from "../../../test/support/conformance.js";
import { videoRecord } from "../../../test/support/video-records.js";

const validate = new Ajv2020({ strict: true }).compile(matchResultSchema());
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** A loaded store (in memory) holding these entries, withdrawals and overrides. */
function storeOf(entries: HashSetEntry[], more: { withdrawals?: Withdrawal[]; overrides?: Override[] } = {}) {
  const builder = new HashSetBuilder();
  for (const entry of entries) builder.addEntry(entry);
  for (const w of more.withdrawals ?? []) builder.addWithdrawal(w);
  const set = parseStore(serializeStore(builder, "2026-12-05T00:00:00Z"), "test store");
  return { set, path: "test.phs", storeSha256: "0".repeat(64), encrypted: false, overrides: more.overrides ?? [] };
}

function match(matcher: Matcher, record: HashRecord): MatchResult {
  const result = matcher.match(record);
  expect(validate(result), JSON.stringify(validate.errors)).toBe(true);
  return result;
}

const vpdqDir = join(conformanceDir, "vpdq");
const SET_DIRS: Record<string, string> = {
  "": "",
  "cpath-1s": "cpath",
  "cpath-allframes": "allframes-cpath",
  "default-allframes": "allframes",
};
const load = (name: string, set = "") =>
  parseVpdqText(readFileSync(join(vpdqDir, SET_DIRS[set] as string, `${name}.vpdq.txt`), "utf8"), name);
const videoEntries = (name: string, set = "", listId = "V") =>
  listedVideoEntries({ listId, entryId: name, category: "A1" }, load(name, set)).entries;
// Every video with a matched frame is a hit at shares 0/0: the percentages of a pair the default policy refuses.
const everyShare: MatcherOptions = { video: { minTargetPercent: 0, minQueryPercent: 0 } };

describe.skipIf(!hasConformance)(
  `Matcher on the vPDQ conformance pairs (${hasConformance ? vpdqDir : skipReason})`,
  () => {
    const rows: Record<string, string>[] = hasConformance
      ? [
          ...readTsv(join(vpdqDir, "matches.tsv")).map((r) => ({ ...r, hash_set: "" })),
          ...readTsv(join(vpdqDir, "matches-extra.tsv")),
        ]
      : [];
    it("reads the 15 + 45 pairs", () => expect(rows).toHaveLength(60));

    for (const row of rows) {
      const set = row.hash_set as string;
      it(`${set || "1s"}: ${row.query} against a store holding ${row.compared}`, () => {
        const store = storeOf(videoEntries(row.compared as string, set));
        const query = load(row.query as string, set);
        const record = videoRecord(`${row.query}.mp4`, query);
        const result = match(new Matcher([store]), record);
        const hit = result.matches.find((m) => m.algorithm === "vpdq");
        expect(hit !== undefined ? "MATCH" : "NO_MATCH").toBe(row.verdict);
        expect(result.status).toBe(row.verdict === "MATCH" ? "known" : "unseen");
        const shares = match(new Matcher([store], everyShare), record).matches.find((m) => m.algorithm === "vpdq");
        const got = [shares?.video?.queryPercent ?? 0, shares?.video?.targetPercent ?? 0];
        const brute = matchVideoFrames(query, load(row.compared as string, set));
        expect(got[0]).toBeCloseTo(brute.queryPercent, 9);
        expect(got[1]).toBeCloseTo(brute.targetPercent, 9);
        expect(Math.abs((got[0] as number) - Number(row.query_match_percent))).toBeLessThanOrEqual(0.01);
        expect(Math.abs((got[1] as number) - Number(row.compared_match_percent))).toBeLessThanOrEqual(0.01);
        if (hit !== undefined) {
          expect(hit).toMatchObject({
            list: "V",
            entryId: row.compared,
            category: "A1",
            policy: "vpdq:d31:q50:t80:s0@1",
          });
          expect(hit.video).toEqual({
            queryPercent: brute.queryPercent,
            targetPercent: brute.targetPercent,
            queryFramesUsed: Number(row.query_frames_used),
            targetFramesUsed: Number(row.compared_frames_used),
            segments: brute.segments,
          });
        } else if (shares !== undefined) {
          expect(result.notes?.join("\n")).toContain(
            `vpdq: best listed video V/${row.compared} matched ${(got[1] as number).toFixed(1)}% of its frames`,
          );
        }
      });
    }

    it("gives matches.tsv's verdicts with all 14 videos beside 10^5 filler frames in one MIH index", () => {
      const ids = readTsv(join(vpdqDir, "videos.tsv"))
        .filter((row) => row.status === "present")
        .map((row) => row.video as string);
      expect(ids).toHaveLength(14);
      const entries = ids.flatMap((id) => videoEntries(id));
      // 2000 filler videos of 50 random frames: far (about 128 bits) from every conformance frame.
      let s = 20;
      const byte = () => {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        return s >>> 24;
      };
      for (let v = 0; v < 2000; v++) {
        const frames = Array.from({ length: 50 }, (_, n) => ({
          frame: n * 30,
          timestamp: n,
          hash: { algorithm: "pdq" as const, bytes: Uint8Array.from({ length: 32 }, byte), quality: 90 },
        }));
        entries.push(...listedVideoEntries({ listId: "F", entryId: `filler-${v}` }, frames).entries);
      }
      const store = storeOf(entries);
      expect(store.set.size).toBeGreaterThanOrEqual(100_000);
      const matcher = new Matcher([store]);
      const shares = new Matcher([store], everyShare);
      expect(matcher.indexes.find((i) => i.algorithm === "pdq")?.kind).toBe("mih");
      for (const row of readTsv(join(vpdqDir, "matches.tsv"))) {
        const query = load(row.query as string);
        const record = videoRecord("q.mp4", query);
        const hit = match(matcher, record).matches.find((m) => m.entryId === row.compared);
        expect(hit !== undefined ? "MATCH" : "NO_MATCH", `${row.query} against ${row.compared}`).toBe(row.verdict);
        const got = match(shares, record).matches.find((m) => m.entryId === row.compared)?.video;
        const brute = matchVideoFrames(query, load(row.compared as string));
        expect(got?.targetPercent ?? 0).toBeCloseTo(brute.targetPercent, 9);
        expect(got?.queryPercent ?? 0).toBeCloseTo(brute.queryPercent, 9);
        // No filler video is ever matched.
        expect(match(shares, record).matches.filter((m) => m.list === "F")).toEqual([]);
      }
    });
  },
);

/** A seeded 256-bit hash, and one `bits` bits away from it. */
function randomHash(seed: number): Uint8Array {
  let s = seed * 2654435761 + 1;
  return Uint8Array.from({ length: 32 }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 24;
  });
}
function flip(bytes: Uint8Array, bits: number, from = 0): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let b = from; b < from + bits; b++) out[b >> 3] = (out[b >> 3] as number) ^ (1 << (b & 7));
  return out;
}
function frame(n: number, bytes: Uint8Array, quality = 90): VpdqFrame {
  return { frame: n * 25, timestamp: n, hash: { algorithm: "pdq", bytes, quality } };
}

describe("Matcher, a video record, synthetic", () => {
  // A listed video of 10 frames; the query shows 9 of them (a few bits changed) and 3 unrelated frames.
  const listed = Array.from({ length: 10 }, (_, i) => frame(i, randomHash(i + 1)));
  const clip = listedVideoEntries({ listId: "L", entryId: "clip-7", category: "B2" }, listed).entries;
  const query = [
    ...Array.from({ length: 3 }, (_, i) => frame(i, randomHash(100 + i))),
    ...listed.slice(0, 9).map((f, i) => frame(3 + i, flip(f.hash.bytes, 10))),
  ];
  const record = videoRecord("clip.mp4", query);

  it("is a vpdq hit with both shares, the closest pair's distance and the matched stretch", () => {
    const result = match(new Matcher([storeOf(clip)]), record);
    expect(result.status).toBe("known");
    expect(result.checked).toEqual(["vpdq"]);
    expect(result.matches).toEqual([
      {
        list: "L",
        listVersion: 1,
        algorithm: "vpdq",
        distance: 10,
        policy: "vpdq:d31:q50:t80:s0@1",
        entryId: "clip-7",
        category: "B2",
        video: {
          queryPercent: 75,
          targetPercent: 90,
          queryFramesUsed: 12,
          targetFramesUsed: 10,
          segments: [{ queryStart: 3, queryEnd: 11, targetStart: 0, targetEnd: 8 }],
        },
      },
    ]);
  });

  it("is not a hit below the policy, and says the best share; the policy can be changed", () => {
    const few = videoRecord("few.mp4", query.slice(0, 10)); // 7 of the 10 listed frames
    const result = match(new Matcher([storeOf(clip)]), few);
    expect(result.status).toBe("unseen");
    expect(result.matches).toEqual([]);
    expect(result.notes).toEqual([
      "vpdq: best listed video L/clip-7 matched 70.0% of its frames (the query 70.0% of its own), " +
        "below 80% (vpdq:d31:q50:t80:s0@1)",
    ]);
    const looser = new Matcher([storeOf(clip)], { video: { minTargetPercent: 70, minQueryPercent: 70 } });
    expect(looser.videoPolicy.id).toBe("vpdq:d31:q50:t70:s70@1");
    expect(match(looser, few).matches.map((m) => [m.algorithm, m.policy])).toEqual([
      ["vpdq", "vpdq:d31:q50:t70:s70@1"],
    ]);
    const nearer = new Matcher([storeOf(clip)], { video: { maxDistance: 9 } });
    expect(match(nearer, record).status).toBe("unseen");
    expect(() => new Matcher([storeOf(clip)], { video: { minQuality: 40 } })).toThrow(
      expect.objectContaining({ code: "PHM_USAGE" }),
    );
  });

  it("counts the listed video's kept frames anew under a higher quality floor", () => {
    // Listed frames 0-2 at quality 60: under a floor of 70 the listed video keeps 7 frames, of which 6 match.
    const mixed = listed.map((f, i) => frame(i, f.hash.bytes, i < 3 ? 60 : 90));
    const entries = listedVideoEntries({ listId: "L", entryId: "clip-7" }, mixed).entries;
    const shares = new Matcher([storeOf(entries)], { video: { minQuality: 70, minTargetPercent: 0 } });
    const hit = match(shares, record).matches[0];
    expect(hit?.video).toMatchObject({ targetFramesUsed: 7, queryFramesUsed: 12 });
    expect(hit?.video?.targetPercent).toBeCloseTo((6 * 100) / 7, 9);
  });

  it("sees a listed still image in a frame: a pdq hit at the first frame that shows it", () => {
    const image: HashSetEntry = { algorithm: "pdq", value: listed[4]?.hash.bytes as Uint8Array, listId: "I" };
    image.entryId = "img-1";
    const result = match(new Matcher([storeOf([image])]), record);
    expect(result.status).toBe("known");
    // Query frame 7 (timestamp 7, frame number 175) is listed frame 4 with 10 bits changed.
    expect(result.matches).toEqual([
      {
        list: "I",
        listVersion: 1,
        algorithm: "pdq",
        distance: 10,
        policy: "pdq:d31:q50@1",
        entryId: "img-1",
        timestamp: 7,
        frame: 175,
      },
    ]);
  });

  it("finds a listed video's frame in a still image taken from it, with the frame's time", () => {
    const still: HashRecord = { path: "still.jpg", hashes: { pdq: hex(flip(listed[6]?.hash.bytes as Uint8Array, 5)) } };
    still.quality = { pdq: 90 };
    const result = match(new Matcher([storeOf(clip)]), still);
    expect(result.status).toBe("known");
    expect(result.matches).toEqual([
      {
        list: "L",
        listVersion: 1,
        algorithm: "pdq",
        distance: 5,
        policy: "pdq:d31:q50@1",
        entryId: "clip-7",
        category: "B2",
        variant: "original",
        timestamp: 6,
        frame: 150,
      },
    ]);
  });

  it("never matches a video withdrawn by entry id, nor one frame withdrawn by value", () => {
    const withdrawn = storeOf(clip, { withdrawals: [{ listId: "L", entryId: "clip-7" }] });
    const result = match(new Matcher([withdrawn]), record);
    expect([result.status, result.matches, result.notes]).toEqual(["unseen", [], undefined]);
    // One frame withdrawn: 8 of 10 listed frames still match (80%), so the video still matches.
    const frame = { listId: "L", algorithm: "pdq", value: listed[0]?.hash.bytes as Uint8Array };
    const one = match(new Matcher([storeOf(clip, { withdrawals: [frame] })]), record);
    expect(one.matches[0]?.video?.targetPercent).toBe(80);
  });

  it("applies overrides per frame: a video held up only by disabled frames is reported, not known", () => {
    const override = (bytes: Uint8Array): Override => ({
      action: "disable",
      algorithm: "pdq",
      hash: hex(bytes),
      listId: "L",
      who: "reviewer",
      when: "2026-12-05T00:00:00Z",
      why: "entry under dispute",
    });
    const every = storeOf(clip, { overrides: listed.map((f) => override(f.hash.bytes)) });
    const all = match(new Matcher([every]), record);
    expect(all.status).toBe("unseen");
    expect(all.matches[0]).toMatchObject({
      algorithm: "vpdq",
      entryId: "clip-7",
      override: { action: "disable", who: "reviewer", when: "2026-12-05T00:00:00Z", why: "entry under dispute" },
    });
    // One disabled frame leaves 8 of 10 listed frames: the video still reaches 80% without it.
    const one = match(
      new Matcher([storeOf(clip, { overrides: [override(listed[0]?.hash.bytes as Uint8Array)] })]),
      record,
    );
    expect(one.status).toBe("known");
    expect(one.matches[0]?.override).toBeUndefined();
    // Two leave 7: the hit stands only with a disabled frame, so it is overridden.
    const two = storeOf(clip, { overrides: listed.slice(0, 2).map((f) => override(f.hash.bytes)) });
    expect(match(new Matcher([two]), record).status).toBe("unseen");
  });

  it("is low_quality when no frame is kept, and matches its digests as any record's", () => {
    const dull = videoRecord(
      "dull.mp4",
      query.map((f) => frame(f.timestamp, f.hash.bytes, 30)),
    );
    const result = match(new Matcher([storeOf(clip)]), dull);
    expect(result.status).toBe("low_quality");
    expect(result.notes).toEqual([
      "vpdq: none of the video's 12 hashed frames has quality >= 50 (after dropping repeated frames); " +
        "too featureless to decide (vpdq:d31:q50:t80:s0@1)",
    ]);
    const sha256 = "ab".repeat(32);
    const digest: HashSetEntry = { algorithm: "sha256", value: Buffer.from(sha256, "hex"), listId: "D" };
    const known = match(new Matcher([storeOf([...clip, digest])]), { ...dull, hashes: { sha256 } });
    expect(known.status).toBe("known");
    expect(known.matches.map((m) => [m.algorithm, m.policy])).toEqual([["sha256", "sha256:exact@1"]]);
  });

  it("finds every close pair, through the flat scan and MIH, as the brute-force rule does", () => {
    // Each listed frame within 31 bits of several query frames: searchMany names only the closest query per value.
    const base = randomHash(999);
    const listedNear = Array.from({ length: 6 }, (_, i) => frame(i, flip(base, 4 * i + 1, 8 * i)));
    const queryNear = [
      ...Array.from({ length: 5 }, (_, i) => frame(i, flip(base, 3 + 4 * i, 200 - 4 * i))),
      frame(5, randomHash(1000)),
    ];
    const entries = listedVideoEntries({ listId: "L", entryId: "near" }, listedNear).entries;
    const brute = matchVideoFrames(queryNear, listedNear);
    expect(brute.queryPercent).toBeCloseTo(500 / 6, 9);
    const closest = Math.min(
      ...listedNear.flatMap((l) => queryNear.map((q) => hammingDistance(l.hash.bytes, q.hash.bytes))),
    );
    for (const index of ["flat", "mih"] as const) {
      const matcher = new Matcher([storeOf(entries)], { ...everyShare, index });
      expect(matcher.indexes[0]?.kind).toBe(index);
      const got = match(matcher, videoRecord("n.mp4", queryNear)).matches[0];
      expect(got?.video).toEqual({
        queryPercent: brute.queryPercent,
        targetPercent: brute.targetPercent,
        queryFramesUsed: 6,
        targetFramesUsed: 6,
        segments: brute.segments,
      });
      expect(got?.distance).toBe(closest);
    }
  });
});

describe("match result schema, version 2", () => {
  const v1 = {
    path: "a.jpg",
    status: "known",
    checked: ["pdq"],
    matches: [
      { list: "L", listVersion: 3, algorithm: "pdq", distance: 4, policy: "pdq:d31:q50@1", variant: "original" },
    ],
  };
  const hit = {
    list: "L",
    listVersion: 1,
    algorithm: "vpdq",
    distance: 0,
    policy: "vpdq:d31:q50:t80:s0@1",
    video: { queryPercent: 100, targetPercent: 95.65, queryFramesUsed: 21, targetFramesUsed: 23, segments: [] },
  };

  it("is version 2 and still takes a version 1 result", () => {
    expect((matchResultSchema() as { $id: string }).$id).toBe("urn:phmatch:schema:match-result:2");
    expect(validate(v1)).toBe(true);
    expect(validate({ ...v1, matches: [hit, { ...v1.matches[0], timestamp: 7, frame: 175 }] })).toBe(true);
  });

  it.each([
    ["a share over 100", { ...hit, video: { ...hit.video, targetPercent: 101 } }],
    ["a video without its segments", { ...hit, video: { ...hit.video, segments: undefined } }],
    ["a segment without its end", { ...hit, video: { ...hit.video, segments: [{ queryStart: 0, targetStart: 0 }] } }],
    ["a negative timestamp", { ...hit, timestamp: -1 }],
    ["a fractional frame number", { ...hit, frame: 1.5 }],
    ["a video policy without its query share", { ...hit, policy: "vpdq:d31:q50:t80@1" }],
  ])("refuses %s", (_name, bad) => {
    expect(validate({ ...v1, matches: [JSON.parse(JSON.stringify(bad))] })).toBe(false);
  });
});

// Video matching through the Hamming index: one searchMany per query video gives what the brute-force pass gives.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  hammingDistance,
  type ListedImage,
  type ListedVideo,
  matchVideoFrames,
  parseVpdqText,
  VideoIndex,
  type VpdqFrame,
} from "@phmatch/core/internal";
import { describe, expect, it } from "vitest";
import { conformanceDir, hasConformance, readTsv, skipReason } from "../../../test/support/conformance.js";

/** A seeded generator (mulberry32), so a failure repeats. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function randomHash(next: () => number): Uint8Array {
  return Uint8Array.from({ length: 32 }, () => Math.floor(next() * 256));
}
/** `bits` distinct random bits flipped. */
function near(bytes: Uint8Array, bits: number, next: () => number): Uint8Array {
  const out = Uint8Array.from(bytes);
  const picked = new Set<number>();
  while (picked.size < bits) picked.add(Math.floor(next() * 256));
  for (const b of picked) out[b >> 3] = (out[b >> 3] as number) ^ (1 << (b & 7));
  return out;
}
function frames(hashes: Uint8Array[], next: () => number): VpdqFrame[] {
  return hashes.map((bytes, n) => ({
    frame: n * 30,
    hash: { algorithm: "pdq", bytes, quality: next() < 0.1 ? 30 : 90 },
    timestamp: n,
  }));
}

describe("VideoIndex on a synthetic list of frames", () => {
  const next = random(20);
  // 2000 videos of 3-60 frames (about 60 000 frames, enough for MIH); some frames repeat within a video.
  const videos: ListedVideo[] = Array.from({ length: 2000 }, (_, v) => {
    const hashes: Uint8Array[] = [];
    const length = 3 + Math.floor(next() * 58);
    for (let i = 0; i < length; i++) {
      hashes.push(i > 0 && next() < 0.05 ? (hashes[i - 1] as Uint8Array) : randomHash(next));
    }
    return { id: `video-${v}`, frames: frames(hashes, next) };
  });
  const images: ListedImage[] = Array.from({ length: 200 }, (_, i) => ({
    id: `image-${i}`,
    hash: { algorithm: "pdq", bytes: randomHash(next), quality: 100 },
  }));
  const mih = new VideoIndex({ videos, images });
  const flat = new VideoIndex({ videos, images }, { kind: "flat" });

  /** A query made of pieces of listed videos and images at 0-40 bits, plus unrelated frames. */
  function query(): VpdqFrame[] {
    const hashes: Uint8Array[] = [];
    const source = videos[Math.floor(next() * videos.length)] as ListedVideo;
    for (const f of source.frames) if (next() < 0.7) hashes.push(near(f.hash.bytes, Math.floor(next() * 40), next));
    for (let i = 0; i < 5; i++) {
      const other = videos[Math.floor(next() * videos.length)] as ListedVideo;
      const f = other.frames[Math.floor(next() * other.frames.length)] as VpdqFrame;
      hashes.push(near(f.hash.bytes, Math.floor(next() * 40), next));
    }
    const image = images[Math.floor(next() * images.length)] as ListedImage;
    hashes.splice(Math.floor(next() * hashes.length), 0, near(image.hash.bytes, Math.floor(next() * 36), next));
    for (let i = 0; i < 10; i++) hashes.push(randomHash(next));
    return frames(hashes, next);
  }

  it("is built as MIH for tens of thousands of frames", () => {
    expect(mih.index.kind).toBe("mih");
    expect(mih.index.size).toBeGreaterThan(50_000);
  });

  it("gives every query the brute-force answer: the same videos, shares, verdicts, segments and images", () => {
    for (let round = 0; round < 12; round++) {
      const q = query();
      const expected = videos
        .map((video) => ({ id: video.id, ...matchVideoFrames(q, video.frames) }))
        .filter((m) => m.segments.length > 0)
        .sort((a, b) => b.targetPercent - a.targetPercent || b.queryPercent - a.queryPercent);
      const expectedImages = images.flatMap((image) => {
        const kept = q.filter((f, i) => f.hash.quality >= 50 && q.findIndex((g) => same(g, f)) === i);
        const hit = kept.find((f) => hammingDistance(f.hash.bytes, image.hash.bytes) <= 31);
        if (hit === undefined) return [];
        const distance = hammingDistance(hit.hash.bytes, image.hash.bytes);
        return [{ id: image.id, policy: "pdq:d31:q50@1", frame: hit.frame, timestamp: hit.timestamp, distance }];
      });
      const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
      for (const index of [mih, flat]) {
        const got = index.matchVideo(q);
        expect([...got.videos].sort(byId)).toEqual([...expected].sort(byId));
        expect([...got.images].sort(byId)).toEqual([...expectedImages].sort(byId));
      }
      expect(expected.length).toBeGreaterThan(0);
    }
  });

  const kept = videos.map((v) =>
    v.frames.filter((g, i) => g.hash.quality >= 50 && v.frames.findIndex((h) => same(h, g)) === i),
  );

  it("finds a still image's listed frames, with video and timestamp, as a scan does", () => {
    for (let round = 0; round < 20; round++) {
      const video = videos[Math.floor(next() * videos.length)] as ListedVideo;
      const f = video.frames[Math.floor(next() * video.frames.length)] as VpdqFrame;
      const still = {
        algorithm: "pdq" as const,
        bytes: near(f.hash.bytes, Math.floor(next() * 40), next),
        quality: 80,
      };
      const expected = videos.flatMap((v, n) =>
        (kept[n] as VpdqFrame[])
          .map((g) => ({ g, distance: hammingDistance(g.hash.bytes, still.bytes) }))
          .filter(({ distance }) => distance <= 31)
          .map(({ g, distance }) => ({
            id: v.id,
            policy: "pdq:d31:q50@1",
            frame: g.frame,
            timestamp: g.timestamp,
            distance,
          })),
      );
      expect(mih.matchImage(still)).toEqual(expected);
      expect(flat.matchImage(still)).toEqual(expected);
    }
    expect(
      mih.matchImage({ algorithm: "pdq", bytes: videos[0]?.frames[0]?.hash.bytes as Uint8Array, quality: 49 }),
    ).toEqual([]);
  });
});

describe("VideoIndex, a listed image in a video", () => {
  it("is reported once, at the first kept frame that shows it, under the frame rule", () => {
    const next = random(7);
    const image = randomHash(next);
    const q = frames([randomHash(next), near(image, 30, next), near(image, 4, next), near(image, 0, next)], next);
    for (const f of q) f.hash.quality = 90;
    const index = new VideoIndex({ images: [{ id: "img", hash: { algorithm: "pdq", bytes: image, quality: 100 } }] });
    expect(index.matchVideo(q)).toEqual({
      videos: [],
      images: [{ id: "img", policy: "pdq:d31:q50@1", frame: 30, timestamp: 1, distance: 30 }],
    });
  });
});

describe("VideoIndex input", () => {
  it("refuses a hash that is not 32 bytes, naming the entry, rather than packing it out of step", () => {
    const short = { algorithm: "pdq" as const, bytes: new Uint8Array(8), quality: 100 };
    const videos = [{ id: "v-short", frames: [{ frame: 30, hash: short, timestamp: 1 }] }];
    expect(() => new VideoIndex({ videos })).toThrow(
      expect.objectContaining({ code: "PHM_USAGE", message: expect.stringContaining("listed video v-short frame 30") }),
    );
    expect(() => new VideoIndex({ images: [{ id: "i-short", hash: short }] })).toThrow(/listed image i-short/);
    expect(() => new VideoIndex({}).matchImage(short)).toThrow(/still image/);
    expect(new VideoIndex({}).matchVideo([])).toEqual({ videos: [], images: [] });
  });
});

function same(a: VpdqFrame, b: VpdqFrame): boolean {
  return hammingDistance(a.hash.bytes, b.hash.bytes) === 0;
}

const vpdqDir = join(conformanceDir, "vpdq");
describe.skipIf(!hasConformance)(
  `VideoIndex on the conformance videos (${hasConformance ? vpdqDir : skipReason})`,
  () => {
    const load = (name: string) => parseVpdqText(readFileSync(join(vpdqDir, `${name}.vpdq.txt`), "utf8"), name);
    const rows = hasConformance ? readTsv(join(vpdqDir, "matches.tsv")) : [];

    it("gives matches.tsv's percentages and verdicts with every listed video in one index", () => {
      const names = [...new Set(rows.map((row) => row.compared as string))];
      const index = new VideoIndex({ videos: names.map((id) => ({ id, frames: load(id) })) });
      for (const row of rows) {
        const got = index.matchVideo(load(row.query as string)).videos.find((m) => m.id === row.compared);
        const percent = [got?.queryPercent ?? 0, got?.targetPercent ?? 0].map((p) => p.toFixed(2));
        expect(percent).toEqual([row.query_match_percent, row.compared_match_percent]);
        expect(got?.match ? "MATCH" : "NO_MATCH").toBe(row.verdict);
      }
    });

    it("finds a listed video's frame in a still (its own frame hash), with the timestamp", () => {
      const chair = load("chair-orig-22-sd-bar");
      const index = new VideoIndex({ videos: [{ id: "chair", frames: chair }] });
      const still = chair[10] as VpdqFrame;
      const hits = index.matchImage(still.hash);
      expect(hits.find((h) => h.distance === 0)).toMatchObject({ id: "chair", timestamp: still.timestamp });
      // A chair frame as a listed image is seen in the grey copy of the video.
      const images = new VideoIndex({ images: [{ id: "chair-frame", hash: still.hash }] });
      const seen = images.matchVideo(load("chair-22-sd-grey-bar")).images;
      expect(seen).toHaveLength(1);
      expect(seen[0]?.timestamp).toBeCloseTo(still.timestamp, 0);
    });
  },
);

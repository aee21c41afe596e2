// The ISO BMFF container pre-check (decode/iso-bmff.ts, issue 20): what it reads from the committed synthetic clip,
// each refusal on a copy of the clip patched in memory, and that decodeVideo refuses before it looks for FFmpeg
// (so the answer is the same on a machine without it). Its agreement with ffprobe on the conformance videos is
// test/system/video-precheck.test.ts.
import { readFileSync } from "node:fs";
import { decodeVideo, PhmatchError, precheckVideoContainer, readIsoBmff } from "@phmatch/core/internal";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const clip = readFileSync(fixtures("videos/testsrc-64x48-2s.mp4"));
const STBL = ["moov", "trak", "mdia", "minf", "stbl"];

// The box at a path of types (stsd's entries after its 8-byte header): offset of its size field, payload, end.
function box(bytes: Buffer, path: string[]) {
  let [start, end] = [0, bytes.length];
  let found: { at: number; start: number; end: number } | undefined;
  for (const type of path) {
    found = undefined;
    for (let at = start; at + 8 <= end; at += bytes.readUInt32BE(at)) {
      if (bytes.toString("latin1", at + 4, at + 8) === type) {
        found = { at, start: at + 8, end: at + bytes.readUInt32BE(at) };
        break;
      }
    }
    if (found === undefined) throw new Error(`no ${path.join("/")}`);
    [start, end] = [found.start + (type === "stsd" ? 8 : 0), found.end];
  }
  return found as { at: number; start: number; end: number };
}
const patch = (path: string[], edit: (b: Buffer, at: { at: number; start: number; end: number }) => void) => {
  const copy = Buffer.from(clip);
  edit(copy, box(copy, path));
  return copy;
};
const boxOf = (type: string, payload: Buffer) => {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + payload.length);
  head.write(type, 4, "latin1");
  return Buffer.concat([head, payload]);
};
// The code (and message) the pre-check answers with, or "passes".
const answer = (bytes: Uint8Array, limits = {}) => {
  try {
    precheckVideoContainer(bytes, limits, "clip.mp4");
    return "passes";
  } catch (error) {
    return (error as { code: string }).code;
  }
};
const message = (bytes: Uint8Array) => {
  try {
    precheckVideoContainer(bytes, {}, "clip.mp4");
  } catch (error) {
    return (error as Error).message;
  }
  return "";
};

describe("what the pre-check reads", () => {
  it("reads the clip as ffprobe does: 64x48, 20 frames, 2 s, brand isom, one video track", () => {
    const facts = readIsoBmff(clip, "clip.mp4");
    expect(facts.majorBrand).toBe("isom");
    expect(facts.movieDurationSeconds).toBe(2);
    expect(facts.fragmented).toBe(false);
    expect(facts.tracks).toEqual([
      {
        handler: "vide",
        width: 64,
        height: 48,
        trackWidth: 64,
        trackHeight: 48,
        timescale: 10240,
        durationSeconds: 2,
        sampleCount: 20,
        dataEnd: clip.length,
      },
    ]);
    expect(precheckVideoContainer(clip, {}, "clip.mp4")).toEqual(facts);
  });

  it("leaves Matroska and AVI to ffprobe (no facts, no refusal)", () => {
    const ebml = Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x80]), Buffer.alloc(64)]);
    expect(precheckVideoContainer(ebml, {}, "a.mkv")).toBeUndefined();
    const avi = Buffer.concat([Buffer.from("RIFF\x40\0\0\0AVI LIST", "latin1"), Buffer.alloc(64)]);
    expect(precheckVideoContainer(avi, {}, "a.avi")).toBeUndefined();
  });

  it("takes an mdat of size 0 at the top level as running to the end of the file", () => {
    const mdat = box(clip, ["mdat"]);
    const toEnd = Buffer.from(clip);
    toEnd.writeUInt32BE(0, mdat.at);
    expect(answer(toEnd)).toBe("passes");
  });

  it("takes a QuickTime atom list ending in a 32-bit zero, and refuses other stray bytes", () => {
    const udta = (tail: Buffer) =>
      Buffer.concat([clip, boxOf("udta", Buffer.concat([boxOf("free", Buffer.alloc(0)), tail]))]);
    expect(answer(udta(Buffer.alloc(4)))).toBe("passes");
    expect(answer(udta(Buffer.from([0, 0, 0, 1])))).toBe("PHM_DECODE_CORRUPT");
  });

  it("reads a 64-bit box size", () => {
    const mdat = box(clip, ["mdat"]);
    const large = Buffer.alloc(16);
    large.writeUInt32BE(1);
    large.write("mdat", 4, "latin1");
    large.writeBigUInt64BE(BigInt(mdat.end - mdat.start + 16), 8);
    const bytes = Buffer.concat([clip.subarray(0, mdat.at), large, clip.subarray(mdat.start)]);
    // The chunk offsets now point 8 bytes early, still within the file.
    expect(answer(bytes)).toBe("passes");
    large.writeBigUInt64BE(1n << 62n, 8);
    const lying = Buffer.concat([clip.subarray(0, mdat.at), large, clip.subarray(mdat.start)]);
    // Past 2^53 the size is kept as the largest safe number: past the end of anything in memory all the same.
    expect(precheckVideoContainer(lying, {}, "clip.mp4")?.cutAfterIndex).toEqual({
      box: "mdat",
      at: mdat.at,
      claims: Number.MAX_SAFE_INTEGER,
    });
  });
});

describe("refusals, each before FFmpeg", () => {
  const mdat = box(clip, ["mdat"]);
  const moov = box(clip, ["moov"]);
  it.each([
    ["cut in the ftyp box", clip.subarray(0, 20)],
    ["cut in a box header", clip.subarray(0, moov.at + 4)],
    ["cut in moov", clip.subarray(0, 500)],
    ["cut in moov's last byte", clip.subarray(0, moov.end - 1)],
  ])("PHM_VIDEO_TRUNCATED: %s", (_, bytes) => {
    expect(answer(bytes)).toBe("PHM_VIDEO_TRUNCATED");
  });

  // With its index whole, a cut file goes on to the decoder, which keeps the frames before the cut.
  it.each([
    ["cut just after moov", clip.subarray(0, moov.end), undefined],
    ["cut in mdat's header", clip.subarray(0, mdat.at + 4), ""],
    ["cut in mdat", clip.subarray(0, (mdat.start + mdat.end) >> 1), "mdat"],
    ["the last byte cut", clip.subarray(0, clip.length - 1), "mdat"],
  ])("passes a file cut after its index to the decoder: %s", (_, bytes, box) => {
    const facts = precheckVideoContainer(bytes, {}, "clip.mp4");
    expect(facts?.cutAfterIndex?.box).toBe(box);
    expect(facts?.tracks.find((t) => t.handler === "vide")?.dataEnd).toBeGreaterThan(bytes.length);
  });

  it("passes a chunk offset past the end to the decoder (a lying table is FFmpeg's to refuse)", () => {
    expect(answer(patch([...STBL, "stco"], (b, at) => b.writeUInt32BE(0xfffff000, at.start + 8)))).toBe("passes");
  });

  const udtaDeep = (levels: number) => {
    let nest = boxOf("free", Buffer.alloc(0));
    for (let d = 0; d < levels; d++) nest = boxOf("udta", nest);
    return Buffer.concat([clip, nest]);
  };
  const freeBoxes = (count: number) => {
    const b = Buffer.alloc(count * 8);
    for (let i = 0; i < count; i++) {
      b.writeUInt32BE(8, i * 8);
      b.write("free", i * 8 + 4, "latin1");
    }
    return Buffer.concat([clip, b]);
  };
  it.each([
    ["a box smaller than its header", patch(["moov", "mvhd"], (b, at) => b.writeUInt32BE(4, at.at)), /smaller/],
    ["a box of size 0 inside another", patch([...STBL, "stsz"], (b, at) => b.writeUInt32BE(0, at.at)), /size 0/],
    [
      "a box past the box that holds it",
      patch([...STBL, "stco"], (b, at) => b.writeUInt32BE(400, at.at)),
      /runs past the box that holds it/,
    ],
    ["boxes nested 20 deep", udtaDeep(20), /nested more than 16 deep/],
    ["more than 100,000 boxes", freeBoxes(100_001), /more than 100000 boxes/],
    [
      "a table claiming more entries than its box holds",
      patch([...STBL, "stsz"], (b, at) => b.writeUInt32BE(4_000_000, at.start + 8)),
      /claims 4000000 entries/,
    ],
    [
      "chunk numbers that go backwards",
      patch([...STBL, "stsc"], (b, at) => b.writeUInt32BE(0, at.start + 8)),
      /do not increase/,
    ],
    ["no moov", Buffer.concat([clip.subarray(0, moov.at), clip.subarray(moov.end)]), /no movie box/],
  ])("PHM_DECODE_CORRUPT: %s", (_, bytes, said) => {
    expect(answer(bytes)).toBe("PHM_DECODE_CORRUPT");
    expect(message(bytes)).toMatch(said);
  });

  it("16 levels of nesting and 100,000 boxes are still taken", () => {
    expect(answer(udtaDeep(14))).toBe("passes");
    expect(answer(freeBoxes(99_000))).toBe("passes");
  });

  it("PHM_DECODE_UNSUPPORTED: no video track", () => {
    const audio = patch(["moov", "trak", "mdia", "hdlr"], (b, at) => b.write("soun", at.start + 8, "latin1"));
    expect(answer(audio)).toBe("PHM_DECODE_UNSUPPORTED");
  });

  it.each([
    [
      "tkhd claims 65535x65535",
      patch(["moov", "trak", "tkhd"], (b, at) => {
        b.writeUInt32BE(0xffff0000, at.start + 76);
        b.writeUInt32BE(0xffff0000, at.start + 80);
      }),
      /65535x65535 = 4294836225 pixels.*maxVideoPixels/,
    ],
    [
      "avc1 claims 65535x65535",
      patch([...STBL, "stsd", "avc1"], (b, at) => {
        b.writeUInt16BE(65535, at.start + 24);
        b.writeUInt16BE(65535, at.start + 26);
      }),
      /65535x65535.*maxVideoPixels/,
    ],
    [
      "stts claims 5,000,000 frames",
      patch([...STBL, "stts"], (b, at) => {
        b.writeUInt32BE(5_000_000, at.start + 8);
        b.writeUInt32BE(1, at.start + 12);
      }),
      /5000000 frames.*maxVideoFrames/,
    ],
    [
      "stsz claims 2^32-1 samples of one size (and their bytes lie past the end)",
      patch([...STBL, "stsz"], (b, at) => {
        b.writeUInt32BE(1, at.start + 4);
        b.writeUInt32BE(0xffffffff, at.start + 8);
      }),
      /4294967295 frames.*maxVideoFrames/,
    ],
    [
      "900,000 frames in 2 s",
      patch([...STBL, "stts"], (b, at) => {
        b.writeUInt32BE(900_000, at.start + 8);
        b.writeUInt32BE(0, at.start + 12);
      }),
      /frame rate over 1000 fps/,
    ],
    [
      "mvhd claims 49 days",
      patch(["moov", "mvhd"], (b, at) => b.writeUInt32BE(0xfffffffe, at.start + 16)),
      /duration of 4294967.294 s.*maxVideoSeconds/,
    ],
    [
      "mdhd claims 2^32-2 ticks",
      patch(["moov", "trak", "mdia", "mdhd"], (b, at) => b.writeUInt32BE(0xfffffffe, at.start + 16)),
      /maxVideoSeconds/,
    ],
  ])("PHM_VIDEO_LIMIT: %s", (_, bytes, said) => {
    expect(answer(bytes)).toBe("PHM_VIDEO_LIMIT");
    expect(message(bytes)).toMatch(said);
  });

  it("applies the caller's limits, not only the defaults", () => {
    expect(answer(clip, { maxVideoPixels: 64 * 48 - 1 })).toBe("PHM_VIDEO_LIMIT");
    expect(answer(clip, { maxVideoFrames: 19 })).toBe("PHM_VIDEO_LIMIT");
    expect(answer(clip, { maxVideoSeconds: 1.5 })).toBe("PHM_VIDEO_LIMIT");
    expect(answer(clip, { maxVideoPixels: 64 * 48, maxVideoFrames: 20, maxVideoSeconds: 2 })).toBe("passes");
  });

  it("decodeVideo refuses with the pre-check's code before it looks for FFmpeg", async () => {
    const absent = { ffmpegPath: "/nonexistent/ffmpeg", ffprobePath: "/nonexistent/ffprobe" };
    const codeOf = (bytes: Uint8Array) =>
      decodeVideo(bytes, "clip.mp4", absent, () => undefined).then(
        () => "decoded",
        (e: { code: string }) => e.code,
      );
    expect(await codeOf(clip.subarray(0, 500))).toBe("PHM_VIDEO_TRUNCATED");
    const huge = patch(["moov", "trak", "tkhd"], (b, at) => {
      b.writeUInt32BE(0xffff0000, at.start + 76);
      b.writeUInt32BE(0xffff0000, at.start + 80);
    });
    expect(await codeOf(huge)).toBe("PHM_VIDEO_LIMIT");
    // A clip that passes goes on to look for FFmpeg, which is absent.
    expect(await codeOf(clip)).toBe("PHM_VIDEO_DECODER_MISSING");
  });
});

describe("any damage: facts or a typed refusal, never anything else", () => {
  const CODES = ["PHM_VIDEO_LIMIT", "PHM_VIDEO_TRUNCATED", "PHM_DECODE_CORRUPT", "PHM_DECODE_UNSUPPORTED"];
  // Seeded: the same cases every run.
  it("holds for random 32-bit fields written over the headers and random cuts of the clip", () => {
    const moov = box(clip, ["moov"]);
    // Sizes, counts, offsets and durations are 32-bit fields: the values a hostile header would put there.
    const value = fc.oneof(
      fc.constantFrom(0, 1, 4, 7, 8, 16, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff),
      fc.integer({ min: 0, max: 0xffffffff }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: moov.end - 4 }), value), { minLength: 1, maxLength: 6 }),
        // Half the cases whole: a cut file is refused at its top level before the tables are read.
        fc.oneof(fc.constant(clip.length), fc.integer({ min: 0, max: clip.length })),
        (changes, cut) => {
          const bytes = Buffer.from(clip);
          for (const [at, v] of changes) bytes.writeUInt32BE(v, at);
          try {
            precheckVideoContainer(bytes.subarray(0, cut), {}, "clip.mp4");
          } catch (error) {
            expect(error).toBeInstanceOf(PhmatchError);
            expect(CODES).toContain((error as PhmatchError).code);
          }
        },
      ),
      { seed: 20, numRuns: 3000 },
    );
  });
});

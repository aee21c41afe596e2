// Video decoding's checks that need no FFmpeg (issue 20): container sniffing, reading ffprobe's answer, the limits
// refused before decoding, the reference's frame step, option checks, the record schema's video part, and the
// typed error when FFmpeg is missing or misconfigured. The decoding itself is tested in test/system/video-hash.

import { readFileSync } from "node:fs";
import { hashImageBytes, hashRecordSchema } from "@phmatch/core";
import {
  checkVideoLimits,
  DEFAULT_VIDEO_LIMITS,
  findVideoTools,
  frameStep,
  hashVideoBytes,
  isVideoContainer,
  readProbe,
  type VideoProbe,
  validateHashOptions,
} from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const ascii = (text: string) => new Uint8Array(Buffer.from(text, "latin1"));
const box = (type: string, brand: string) => ascii(`\0\0\0\x18${type}${brand}\0\0\0\0`);

describe("isVideoContainer", () => {
  it.each([
    ["an MP4 (ftyp isom)", box("ftyp", "isom"), true],
    ["a QuickTime file (ftyp qt  )", box("ftyp", "qt  "), true],
    ["a QuickTime file starting with moov", box("moov", "mvhd"), true],
    ["Matroska/WebM", new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 1, 0x42, 0xf7, 0x81]), true],
    ["an AVI", ascii("RIFF\x10\0\0\0AVI LIST"), true],
    ["a HEIC image", box("ftyp", "heic"), false],
    ["an AVIF image", box("ftyp", "avif"), false],
    ["a WebP image", ascii("RIFF\x10\0\0\0WEBPVP8 "), false],
    ["a JPEG", new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]), false],
    ["fewer than 12 bytes", ascii("\0\0\0\x18ftyp"), false],
  ])("%s", (_name, bytes, expected) => {
    expect(isVideoContainer(bytes)).toBe(expected);
  });
});

const probeJson = {
  streams: [
    {
      codec_name: "h264",
      pix_fmt: "yuv420p",
      width: 480,
      height: 720,
      avg_frame_rate: "30/1",
      r_frame_rate: "30/1",
      duration: "18.800000",
      nb_frames: "564",
      nb_read_packets: "564",
    },
  ],
  format: { format_name: "mov,mp4,m4a,3gp,3g2,mj2", duration: "18.816000" },
};

describe("readProbe", () => {
  it("reads the stream's facts (chair-19-sd-bar's ffprobe answer)", () => {
    expect(readProbe(probeJson, "v.mp4")).toEqual({
      container: "mov,mp4,m4a,3gp,3g2,mj2",
      codec: "h264",
      pixelFormat: "yuv420p",
      width: 480,
      height: 720,
      frameRate: 30,
      durationSeconds: 18.8,
      frameCount: 564,
    });
  });

  it("falls back to r_frame_rate, counted packets and frames / rate, as Matroska from a pipe needs", () => {
    const stream = { codec_name: "h264", pix_fmt: "yuv420p", width: 160, height: 120 };
    const probe = readProbe(
      { streams: [{ ...stream, avg_frame_rate: "0/0", r_frame_rate: "10/1", nb_read_packets: "30" }], format: {} },
      "v.mkv",
    );
    expect(probe).toMatchObject({ frameRate: 10, frameCount: 30, durationSeconds: 3 });
  });

  it.each([
    ["no video stream", { streams: [] }],
    ["no frame size", { streams: [{ ...probeJson.streams[0], width: 0 }] }],
    ["no frame rate", { streams: [{ ...probeJson.streams[0], avg_frame_rate: "0/0", r_frame_rate: "0/0" }] }],
    ["a pixel format that is not a name", { streams: [{ ...probeJson.streams[0], pix_fmt: "-i /etc/passwd" }] }],
  ])("refuses %s as PHM_DECODE_UNSUPPORTED", (_name, json) => {
    expect(() => readProbe(json, "v.mp4")).toThrow(expect.objectContaining({ code: "PHM_DECODE_UNSUPPORTED" }));
  });
});

const probe: VideoProbe = {
  container: "mov,mp4,m4a,3gp,3g2,mj2",
  codec: "h264",
  pixelFormat: "yuv420p",
  width: 1920,
  height: 1080,
  frameRate: 30,
  durationSeconds: 60,
  frameCount: 1800,
};

describe("checkVideoLimits", () => {
  it("passes a 1080p minute under the defaults", () => {
    expect(() => checkVideoLimits(probe, {}, "v.mp4")).not.toThrow();
  });

  it.each([
    ["huge frames", { width: 100_000, height: 100_000 }, {}, "maxVideoPixels"],
    ["frames over a lowered pixel limit", {}, { maxVideoPixels: 1920 * 1080 - 1 }, "maxVideoPixels"],
    ["a duration over the default 3 h", { durationSeconds: 3 * 3600 + 1 }, {}, "maxVideoSeconds"],
    ["millions of tiny frames", { width: 16, height: 16, frameCount: 5_000_000 }, {}, "maxVideoFrames"],
    ["more frames than a lowered limit", {}, { maxVideoFrames: 1799 }, "maxVideoFrames"],
  ])("refuses %s as PHM_VIDEO_LIMIT naming its option", (_name, change, limits, option) => {
    expect(() => checkVideoLimits({ ...probe, ...change }, limits, "v.mp4")).toThrow(
      expect.objectContaining({ code: "PHM_VIDEO_LIMIT", optionNames: [option] }),
    );
  });

  it("refuses an absurd frame rate", () => {
    expect(() => checkVideoLimits({ ...probe, frameRate: 90_000 }, {}, "v.mp4")).toThrow(
      expect.objectContaining({ code: "PHM_VIDEO_LIMIT" }),
    );
  });

  it("refuses a stream of no frames as corrupt", () => {
    expect(() => checkVideoLimits({ ...probe, frameCount: 0 }, {}, "v.mp4")).toThrow(
      expect.objectContaining({ code: "PHM_DECODE_CORRUPT" }),
    );
  });

  it("keeps limits at the documented defaults", () => {
    expect(DEFAULT_VIDEO_LIMITS).toEqual({
      maxVideoBytes: 256 * 1024 * 1024,
      maxVideoSeconds: 10_800,
      maxVideoFrames: 1_000_000,
      maxVideoPixels: 7680 * 4320,
    });
  });
});

describe("frameStep", () => {
  it.each([
    [1, 30, 30],
    [1, 29.97, 29],
    [0.5, 25, 12],
    [0, 30, 1],
    [1, 0.5, 1],
  ])("at %s s per hash and %s fps is %s, as the reference's trunc(seconds * rate)", (seconds, rate, step) => {
    expect(frameStep(seconds, rate)).toBe(step);
  });
});

describe("video options", () => {
  it.each([
    [{ secondsPerHash: -1 }],
    [{ secondsPerHash: Number.NaN }],
    [{ maxVideoFrames: 0 }],
    [{ maxVideoBytes: -5 }],
    [{ videoTimeoutSeconds: Number.POSITIVE_INFINITY }],
  ])("refuses %j as PHM_USAGE", (video) => {
    expect(() => validateHashOptions({ video })).toThrow(expect.objectContaining({ code: "PHM_USAGE" }));
  });

  it("accepts every frame (0 s per hash) and positive limits", () => {
    expect(() => validateHashOptions({ video: { secondsPerHash: 0, maxVideoFrames: 10 } })).not.toThrow();
  });
});

describe("a missing or misconfigured FFmpeg", () => {
  it("is PHM_VIDEO_DECODER_MISSING saying how to install it, with an empty PATH", () => {
    const saved = process.env.PATH;
    process.env.PATH = "";
    try {
      expect(() => findVideoTools({})).toThrow(
        expect.objectContaining({
          code: "PHM_VIDEO_DECODER_MISSING",
          message: expect.stringContaining("apt-get install ffmpeg"),
        }),
      );
    } finally {
      process.env.PATH = saved;
    }
  });

  it("is PHM_VIDEO_DECODER_MISSING for a PHMATCH_FFMPEG set but empty, not a fall back to the PATH", () => {
    const saved = process.env.PHMATCH_FFMPEG;
    process.env.PHMATCH_FFMPEG = "";
    try {
      expect(() => findVideoTools({ ffprobePath: "/bin/sh" })).toThrow(
        expect.objectContaining({ code: "PHM_VIDEO_DECODER_MISSING", optionNames: ["ffmpegPath"] }),
      );
    } finally {
      if (saved === undefined) delete process.env.PHMATCH_FFMPEG;
      else process.env.PHMATCH_FFMPEG = saved;
    }
  });

  it.each([
    ["an empty path", ""],
    ["a relative path", "ffmpeg"],
    ["a path that does not exist", "/nonexistent/ffmpeg"],
    ["a file that is not executable", fixtures("images/shapes.png")],
  ])("is PHM_VIDEO_DECODER_MISSING for %s", (_name, ffmpegPath) => {
    expect(() => findVideoTools({ ffmpegPath, ffprobePath: "/bin/sh" })).toThrow(
      expect.objectContaining({ code: "PHM_VIDEO_DECODER_MISSING", optionNames: ["ffmpegPath"] }),
    );
  });

  // A whole synthetic clip: a bare ftyp box is refused as cut short by the container pre-check, before FFmpeg.
  const clip = readFileSync(fixtures("videos/testsrc-64x48-2s.mp4"));

  it("reaches the hash record as its error, beside the digests", async () => {
    const record = await hashImageBytes(clip, "v.mp4", {
      algorithms: ["md5", "pdq"],
      video: { ffmpegPath: "/nonexistent/ffmpeg" },
    });
    expect(record.hashes?.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(record.error?.code).toBe("PHM_VIDEO_DECODER_MISSING");
    expect(record.video).toBeUndefined();
  });

  it("is not asked for without video options (the bytes go to the image decoder, which refuses them)", async () => {
    const record = await hashImageBytes(clip, "v.mp4", {
      algorithms: ["pdq"],
      video: { ffmpegPath: "/nonexistent/ffmpeg" },
    });
    expect(record.error?.code).toBe("PHM_VIDEO_DECODER_MISSING");
    for (const video of [false, undefined]) {
      const imageOnly = await hashImageBytes(clip, "v.mp4", { algorithms: ["pdq"], video });
      expect(imageOnly.error?.code).toMatch(/^PHM_DECODE_/);
      expect(imageOnly.video).toBeUndefined();
    }
  });

  it("refuses bytes over maxVideoBytes before looking for FFmpeg", async () => {
    await expect(
      hashVideoBytes(box("ftyp", "isom"), "v.mp4", { maxVideoBytes: 8, ffmpegPath: "/nonexistent/ffmpeg" }),
    ).rejects.toMatchObject({ code: "PHM_VIDEO_LIMIT", optionNames: ["maxVideoBytes"] });
  });
});

describe("a still image renamed .mp4", () => {
  it("is hashed as the image it is: containers are told by their bytes, not their names", async () => {
    const png = readFileSync(fixtures("images/shapes.png"));
    const record = await hashImageBytes(png, "still.mp4", {
      algorithms: ["pdq"],
      video: { ffmpegPath: "/nonexistent/ffmpeg" },
    });
    expect(record.error).toBeUndefined();
    expect(record.hashes?.pdq).toMatch(/^[0-9a-f]{64}$/);
    expect(record.video).toBeUndefined();
  });
});

describe("hash record schema, version 2", () => {
  const validate = new Ajv2020({ allErrors: true, strict: true }).compile(hashRecordSchema());
  const video = {
    algorithm: "vpdq",
    secondsPerHash: 1,
    container: "mov,mp4,m4a,3gp,3g2,mj2",
    codec: "h264",
    width: 480,
    height: 720,
    frameRate: 30,
    durationSeconds: 18.8,
    frameCount: 564,
    frames: [{ frame: 0, pdq: "e2".repeat(32), quality: 100, timestamp: 0 }],
  };

  it("accepts a video record and a version 1 record", () => {
    expect(validate({ path: "v.mp4", hashes: { md5: "ab".repeat(16) }, video })).toBe(true);
    expect(validate({ path: "a.jpg", hashes: { pdq: "ab".repeat(32) }, quality: { pdq: 90 } })).toBe(true);
  });

  it.each([
    ["a frame hash of the wrong length", { frames: [{ frame: 0, pdq: "e2".repeat(31), quality: 1, timestamp: 0 }] }],
    ["a frame quality over 100", { frames: [{ frame: 0, pdq: "e2".repeat(32), quality: 101, timestamp: 0 }] }],
    ["another algorithm", { algorithm: "tmk" }],
    ["pixels smuggled in", { pixels: "AAAA" }],
  ])("rejects %s", (_name, change) => {
    expect(validate({ path: "v.mp4", hashes: { md5: "ab".repeat(16) }, video: { ...video, ...change } })).toBe(false);
  });
});

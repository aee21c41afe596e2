// System test (needs Debian's ffmpeg package, installed by .ci/run): videos hashed with vPDQ through FFmpeg (issue
// 20). `phmatch hash --format vpdq` on the 14 conformance videos writes files byte-identical to the reference's
// C-path set (cpath/: vpdq-hash-video with libswscale's portable conversion, as docs/design/video-decoder.md lined
// up); the NDJSON record validates against schema version 2; a synthetic testsrc video made in memory hashes as an
// independent decode (one FFmpeg reading a pipe, every frame, chosen here) says; a cut video is PHM_VIDEO_TRUNCATED;
// limits refuse before decoding; a missing FFmpeg is PHM_VIDEO_DECODER_MISSING; and the supervised worker process
// answers a failing FFmpeg with a typed error and goes on. No media is written to disk: videos are read from
// ../shared or made by FFmpeg onto a pipe.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hashImageBytes, hashRecordSchema, SupervisedHashPool } from "@phmatch/core";
import { hashVideoBytes, pdqHash } from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { conformanceDir, hasConformance, skipReason } from "../support/conformance.js";

const bin = fileURLToPath(new URL("../../packages/cli/bin/phmatch.js", import.meta.url));
const vpdqDir = join(conformanceDir, "vpdq");
const hasVpdq = hasConformance && existsSync(join(vpdqDir, "videos"));
const videos = hasVpdq
  ? readdirSync(join(vpdqDir, "videos"))
      .filter((name) => name.endsWith(".mp4"))
      .sort()
  : [];
const video = (name: string) => readFileSync(join(vpdqDir, "videos", name));

const phmatch = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, [bin, ...args], { env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });

describe.skipIf(!hasVpdq)(`vPDQ on the conformance videos (${hasVpdq ? vpdqDir : skipReason})`, () => {
  it("finds the 14 videos", () => {
    expect(videos).toHaveLength(14);
  });

  it.each(videos)("phmatch hash --format vpdq %s is byte-identical to the reference's cpath file", (name) => {
    const run = phmatch(["hash", "--format", "vpdq", "-q", join(vpdqDir, "videos", name)]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(readFileSync(join(vpdqDir, "cpath", name.replace(/\.mp4$/, ".vpdq.txt")), "utf8"));
  });

  it("hashes every frame (0 s per hash) as the reference's allframes-cpath set", async () => {
    const name = "test-padded-dimensions.mp4";
    const run = phmatch(["hash", "--format", "vpdq", "--seconds-per-hash", "0", "-q", join(vpdqDir, "videos", name)]);
    expect(run.status).toBe(0);
    const expected = readFileSync(join(vpdqDir, "allframes-cpath", "test-padded-dimensions.vpdq.txt"), "utf8");
    expect(run.stdout).toBe(expected);
    expect(run.stdout.trimEnd().split("\n")).toHaveLength(150);
  });

  it("prints an NDJSON record with the digests and the video hash, valid against schema version 2", () => {
    const run = phmatch(["hash", "-a", "pdq,md5", join(vpdqDir, "videos", "chair-19-sd-bar.mp4")]);
    expect(run.status).toBe(0);
    const record = JSON.parse(run.stdout);
    const validate = new Ajv2020({ allErrors: true, strict: true }).compile(hashRecordSchema());
    expect(validate(record), JSON.stringify(validate.errors)).toBe(true);
    expect(record.hashes).toEqual({ md5: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(record.video).toMatchObject({
      algorithm: "vpdq",
      secondsPerHash: 1,
      codec: "h264",
      width: 480,
      height: 720,
      frameRate: 30,
      frameCount: 564,
    });
    expect(record.video.frames).toHaveLength(19);
    expect(record.video.frames[18]).toMatchObject({ frame: 540, timestamp: 18 });
  });

  it("reports a video cut at 30% as PHM_VIDEO_TRUNCATED, keeping the frames decoded", async () => {
    const whole = video("chair-19-sd-bar.mp4");
    const record = await hashImageBytes(whole.subarray(0, Math.floor(whole.length * 0.3)), "cut.mp4", {
      algorithms: ["pdq", "md5"],
      video: true,
    });
    expect(record.error?.code).toBe("PHM_VIDEO_TRUNCATED");
    expect(record.error?.message).toMatch(/of the 19 frames/);
    expect(record.hashes?.md5).toMatch(/^[0-9a-f]{32}$/);
    const frames = record.video?.frames ?? [];
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.length).toBeLessThan(19);
  });

  it("refuses a video cut inside its header as a typed decode error", async () => {
    const record = await hashImageBytes(video("chair-19-sd-bar.mp4").subarray(0, 64), "head.mp4", {
      algorithms: ["pdq"],
      video: true,
    });
    // Cut inside moov: the container pre-check's PHM_VIDEO_TRUNCATED, before FFmpeg.
    expect(record.error?.code).toMatch(/^PHM_(DECODE_(CORRUPT|UNSUPPORTED)|VIDEO_TRUNCATED)$/);
    expect(record.video).toBeUndefined();
  });

  it.each([
    ["Matroska", Buffer.from([0x1a, 0x45, 0xdf, 0xa3])],
    ["MP4", Buffer.from("\0\0\0\x18ftypisom\0\0\0\0", "latin1")],
    ["AVI", Buffer.from("RIFF\x10\0\0\0AVI LIST", "latin1")],
  ])("refuses garbage behind a %s signature as a typed decode error", async (_name, magic) => {
    const noise = Buffer.alloc(8192);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919 + (i >> 3) * 104729) & 0xff;
    const record = await hashImageBytes(Buffer.concat([magic, noise]), "noise.mp4", {
      algorithms: ["pdq"],
      video: true,
    });
    expect(record.error?.code).toMatch(/^PHM_(DECODE_(CORRUPT|UNSUPPORTED)|VIDEO_TRUNCATED)$/);
    // FFmpeg's words only, never the bytes it was given.
    const message = record.error?.message ?? "";
    expect(
      [...message].every((c) => c === "\n" || (c >= " " && c <= "~")),
      message,
    ).toBe(true);
  });

  it.each([
    ["maxVideoPixels", { maxVideoPixels: 480 * 720 - 1 }],
    ["maxVideoFrames", { maxVideoFrames: 563 }],
    ["maxVideoSeconds", { maxVideoSeconds: 18 }],
    ["maxVideoBytes", { maxVideoBytes: 1000 }],
  ])("refuses a video over %s before decoding", async (option, limits) => {
    await expect(hashVideoBytes(video("chair-19-sd-bar.mp4"), "v.mp4", limits)).rejects.toMatchObject({
      code: "PHM_VIDEO_LIMIT",
      optionNames: [option],
    });
  });

  it("gives PHM_VIDEO_DECODER_MISSING, exit 2, with no ffmpeg on the PATH or a bad --ffmpeg", () => {
    const file = join(vpdqDir, "videos", "test-padded-dimensions.mp4");
    for (const run of [
      phmatch(["hash", "-a", "pdq,md5", file], { ...process.env, PATH: "/nonexistent" }),
      phmatch(["hash", "-a", "pdq,md5", "--ffmpeg", "/nonexistent/ffmpeg", file]),
    ]) {
      expect(run.status).toBe(2);
      const record = JSON.parse(run.stdout);
      expect(record.error.code).toBe("PHM_VIDEO_DECODER_MISSING");
      expect(record.error.message).toContain("apt-get install ffmpeg");
      expect(record.hashes.md5).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it("runs in the supervised worker, which answers a failing FFmpeg with a typed error and goes on", async () => {
    const pool = new SupervisedHashPool({ jobs: 1, hashOptions: { algorithms: ["pdq"], video: true } });
    try {
      const bytes = video("test-padded-dimensions.mp4");
      const failing = await pool.hashBytes(bytes, "a.mp4", {
        algorithms: ["pdq"],
        video: { ffprobePath: "/bin/false" },
      });
      expect(failing.error?.code).toBe("PHM_DECODE_CORRUPT");
      const hashed = await pool.hashBytes(bytes, "b.mp4");
      expect(hashed.error).toBeUndefined();
      expect(hashed.video?.frames).toHaveLength(5);
      expect(pool.stats.starts).toBe(1);
    } finally {
      await pool.close();
    }
  });
});

// A 5 s testsrc clip at 10 fps, H.264 in Matroska, made by FFmpeg onto a pipe (never a file).
function testsrc(): Buffer {
  return execFileSync(
    "ffmpeg",
    [
      ...["-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=5"],
      ...["-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "matroska", "-"],
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
}

// The oracle: one FFmpeg reading the clip from a pipe, every frame as RGB24 by the portable C path, chosen here.
function everyFrame(bytes: Buffer): Uint8Array[] {
  const rgb = execFileSync(
    "ffmpeg",
    ["-nostdin", "-v", "error", "-cpuflags", "0", "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
    { input: bytes, maxBuffer: 256 * 1024 * 1024 },
  );
  const size = 320 * 240 * 3;
  return Array.from({ length: rgb.length / size }, (_, i) => rgb.subarray(i * size, (i + 1) * size));
}

describe("hostile videos made in memory", () => {
  it("refuses frames over the default pixel limit (8192x4400, one frame) before decoding", async () => {
    const huge = execFileSync(
      "ffmpeg",
      [
        ...["-nostdin", "-v", "error", "-f", "lavfi", "-i", "color=size=8192x4400:rate=1:duration=1"],
        ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-f", "matroska", "-"],
      ],
      { maxBuffer: 64 * 1024 * 1024 },
    );
    await expect(hashVideoBytes(huge, "huge.mkv", {})).rejects.toMatchObject({
      code: "PHM_VIDEO_LIMIT",
      optionNames: ["maxVideoPixels"],
    });
  });

  it("kills FFmpeg at the wall-clock limit: PHM_DECODE_TIMEOUT", async () => {
    // 1 ms: no FFmpeg run even starts within it, so the kill is certain whatever the machine's load.
    await expect(hashVideoBytes(testsrc(), "slow.mkv", { videoTimeoutSeconds: 0.001 })).rejects.toMatchObject({
      code: "PHM_DECODE_TIMEOUT",
    });
  });
});

describe("vPDQ on a synthetic testsrc video made in memory", () => {
  const clip = testsrc();
  const frames = everyFrame(clip);
  const oracle = (step: number) =>
    frames
      .map((data, frame) => ({ frame, data }))
      .filter(({ frame }) => frame % step === 0)
      .map(({ frame, data }) => {
        const hash = pdqHash({ width: 320, height: 240, channels: 3, data });
        return { frame, pdq: Buffer.from(hash.bytes).toString("hex"), quality: hash.quality, timestamp: frame / 10 };
      });

  it("has the 50 frames FFmpeg made", () => {
    expect(frames).toHaveLength(50);
  });

  it.each([
    [1, 10, 5],
    [0.5, 5, 10],
    [0, 1, 50],
  ])("at %s s per hash hashes every %s-th frame (%s frames) as the independent decode", async (seconds, step, n) => {
    const hashed = await hashVideoBytes(clip, "testsrc.mkv", { secondsPerHash: seconds });
    expect(hashed).toMatchObject({ container: "matroska,webm", codec: "h264", frameRate: 10, frameCount: 50 });
    expect(hashed.frames).toHaveLength(n);
    expect(hashed.frames).toEqual(oracle(step));
  });
});

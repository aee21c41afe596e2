// System test (needs Debian's ffmpeg package, installed by .ci/run): `phmatch hashset build` lists videos (issue 20).
// Conformance videos built into one store give, per video, the frames the reference keeps from its hash file (cpath
// set: first of each hash, quality >= 50) within the lineup's tolerance (bench/video/lineup.mjs: PDQ bits median
// <= 2, p90 <= 8 over the frames both keep), under the video's file name with the build's category and digests. A
// testsrc clip the test makes in its temp dir builds beside an image, as `phmatch hash --format vpdq` hashes it; a
// video over --max-video-seconds is refused with its code while the build goes on.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type HashSetEntry, hammingDistance, loadHashSet } from "@phmatch/core";
import { listedVideoEntries, parseVpdqText } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";
import { conformanceDir, fixtures, hasConformance, skipReason } from "../support/conformance.js";

const bin = fileURLToPath(new URL("../../packages/cli/bin/phmatch.js", import.meta.url));
const phmatch = (args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
const vpdqDir = join(conformanceDir, "vpdq");
const hasVpdq = hasConformance && existsSync(join(vpdqDir, "videos"));
const tmp = mkdtempSync(join(tmpdir(), "phmatch-build-video-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function storeEntries(store: string): Promise<HashSetEntry[]> {
  const { set } = await loadHashSet(store, {});
  return [...set.entries()];
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

const VIDEOS = ["chair-19-sd-bar", "doorknob-hd-no-bar", "pattern-sd-grey-bar", "test-padded-dimensions"];

describe.skipIf(!hasVpdq)(`hashset build of conformance videos (${hasVpdq ? vpdqDir : skipReason})`, () => {
  const store = join(tmp, "conformance.phs");
  it("lists each video as the reference's kept frames, under its file name, with its digests", async () => {
    const paths = VIDEOS.map((v) => join(vpdqDir, "videos", `${v}.mp4`));
    const run = phmatch(["hashset", "build", ...paths, "--list-id", "conf", "--category", "K", "-o", store]);
    expect(run.stderr).toContain(`${VIDEOS.length} files (${VIDEOS.length} videos listed as`);
    expect(run.status).toBe(0);
    const entries = await storeEntries(store);
    for (const name of VIDEOS) {
      const id = `${name}.mp4`;
      const mine = entries.filter((e) => e.entryId === id);
      expect(mine.filter((e) => e.algorithm === "md5")).toHaveLength(1);
      const frames = mine.filter((e) => e.fields?.video !== undefined);
      const reference = listedVideoEntries(
        { listId: "conf", entryId: id },
        parseVpdqText(readFileSync(join(vpdqDir, "cpath", `${name}.vpdq.txt`), "utf8")),
      ).entries;
      const byFrame = new Map(frames.map((e) => [e.fields?.video?.frame, e]));
      const common = reference.filter((r) => byFrame.has(r.fields?.video?.frame));
      // Frame for frame: nearly every kept frame of the reference is kept here, at the lineup's bit distances.
      expect(common.length, name).toBeGreaterThanOrEqual(Math.ceil(reference.length * 0.9));
      expect(Math.abs(frames.length - reference.length), name).toBeLessThanOrEqual(Math.ceil(reference.length * 0.1));
      const distances = common
        .map((r) => hammingDistance(r.value, (byFrame.get(r.fields?.video?.frame) as HashSetEntry).value))
        .sort((a, b) => a - b);
      expect(quantile(distances, 0.5), name).toBeLessThanOrEqual(2);
      expect(quantile(distances, 0.9), name).toBeLessThanOrEqual(8);
      for (const e of frames) {
        expect([e.algorithm, e.category, e.fields?.video?.frames]).toEqual(["pdq", "K", frames.length]);
        expect(e.fields?.video?.quality).toBeGreaterThanOrEqual(50);
      }
    }
    const info = phmatch(["hashset", "info", store, "--json"]);
    expect(JSON.parse(info.stdout).listedVideos.videos).toBe(VIDEOS.length);
  });
});

// A 6 s testsrc clip at 10 fps, H.264 in Matroska: made by FFmpeg in the test's temp dir (build reads files).
function testsrc(path: string): void {
  const bytes = execFileSync(
    "ffmpeg",
    [
      ...["-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10:duration=6"],
      ...["-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "matroska", "pipe:1"],
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  writeFileSync(path, bytes);
}

describe("hashset build of a synthetic video beside an image", () => {
  const input = join(tmp, "input");
  mkdirSync(input, { recursive: true });
  testsrc(join(input, "clip.mkv"));
  copyFileSync(fixtures("images/shapes-crop5.png"), join(input, "shapes.png"));

  it("lists the video as the kept frames of its own vPDQ hash, and the image as an image", async () => {
    const store = join(tmp, "synthetic.phs");
    const run = phmatch(["hashset", "build", input, "--list-id", "s", "-o", store]);
    expect(run.stderr).toContain("2 files (1 videos listed as");
    expect(run.status).toBe(0);
    const hashed = phmatch(["hash", "--format", "vpdq", "-q", join(input, "clip.mkv")]);
    expect(hashed.status).toBe(0);
    const kept = listedVideoEntries({ listId: "s", entryId: "clip.mkv" }, parseVpdqText(hashed.stdout)).entries;
    expect(kept.length).toBeGreaterThan(1);
    const entries = await storeEntries(store);
    const frames = entries.filter((e) => e.fields?.video !== undefined);
    expect(frames.map((e) => [e.entryId, e.fields?.video?.frame, Buffer.from(e.value).toString("hex")])).toEqual(
      kept.map((e) => ["clip.mkv", e.fields?.video?.frame, Buffer.from(e.value).toString("hex")]),
    );
    const image = entries.filter((e) => e.entryId === "shapes.png").map((e) => e.algorithm);
    expect(image.sort()).toEqual(["md5", "pdq", "phash16", "sha1"]);
  });

  it("refuses a video over a limit with its code and builds the rest (exit 2)", async () => {
    const store = join(tmp, "limited.phs");
    const run = phmatch(["hashset", "build", input, "--list-id", "s", "--max-video-seconds", "2", "-o", store]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/clip\.mkv: PHM_VIDEO_LIMIT /);
    expect(run.stderr).toContain("1 failed (PHM_VIDEO_LIMIT 1)");
    const entries = await storeEntries(store);
    expect(entries.some((e) => e.fields?.video !== undefined)).toBe(false);
    expect(entries.filter((e) => e.entryId === "shapes.png").length).toBe(4);
  });
});

// System test (needs FFmpeg's ffprobe): the container pre-check (packages/core/src/decode/iso-bmff.ts) reads the
// same width, height, frame count and duration from every conformance video and from the committed synthetic clip
// as ffprobe does, and passes them all. The refusals are unit tests (packages/core/test/video-precheck.test.ts).
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { precheckVideoContainer } from "@phmatch/core/internal";
import { describe, expect, it } from "vitest";
import { conformanceDir, fixtures, hasConformance } from "../support/conformance.js";

const vpdqVideos = join(conformanceDir, "vpdq", "videos");
const files = [
  fixtures("videos/testsrc-64x48-2s.mp4"),
  ...(hasConformance && existsSync(vpdqVideos)
    ? readdirSync(vpdqVideos)
        .filter((name) => name.endsWith(".mp4"))
        .sort()
        .map((name) => join(vpdqVideos, name))
    : []),
];

interface Probe {
  streams: { width: number; height: number; nb_frames: string; duration: string }[];
  format: { duration: string };
}

describe("the pre-check reads what ffprobe reads", () => {
  it("has the clip and the 14 conformance videos", () => {
    expect(files.length).toBe(hasConformance ? 15 : 1);
  });

  it.each(files.map((f) => [f.split("/").pop(), f]))("%s: width, height, frames, duration", (_, file) => {
    const bytes = readFileSync(file as string);
    const facts = precheckVideoContainer(bytes, {}, file as string);
    const probe = JSON.parse(
      execFileSync(
        "ffprobe",
        ["-v", "error", "-select_streams", "v:0", "-show_streams", "-show_format", "-of", "json", file as string],
        { encoding: "utf8" },
      ),
    ) as Probe;
    const stream = probe.streams[0] as Probe["streams"][number];
    const track = facts?.tracks.find((t) => t.handler === "vide");
    expect({
      width: track?.width,
      height: track?.height,
      frames: track?.sampleCount,
      seconds: track?.durationSeconds?.toFixed(3),
      movieSeconds: facts?.movieDurationSeconds?.toFixed(3),
    }).toEqual({
      width: stream.width,
      height: stream.height,
      frames: Number(stream.nb_frames),
      seconds: Number(stream.duration).toFixed(3),
      movieSeconds: Number(probe.format.duration).toFixed(3),
    });
  });
});

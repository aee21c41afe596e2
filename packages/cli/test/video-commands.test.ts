// check and scan take videos (issue 20): without FFmpeg (PHMATCH_FFMPEG set to an absolute path where there is
// none), a video is PHM_VIDEO_DECODER_MISSING for that file, never `unseen`, and a scan goes on to the next file. No
// FFmpeg is needed here: the video is only recognised and its boxes read, never decoded.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scanReportSchema } from "@phmatch/core";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { runCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-video-commands-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state"), PHMATCH_FFMPEG: join(work, "no-such-ffmpeg") });
const demo = fixtures("hashsets/demo.phs");

// A valid MP4 (the committed 2-second testsrc clip): it passes the container pre-check, so only FFmpeg is missing.
const mp4 = readFileSync(fixtures("videos/testsrc-64x48-2s.mp4"));
const tree = join(work, "evidence");
mkdirSync(tree);
writeFileSync(join(tree, "a-clip.mp4"), mp4);
copyFileSync(fixtures("images/shapes.png"), join(tree, "b-shapes.png"));

describe("check and scan of a video without FFmpeg", () => {
  it("check: exit 2, PHM_VIDEO_DECODER_MISSING, naming how to install FFmpeg", async () => {
    const r = await runCli(["check", join(tree, "a-clip.mp4"), "--hashset", demo, "--json"], { env });
    expect(r.status).toBe(2);
    const result = JSON.parse(r.stdout) as { status: string; error?: { code: string; message: string } };
    expect(result.status).toBe("error");
    expect(result.error?.code).toBe("PHM_VIDEO_DECODER_MISSING");
    expect(result.error?.message).toContain("apt-get install ffmpeg");
  });

  it("check from stdin: the same typed error", async () => {
    const r = await runCli(["check", "-", "--hashset", demo], { env, input: mp4 });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("-: error (PHM_VIDEO_DECODER_MISSING)\n");
  });

  it("scan: the video is an error record with its code, the image after it is still matched", async () => {
    const report = join(work, "report.ndjson");
    const r = await runCli(["scan", tree, "--hashset", demo, "-o", report, "-q"], { env });
    expect(r.status).toBe(2);
    const lines = readFileSync(report, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const validate = new Ajv2020({ strict: true }).compile(scanReportSchema());
    for (const line of lines) expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
    const [, video, image, summary] = lines;
    expect(video).toMatchObject({ path: join(tree, "a-clip.mp4"), status: "error" });
    expect(video).toMatchObject({
      error: { code: "PHM_VIDEO_DECODER_MISSING" },
      hashes: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(video?.video).toBeUndefined();
    expect(image).toMatchObject({ path: join(tree, "b-shapes.png"), status: "known" });
    expect(summary).toMatchObject({
      type: "summary",
      files: 2,
      known: 1,
      error: 1,
      videos: 0,
      errors: { PHM_VIDEO_DECODER_MISSING: 1 },
    });
  });

  it("check --max-video-bytes: a video over it is refused before FFmpeg is looked for, PHM_VIDEO_LIMIT", async () => {
    const r = await runCli(["check", join(tree, "a-clip.mp4"), "--hashset", demo, "--max-video-bytes", "50"], {
      env,
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toContain("error (PHM_VIDEO_LIMIT)");
  });

  it("serve refuses --max-video-bytes over --max-bytes at start-up: the body limit refuses first", async () => {
    const r = await runCli(
      ["serve", "--no-auth", "--hashset", demo, "--max-bytes", "1000", "--max-video-bytes", "2000"],
      {
        env,
      },
    );
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("--max-video-bytes 2000 is over --max-bytes 1000");
  });
});

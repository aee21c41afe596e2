// System test (needs FFmpeg): the whole hostile video corpus (test-fixtures/hostile/generate.mjs, VIDEO_KINDS, size
// "full") through `phmatch hash`, which decodes video, with FFmpeg present. Every file gets a record, each a hash or
// a typed error as the input calls for with a decoder at hand (the valid clip and its mdat-to-the-end copy a hash,
// the bit-flipped ones a hash or a typed error, the rest refused), none stopped by the wall-clock limit, and no
// FFmpeg process outlives the run. The fast subset without FFmpeg is packages/cli/test/hostile-videos.test.ts.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import {
  feedEndlessly,
  hostileCorpus,
  meetsExpectation,
  VIDEO_KINDS,
  writeCorpus,
} from "../../test-fixtures/hostile/generate.mjs";
import { cleanEnv } from "../support/env.js";

type Input = { name: string; kind: string; expect: string; codes?: string[]; endless?: boolean; note: string };

const bin = fileURLToPath(new URL("../../packages/cli/bin/phmatch.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "phmatch-hostile-video-sys-"));
const inputs = (await hostileCorpus({ size: "full", kinds: VIDEO_KINDS })) as Input[];
const paths = writeCorpus(join(work, "corpus"), inputs) as string[];
const feeder = feedEndlessly(inputs, paths);
// Every process of this run carries the mark in its environment: FFmpeg children inherit it.
const mark = `PHMATCH_HOSTILE_VIDEO_RUN=${process.pid}-${Date.now()}`;
afterAll(() => {
  feeder.stop();
  rmSync(work, { recursive: true, force: true });
});

// Processes (ffmpeg, ffprobe, prlimit) with this run's mark in their environment.
function marked(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (!/^(ffmpeg|ffprobe|prlimit)$/.test(comm)) continue;
      if (readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(mark)) found.push(`${pid} ${comm}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

describe("phmatch hash over the full hostile video corpus, FFmpeg present", () => {
  it("gives every file a hash or the typed error it calls for, none timed out, no FFmpeg left behind", async () => {
    const [name, value] = mark.split("=") as [string, string];
    const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state"), [name]: value });
    const args = [bin, "hash", "-q", "-j", "2", "--file-timeout", "60", join(work, "corpus")];
    // Spawned, not run in this process: the FIFO's writer here keeps writing meanwhile.
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const [code] = (await once(child, "close")) as [number];
    expect(code).toBe(2);
    const records = stdout
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as {
            path: string;
            hashes?: { pdq?: string };
            video?: { frames: { pdq: string }[] };
            error?: { code: string };
          },
      );
    expect(records).toHaveLength(inputs.length);
    const answers = records.map((r) => {
      const input = inputs[paths.indexOf(r.path)] as Input;
      // A hash: an image's PDQ, or a video's vPDQ frames.
      const hashed = r.hashes?.pdq !== undefined || (r.video?.frames.length ?? 0) > 0;
      return { input, answer: r.error?.code ?? (hashed ? "hash" : "no hash") };
    });
    const missed = answers
      .filter(({ input, answer }) => !meetsExpectation(input, answer, { decodesVideo: true }))
      .map(({ input, answer }) => `${input.kind}/${input.name}: expected ${input.expect}, got ${answer}`);
    expect(missed).toEqual([]);
    expect(answers.filter((a) => /TIMEOUT|PHM_WORKER_|PHM_INTERNAL/.test(a.answer))).toEqual([]);
    const of = (name: string) => answers.find((a) => a.input.name === name)?.answer;
    expect([of("valid.mp4"), of("mdat-to-end.mp4"), of("png-as.mp4")]).toEqual(["hash", "hash", "hash"]);
    expect(marked()).toEqual([]);
  }, 300_000);
});

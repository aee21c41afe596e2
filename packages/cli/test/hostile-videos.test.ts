// The fast subset of the hostile video corpus (test-fixtures/hostile/generate.mjs, VIDEO_KINDS, built from the
// committed synthetic clip): cuts, headers claiming 65535x65535 frames or millions of frames, damaged boxes, bit
// flips, other containers and still images named .mp4, an image brand, and a FIFO named .mp4 whose writer never
// stops. `phmatch hash` (which decodes video) runs over all of it with FFmpeg made absent, so the answer is the
// same on every machine: the container pre-check's typed refusals, the stills hashed as images, a valid clip
// PHM_VIDEO_DECODER_MISSING; every file a record, the run going on. The gate's POST /v1/check takes the endless
// stream as an upload that never ends. With FFmpeg present: test/system/hostile-videos.test.ts; every interface:
// bench/hostile/run.mjs --kinds video-truncated,video-bomb,video-corrupt,video-mislabelled,video-endless.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import {
  endlessBody,
  feedEndlessly,
  hostileCorpus,
  VIDEO_KINDS,
  writeCorpus,
} from "../../../test-fixtures/hostile/generate.mjs";
import { bin, runCli } from "./support/run-cli.js";

type Input = {
  name: string;
  kind: string;
  bytes: Uint8Array;
  expect: "error" | "hash" | "any";
  codes?: string[];
  noFfmpeg?: string;
  endless?: boolean;
  note: string;
};

const demo = fixtures("hashsets/demo.phs");
const benign = fixtures("images/shapes.png");
const work = mkdtempSync(join(tmpdir(), "phmatch-hostile-video-"));
// FFmpeg made absent: absolute paths that do not exist (a configured path is never replaced by the PATH's).
const env = cleanEnv({
  PHMATCH_STATE_DIR: join(work, "state"),
  PHMATCH_FFMPEG: "/nonexistent/phmatch-test/ffmpeg",
  PHMATCH_FFPROBE: "/nonexistent/phmatch-test/ffprobe",
});

const inputs = (await hostileCorpus({ size: "fast", kinds: VIDEO_KINDS })) as Input[];
const corpusDir = join(work, "corpus");
const paths = writeCorpus(corpusDir, inputs) as string[];
const byPath = new Map(inputs.map((input, i) => [paths[i] as string, input]));
// The FIFO's writer: whenever a reader opens it, the clip's head and then zeros, for ever.
const feeder = feedEndlessly(inputs, paths);

afterAll(() => {
  feeder.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("the hostile video corpus (fast subset)", () => {
  it("has every video kind, each input with the answer it gets without FFmpeg, all distinct", () => {
    expect(new Set(inputs.map((i) => i.kind))).toEqual(new Set(VIDEO_KINDS));
    expect(inputs.length).toBeGreaterThan(20);
    expect(inputs.filter((i) => i.noFfmpeg === undefined).map((i) => i.name)).toEqual([]);
    expect(new Set(inputs.map((i) => `${i.kind}/${i.name}`)).size).toBe(inputs.length);
  });
});

describe("phmatch hash (video on) over the fast video corpus, FFmpeg absent", () => {
  it("gives every file its record and the answer it calls for, the benign image hashed, exit 2", async () => {
    const result = await runCli(["hash", "-j", "2", "--file-timeout", "60", corpusDir, benign], { env });
    expect(result.status, result.stderr).toBe(2);
    const records = result.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { path: string; hashes?: Record<string, string>; error?: { code: string } });
    expect(records).toHaveLength(inputs.length + 1);
    expect(records.find((r) => r.path === benign)).toMatchObject({
      hashes: { pdq: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    const answers = records
      .filter((r) => r.path !== benign)
      .map((r) => {
        const input = byPath.get(r.path) as Input;
        const answer = r.error?.code ?? (/^[0-9a-f]{64}$/.test(r.hashes?.pdq ?? "") ? "hash" : "no hash");
        return `${input.kind}/${input.name}: ${answer}`;
      })
      .sort();
    expect(answers).toEqual(inputs.map((i) => `${i.kind}/${i.name}: ${i.noFfmpeg}`).sort());
  });

  it("refuses the FIFO named .mp4 at once, its writer still writing", async () => {
    const fifo = paths[inputs.findIndex((i) => i.endless)] as string;
    const result = await runCli(["hash", "-a", "pdq,md5", fifo], { env });
    expect(result.status).toBe(2);
    expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: "PHM_FILE_UNREADABLE" } });
  });
});

describe("phmatch serve: an upload that never ends (ftyp, moov, an mdat of size 0, then zeros for ever)", () => {
  let gate: ChildProcess;
  let url = "";
  beforeAll(async () => {
    gate = spawn(
      process.execPath,
      [bin, "serve", "--port", "0", "--no-auth", "--hashset", demo, "--max-bytes", String(1024 * 1024)],
      { env: { ...env, PHMATCH_STATE_DIR: join(work, "serve-state") }, stdio: ["ignore", "ignore", "pipe"] },
    );
    let err = "";
    gate.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    while (!/listening on (\S+)/.test(err)) {
      if (gate.exitCode !== null) throw new Error(`gate did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    url = (/listening on (\S+)/.exec(err) as RegExpExecArray)[1] as string;
  }, 60_000);
  afterAll(async () => {
    if (gate.exitCode !== null) return;
    gate.kill("SIGTERM");
    await once(gate, "exit");
  });

  it("is cut at the byte limit with 413 BODY_TOO_LARGE, and the next upload is answered", async () => {
    const endless = inputs.find((i) => i.endless) as Input;
    const r = await fetch(`${url}/v1/check`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: endlessBody(endless),
      duplex: "half",
    } as RequestInit);
    expect(r.status).toBe(413);
    expect(((await r.json()) as { reason_code: string }).reason_code).toBe("BODY_TOO_LARGE");
    const next = await fetch(`${url}/v1/check`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: readFileSync(benign),
    });
    expect(((await next.json()) as { decision: string }).decision).toBe("match");
    expect(gate.exitCode).toBeNull();
  });
});

// System test (needs Debian's ffmpeg package): check, scan and serve take videos (issue 20). A store of one
// conformance video's reference frame hashes (cpath/, as vpdq-hash-video prints them) is what the lists hold;
// `phmatch check` of the other conformance videos gives matches.tsv's verdicts; `phmatch scan` of a directory
// holding a conformance video, a testsrc video this test makes and an image reports known / unseen per file with
// the segments, and its report survives verify and resume; POST /v1/check takes a video and refuses one over a
// limit with its code; and when the pool kills a worker mid-decode, no FFmpeg it started is left running. Inputs the
// test makes are written to its temp dir only.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSigningKeys, type HashRecord, SupervisedHashPool, scanReportSchema } from "@phmatch/core";
import { HashSetBuilder, listedVideoEntries, parseVpdqText, serializeStore } from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { conformanceDir, fixtures, hasConformance, skipReason } from "../support/conformance.js";
import { cleanEnv } from "../support/env.js";
import { hasRedis, startRedis } from "../support/services.js";
import { childPids } from "../support/worker-faults.js";

const bin = fileURLToPath(new URL("../../packages/cli/bin/phmatch.js", import.meta.url));
const vpdqDir = join(conformanceDir, "vpdq");
const hasVpdq = hasConformance && existsSync(join(vpdqDir, "videos"));
const conformanceVideo = (name: string) => join(vpdqDir, "videos", `${name}.mp4`);
const work = mkdtempSync(join(tmpdir(), "phmatch-video-gate-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state") });
const phmatch = (args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });

const LISTED = "chair-orig-22-sd-bar";
const store = join(work, "videos.phs");

// The lists: the reference's frame hashes of one conformance video (C path, as phmatch decodes), entry "chair".
function writeStore(): void {
  const frames = parseVpdqText(readFileSync(join(vpdqDir, "cpath", `${LISTED}.vpdq.txt`), "utf8"));
  const builder = new HashSetBuilder();
  builder.addList({ listId: "videos", version: 1 });
  for (const entry of listedVideoEntries({ listId: "videos", entryId: "chair", category: "V1" }, frames).entries)
    builder.addEntry(entry);
  writeFileSync(store, serializeStore(builder));
}

// A video no list holds: FFmpeg's testsrc (a colour pattern with a moving counter), H.264 in MP4.
function makeTestsrc(file: string, size: string, seconds: number): void {
  execFileSync("ffmpeg", [
    ...["-v", "error", "-y", "-f", "lavfi", "-i", `testsrc2=size=${size}:rate=30:duration=${seconds}`],
    ...["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-threads", "1", file],
  ]);
}

interface Row {
  query: string;
  compared: string;
  queryPercent: number;
  comparedPercent: number;
  verdict: string;
}
const rows: Row[] = hasVpdq
  ? readFileSync(join(vpdqDir, "matches.tsv"), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => line.split("\t"))
      .map(([query, compared, q, c, verdict]) => ({
        query: query as string,
        compared: compared as string,
        queryPercent: Number(q),
        comparedPercent: Number(c),
        verdict: verdict as string,
      }))
      .filter((row) => row.compared === LISTED)
  : [];

describe.skipIf(!hasVpdq)(`check, scan, serve of videos (${hasVpdq ? vpdqDir : skipReason})`, () => {
  beforeAll(() => writeStore());

  it("has the matches.tsv rows against the listed video", () => {
    expect(rows.length).toBeGreaterThanOrEqual(6);
  });

  it.each(rows)("phmatch check $query: $verdict (a match: its percentages within 5 points)", (row) => {
    const run = phmatch(["check", conformanceVideo(row.query), "--hashset", store, "--json"]);
    const result = JSON.parse(run.stdout) as {
      status: string;
      matches: { algorithm: string; entryId?: string; video?: { queryPercent: number; targetPercent: number } }[];
    };
    if (row.verdict === "MATCH") {
      expect(run.status, run.stderr).toBe(1);
      expect(result.status).toBe("known");
      const hit = result.matches.find((m) => m.algorithm === "vpdq");
      expect(hit).toMatchObject({ entryId: "chair" });
      expect(Math.abs((hit?.video?.queryPercent ?? -100) - row.queryPercent)).toBeLessThanOrEqual(5);
      expect(Math.abs((hit?.video?.targetPercent ?? -100) - row.comparedPercent)).toBeLessThanOrEqual(5);
      const line = phmatch(["check", conformanceVideo(row.query), "--hashset", store]).stdout;
      expect(line).toMatch(/known: matches list videos v1, category V1, entry chair \(vpdq distance \d+, [\d.]+% of /);
    } else {
      expect(run.status, run.stderr).toBe(0);
      expect(result.status).toBe("unseen");
    }
  });

  describe("phmatch scan of a conformance video, a synthetic video and an image", () => {
    const tree = join(work, "evidence");
    const report = join(work, "report.ndjson");
    const keys = generateSigningKeys();
    const key = join(work, "examiner.pem");
    const pub = join(work, "examiner.pub");
    let lines: Record<string, unknown>[] = [];
    beforeAll(() => {
      mkdirSync(tree);
      copyFileSync(conformanceVideo("chair-20-sd-bar"), join(tree, "a-chair.mp4"));
      makeTestsrc(join(tree, "b-testsrc.mp4"), "320x240", 4);
      copyFileSync(fixtures("images/shapes.png"), join(tree, "c-shapes.png"));
      writeFileSync(key, keys.privateKeyPem);
      writeFileSync(pub, keys.publicKeyPem);
      const args = ["scan", tree, "--hashset", store, "--hashset", fixtures("hashsets/demo.phs"), "-q"];
      const run = phmatch([...args, "-o", report, "--sign", key]);
      expect(run.status, run.stderr).toBe(0);
      lines = readFileSync(report, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    }, 180_000);

    it("reports each file known or unseen, a video's hit with its segments, valid against the schema", () => {
      const validate = new Ajv2020({ strict: true }).compile(scanReportSchema());
      for (const line of lines) expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
      const [, chair, testsrc, image, summary] = lines;
      expect(chair).toMatchObject({ status: "known", video: { frameRate: 30, secondsPerHash: 1, frames: 21 } });
      const hit = ((chair?.matches ?? []) as { algorithm: string; video: { segments: unknown[] } }[])[0];
      expect(hit).toMatchObject({ list: "videos", entryId: "chair", algorithm: "vpdq" });
      expect(hit?.video.segments.length).toBeGreaterThan(0);
      expect(testsrc).toMatchObject({ status: "unseen", matches: [], video: { frames: 4 } });
      expect(image).toMatchObject({ status: "known" });
      expect(image?.video).toBeUndefined();
      expect(summary).toMatchObject({ files: 3, known: 2, unseen: 1, error: 0, videos: 2 });
    });

    it("passes phmatch report verify with its signature", () => {
      const run = phmatch(["report", "verify", report, "--trusted-keys", pub]);
      expect(run.status, run.stderr).toBe(0);
    });

    it("resumes after the video's record to the same records", () => {
      const resumed = join(work, "resumed.ndjson");
      const text = readFileSync(report, "utf8");
      const kept = text.split("\n").slice(0, 2).join("\n") + "\n"; // the header and the chair's record
      writeFileSync(resumed, kept);
      truncateSync(resumed, Buffer.byteLength(kept));
      const args = ["scan", tree, "--hashset", store, "--hashset", fixtures("hashsets/demo.phs"), "-q"];
      const run = phmatch([...args, "-o", resumed, "--resume"]);
      expect(run.status, run.stderr).toBe(0);
      const again = readFileSync(resumed, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(again.slice(1, -1)).toEqual(lines.slice(1, -1));
      expect(again.at(-1)).toMatchObject({ files: 3, known: 2, unseen: 1, videos: 2 });
    });
  });

  describe("POST /v1/check with a video", () => {
    const video = hasVpdq ? readFileSync(conformanceVideo("chair-22-sd-grey-bar")) : Buffer.alloc(0);
    let child: ChildProcess;
    let base = "";
    const start = async (extra: string[]) => {
      let stderr = "";
      child = spawn(
        process.execPath,
        [bin, "serve", "--port", "0", "--no-auth", "--hashset", store, "--no-watch", ...extra],
        { env, stdio: ["ignore", "ignore", "pipe"] },
      );
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      while (!/listening on (\S+)/.test(stderr)) {
        if (child.exitCode !== null) throw new Error(`gate did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      base = (/listening on (\S+)/.exec(stderr) as RegExpExecArray)[1] as string;
    };
    const stop = async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      await once(child, "exit");
    };
    const check = async (body: Buffer, type = "video/mp4") =>
      fetch(`${base}/v1/check`, { method: "POST", headers: { "content-type": type }, body });

    it("answers a video's hit, and refuses a video over --max-video-bytes (422) or --max-bytes (413)", async () => {
      await start(["--max-bytes", String(video.length + 1000), "--max-video-bytes", String(video.length - 1)]);
      try {
        const over = await check(video);
        expect(over.status).toBe(422);
        expect(await over.json()).toMatchObject({ decision: "error", reason_code: "PHM_VIDEO_LIMIT" });
        const body = await check(Buffer.concat([video, Buffer.alloc(2000)]), "application/octet-stream");
        expect(body.status).toBe(413);
        expect(await body.json()).toMatchObject({ decision: "error", reason_code: "BODY_TOO_LARGE" });
      } finally {
        await stop();
      }
      await start(["--max-bytes", String(video.length)]);
      try {
        const known = await check(video);
        expect(known.status).toBe(200);
        const answer = (await known.json()) as { decision: string; matches: Record<string, unknown>[] };
        expect(answer.decision).toBe("match");
        expect(answer.matches[0]).toMatchObject({ algorithm: "vpdq", entryId: "chair", video: { queryPercent: 100 } });
      } finally {
        await stop();
      }
    }, 120_000);
  });
});

describe.skipIf(!hasVpdq || !hasRedis)("a distributed scan of videos", () => {
  let redis: Awaited<ReturnType<typeof startRedis>> | undefined;
  afterAll(async () => redis?.stop());

  it("gives the local scan's records, the plan carrying the coordinator's video limits to its workers", async () => {
    writeStore();
    redis = await startRedis();
    const tree = join(work, "distributed-tree");
    mkdirSync(tree);
    copyFileSync(conformanceVideo("chair-22-sd-grey-bar"), join(tree, "a-chair.mp4"));
    makeTestsrc(join(tree, "b-testsrc.mp4"), "320x240", 3);
    copyFileSync(fixtures("images/shapes.png"), join(tree, "c-shapes.png"));
    // 90 frames pass (the testsrc video's), 660 do not (the chair's): PHM_VIDEO_LIMIT from the plan on the worker,
    // which is given no video option of its own.
    const lists = ["--hashset", store, "--hashset", fixtures("hashsets/demo.phs"), "--max-video-frames", "200"];
    const local = join(work, "local-videos.ndjson");
    const scan = phmatch(["scan", tree, ...lists, "-o", local, "-q"]);
    expect(scan.status, scan.stderr).toBe(2);
    const queue = redis.url(5);
    const out = join(work, "distributed-videos.ndjson");
    const run = (args: string[]) => {
      const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      return once(child, "exit").then(([code]) => ({ code: code as number, stderr }));
    };
    const results = await Promise.all([
      run(["scan", tree, ...lists, "--queue", queue, "--enqueue", "--batch-size", "1", "-q"]),
      run(["worker", "--queue", queue, "--hashset", store, "--hashset", fixtures("hashsets/demo.phs"), "-j", "1"]),
      run(["report", "collect", "--queue", queue, "--out", out, "-q"]),
    ]);
    expect(
      results.map((r) => r.code),
      results.map((r) => r.stderr).join("\n"),
    ).toEqual([0, 0, 2]);
    const files = (file: string) =>
      readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .filter((l) => l.startsWith('{"type":"file"'));
    expect(files(out)).toEqual(files(local));
    const [chair, testsrc] = files(out).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(chair).toMatchObject({ status: "error", error: { code: "PHM_VIDEO_LIMIT" } });
    expect(testsrc).toMatchObject({ status: "unseen", video: { frames: 3 } });
  }, 180_000);
});

describe("an FFmpeg child dies with the worker process that started it", () => {
  const clip = join(work, "clip.mp4");
  beforeAll(() => makeTestsrc(clip, "1280x720", 10), 120_000);

  // The processes the worker started whose command is `name` (after setpriv and prlimit have exec'd it).
  const children = (pid: number | undefined, name: string) =>
    pid === undefined
      ? []
      : childPids(pid).filter((p) => {
          try {
            return readFileSync(`/proc/${p}/comm`, "utf8").trim() === name;
          } catch {
            return false;
          }
        });
  const until = async (what: () => boolean, label: string) => {
    for (let i = 0; i < 1500 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
    if (!what()) throw new Error(`never: ${label}`);
  };
  const running = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
    } catch {
      return false;
    }
  };

  it("at the pool's time limit: a probe that never answers is killed with the worker", async () => {
    // An ffprobe that hangs without using CPU (its CPU limit would never end it): only the worker's death can.
    const hanging = join(work, "ffprobe-hangs");
    writeFileSync(hanging, "#!/bin/sh\nexec sleep 300\n");
    chmodSync(hanging, 0o755);
    const pool = new SupervisedHashPool({
      jobs: 1,
      fileTimeoutMs: 3000,
      retryTimedOut: false,
      hashOptions: { video: { ffprobePath: hanging, videoTimeoutSeconds: 600 } },
    });
    let seen: number[] = [];
    try {
      const record: Promise<HashRecord> = pool.hash(clip);
      await until(() => (seen = children(pool.childPid, "sleep")).length > 0, "the probe started");
      expect((await record).error?.code).toBe("PHM_WORKER_TIMEOUT");
      await until(() => !seen.some(running), `probe ${seen.join(", ")} gone`);
    } finally {
      // Failing, the test leaves nothing behind either.
      for (const pid of seen.filter(running)) process.kill(pid, "SIGKILL");
      await pool.close();
    }
  }, 60_000);

  it("its supervisor killed, without setpriv: the orphaned worker takes its group, the probe with it", async () => {
    const core = new URL("../../packages/core/dist/index.js", import.meta.url).href;
    const hanging = join(work, "ffprobe-hangs-abs");
    writeFileSync(hanging, "#!/bin/sh\nexec /bin/sleep 300\n");
    chmodSync(hanging, 0o755);
    // A supervisor in its own process, with no PATH (so neither setpriv nor prlimit is found): only the worker's
    // own group kill, when it finds itself orphaned, can end the probe.
    const script = [
      `import { SupervisedHashPool } from ${JSON.stringify(core)};`,
      `const pool = new SupervisedHashPool({ jobs: 1, hashOptions: { video: { ffmpegPath: "/usr/bin/ffmpeg", ` +
        `ffprobePath: ${JSON.stringify(hanging)}, videoTimeoutSeconds: 600 } } });`,
      `void pool.hash(${JSON.stringify(clip)});`,
      "setInterval(() => console.log(pool.childPid ?? 0), 20);",
    ].join("\n");
    const file = join(work, "supervisor.mjs");
    writeFileSync(file, script);
    const supervisor = spawn(process.execPath, [file], {
      env: { ...env, PATH: "" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let worker = 0;
    supervisor.stdout?.on("data", (d: Buffer) => {
      const last = Number(d.toString().trim().split("\n").at(-1));
      if (last > 0) worker = last;
    });
    let seen: number[] = [];
    try {
      await until(() => (seen = children(worker || undefined, "sleep")).length > 0, "the probe started");
      supervisor.kill("SIGKILL");
      await until(() => !seen.some(running), `probe ${seen.join(", ")} gone`);
    } finally {
      for (const pid of seen.filter(running)) process.kill(pid, "SIGKILL");
      if (supervisor.exitCode === null) supervisor.kill("SIGKILL");
    }
  }, 60_000);

  it("killed from outside mid-decode: the decoding ffmpeg goes with it", async () => {
    // One frame in 1000 seconds: after the first frame FFmpeg decodes on without writing anything.
    const pool = new SupervisedHashPool({ jobs: 1, hashOptions: { video: { secondsPerHash: 1000 } } });
    try {
      const record = pool.hash(clip);
      let seen: number[] = [];
      await until(() => (seen = children(pool.childPid, "ffmpeg")).length > 0, "ffmpeg started");
      process.kill(pool.childPid as number, "SIGKILL");
      await until(() => !seen.some(running), `ffmpeg ${seen.join(", ")} gone`);
      // The file is retried once in a new worker, and hashed.
      const retried = await record;
      expect(retried.video?.frames).toHaveLength(1);
    } finally {
      await pool.close();
    }
  }, 120_000);
});

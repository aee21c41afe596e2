// `phmatch serve` on loopback while its worker processes die: killed (SIGKILL, SIGSEGV) under a load of
// concurrent /v1/check requests, taken over the memory limit by a large valid image, and killed at the request
// time limit. Every request is answered (no hang, no reset), by the decision an undisturbed gate gives or by a
// typed error, and the gate stays up and answers later requests normally.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AuditLog, SupervisedHashPool } from "@phmatch/core";
import type { FastifyInstance } from "fastify";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { childPids, prng, sleep, syntheticImage } from "../../../test/support/worker-faults.js";
import { ListHolder } from "../dist/serve/lists.js";
import { createGate } from "../dist/serve/server.js";

const bin = fileURLToPath(new URL("../bin/phmatch.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "phmatch-serve-faults-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const SEED = 4242;

interface Gate {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

async function startGate(args: string[]): Promise<Gate> {
  const child = spawn(
    process.execPath,
    [
      bin,
      "serve",
      "--port",
      "0",
      "--no-auth",
      "--no-watch",
      "--hashset",
      fixtures("hashsets/demo.phs"),
      "--state-dir",
      join(root, "state"),
      ...args,
    ],
    {
      env: cleanEnv({ PHMATCH_TOKENS: "" }),
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  while (!/listening on (\S+)/.test(err)) {
    if (child.exitCode !== null) throw new Error(`gate did not start: ${err}`);
    await sleep(50);
  }
  return { child, url: /listening on (\S+)/.exec(err)![1] as string, stderr: () => err };
}

async function stopGate(gate: Gate | undefined): Promise<void> {
  if (gate === undefined || gate.child.exitCode !== null) return;
  gate.child.kill("SIGTERM");
  await once(gate.child, "exit");
}

interface Answer {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

// One upload; a reset connection or no answer within the safety bound rejects (and fails the test).
async function check(gate: Gate, body: Buffer, type = "image/png"): Promise<Answer> {
  const r = await fetch(`${gate.url}/v1/check`, {
    method: "POST",
    headers: { "content-type": type },
    body,
    signal: AbortSignal.timeout(90_000),
  });
  return {
    status: r.status,
    retryAfter: r.headers.get("retry-after"),
    body: (await r.json()) as Record<string, unknown>,
  };
}

// The answer without what differs between requests.
const decisionOf = (a: Answer) => {
  const { request_id: _id, ...rest } = a.body;
  return { http: a.status, ...rest };
};

// Worker deaths and retries from /metrics.
async function workerMetrics(gate: Gate): Promise<Record<string, number>> {
  const text = await (await fetch(`${gate.url}/metrics`)).text();
  const value = (name: string) =>
    Number(new RegExp(`^${name.replace(/[{}]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
  return {
    crash: value('phmatch_worker_deaths_total{cause="crash"}'),
    timeout: value('phmatch_worker_deaths_total{cause="timeout"}'),
    memory: value('phmatch_worker_deaths_total{cause="memory"}'),
    retries: value("phmatch_worker_retries_total"),
  };
}

// The gate's one worker process once it is up (the gate starts it before listening).
async function workerOf(gate: { pid?: number; child?: ChildProcess }, not: Set<number> = new Set()): Promise<number> {
  const parent = (gate.pid ?? gate.child?.pid) as number;
  for (;;) {
    const pid = childPids(parent).find((p) => !not.has(p));
    if (pid !== undefined) return pid;
    await sleep(10);
  }
}

describe("phmatch serve with its worker processes killed under load", () => {
  let gate: Gate | undefined;
  const uploads: { name: string; bytes: Buffer; type: string }[] = [];
  beforeAll(async () => {
    for (const name of ["shapes.png", "shapes-mirror.png", "texture-grey.png", "tiny-4x4.png"])
      uploads.push({ name, bytes: readFileSync(fixtures(`images/${name}`)), type: "image/png" });
    // Larger synthetic photos keep the worker busy long enough for kills to land on requests in flight.
    for (let i = 0; i < 3; i++)
      uploads.push({
        name: `synthetic-${i}.jpg`,
        bytes: await syntheticImage(SEED + i, 1400, 1000, "jpeg"),
        type: "image/jpeg",
      });
    gate = await startGate(["--threads", "2", "--max-concurrent", "64", "--timeout-ms", "60000"]);
  }, 60_000);
  afterAll(() => stopGate(gate));

  it("answers every request, with the undisturbed decision or PHM_WORKER_CRASHED, and stays up", async () => {
    const g = gate as Gate;
    const undisturbed = new Map<string, ReturnType<typeof decisionOf>>();
    for (const u of uploads) undisturbed.set(u.name, decisionOf(await check(g, u.bytes, u.type)));
    expect([...undisturbed.values()].map((a) => a.http)).toEqual(uploads.map(() => 200));

    const KILLS = 5;
    const CLIENTS = 12;
    const rand = prng(SEED);
    const killed: NodeJS.Signals[] = [];
    let answered = 0;
    const results: { upload: string; answer: Answer }[] = [];
    // Each client sends uploads one after another until the kills are done, then two more.
    const client = async (c: number) => {
      let after = 0;
      for (let i = 0; killed.length < KILLS || after++ < 2; i++) {
        const upload = uploads[(c + i) % uploads.length]!;
        results.push({ upload: upload.name, answer: await check(g, upload.bytes, upload.type) });
        answered++;
      }
    };
    const killer = async () => {
      const seen = new Set<number>();
      while (killed.length < KILLS) {
        const worker = await workerOf(g, seen);
        seen.add(worker);
        // A worker that is answering: let a few more answers come, then kill it at a random moment.
        const before = answered;
        while (answered < before + 3) await sleep(5);
        await sleep(Math.floor(rand() * 200));
        const signal: NodeJS.Signals = killed.length % 2 === 0 ? "SIGKILL" : "SIGSEGV";
        process.kill(worker, signal);
        killed.push(signal);
      }
    };
    await Promise.all([killer(), ...Array.from({ length: CLIENTS }, (_, c) => client(c))]);

    expect(results.length).toBe(answered);
    let crashed = 0;
    for (const { upload, answer } of results) {
      if (answer.status === 422 && answer.body.reason_code === "PHM_WORKER_CRASHED") {
        // In flight at a death and alone at the next: a typed error, not a guess.
        expect(answer.body.decision).toBe("error");
        crashed++;
      } else {
        expect(decisionOf(answer), upload).toEqual(undisturbed.get(upload));
      }
    }
    expect(g.child.exitCode).toBeNull();
    expect((await fetch(`${g.url}/healthz`)).status).toBe(200);
    for (const u of uploads)
      expect(decisionOf(await check(g, u.bytes, u.type)), u.name).toEqual(undisturbed.get(u.name));
    const metrics = await workerMetrics(g);
    expect(metrics.crash).toBe(KILLS);
    expect(metrics.retries).toBeGreaterThan(0);
    console.log(
      `serve with ${KILLS} worker kills: ${results.length} requests answered, ` +
        `${crashed} with PHM_WORKER_CRASHED, ${metrics.retries} retried`,
    );
  }, 120_000);
});

describe("phmatch serve with a worker memory limit and a request time limit", () => {
  let big: Buffer;
  let small: Buffer;
  beforeAll(async () => {
    // A valid 8000x6000 PNG (about 2 MB, 48 MP: under the gate's 50 MP limit): decoding it takes the worker's
    // memory far over 200 MiB, and decoding and hashing it seconds (6 s on an idle 2-core machine).
    big = await sharp(await syntheticImage(SEED, 800, 600, "png", false))
      .resize(8000, 6000, { kernel: "nearest" })
      .png()
      .toBuffer();
    small = readFileSync(fixtures("images/shapes.png"));
  }, 60_000);

  it("answers PHM_WORKER_MEMORY for an upload that takes the worker over its limit, then hashes the next", async () => {
    const gate = await startGate(["--threads", "1", "--memory-limit", "200"]);
    try {
      const first = await check(gate, small);
      expect(first).toMatchObject({ status: 200, body: { decision: "match" } });
      const over = await check(gate, big);
      expect(over).toMatchObject({ status: 422, body: { decision: "error", reason_code: "PHM_WORKER_MEMORY" } });
      expect(decisionOf(await check(gate, small))).toEqual(decisionOf(first));
      expect(await workerMetrics(gate)).toMatchObject({ memory: 2, crash: 0, retries: 1 });
      expect(gate.child.exitCode).toBeNull();
    } finally {
      await stopGate(gate);
    }
  }, 60_000);
});

// The gate's two time limits, driven by the test's clock rather than raced against the machine's speed: the gate
// runs in this process with fake setTimeout, and the clock is moved at the moment that matters (the gate has
// handed the upload to the pool; a worker thread has started it), so the answer is the same on any machine.
describe("phmatch serve's time limits (the gate in-process, the clock in the test's hands)", () => {
  const TIMEOUT_MS = 2000;
  type Moment = "submitted" | "started" | "never";
  let when: Moment = "never";
  let pool: SupervisedHashPool;
  let gate: FastifyInstance;
  let audit: AuditLog;
  const auditFile = join(root, "in-process-audit.ndjson");
  let worker: number;
  // What the gate hashes with: the pool, with the clock moved past the limit at the chosen moment.
  // The gate checks uploaded bytes only; a file path is never handed to it.
  const clocked: Pick<SupervisedHashPool, "hashBytes" | "hash"> = {
    hash: (path, options, control) => pool.hash(path, options, control),
    hashBytes: (bytes, name, options, control = {}) => {
      const expire = () => vi.advanceTimersByTime(TIMEOUT_MS);
      const onStart = () => {
        control.onStart?.();
        if (when === "started") expire();
      };
      const answer = pool.hashBytes(bytes, name, options, { ...control, onStart });
      if (when === "submitted") expire();
      return answer;
    },
  };
  const post = async (body: Buffer) => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const headers = { "content-type": "image/png" };
      const r = await gate.inject({ method: "POST", url: "/v1/check", headers, payload: body });
      return {
        status: r.statusCode,
        retryAfter: r.headers["retry-after"] ?? null,
        body: r.json<Record<string, unknown>>(),
      };
    } finally {
      vi.useRealTimers();
    }
  };
  const small = readFileSync(fixtures("images/shapes.png"));

  beforeAll(async () => {
    const before = new Set(childPids(process.pid));
    pool = new SupervisedHashPool({ jobs: 1, fileTimeoutMs: TIMEOUT_MS, retryTimedOut: false });
    const lists = new ListHolder([fixtures("hashsets/demo.phs")], () => ({}), { pool: clocked });
    await lists.load();
    audit = AuditLog.open(auditFile);
    const limits = { maxBytes: 1 << 24, maxConcurrent: 4, timeoutMs: TIMEOUT_MS, threads: 1 };
    gate = await createGate({ lists, auth: undefined, ...limits, audit });
    pool.start();
    worker = await workerOf({ pid: process.pid }, before);
  }, 60_000);
  afterAll(async () => {
    await gate?.close();
    await pool?.close();
    audit?.close();
  });

  it(
    "answers 422 PHM_WORKER_TIMEOUT for an upload still hashing at the per-file limit, kills its worker, " +
      "audits it",
    async () => {
      when = "never";
      expect(await post(small)).toMatchObject({ status: 200, body: { decision: "match" } });
      when = "started";
      // Started, an upload is not dropped at its deadline but runs to the per-file limit, which says the file costs too
      // much: error + code, no Retry-After (it would fail again), no retry.
      const slow = await post(small);
      const timedOut = { decision: "error", reason_code: "PHM_WORKER_TIMEOUT" };
      expect(slow).toMatchObject({ status: 422, retryAfter: null, body: timedOut });
      expect(childPids(process.pid)).not.toContain(worker);
      expect(pool.stats).toMatchObject({ timeouts: 1, crashes: 0, retries: 0 });
      when = "never";
      expect(await post(small)).toMatchObject({ status: 200, body: { decision: "match" } }); // a new worker answers
      const records = readFileSync(auditFile, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const audited = {
        type: "decision",
        decision: "error",
        reasonCode: "PHM_WORKER_TIMEOUT",
        status: 422,
        client: "127.0.0.1",
      };
      expect(records).toContainEqual(expect.objectContaining(audited));
    },
  );

  it(
    "answers 503 TIMEOUT + Retry-After for an upload no thread started by its deadline, " + "the next normally",
    async () => {
      when = "submitted";
      const before = { ...pool.stats };
      const dropped = { decision: "error", reason_code: "TIMEOUT" };
      expect(await post(small)).toMatchObject({ status: 503, retryAfter: "1", body: dropped });
      expect(pool.stats).toEqual(before); // dropped, not killed: saturation says nothing against the file
      when = "never";
      expect(await post(small)).toMatchObject({ status: 200, body: { decision: "match" } });
    },
  );
});

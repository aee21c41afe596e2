// `phmatch serve`, the upload gate, as a platform runs it: the real server on loopback in its own process, with
// TMPDIR and the working directory empty and checked to stay so. Decisions, detail levels, auth, limits,
// saturation, hot reload (good, bad, older), the on-match hook, the audit log, metrics.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSigningKeys } from "@phmatch/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { writeSignedList } from "../../../test/support/signed-list.js";
import { runCli } from "./support/run-cli.js";

const bin = fileURLToPath(new URL("../bin/phmatch.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "phmatch-serve-"));
const emptyTmp = join(root, "tmp");
const workDir = join(root, "cwd");
const listsDir = join(root, "lists");
const stateDir = join(root, "state");
for (const d of [emptyTmp, workDir, listsDir, stateDir]) mkdirSync(d);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const keys = generateSigningKeys();
const FULL = "backend-token-0123456789abcdef";
const LIMITED = "device-token-0123456789abcdef";
const tokensFile = join(root, "tokens.json");
writeFileSync(
  tokensFile,
  JSON.stringify({
    tokens: [
      { name: "backend", token: FULL, detail: "full" },
      { name: "app", token: LIMITED, detail: "decision" },
    ],
  }),
);
const auditFile = join(root, "audit.ndjson");
const auditKey = join(root, "audit.pem");
writeFileSync(auditKey, generateSigningKeys().privateKeyPem);
const trustedKeys = join(root, "trusted.pub");
writeFileSync(trustedKeys, keys.publicKeyPem);
const listFile = join(listsDir, "hotline.phs");

// A signed list of the given fixtures at a version, replaced atomically (the gate may be reading).
const writeList = (version: number, files: string[], to = listFile) =>
  writeSignedList(to, version, files, keys.privateKeyPem);

interface Gate {
  child: ChildProcess;
  url: string;
  stderr: () => string;
}

async function startGate(args: string[], env: Record<string, string> = {}): Promise<Gate> {
  const child = spawn(
    process.execPath,
    [
      bin,
      "serve",
      "--port",
      "0",
      "--hashset",
      listFile,
      "--trusted-keys",
      trustedKeys,
      "--state-dir",
      stateDir,
      ...args,
    ],
    {
      cwd: workDir,
      env: cleanEnv({ TMPDIR: emptyTmp, TMP: emptyTmp, TEMP: emptyTmp, ...env }),
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  while (!/listening on (\S+)/.test(err)) {
    if (child.exitCode !== null) throw new Error(`gate did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: /listening on (\S+)/.exec(err)![1] as string, stderr: () => err };
}

async function stopGate(gate: Gate): Promise<void> {
  if (gate.child.exitCode !== null) return;
  gate.child.kill("SIGTERM");
  await once(gate.child, "exit");
}

const image = (f: string) => readFileSync(fixtures(f));
const check = (gate: Gate, body: Buffer, token = FULL, type = "image/png") =>
  fetch(`${gate.url}/v1/check`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": type },
    body,
  });
const json = async (r: Response) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> });
const ready = async (gate: Gate) =>
  (await fetch(`${gate.url}/readyz`, { headers: { authorization: `Bearer ${FULL}` } })).json() as Promise<{
    lists: { listId: string; version: number }[];
  }>;

// A gauge or counter of /metrics (read with the full token), 0 when absent.
async function metric(gate: { url: string }, name: string): Promise<number> {
  const text = await (await fetch(`${gate.url}/metrics`, { headers: { authorization: `Bearer ${FULL}` } })).text();
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
}

// Waits for the condition as long as it takes on this machine now; the test's own limit ends a wait that never ends.
async function until(what: () => Promise<boolean>): Promise<void> {
  while (!(await what())) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("phmatch serve", () => {
  let gate: Gate;
  let hookServer: Server;
  const hookBodies: string[] = [];
  let hookFailures = 2; // the hook endpoint fails twice first: delivery must retry

  beforeAll(async () => {
    await writeList(1, ["shapes.png", "texture.jpg"]);
    hookServer = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        if (hookFailures-- > 0) return void res.writeHead(500).end();
        hookBodies.push(body);
        res.writeHead(204).end();
      });
    });
    hookServer.listen(0, "127.0.0.1");
    await once(hookServer, "listening");
    const port = (hookServer.address() as { port: number }).port;
    gate = await startGate([
      "--tokens",
      tokensFile,
      "--max-bytes",
      "1500000",
      "--audit-log",
      auditFile,
      "--audit-key",
      auditKey,
      "--on-match-url",
      `http://127.0.0.1:${port}/hook`,
    ]);
  }, 60_000);
  afterAll(async () => {
    await stopGate(gate);
    hookServer.close();
  });

  it("answers match with the lists, entries and categories for a full token", async () => {
    const r = await json(await check(gate, image("images/shapes-rotate90.png")));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      decision: "match",
      reason_code: "LIST_MATCH",
      status: "known",
      lists: [{ listId: "hotline", version: 1 }],
    });
    expect(r.body.matches).toContainEqual(
      expect.objectContaining({
        list: "hotline",
        entryId: "E-shapes.png",
        category: "A1",
        algorithm: "pdq",
        variant: "rotate90",
      }),
    );
    expect(typeof r.body.request_id).toBe("string");
  });

  it("answers no_match and low_quality", async () => {
    expect((await json(await check(gate, image("images/texture-grey.png")))).body).toMatchObject({
      decision: "no_match",
      reason_code: "NO_MATCH",
    });
    expect((await json(await check(gate, image("images/tiny-4x4.png")))).body).toMatchObject({
      decision: "low_quality",
      reason_code: "LOW_QUALITY",
    });
  });

  it("shows a limited token only the decision, never list details", async () => {
    const r = await json(await check(gate, image("images/shapes.png"), LIMITED));
    expect(r.status).toBe(200);
    expect(Object.keys(r.body).sort()).toEqual(["decision", "reason_code", "request_id"]);
    expect(r.body.decision).toBe("match");
    expect(JSON.stringify(r.body)).not.toMatch(/hotline|E-shapes|A1/);
  });

  it("takes multipart uploads, and the hashes-only /v1/match", async () => {
    const form = new FormData();
    form.append("file", new Blob([image("images/texture.jpg")], { type: "image/jpeg" }), "upload.jpg");
    const r = await json(
      await fetch(`${gate.url}/v1/check`, { method: "POST", headers: { authorization: `Bearer ${FULL}` }, body: form }),
    );
    expect(r.body).toMatchObject({ decision: "match" });
    const hashed = await runCli(["hash", "--dihedral", "-a", "pdq", fixtures("images/shapes-mirror.png")]);
    const m = await json(
      await fetch(`${gate.url}/v1/match`, {
        method: "POST",
        headers: { authorization: `Bearer ${FULL}`, "content-type": "application/json" },
        body: hashed.stdout,
      }),
    );
    expect(m.body).toMatchObject({ decision: "match", checked: ["pdq"] });
    const bad = await json(
      await fetch(`${gate.url}/v1/match`, {
        method: "POST",
        headers: { authorization: `Bearer ${FULL}`, "content-type": "application/json" },
        body: '{"hashes":{"pdq":"not hex"}}',
      }),
    );
    expect(bad).toMatchObject({ status: 400, body: { decision: "error", reason_code: "PHM_MATCH_INPUT" } });
  });

  it("refuses a body over the limit (413), a corrupt image (422), a wrong content type (415)", async () => {
    const big = Buffer.alloc(1_600_000, 1);
    expect(await json(await check(gate, big))).toMatchObject({
      status: 413,
      body: { decision: "error", reason_code: "BODY_TOO_LARGE" },
    });
    const form = new FormData();
    form.append("file", new Blob([big]), "big.png");
    expect(
      (
        await fetch(`${gate.url}/v1/check`, {
          method: "POST",
          headers: { authorization: `Bearer ${FULL}` },
          body: form,
        })
      ).status,
    ).toBe(413);
    expect(await json(await check(gate, image("bad/corrupt.png")))).toMatchObject({
      status: 422,
      body: { decision: "error", reason_code: "PHM_DECODE_CORRUPT" },
    });
    expect(await json(await check(gate, image("bad/truncated.jpg"), FULL, "image/jpeg"))).toMatchObject({
      status: 422,
      body: { reason_code: "PHM_DECODE_TRUNCATED" },
    });
    expect(await json(await check(gate, image("bad/vector.svg"), FULL, "image/svg+xml"))).toMatchObject({
      status: 422,
      body: { reason_code: "PHM_DECODE_VECTOR" },
    });
    expect((await check(gate, Buffer.from("hello"), FULL, "text/plain")).status).toBe(415);
  });

  it("refuses a missing or wrong token (401) and keeps /metrics to full tokens", async () => {
    expect(
      (
        await fetch(`${gate.url}/v1/check`, {
          method: "POST",
          body: image("images/shapes.png"),
          headers: { "content-type": "image/png" },
        })
      ).status,
    ).toBe(401);
    expect((await check(gate, image("images/shapes.png"), "wrong-token-0123456789")).status).toBe(401);
    expect((await fetch(`${gate.url}/metrics`, { headers: { authorization: `Bearer ${LIMITED}` } })).status).toBe(403);
    const metrics = await (await fetch(`${gate.url}/metrics`, { headers: { authorization: `Bearer ${FULL}` } })).text();
    expect(metrics).toMatch(/phmatch_decisions_total\{decision="match"\} \d+/);
    expect(metrics).toMatch(/phmatch_requests_total\{route="\/v1\/check",status="401"\} 2/);
    expect(metrics).toContain('phmatch_list_version{list="hotline",version="1"} 1');
    expect((await fetch(`${gate.url}/healthz`)).status).toBe(200);
  });

  it("delivers each match to the on-match hook, retrying, without the image", async () => {
    await until(async () => hookBodies.length >= 3);
    const payload = JSON.parse(hookBodies[0] as string) as Record<string, unknown>;
    expect(payload).toMatchObject({ decision: "match", lists: [{ listId: "hotline", version: 1 }] });
    expect(typeof payload.request_id).toBe("string");
    for (const body of hookBodies) expect(body.length).toBeLessThan(4000); // results, not media
  });

  it("reloads on SIGHUP: a newer list is swapped in; " +
    "a damaged or older one is refused and the current stays", async () => {
    await writeList(2, ["shapes.png", "texture.jpg", "texture-grey.png"]);
    gate.child.kill("SIGHUP");
    await until(async () => (await ready(gate)).lists[0]?.version === 2);
    expect((await json(await check(gate, image("images/texture-grey.png")))).body).toMatchObject({
      decision: "match",
      lists: [{ listId: "hotline", version: 2 }],
    });

    // Damaged: the signature no longer matches. Refused, version 2 keeps answering.
    writeFileSync(listFile, Buffer.concat([readFileSync(listFile), Buffer.from("junk")]));
    gate.child.kill("SIGHUP");
    await until(async () => /reload refused.*PHM_HASHSET_SIGNATURE/.test(gate.stderr()));
    expect((await ready(gate)).lists[0]?.version).toBe(2);
    expect((await json(await check(gate, image("images/texture-grey.png")))).body).toMatchObject({ decision: "match" });

    // Older: a properly signed version 1 again. Refused as a rollback.
    await writeList(1, ["shapes.png"]);
    gate.child.kill("SIGHUP");
    await until(async () => /reload refused.*PHM_HASHSET_ROLLBACK/.test(gate.stderr()));
    expect((await ready(gate)).lists[0]?.version).toBe(2);
  }, 30_000);

  it("reloads when the list file changes, " +
    "and a request in flight finishes with the lists it started with", async () => {
    // Start a request whose body arrives slowly.
    const body = image("images/texture-grey.png");
    const slow = httpRequest(`${gate.url}/v1/check`, {
      method: "POST",
      headers: { authorization: `Bearer ${FULL}`, "content-type": "image/png", "content-length": body.length },
    });
    const answered = new Promise<{ status: number; body: Record<string, unknown> }>((resolve) =>
      slow.on("response", (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }),
        );
      }),
    );
    slow.write(body.subarray(0, 100));
    await new Promise((r) => setTimeout(r, 200));
    await writeList(3, ["shapes.png"]); // no watch flag needed: watching is on by default
    await until(async () => (await ready(gate)).lists[0]?.version === 3);
    slow.end(body.subarray(100));
    const r = await answered;
    expect(r.body).toMatchObject({ decision: "match", lists: [{ listId: "hotline", version: 2 }] });
    expect((await json(await check(gate, image("images/texture-grey.png")))).body).toMatchObject({
      decision: "no_match",
      lists: [{ listId: "hotline", version: 3 }],
    });
  }, 30_000);

  it("created no files: TMPDIR and the working directory are still empty", () => {
    expect(readdirSync(emptyTmp)).toEqual([]);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it("keeps a verifiable audit log: hashes only for matches", async () => {
    await stopGate(gate);
    const head = /audit log closed, head ([0-9a-f]{64})/.exec(gate.stderr())?.[1];
    expect(head).toBeDefined();
    const records = readFileSync(auditFile, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const decisions = records.filter((r) => r.type === "decision");
    expect(decisions.length).toBeGreaterThan(10);
    expect(
      decisions.filter((r) => r.decision !== "match").every((r) => r.matches === undefined && r.hashes === undefined),
    ).toBe(true);
    expect(decisions.some((r) => r.decision === "match" && Array.isArray(r.matches))).toBe(true);
    const auditPub = join(root, "audit.pub");
    const { createPublicKey } = await import("node:crypto");
    writeFileSync(
      auditPub,
      createPublicKey(readFileSync(auditKey, "utf8")).export({ type: "spki", format: "pem" }).toString(),
    );
    const verified = await runCli(["audit", "verify", auditFile, "--trusted-keys", auditPub, "--head", head as string]);
    expect(verified.stderr).toBe("");
    expect(verified.status).toBe(0);
    const cut = join(root, "audit-cut.ndjson");
    writeFileSync(cut, readFileSync(auditFile, "utf8").trim().split("\n").slice(0, -3).join("\n") + "\n");
    expect((await runCli(["audit", "verify", cut, "--trusted-keys", auditPub])).status).toBe(3);
  });
});

describe("phmatch serve under load and misconfiguration", () => {
  it("when saturated, a request waits its turn; 503 with Retry-After past its client's waiting places; " +
    "429 over a token's rate", async () => {
    const tokens = join(root, "tokens-rate.json");
    writeFileSync(
      tokens,
      JSON.stringify({
        tokens: [
          { name: "b", token: FULL, detail: "full" },
          { name: "slow", token: LIMITED, detail: "decision", ratePerMinute: 6 },
        ],
      }),
    );
    const gate = await startGate(["--tokens", tokens, "--max-concurrent", "1", "--timeout-ms", "60000", "--no-watch"]);
    try {
      // One check holds the only slot, its body arriving fast enough (5 of 10 MiB at once) never to give way.
      const held = httpRequest(`${gate.url}/v1/check`, {
        method: "POST",
        headers: { authorization: `Bearer ${FULL}`, "content-type": "image/png", "content-length": 10 * 1024 * 1024 },
      });
      held.on("error", () => undefined);
      held.write(Buffer.alloc(5 * 1024 * 1024, 1));
      await until(async () => (await metric(gate, "phmatch_requests_in_flight")) === 1);
      // The next request of that client waits (one waiting place per slot); the one after it is refused at once.
      const waiting = check(gate, image("images/shapes.png"));
      await until(async () => (await metric(gate, "phmatch_requests_waiting")) === 1);
      const r = await check(gate, image("images/shapes.png"));
      expect(r.status).toBe(503);
      expect(r.headers.get("retry-after")).toBe("1");
      expect(await r.json()).toMatchObject({ decision: "error", reason_code: "SATURATED" });
      // The slot freed, the waiting request is checked.
      held.destroy();
      expect((await waiting).status).toBe(200);
      // Rate: 6 per minute allows a burst of 1.
      expect((await check(gate, image("images/shapes.png"), LIMITED)).status).toBe(200);
      const limited = await check(gate, image("images/shapes.png"), LIMITED);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await stopGate(gate);
    }
  }, 30_000);

  it("refuses --no-auth off loopback and a start without tokens", async () => {
    const run = (args: string[]) =>
      runCli(["serve", "--hashset", listFile, "--state-dir", stateDir, "--trusted-keys", trustedKeys, ...args], {
        env: { ...process.env, PHMATCH_TOKENS: "" },
      });
    const offLoopback = await run(["--no-auth", "--host", "0.0.0.0"]);
    expect(offLoopback.status).toBe(64);
    expect(offLoopback.stderr).toContain("loopback");
    expect((await run([])).stderr).toContain("--tokens");
  });
});

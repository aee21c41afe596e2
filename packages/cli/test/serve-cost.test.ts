// What an upload may cost the gate, the real server on loopback in its own process: a file declaring more pixels
// than the limit is answered `error` with its code from its header (never 503 + Retry-After: it would fail
// again), a JPEG over it is hashed at reduced size, every answer (refusals included) is one audit record with its
// status, token name and client, a token or an address that spent its decode budget gets 429 while others are
// served, and behind a trusted proxy the client is the one X-Forwarded-For names. Clients connect from 127.0.0.x
// (Linux routes all of 127/8 to loopback).
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { headerOnlyPng } from "../../../test/support/pixel-bombs.js";

const bin = fileURLToPath(new URL("../bin/phmatch.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "phmatch-serve-cost-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const BACKEND = "backend-token-0123456789abcdef";
const ABUSER = "abuser-token-0123456789abcdef";
const OTHER = "other-token-0123456789abcdefg";
const LIMITED = "limited-token-0123456789abcde";
const tokensFile = join(root, "tokens.json");
writeFileSync(
  tokensFile,
  JSON.stringify({
    tokens: [
      { name: "backend", token: BACKEND, detail: "full" },
      { name: "abuser", token: ABUSER, detail: "decision" },
      { name: "other", token: OTHER, detail: "decision" },
      { name: "limited", token: LIMITED, detail: "decision", ratePerMinute: 1 },
    ],
  }),
);
const auditFile = join(root, "audit.ndjson");
const PROXY = "127.0.0.3";
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !["PHMATCH_TRUSTED_KEYS", "PHMATCH_TOKENS", "PHMATCH_LIST_KEY"].includes(name),
  ),
);
const match = readFileSync(fixtures("images/shapes.png"));

let child: ChildProcess;
let port: number;
let stderr = "";

beforeAll(async () => {
  child = spawn(
    process.execPath,
    [
      bin,
      "serve",
      "--port",
      "0",
      "--hashset",
      fixtures("hashsets/demo.phs"),
      "--state-dir",
      join(root, "state"),
      "--tokens",
      tokensFile,
      "--no-watch",
      "--threads",
      "2",
      "--audit-log",
      auditFile,
      "--decode-budget",
      "1",
      "--trusted-proxies",
      PROXY,
      "--request-timeout-ms",
      "1500",
      "--max-bytes",
      "4000000",
    ],
    { cwd: root, env, stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  while (!/listening on (\S+)/.test(stderr)) {
    if (child.exitCode !== null) throw new Error(`gate did not start: ${stderr}`);
    await sleep(50);
  }
  port = Number(new URL(/listening on (\S+)/.exec(stderr)![1] as string).port);
  await until(async () => (await post({ body: match })).status === 200);
}, 60_000);
afterAll(async () => {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  await once(child, "exit");
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Waits for the condition as long as it takes on this machine now; the test's own limit ends a wait that never ends.
async function until(what: () => Promise<boolean>): Promise<void> {
  while (!(await what())) {
    await sleep(100);
  }
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: Record<string, unknown>;
}

// One request from `from` (a loopback address of the test's choosing).
function post(o: {
  path?: string;
  from?: string;
  token?: string | undefined;
  type?: string;
  body?: Buffer;
  headers?: Record<string, string>;
  method?: string;
}): Promise<Answer> {
  const {
    path = "/v1/check",
    from = "127.0.0.1",
    token = BACKEND,
    type = "image/png",
    body,
    headers = {},
    method = "POST",
  } = o;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method,
        localAddress: from,
        headers: {
          ...(token !== undefined && { authorization: `Bearer ${token}` }),
          ...(body !== undefined && { "content-type": type }),
          ...headers,
        },
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers["retry-after"],
            body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const flat = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: "#5a8cc8" }, limitInputPixels: false });

// The audit log's decision records, once the gate has written them (appends are synchronous, before the answer).
const auditRecords = () =>
  readFileSync(auditFile, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.type === "decision");

describe("phmatch serve: what an upload may cost", () => {
  it("answers a PNG over 50 MP `error` 422 PHM_DECODE_TOO_MANY_PIXELS from its header, " +
    "without Retry-After", async () => {
    // No pixel data at all: a decode would have called it truncated.
    const bomb = await post({ body: headerOnlyPng(10_000, 10_000) });
    expect(bomb).toMatchObject({
      status: 422,
      retryAfter: undefined,
      body: { decision: "error", reason_code: "PHM_DECODE_TOO_MANY_PIXELS" },
    });
    // The file: a one-colour 10000 x 10000 PNG (1.3 MB). Refused at once, not decoded for seconds.
    const real = await post({ body: await flat(10_000, 10_000).png().toBuffer() });
    expect(real).toMatchObject({
      status: 422,
      retryAfter: undefined,
      body: { decision: "error", reason_code: "PHM_DECODE_TOO_MANY_PIXELS" },
    });
    expect((real.body.error as { message: string }).message).toMatch(/png cannot be decoded at reduced size/);
  }, 60_000);

  it("hashes a JPEG over 50 MP at reduced size, and answers it as any other", async () => {
    const r = await post({ type: "image/jpeg", body: await flat(9_000, 6_000).jpeg().toBuffer() });
    expect(r.status).toBe(200);
    expect(["no_match", "low_quality"]).toContain(r.body.decision);
  }, 60_000);

  it("records every answer once in the audit log: status, reason, token name, client", async () => {
    const before = auditRecords().length;
    const answers: Answer[] = [];
    answers.push(await post({ body: match })); // 200 match
    answers.push(await post({ body: readFileSync(fixtures("bad/corrupt.png")) })); // 422 error decision
    answers.push(await post({ token: "not-a-token-0123456789", body: match })); // 401
    answers.push(await post({ path: "/v2/nothing", body: match })); // 404
    answers.push(await post({ type: "text/plain", body: Buffer.from("hello") })); // 415
    // 413, refused on the announced length
    answers.push(await post({ body: Buffer.alloc(16), headers: { "content-length": "4000001" } }));
    // 200 (the limited token's one request)
    answers.push(await post({ token: LIMITED, from: "127.0.0.9", body: match }));
    answers.push(await post({ token: LIMITED, from: "127.0.0.9", body: match })); // 429 RATE_LIMITED
    answers.push(await post({ path: "/metrics", token: OTHER, method: "GET" })); // 403
    const expected = [200, 422, 401, 404, 415, 413, 200, 429, 403];
    expect(answers.map((a) => a.status)).toEqual(expected);
    // A body that never arrives: Node answers 408 before fastify has a request.
    const socket = connect({ port, host: "127.0.0.1", localAddress: "127.0.0.8" });
    socket.on("error", () => undefined);
    socket.write(
      `POST /v1/check HTTP/1.1\r\nHost: gate\r\nAuthorization: Bearer ${BACKEND}\r\n` +
        "Content-Type: image/png\r\nContent-Length: 1000\r\n\r\nabc",
    );
    let raw = "";
    socket.on("data", (d: Buffer) => (raw += d.toString("latin1")));
    await once(socket, "close");
    expect(raw).toMatch(/^HTTP\/1\.1 408 /);
    const timedOut = JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4)) as { request_id: string };

    const records = auditRecords();
    expect(records).toHaveLength(before + answers.length + 1); // nothing else: the 408's abandoned request is no answer
    const byId = (id: unknown) => records.filter((r) => r.requestId === id);
    for (const [i, a] of answers.entries()) {
      expect(byId(a.body.request_id), `answer ${i}`).toHaveLength(1);
      expect(byId(a.body.request_id)[0]).toMatchObject({
        source: "serve",
        status: expected[i],
        reasonCode: a.body.reason_code,
        decision: a.body.decision,
        client: i >= 6 && i < 8 ? "127.0.0.9" : "127.0.0.1",
      });
    }
    expect(byId(answers[0]!.body.request_id)[0]).toMatchObject({
      decision: "match",
      token: "backend",
      matches: expect.any(Array),
    });
    expect(byId(answers[1]!.body.request_id)[0]).toMatchObject({ errorCode: "PHM_DECODE_CORRUPT", token: "backend" });
    expect(byId(answers[1]!.body.request_id)[0]).not.toHaveProperty("hashes");
    expect(byId(answers[2]!.body.request_id)[0]).not.toHaveProperty("token"); // a wrong token names nobody
    expect(byId(answers[7]!.body.request_id)[0]).toMatchObject({ reasonCode: "RATE_LIMITED", token: "limited" });
    expect(byId(timedOut.request_id)).toEqual([
      expect.objectContaining({ status: 408, reasonCode: "REQUEST_TIMEOUT", client: "127.0.0.8" }),
    ]);
  }, 60_000);

  it("names the client behind a trusted proxy by X-Forwarded-For, and the peer otherwise", async () => {
    const via = (from: string, forwarded: string) =>
      post({ from, body: match, headers: { "x-forwarded-for": forwarded } });
    const proxied = await via(PROXY, "203.0.113.50, 198.51.100.7");
    const untrusted = await via("127.0.0.4", "198.51.100.8");
    const malformed = await via(PROXY, "198.51.100.9:4711");
    const records = auditRecords();
    const clientOf = (a: Answer) => records.find((r) => r.requestId === a.body.request_id)?.client;
    expect(clientOf(proxied)).toBe("198.51.100.7");
    expect(clientOf(untrusted)).toBe("127.0.0.4");
    expect(clientOf(malformed)).toBe(PROXY);
  });

  it("refuses a token and an address that spent their decode budget (429 DECODE_BUDGET + Retry-After), " +
    "and serves the others", async () => {
    // A one-colour 50 MP PNG, under the limit: decoded and hashed at full size, seconds of one thread (6.6 s on an
    // idle 2-core machine; the budget here is 1 s a minute beyond each upload's first second).
    // Sent until one is refused: each takes more than its free second, so the budget runs out, here after the first.
    const heavy = await flat(7_071, 7_071).png().toBuffer();
    let spent: Answer | undefined;
    for (let i = 0; i < 6 && spent?.status !== 429; i++) {
      spent = await post({ token: ABUSER, from: "127.0.0.2", body: heavy });
      expect([200, 422, 429]).toContain(spent.status);
    }
    expect(spent?.body.reason_code).toBe("DECODE_BUDGET");
    const refused = [
      await post({ token: ABUSER, from: "127.0.0.2", body: match }),
      await post({ token: ABUSER, from: "127.0.0.5", body: match }), // the same token from elsewhere
      await post({ token: OTHER, from: "127.0.0.2", body: match }), // another token from the same address
      // the address behind the proxy
      await post({ token: OTHER, from: PROXY, body: match, headers: { "x-forwarded-for": "127.0.0.2" } }),
    ];
    for (const r of refused) {
      expect(r).toMatchObject({ status: 429, body: { decision: "error", reason_code: "DECODE_BUDGET" } });
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // Another token from another address, and another client behind the same proxy, are served.
    await until(async () => (await post({ token: OTHER, from: "127.0.0.6", body: match })).status === 200);
    expect(
      await post({ token: OTHER, from: PROXY, body: match, headers: { "x-forwarded-for": "198.51.100.20" } }),
    ).toMatchObject({ status: 200, body: { decision: "match" } });
    expect(auditRecords().filter((r) => r.reasonCode === "DECODE_BUDGET")).toHaveLength(5);
  }, 120_000);
});

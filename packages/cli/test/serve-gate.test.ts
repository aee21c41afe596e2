// `phmatch serve`, who gets past the gate: every route under every spelling a client may give its path (percent-
// encoded, double-encoded, dot segments, duplicate and trailing slashes, upper case, absolute-form, query strings,
// other methods), with no token, a wrong token and a decision token. Authentication, the rate limit and admission
// are decided on the route the router matched, before any body byte is read: each refusal here is answered to a
// request whose body was announced and never sent. The real server on loopback in its own process.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { runCli } from "./support/run-cli.js";

const bin = fileURLToPath(new URL("../bin/phmatch.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "phmatch-serve-gate-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FULL = "backend-token-0123456789abcdef";
const DECISION = "device-token-0123456789abcdef";
const RATED = "rated-device-token-0123456789";
const GRANTED = "granted-device-token-0123456789";
const NEEDLES = "needles-device-token-0123456789";
const WRONG = "wrong-token-0123456789abcdefgh";
const REVIEWER = "reviewer-token-0123456789abcdef";
const tokensFile = join(root, "tokens.json");
writeFileSync(
  tokensFile,
  JSON.stringify({
    tokens: [
      { name: "backend", token: FULL, detail: "full" },
      { name: "app", token: DECISION, detail: "decision" },
      { name: "rated", token: RATED, detail: "decision", matchAlgorithms: ["pdq"], ratePerMinute: 0.25 },
      { name: "granted", token: GRANTED, detail: "decision", matchAlgorithms: ["pdq", "md5"], ratePerMinute: 60_000 },
      { name: "needles", token: NEEDLES, detail: "decision", matchAlgorithms: ["pdq"], ratePerMinute: 6 },
      { name: "reviewer", token: REVIEWER, detail: "full", scopes: ["feedback"] },
    ],
  }),
);
// A gate that waited for a body would answer 408 after this, never the refusal a test expects.
const REQUEST_TIMEOUT_MS = 3_000;
// What a refused request announces and never sends (the bodies the issue saw held in memory).
const ANNOUNCED = 60 * 1024 * 1024;
const png = readFileSync(fixtures("images/shapes.png"));

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
      "--max-concurrent",
      "1",
      "--request-timeout-ms",
      String(REQUEST_TIMEOUT_MS),
      "--record-journal",
      join(root, "journal"),
    ],
    {
      cwd: root,
      env: cleanEnv({ PHMATCH_TOKENS: "", PHMATCH_JOURNAL_KEY: "0f".repeat(32) }),
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  while (!/listening on (\S+)/.test(stderr)) {
    if (child.exitCode !== null) throw new Error(`gate did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  port = Number(new URL(/listening on (\S+)/.exec(stderr)![1] as string).port);
}, 60_000);
afterAll(async () => {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  await once(child, "exit");
});

// A gauge of /metrics (read with the full token).
async function metric(name: string): Promise<number> {
  const text = await (
    await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${FULL}` } })
  ).text();
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
}

// Waits for the condition as long as it takes on this machine now; the test's own limit ends a wait that never ends.
async function until(what: () => Promise<boolean>): Promise<void> {
  while (!(await what())) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Exchange {
  socket: Socket;
  /** Interim (1xx) statuses, then the final answer: status, headers, JSON body (undefined if none). */
  answer: Promise<{
    interim: number[];
    status: number;
    headers: Record<string, string>;
    body: Record<string, unknown> | undefined;
  }>;
  /** The first interim (100 Continue) or final status line seen. */
  firstStatus: Promise<number>;
  /** Resolves when the server closed the connection (or it was destroyed). */
  closed: Promise<void>;
}

// A raw connection that writes `head` (a request line and headers, as given: no client normalises the path).
function exchange(head: string): Exchange {
  const socket = connect({ port, host: "127.0.0.1" });
  let received = Buffer.alloc(0);
  const interim: number[] = [];
  let settle: (a: Awaited<Exchange["answer"]>) => void = () => undefined;
  let first: (status: number) => void = () => undefined;
  const answer = new Promise<Awaited<Exchange["answer"]>>((resolve) => (settle = resolve));
  const firstStatus = new Promise<number>((resolve) => (first = resolve));
  socket.on("error", () => undefined);
  socket.on("data", (d: Buffer) => {
    received = Buffer.concat([received, d]);
    for (;;) {
      const end = received.indexOf("\r\n\r\n");
      if (end < 0) return;
      const lines = received.subarray(0, end).toString("latin1").split("\r\n");
      const status = Number(lines[0]!.split(" ")[1]);
      first(status);
      const headers = Object.fromEntries(
        lines.slice(1).map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
      );
      if (status >= 100 && status < 200) {
        interim.push(status);
        received = received.subarray(end + 4);
        continue;
      }
      const length = head.startsWith("HEAD ") ? 0 : Number(headers["content-length"] ?? 0);
      if (received.length < end + 4 + length) return;
      const text = received.subarray(end + 4, end + 4 + length).toString("utf8");
      settle({
        interim,
        status,
        headers,
        body: text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>),
      });
      return;
    }
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  void closed.then(() => {
    first(0);
    settle({ interim, status: 0, headers: {}, body: undefined });
  });
  socket.write(head, "latin1");
  return { socket, answer, firstStatus, closed };
}

// The request line and headers; `length`: a body announced (and not sent by the caller unless it writes it).
function head(
  method: string,
  target: string,
  options: { token?: string; type?: string; length?: number; expect?: boolean } = {},
): string {
  const lines = [`${method} ${target} HTTP/1.1`, "Host: gate"];
  if (options.token !== undefined) lines.push(`Authorization: Bearer ${options.token}`);
  if (options.type !== undefined) lines.push(`Content-Type: ${options.type}`);
  if (options.length !== undefined) lines.push(`Content-Length: ${options.length}`);
  if (options.expect === true) lines.push("Expect: 100-continue");
  return `${lines.join("\r\n")}\r\n\r\n`;
}

// Every way a client may spell a path, and whether the router takes it for the route ("same") or for none (404).
function spellings(path: string): { target: string; routed: boolean }[] {
  const encodeAll = (p: string) =>
    p
      .split("/")
      .map((seg) => [...seg].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""))
      .join("/");
  const encodeFirst = (p: string, upper: boolean) => {
    const hex = p.charCodeAt(1).toString(16);
    return `/%${upper ? hex.toUpperCase() : hex}${p.slice(2)}`;
  };
  const [, first, ...rest] = path.split("/");
  return [
    { target: path, routed: true },
    { target: encodeFirst(path, false), routed: true },
    { target: encodeFirst(path, true), routed: true },
    { target: encodeAll(path), routed: true },
    { target: `http://gate${path}`, routed: true },
    { target: `http://gate${encodeFirst(path, false)}`, routed: true },
    { target: `HTTP://GATE:1${path}`, routed: true },
    { target: `${path}?x=1`, routed: true },
    { target: `${encodeFirst(path, false)}?x=%2F`, routed: true },
    { target: `/%25${path.charCodeAt(1).toString(16)}${path.slice(2)}`, routed: false }, // double-encoded
    { target: `/.${path}`, routed: false },
    { target: `/x/..${path}`, routed: false },
    { target: `/%2e${path}`, routed: false },
    { target: `/%2e%2e${path}`, routed: false },
    { target: `/${path}`, routed: false },
    { target: rest.length > 0 ? `/${first}//${rest.join("/")}` : `${path}//`, routed: false },
    { target: `${path}/`, routed: false },
    { target: `${encodeFirst(path, false)}/`, routed: false },
    { target: path.toUpperCase(), routed: false },
    { target: `${path};a=b`, routed: false },
    { target: rest.length > 0 ? `/${first}%2F${rest.join("%2F")}` : `/%2F${first}`, routed: false },
    { target: `http://gate/${path}`, routed: false },
  ];
}

type Credential = "none" | "wrong" | "decision";
const tokenOf = (c: Credential) => (c === "none" ? undefined : c === "wrong" ? WRONG : DECISION);

// The routes, what each answers each credential (a status; "answered" for the decision token's real request,
// sent whole), and the body a refused request announces.
const ROUTES: { method: string; path: string; type?: string; expected: Record<Credential, number | "answered"> }[] = [
  { method: "POST", path: "/v1/check", type: "image/png", expected: { none: 401, wrong: 401, decision: "answered" } },
  { method: "POST", path: "/v1/match", type: "application/json", expected: { none: 401, wrong: 401, decision: 403 } },
  {
    method: "POST",
    path: "/v1/report/cybertip",
    type: "application/json",
    expected: { none: 401, wrong: 401, decision: 403 },
  },
  // A reviewer's verdict: the decision token has the check scope only (403 SCOPE_NOT_GRANTED).
  {
    method: "POST",
    path: "/v1/feedback",
    type: "application/json",
    expected: { none: 401, wrong: 401, decision: 403 },
  },
  { method: "GET", path: "/metrics", expected: { none: 401, wrong: 401, decision: 403 } },
  { method: "HEAD", path: "/metrics", expected: { none: 401, wrong: 401, decision: 403 } },
  { method: "GET", path: "/readyz", expected: { none: 200, wrong: 401, decision: 200 } },
  { method: "HEAD", path: "/readyz", expected: { none: 200, wrong: 401, decision: 200 } },
  { method: "GET", path: "/healthz", expected: { none: 200, wrong: 200, decision: 200 } },
  // The record journal (serve --record-journal): what the platform's users uploaded, for full tokens only.
  { method: "GET", path: "/v1/journal", expected: { none: 401, wrong: 401, decision: 403 } },
  { method: "HEAD", path: "/v1/journal", expected: { none: 401, wrong: 401, decision: 403 } },
];

describe("phmatch serve: the gate decides on the route that matched, before the body", () => {
  it("refuses every spelling of every route, with no token, a wrong token and a decision token, " +
    "before reading a body byte", async () => {
    const failures: string[] = [];
    for (const route of ROUTES) {
      for (const { target, routed } of spellings(route.path)) {
        for (const credential of ["none", "wrong", "decision"] as Credential[]) {
          const expected = routed ? route.expected[credential] : 404;
          const takesBody = route.type !== undefined;
          if (expected === "answered") continue; // below: a real request, sent whole
          const c = exchange(
            head(route.method, target, {
              token: tokenOf(credential),
              ...(takesBody && { type: route.type, length: ANNOUNCED }),
            }),
          );
          const a = await c.answer;
          // A refusal to an announced body closes the connection: the body is never read, not even to discard it.
          if (a.status !== expected || (takesBody && expected !== 200 && a.headers.connection !== "close")) {
            failures.push(
              `${credential} ${route.method} ${target}: ${a.status} ${String(a.body?.reason_code)} ` +
                `(connection ${a.headers.connection}), expected ${expected}`,
            );
          }
          if (takesBody && a.status === expected) await c.closed;
          c.socket.destroy();
        }
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it("answers the decision token's real requests on every spelling the router takes", async () => {
    for (const { target, routed } of spellings("/v1/check").filter((s) => s.routed)) {
      const c = exchange(head("POST", target, { token: DECISION, type: "image/png", length: png.length }));
      c.socket.write(png);
      const a = await c.answer;
      expect({ target, routed, status: a.status, decision: a.body?.decision }).toEqual({
        target,
        routed,
        status: 200,
        decision: "match",
      });
      c.socket.destroy();
    }
  }, 60_000);

  it("refuses methods no route takes (OPTIONS, PUT, DELETE, PATCH) with 404 before the body", async () => {
    for (const method of ["OPTIONS", "PUT", "DELETE", "PATCH", "PROPFIND"]) {
      for (const path of ["/v1/check", "/%761/check", "/metrics", "/healthz"]) {
        const c = exchange(head(method, path, { token: FULL, type: "image/png", length: ANNOUNCED }));
        const a = await c.answer;
        expect({
          method,
          path,
          status: a.status,
          reason: a.body?.reason_code,
          connection: a.headers.connection,
        }).toEqual({ method, path, status: 404, reason: "NOT_FOUND", connection: "close" });
        await c.closed;
      }
    }
  });

  it("refuses a path the router cannot decode (400 BAD_URL) before the body", async () => {
    for (const target of ["/v1/check%ZZ", "/%C0%AE/v1/check", "/%761/check%"]) {
      const c = exchange(head("POST", target, { token: FULL, type: "image/png", length: ANNOUNCED }));
      const a = await c.answer;
      expect({ target, status: a.status, body: a.body, connection: a.headers.connection }).toMatchObject({
        target,
        status: 400,
        body: { decision: "error", reason_code: "BAD_URL" },
        connection: "close",
      });
      await c.closed;
    }
  });

  it("takes the rate of a token on every spelling: over it, 429 before the body", async () => {
    // One per 4 minutes: a burst of one. The first check passes, then every spelling is over the rate.
    const c = exchange(head("POST", "/v1/check", { token: RATED, type: "image/png", length: png.length }));
    c.socket.write(png);
    expect((await c.answer).status).toBe(200);
    c.socket.destroy();
    const targets = ["/v1/check", "/%761/check", "http://gate/v1/check", "/v1/check?x", "/v1/match", "/%761/match"];
    const answers: Record<string, unknown>[] = [];
    for (const target of targets) {
      const over = exchange(
        head("POST", target, {
          token: RATED,
          type: target.includes("match") ? "application/json" : "image/png",
          length: ANNOUNCED,
        }),
      );
      const a = await over.answer;
      answers.push({
        target,
        status: a.status,
        reason: a.body?.reason_code,
        connection: a.headers.connection,
        retryAfter: Number(a.headers["retry-after"]) > 0,
      });
      over.socket.destroy();
    }
    expect(answers).toEqual(
      targets.map((target) => ({ target, status: 429, reason: "RATE_LIMITED", connection: "close", retryAfter: true })),
    );
  });

  it(
    "takes a check slot on every spelling: saturated and its client's waiting place taken, " + "503 before the body",
    async () => {
      for (const target of ["/%761/check", "http://gate/v1/check", "/v1/%63heck", "/%761/match"]) {
        // The only slot (--max-concurrent 1) held by an upload whose body arrives fast enough (5 MiB sent at once)
        // never to give way, and the one waiting place of the backend's client taken by a second upload.
        const holder = exchange(
          head("POST", "/v1/check", { token: FULL, type: "image/png", length: 10 * 1024 * 1024 }),
        );
        holder.socket.write(Buffer.alloc(5 * 1024 * 1024, 1));
        await until(async () => (await metric("phmatch_requests_in_flight")) === 1);
        const waiter = exchange(head("POST", "/v1/check", { token: FULL, type: "image/png", length: ANNOUNCED }));
        await until(async () => (await metric("phmatch_requests_waiting")) === 1);
        try {
          const c = exchange(
            head("POST", target, {
              token: FULL,
              type: target.includes("match") ? "application/json" : "image/png",
              length: ANNOUNCED,
            }),
          );
          const a = await c.answer;
          expect({ target, status: a.status, reason: a.body?.reason_code }).toEqual({
            target,
            status: 503,
            reason: "SATURATED",
          });
          await c.closed;
        } finally {
          holder.socket.destroy();
          waiter.socket.destroy();
          await until(
            async () =>
              (await metric("phmatch_requests_in_flight")) === 0 && (await metric("phmatch_requests_waiting")) === 0,
          );
        }
      }
    },
  );

  it("sends 100 Continue only to a request it admits", async () => {
    const refused = exchange(head("POST", "/%761/check", { type: "image/png", length: png.length, expect: true }));
    expect(await refused.firstStatus).toBe(401);
    await refused.closed;
    const admitted = exchange(
      head("POST", "/%761/check", { token: DECISION, type: "image/png", length: png.length, expect: true }),
    );
    expect(await admitted.firstStatus).toBe(100);
    admitted.socket.write(png);
    expect(await admitted.answer).toMatchObject({ interim: [100], status: 200, body: { decision: "match" } });
    admitted.socket.destroy();
  });

  it("tells anyone whether it is ready, and only a full token which lists at which versions", async () => {
    const readyz = async (token?: string) => {
      const a = await exchange(head("GET", "/readyz", { token })).answer;
      return { status: a.status, body: a.body };
    };
    expect(await readyz()).toEqual({ status: 200, body: { status: "ready" } });
    expect(await readyz(DECISION)).toEqual({ status: 200, body: { status: "ready" } });
    expect(await readyz(WRONG)).toMatchObject({ status: 401, body: { reason_code: "UNAUTHORIZED" } });
    expect(await readyz(FULL)).toMatchObject({
      status: 200,
      body: { status: "ready", lists: [{ listId: "phmatch-demo", version: 1 }] },
    });
  });

  it("refuses uploads from a token without the check scope (403 SCOPE_NOT_GRANTED), before the body", async () => {
    for (const [path, type] of [
      ["/v1/check", "image/png"],
      ["/v1/match", "application/json"],
    ] as const) {
      const c = exchange(head("POST", path, { token: REVIEWER, type, length: ANNOUNCED }));
      const a = await c.answer;
      expect({ path, status: a.status, reason: a.body?.reason_code, connection: a.headers.connection }).toEqual({
        path,
        status: 403,
        reason: "SCOPE_NOT_GRANTED",
        connection: "close",
      });
      await c.closed;
      c.socket.destroy();
    }
  });
});

// What `phmatch hash --dihedral` prints for a listed fixture (demo.phs holds its PDQ, pHash and MD5).
const listed = JSON.parse(
  (await runCli(["hash", "--dihedral", "-a", "pdq,phash,md5", fixtures("images/shapes.png")])).stdout,
) as {
  hashes: Record<string, string>;
  quality: Record<string, number>;
  dihedral: Record<string, string[]>;
};
const pdq = listed.hashes.pdq as string;

async function match(
  body: unknown,
  token = FULL,
): Promise<{ status: number; body: Record<string, unknown>; retryAfter: string | undefined }> {
  const r = await fetch(`http://127.0.0.1:${port}/v1/match`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return {
    status: r.status,
    body: (await r.json()) as Record<string, unknown>,
    retryAfter: r.headers.get("retry-after") ?? undefined,
  };
}

describe("phmatch serve: /v1/match fails closed and is no oracle", () => {
  it("matches the record phmatch hash --dihedral prints", async () => {
    expect(await match({ path: "x.png", ...listed })).toMatchObject({
      status: 200,
      body: { decision: "match", checked: expect.arrayContaining(["pdq", "phash", "md5"]) },
    });
  });

  it(
    "refuses unknown algorithm ids (also in another case) with 400 UNKNOWN_ALGORITHM, " +
      "never a no_match with nothing checked",
    async () => {
      for (const id of ["PDQ", "Pdq", "pdq2", "constructor", "__proto__x"]) {
        const r = await match({ hashes: { [id]: pdq } });
        expect({ id, status: r.status, reason: r.body.reason_code }).toEqual({
          id,
          status: 400,
          reason: "UNKNOWN_ALGORITHM",
        });
        expect(r.body.message).toContain("lower case");
      }
      expect(await match({ hashes: { photodna: "00".repeat(144) } })).toMatchObject({
        status: 400,
        body: { reason_code: "ALGORITHM_NOT_MATCHABLE" },
      });
    },
  );

  it("refuses hex of the wrong length for its algorithm (400 HASH_LENGTH), never cutting or padding it", async () => {
    // The listed value with a digit more, or one digit less: matched before, as the value cut or zero-padded.
    for (const hex of [`${pdq}0`, `${pdq}00`, pdq.slice(0, -1), pdq.slice(0, -2), pdq.slice(0, 16), `${pdq}${pdq}`]) {
      const r = await match({ hashes: { pdq: hex } });
      expect({ digits: hex.length, status: r.status, reason: r.body.reason_code }).toEqual({
        digits: hex.length,
        status: 400,
        reason: "HASH_LENGTH",
      });
    }
    expect(await match({ hashes: { md5: `${listed.hashes.md5 as string}0` } })).toMatchObject({
      status: 400,
      body: { reason_code: "HASH_LENGTH" },
    });
    expect(await match({ hashes: { pdq: "zz".repeat(32) } })).toMatchObject({
      status: 400,
      body: { reason_code: "PHM_MATCH_INPUT" },
    });
  });

  it(
    "takes the 8 dihedral variants of a hash given, the original first, " + "and no more (400 DIHEDRAL_VARIANTS)",
    async () => {
      const variants = listed.dihedral.pdq as string[];
      const many = Array.from({ length: 900 }, (_, i) => i.toString(16).padStart(64, "0"));
      for (const dihedral of [
        { pdq: [...variants, variants[1]] },
        { pdq: variants.slice(0, 7) },
        { pdq: [pdq, ...many] },
        { pdq: [variants[1], ...variants.slice(1)] },
        { md5: variants },
      ]) {
        const r = await match({ hashes: { pdq, md5: listed.hashes.md5 }, dihedral });
        expect({ status: r.status, reason: r.body.reason_code }).toEqual({ status: 400, reason: "DIHEDRAL_VARIANTS" });
      }
      // Variants of a hash not given: they would have been dropped unseen.
      expect(await match({ hashes: { md5: listed.hashes.md5 }, dihedral: { pdq: variants } })).toMatchObject({
        status: 400,
        body: { reason_code: "DIHEDRAL_VARIANTS" },
      });
    },
  );

  it(
    "refuses fields it would not look up (400) and answers 422 NOTHING_CHECKED " +
      "when the lists hold none of the hashes",
    async () => {
      expect(await match({ hashes: { pdq }, trimmed: { box: [0, 0, 1, 1], hashes: { pdq } } })).toMatchObject({
        status: 400,
        body: { reason_code: "PHM_MATCH_INPUT" },
      });
      expect(await match({ hashes: { pdq }, quality: { phash: 100 } })).toMatchObject({
        status: 400,
        body: { reason_code: "PHM_MATCH_INPUT" },
      });
      // demo.phs holds no SHA-256 and no 256-bit pHash: nothing can be looked up, so no "no_match".
      expect(await match({ hashes: { sha256: "ab".repeat(32), phash16: "cd".repeat(32) } })).toMatchObject({
        status: 422,
        body: { decision: "error", reason_code: "NOTHING_CHECKED" },
      });
    },
  );

  it(
    "gives a decision token /v1/match only with a grant, only for the algorithms granted, " + "and only the decision",
    async () => {
      expect(await match({ hashes: { pdq } }, DECISION)).toMatchObject({
        status: 403,
        body: { reason_code: "MATCH_NOT_GRANTED" },
      });
      expect(await match({ hashes: { phash: listed.hashes.phash } }, GRANTED)).toMatchObject({
        status: 403,
        body: { reason_code: "ALGORITHM_NOT_GRANTED" },
      });
      expect(await match({ hashes: { pdq, phash: listed.hashes.phash } }, GRANTED)).toMatchObject({
        status: 403,
        body: { reason_code: "ALGORITHM_NOT_GRANTED" },
      });
      const r = await match({ hashes: { pdq }, dihedral: { pdq: listed.dihedral.pdq } }, GRANTED);
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(["decision", "reason_code", "request_id"]);
      expect(r.body.decision).toBe("match");
    },
  );

  it("counts every needle against the token's rate: 8 variants wait 8 times as long as one hash", async () => {
    // 6 per minute, a burst of one: one request with the 8 variants of a PDQ takes 8 units (1 + 7 more, the
    // bucket going 7 below zero), so the next waits for 8 units to refill: 80 s, where one hash would wait 10 s.
    expect((await match({ hashes: { pdq }, dihedral: { pdq: listed.dihedral.pdq } }, NEEDLES)).status).toBe(200);
    const over = await match({ hashes: { pdq } }, NEEDLES);
    expect(over).toMatchObject({ status: 429, body: { reason_code: "RATE_LIMITED" } });
    expect(Number(over.retryAfter)).toBeGreaterThan(60);
  });
});

describe("phmatch serve: a multipart upload is one file", () => {
  const boundary = "phm-boundary-2files";
  const part = (name: string, body: Buffer, filename?: string) =>
    Buffer.concat([
      Buffer.from(
        `--${boundary}\r\n` +
          `Content-Disposition: form-data; name="${name}"` +
          `${filename === undefined ? "" : `; filename="${filename}"`}\r\n` +
          `Content-Type: ${filename === undefined ? "text/plain" : "image/png"}\r\n\r\n`,
        "latin1",
      ),
      body,
      Buffer.from("\r\n"),
    ]);
  const form = (...parts: Buffer[]) => Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]);
  const unlisted = readFileSync(fixtures("images/texture-grey.png"));
  const post = async (body: Buffer) => {
    const c = exchange(
      head("POST", "/v1/check", {
        token: FULL,
        type: `multipart/form-data; boundary=${boundary}`,
        length: body.length,
      }),
    );
    c.socket.write(body);
    const a = await c.answer;
    c.socket.destroy();
    return { status: a.status, decision: a.body?.decision, reason: a.body?.reason_code };
  };

  it(
    "refuses a second file (400 MULTIPART_ONE_FILE): " + "a listed image behind an unlisted one does not pass",
    async () => {
      expect(await post(form(part("file", unlisted, "a.png")))).toEqual({
        status: 200,
        decision: "no_match",
        reason: "NO_MATCH",
      });
      expect(await post(form(part("file", png, "b.png")))).toEqual({
        status: 200,
        decision: "match",
        reason: "LIST_MATCH",
      });
      expect(await post(form(part("file", unlisted, "a.png"), part("file", png, "b.png")))).toEqual({
        status: 400,
        decision: "error",
        reason: "MULTIPART_ONE_FILE",
      });
      expect(await post(form(part("file", unlisted, "a.png"), part("other", png, "b.png")))).toEqual({
        status: 400,
        decision: "error",
        reason: "MULTIPART_ONE_FILE",
      });
      expect(
        await post(form(part("file", unlisted, "a.png"), part("file", png, "b.png"), part("file", png, "c.png"))),
      ).toEqual({ status: 400, decision: "error", reason: "MULTIPART_ONE_FILE" });
    },
  );

  it("refuses a field beside the file, before or after it (400 MULTIPART_ONE_FILE)", async () => {
    expect(await post(form(part("file", unlisted, "a.png"), part("note", Buffer.from("hello"))))).toEqual({
      status: 400,
      decision: "error",
      reason: "MULTIPART_ONE_FILE",
    });
    expect(await post(form(part("note", Buffer.from("hello")), part("file", png, "b.png")))).toEqual({
      status: 400,
      decision: "error",
      reason: "MULTIPART_ONE_FILE",
    });
  });
});

// `phmatch serve` against abusive clients, the real server on loopback in its own process: slow headers, idle
// sockets, huge headers, stalled, dribbled and abandoned bodies, wrong content types, malformed and oversized
// multipart, floods of uploads, and more connections than one address may hold. Each gets its answer (or its
// socket closed) within a bounded time, and a healthy client on another address is answered meanwhile.
// Abusers connect from 127.0.0.2 and 127.0.0.3 (Linux routes all of 127/8 to loopback), the healthy client
// from 127.0.0.1.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { addressKey } from "../dist/serve/connections.js";

const bin = fileURLToPath(new URL("../bin/phmatch.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "phmatch-serve-abuse-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FULL = "backend-token-0123456789abcdef";
const LIMITED = "device-token-0123456789abcdef";
const tokensFile = join(root, "tokens.json");
writeFileSync(
  tokensFile,
  JSON.stringify({
    tokens: [
      { name: "backend", token: FULL, detail: "full" },
      { name: "app", token: LIMITED, detail: "decision", ratePerMinute: 6 },
    ],
  }),
);

const REQUEST_TIMEOUT_MS = 3_000;
const MAX_BYTES = 1_500_000;
const PER_IP = 24;
// The request timeout, plus Node's check interval (1 s), plus slack for a busy machine.
const CLOSED_WITHIN_MS = REQUEST_TIMEOUT_MS + 2_500;
const ABUSER = "127.0.0.2";
const png = readFileSync(fixtures("images/shapes.png"));
const jpeg = readFileSync(fixtures("images/texture.jpg"));

let child: ChildProcess;
let url: string;
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
      "2",
      "--max-bytes",
      String(MAX_BYTES),
      "--request-timeout-ms",
      String(REQUEST_TIMEOUT_MS),
      "--max-connections-per-ip",
      String(PER_IP),
    ],
    { cwd: root, env: cleanEnv({ PHMATCH_TOKENS: "" }), stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  while (!/listening on (\S+)/.test(stderr)) {
    if (child.exitCode !== null) throw new Error(`gate did not start: ${stderr}`);
    await sleep(50);
  }
  url = /listening on (\S+)/.exec(stderr)![1] as string;
  port = Number(new URL(url).port);
}, 60_000);
afterAll(async () => {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  await once(child, "exit");
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number; // 0: closed without an answer
  body: Record<string, unknown> | undefined;
}
interface Connection {
  socket: Socket;
  /** The first response (status and JSON body), or status 0 if the socket closed first. */
  answer: Promise<Answer>;
  /** Resolves with the ms from connecting until the socket closed. */
  closed: Promise<number>;
}

// A raw TCP connection from `from` that writes `first`; the test writes the rest (or nothing) itself.
function connection(first: string | Buffer = "", from = ABUSER): Connection {
  const socket = connect({ port, host: "127.0.0.1", localAddress: from });
  const started = Date.now();
  let received = Buffer.alloc(0);
  let settle: (a: Answer) => void = () => undefined;
  const answer = new Promise<Answer>((resolve) => (settle = resolve));
  socket.on("error", () => undefined);
  socket.on("data", (d: Buffer) => {
    received = Buffer.concat([received, d]);
    const end = received.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = received.subarray(0, end).toString("latin1");
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (received.length < end + 4 + length) return;
    const text = received.subarray(end + 4, end + 4 + length).toString("utf8");
    settle({
      status: Number(head.split(" ")[1]),
      body: text === "" ? undefined : (JSON.parse(text) as Record<string, unknown>),
    });
  });
  const closed = new Promise<number>((resolve) =>
    socket.once("close", () => {
      settle({ status: 0, body: undefined });
      resolve(Date.now() - started);
    }),
  );
  if (first.length > 0) socket.write(typeof first === "string" ? Buffer.from(first, "latin1") : first);
  return { socket, answer, closed };
}

// The request line and headers of a POST announcing `length` bytes of `type`.
const head = (path: string, type: string | undefined, length: number, token = FULL) =>
  `POST ${path} HTTP/1.1\r\nHost: gate\r\nAuthorization: Bearer ${token}\r\n` +
  `${type === undefined ? "" : `Content-Type: ${type}\r\n`}Content-Length: ${length}\r\n\r\n`;

// Writes `body` in `pieces`, `gapMs` apart (an upload over a slow link).
async function trickle(socket: Socket, body: Buffer, pieces: number, gapMs: number): Promise<void> {
  const size = Math.ceil(body.length / pieces);
  for (let at = 0; at < body.length; at += size) {
    if (!socket.writable) return;
    socket.write(body.subarray(at, at + size));
    await sleep(gapMs);
  }
}

// The healthy client: a check from 127.0.0.1 with the backend token; the HTTP status.
async function healthy(): Promise<number> {
  const r = await fetch(`${url}/v1/check`, {
    method: "POST",
    headers: { authorization: `Bearer ${FULL}`, "content-type": "image/png" },
    body: png,
  });
  const body = (await r.json()) as { decision?: string };
  if (r.status === 200) expect(body.decision).toBe("match");
  return r.status;
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${FULL}` } })).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}
const inFlight = () => metric("phmatch_requests_in_flight");
const clientErrors = (reason: string) => metric(`phmatch_client_errors_total{reason="${reason}"}`);

async function until(what: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await sleep(25);
  }
}

// An upload through node:http from `from`: status and retry-after.
function upload(
  body: Buffer,
  token: string,
  from = ABUSER,
): Promise<{ status: number; retryAfter: string | undefined; reason: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}/v1/check`,
      {
        method: "POST",
        localAddress: from,
        agent: false,
        headers: { authorization: `Bearer ${token}`, "content-type": "image/jpeg", "content-length": body.length },
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers["retry-after"] as string | undefined,
            reason: (JSON.parse(text) as { reason_code?: unknown }).reason_code,
          }),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

// A multipart/form-data body of the given parts, closed by the final boundary unless `closed` is false.
function multipart(boundary: string, parts: { headers: string; body: Buffer }[], closed = true): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts)
    chunks.push(Buffer.from(`--${boundary}\r\n${p.headers}\r\n\r\n`, "latin1"), p.body, Buffer.from("\r\n"));
  if (closed) chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}
const filePart = (body: Buffer) => ({
  headers: 'Content-Disposition: form-data; name="file"; filename="upload.png"\r\nContent-Type: image/png',
  body,
});
async function postMultipart(type: string, body: Buffer): Promise<Answer> {
  const c = connection(Buffer.concat([Buffer.from(head("/v1/check", type, body.length), "latin1"), body]));
  const a = await c.answer;
  c.socket.destroy();
  return a;
}

describe("phmatch serve against abusive clients", () => {
  it("answers 408 to idle connections and to headers dribbled a byte at a time, within the timeout; " +
    "a healthy check meanwhile", async () => {
    const before = await clientErrors("REQUEST_TIMEOUT");
    const idle = [0, 1, 2].map(() => connection());
    const dribbling = [0, 1, 2].map(() => {
      const c = connection("POST /v1/check HTTP/1.1\r\nHost: gate\r\nX-Slow: ");
      const timer = setInterval(() => c.socket.writable && c.socket.write("a"), 100);
      void c.closed.then(() => clearInterval(timer));
      return c;
    });
    expect(await healthy()).toBe(200);
    for (const c of [...idle, ...dribbling]) {
      expect(await c.answer).toMatchObject({
        status: 408,
        body: { decision: "error", reason_code: "REQUEST_TIMEOUT" },
      });
      expect(await c.closed).toBeLessThan(CLOSED_WITHIN_MS);
    }
    expect(await clientErrors("REQUEST_TIMEOUT")).toBe(before + 6);
    expect(await healthy()).toBe(200);
  }, 30_000);

  it("answers 431 to headers over 16 KiB (one huge or many small) and 400 to malformed HTTP", async () => {
    const huge = connection(`GET /healthz HTTP/1.1\r\nHost: gate\r\nX-Big: ${"a".repeat(20 * 1024)}\r\n\r\n`);
    expect(await huge.answer).toMatchObject({
      status: 431,
      body: { decision: "error", reason_code: "HEADERS_TOO_LARGE" },
    });
    const many = connection(
      "GET /healthz HTTP/1.1\r\nHost: gate\r\n" +
        `${Array.from({ length: 1500 }, (_, i) => `X-H${i}: value\r\n`).join("")}\r\n`,
    );
    expect(await many.answer).toMatchObject({ status: 431, body: { reason_code: "HEADERS_TOO_LARGE" } });
    const garbage = connection("NOT HTTP AT ALL\r\n\r\n");
    expect(await garbage.answer).toMatchObject({ status: 400, body: { reason_code: "BAD_REQUEST" } });
    const badLength = connection(
      `POST /v1/check HTTP/1.1\r\nHost: gate\r\nContent-Type: image/png\r\nContent-Length: twelve\r\n\r\n`,
    );
    expect(await badLength.answer).toMatchObject({ status: 400, body: { reason_code: "BAD_REQUEST" } });
    for (const c of [huge, many, garbage, badLength]) expect(await c.closed).toBeLessThan(CLOSED_WITHIN_MS);
    expect(await healthy()).toBe(200);
  });

  it("bodies stopped half way from one address give a healthy client on another its fair share at once, " +
    "and time out (408)", async () => {
    // Both slots (--max-concurrent 2) taken by multipart uploads that send their part's first 8 bytes of
    // 100,000 and then nothing.
    const b = "phm-boundary-stalled";
    const part = Buffer.concat([
      Buffer.from(`--${b}\r\n${filePart(png).headers}\r\n\r\n`, "latin1"),
      png.subarray(0, 8),
    ]);
    const stalled = [0, 1].map(() =>
      connection(
        Buffer.concat([Buffer.from(head("/v1/check", `multipart/form-data; boundary=${b}`, 100_000), "latin1"), part]),
      ),
    );
    await until(async () => (await inFlight()) === 2, 5_000);
    expect(await healthy()).toBe(200);
    const answers = await Promise.all(stalled.map((c) => c.answer));
    expect(answers.map((a) => `${a.status} ${String(a.body?.reason_code)}`).sort()).toEqual([
      "408 REQUEST_TIMEOUT",
      "503 SATURATED",
    ]);
    for (const c of stalled) expect(await c.closed).toBeLessThan(CLOSED_WITHIN_MS);
    expect(await clientErrors("FAIR_SHARE")).toBe(1);
    await until(async () => (await inFlight()) === 0, 2_000);
    // Their handlers, reading bodies that will never come, fail: the client's doing, not an internal error.
    expect(stderr).not.toContain("phmatch serve: request");
  }, 30_000);

  it("bodies stopped half way from the healthy client's own address (one proxy) " +
    "give way once slow for 1 s (408)", async () => {
    const stalled = [0, 1].map(() =>
      connection(head("/v1/check", "image/png", 100_000) + "\x89PNG\r\n\x1a\n", "127.0.0.1"),
    );
    await until(async () => (await inFlight()) === 2, 5_000);
    await sleep(1_200); // past the 1 s an upload has before it can be asked to give way
    expect(await healthy()).toBe(200);
    const answers = await Promise.all(stalled.map((c) => c.answer));
    expect(answers.map((a) => `${a.status} ${String(a.body?.reason_code)}`).sort()).toEqual([
      "408 REQUEST_TIMEOUT",
      "408 UPLOAD_TOO_SLOW",
    ]);
    for (const c of stalled) expect(await c.closed).toBeLessThan(CLOSED_WITHIN_MS);
    await until(async () => (await inFlight()) === 0, 2_000);
  }, 30_000);

  it("answers 408 to a body dribbled in, and answers an upload that is slow but arrives within the time", async () => {
    const dribbled = connection(head("/v1/check", "image/png", 50_000));
    const timer = setInterval(() => dribbled.socket.writable && dribbled.socket.write(Buffer.alloc(10)), 100);
    void dribbled.closed.then(() => clearInterval(timer));
    const slow = connection(head("/v1/check", "image/png", png.length));
    await trickle(slow.socket, png, 5, 150);
    expect(await slow.answer).toMatchObject({ status: 200, body: { decision: "match" } });
    expect(await healthy()).toBe(200);
    expect(await dribbled.answer).toMatchObject({ status: 408, body: { reason_code: "REQUEST_TIMEOUT" } });
    expect(await dribbled.closed).toBeLessThan(CLOSED_WITHIN_MS);
    slow.socket.destroy();
  }, 30_000);

  it("frees the slot of a client that disconnects mid-body, or after its body and before the answer", async () => {
    const cut = [0, 1].map(() => connection(head("/v1/check", "image/jpeg", jpeg.length) + "partial"));
    await until(async () => (await inFlight()) === 2, 5_000);
    for (const c of cut) c.socket.destroy();
    // Freed at the disconnect, well before the request timeout would have freed it.
    await until(async () => (await inFlight()) === 0, 1_500);
    expect(await healthy()).toBe(200);
    // Whole body, then gone: the answer finds no socket (no 'finish'), the slot must be freed all the same.
    const gone = [0, 1, 2].map(() => {
      const c = connection();
      c.socket.write(Buffer.concat([Buffer.from(head("/v1/check", "image/jpeg", jpeg.length), "latin1"), jpeg]), () =>
        setTimeout(() => c.socket.destroy(), 5),
      );
      return c;
    });
    await Promise.all(gone.map((c) => c.closed));
    await until(async () => (await inFlight()) === 0, 10_000);
    expect(await healthy()).toBe(200);
  }, 30_000);

  it("answers 415 to a type /v1/check does not take before reading the body", async () => {
    for (const type of ["application/json", "text/plain", "application/x-www-form-urlencoded", undefined]) {
      // A body of 1,000,000 bytes (under --max-bytes) announced, none sent: the answer cannot wait for it.
      const c = connection(head("/v1/check", type, 1_000_000));
      expect(await c.answer).toMatchObject({
        status: 415,
        body: { decision: "error", reason_code: "UNSUPPORTED_MEDIA_TYPE" },
      });
      c.socket.destroy();
    }
    expect(await healthy()).toBe(200);
  });

  it("answers 413 to an oversized multipart file and 400 to malformed multipart, never 500", async () => {
    const b = "phm-boundary-7d3c";
    const type = `multipart/form-data; boundary=${b}`;
    expect(await postMultipart(type, multipart(b, [filePart(Buffer.alloc(MAX_BYTES + 1000, 7))]))).toMatchObject({
      status: 413,
      body: { reason_code: "BODY_TOO_LARGE" },
    });
    expect(await postMultipart(type, multipart(b, [filePart(png)], false))).toMatchObject({
      status: 400,
      body: { reason_code: "BAD_REQUEST" },
    });
    expect(await postMultipart("multipart/form-data", multipart(b, [filePart(png)]))).toMatchObject({
      status: 400,
      body: { reason_code: "BAD_REQUEST" },
    });
    const long = "x".repeat(300); // busboy's boundary search takes at most 256 bytes
    expect(
      await postMultipart(`multipart/form-data; boundary=${long}`, multipart(long, [filePart(png)])),
    ).toMatchObject({ status: 400, body: { reason_code: "BAD_REQUEST" } });
    expect(await postMultipart(type, multipart(b, []))).toMatchObject({
      status: 400,
      body: { reason_code: "NO_FILE" },
    });
    // The well-formed one is answered, and nothing above was a 500.
    expect(await postMultipart(type, multipart(b, [filePart(png)]))).toMatchObject({
      status: 200,
      body: { decision: "match" },
    });
    expect(await metric('phmatch_requests_total{route="/v1/check",status="500"}')).toBe(0);
    expect(await healthy()).toBe(200);
  });

  it("answers a flood of uploads 200 or 503 + Retry-After, and a rate-limited token's flood 429 at once; " +
    "a healthy check gets through", async () => {
    const flood = await Promise.all(Array.from({ length: 16 }, () => upload(jpeg, FULL)));
    expect(
      flood.every((r) => r.status === 200 || (r.status === 503 && r.retryAfter === "1" && r.reason === "SATURATED")),
    ).toBe(true);
    expect(flood.some((r) => r.status === 200)).toBe(true);
    expect(flood.some((r) => r.status === 503)).toBe(true);

    // The app token (6 per minute, a burst of 1): its flood is refused before the bodies are read, so it never
    // takes the slots the backend's checks need.
    const limited = Promise.all(Array.from({ length: 16 }, () => upload(jpeg, LIMITED)));
    expect(await healthy()).toBe(200);
    const statuses = (await limited).map((r) => r.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(15);
    expect(statuses.every((s) => s === 429 || s === 200)).toBe(true);
    await until(async () => (await inFlight()) === 0, 10_000);
  }, 30_000);

  it(`closes connections beyond ${PER_IP} from one address at once, and serves another address`, async () => {
    const before = await clientErrors("CONNECTION_LIMIT");
    const held = Array.from({ length: PER_IP }, () => connection("", "127.0.0.3"));
    await Promise.all(held.map((c) => once(c.socket, "connect")));
    const over = connection("", "127.0.0.3");
    expect(await over.closed).toBeLessThan(1_000);
    expect(await over.answer).toEqual({ status: 0, body: undefined });
    expect(await healthy()).toBe(200);
    expect(await clientErrors("CONNECTION_LIMIT")).toBe(before + 1);
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    // The count goes down with them (once the server has seen them close): the address may connect again.
    await until(async () => {
      const again = connection(`GET /healthz HTTP/1.1\r\nHost: gate\r\n\r\n`, "127.0.0.3");
      const answer = await again.answer;
      again.socket.destroy();
      return answer.status === 200;
    }, 3_000);
  });

  it("counts an IPv6 /64 as one address, and IPv4-mapped addresses as IPv4", () => {
    expect(addressKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe(addressKey("2001:0db8:0001:0002::1"));
    expect(addressKey("2001:db8:1:2::1")).not.toBe(addressKey("2001:db8:1:3::1"));
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(addressKey("192.0.2.7")).toBe("192.0.2.7");
  });
});

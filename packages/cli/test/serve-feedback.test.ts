// Issue 21 part 2, a defence against false matches, end to end in process: the gate built on a list that holds the
// hash of a common benign picture (made here), reviewers' verdicts on POST /v1/feedback, quarantine (the next
// upload of the picture answers `review`), the on-match hook's alert, the audit log's events, and spread-based
// quarantine that one client re-encoding the picture cannot start.
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuditLog,
  generateSigningKeys,
  HashSetBuilder,
  parseHashValue,
  serializeStore,
  signStore,
} from "@phmatch/core";
import { FeedbackState, hashImageBytes } from "@phmatch/core/internal";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GateFeedback } from "../dist/serve/feedback.js";
import { OnMatchHook } from "../dist/serve/hook.js";
import { ListHolder } from "../dist/serve/lists.js";
import { createGate } from "../dist/serve/server.js";
import { TokenAuth } from "../dist/serve/tokens.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-serve-feedback-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const keys = generateSigningKeys();

// Tokens: three reviewers (feedback only), four upload clients (check only).
const reviewers = ["r1", "r2", "r3"];
const uploaders = ["u1", "u2", "u3", "u4"];
const secret = (name: string) => `${name}-token-0123456789abcdef`;
const auth = new TokenAuth(
  JSON.stringify({
    tokens: [
      ...reviewers.map((name) => ({ name, token: secret(name), detail: "full", scopes: ["feedback"] })),
      ...uploaders.map((name) => ({ name, token: secret(name), detail: "full" })),
    ],
  }),
  "test tokens",
);
const bearer = (name: string) => ({ authorization: `Bearer ${secret(name)}` });

// A common benign picture: a test card of coloured tiles over a gradient, the kind of stock image a list can hold by
// mistake (a plain blank would be too weak for PDQ to decide on: low_quality, never a match).
async function benignPicture(format: "png" | "jpeg" | "webp", quality = 90): Promise<Buffer> {
  const size = 256;
  const data = Buffer.alloc(size * size * 3);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const tile = ((x >> 5) * 7 + (y >> 5) * 13) % 5;
      const v = (x + y) / 2;
      data.set([(v + tile * 50) & 255, (255 - x + tile * 30) & 255, (y + tile * 90) & 255], (y * size + x) * 3);
    }
  const image = sharp(data, { raw: { width: size, height: size, channels: 3 } });
  return format === "png"
    ? image.png().toBuffer()
    : format === "jpeg"
      ? image.jpeg({ quality }).toBuffer()
      : image.webp({ quality }).toBuffer();
}

let png: Buffer;
let listFile: string;
beforeAll(async () => {
  png = await benignPicture("png");
  const record = await hashImageBytes(png, "benign.png", { algorithms: ["pdq"] });
  const builder = new HashSetBuilder();
  builder.addList({ listId: "hotline", version: 4 });
  const parsed = parseHashValue("pdq", record.hashes!.pdq!);
  if (!parsed.ok) throw new Error("no pdq");
  builder.addEntry({ algorithm: "pdq", value: parsed.value, listId: "hotline", entryId: "E-blank", category: "A1" });
  listFile = join(work, "hotline.phs");
  const bytes = serializeStore(builder);
  writeFileSync(listFile, bytes);
  writeFileSync(`${listFile}.sig`, signStore(bytes, keys.privateKeyPem));
});

// A hook receiver on loopback: every payload the gate's on-match hook delivers.
async function hookReceiver() {
  const payloads: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      payloads.push(JSON.parse(body) as Record<string, unknown>);
      res.end("ok");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return { payloads, url: `http://127.0.0.1:${port}/hook`, close: () => server.close() };
}

async function gate(name: string, feedbackOptions: { quarantineClients?: number; quarantineWindowMs?: number } = {}) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const lists = new ListHolder([listFile], () => ({}), { rotations: false, parts: false, trim: false });
  await lists.load();
  const audit = AuditLog.open(join(dir, "audit.ndjson"));
  const receiver = await hookReceiver();
  const hook = new OnMatchHook({ url: receiver.url, attempts: 1 });
  const feedback = new GateFeedback({
    state: new FeedbackState(join(dir, "feedback")),
    audit,
    hook,
    ...feedbackOptions,
  });
  const app = await createGate({
    lists,
    auth,
    maxBytes: 1 << 22,
    maxConcurrent: 4,
    timeoutMs: 30_000,
    audit,
    hook,
    feedback,
  });
  const upload = async (token: string, bytes: Buffer, remoteAddress = "127.0.0.1") =>
    (
      await app.inject({
        method: "POST",
        url: "/v1/check",
        headers: { ...bearer(token), "content-type": "image/png" },
        payload: bytes,
        remoteAddress,
      })
    ).json() as Record<string, unknown>;
  const verdict = async (token: string, body: Record<string, unknown>) => {
    const r = await app.inject({
      method: "POST",
      url: "/v1/feedback",
      headers: { ...bearer(token), "content-type": "application/json" },
      payload: body,
    });
    return { status: r.statusCode, body: r.json() as Record<string, unknown> };
  };
  const close = async () => {
    await app.close();
    await hook.drain();
    receiver.close();
    audit.close();
  };
  const records = () =>
    readFileSync(join(dir, "audit.ndjson"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { app, dir, upload, verdict, close, records, receiver, hook, lists };
}

const reject = (request_id: string) => ({
  verdict: "reject",
  list: "hotline",
  entry: "E-blank",
  request_id,
  reason: "a plain gradient, not CSAM",
});

describe("POST /v1/feedback: rejections by distinct reviewers hold an entry", () => {
  it("three rejections by three distinct reviewer tokens quarantine the entry: the next upload answers review", {
    timeout: 60_000,
  }, async () => {
    const g = await gate("three");
    try {
      const first = await g.upload("u1", png);
      expect(first).toMatchObject({ decision: "match", reason_code: "LIST_MATCH" });
      const id = first.request_id as string;
      // r1 twice and r2 once: two distinct reviewers, under the threshold of 3.
      expect((await g.verdict("r1", reject(id))).body).toMatchObject({ rejects: 1, quarantined: false });
      expect((await g.verdict("r1", reject(id))).body).toMatchObject({ rejects: 2, rejecting_reviewers: 1 });
      const two = await g.verdict("r2", reject(id));
      expect(two).toMatchObject({ status: 200, body: { rejecting_reviewers: 2, proposed: false, quarantined: false } });
      expect(await g.upload("u1", png)).toMatchObject({ decision: "match" });
      // A confirmation is counted, and changes nothing else.
      const confirmed = await g.verdict("r3", { ...reject(id), verdict: "confirm", reason: "checked" });
      expect(confirmed.body).toMatchObject({ confirms: 1, rejects: 3, quarantined: false });

      const third = await g.verdict("r3", reject(id));
      expect(third).toMatchObject({
        status: 200,
        body: { verdict: "reject", list_version: 4, rejecting_reviewers: 3, proposed: true, quarantined: true },
      });
      const held = await g.upload("u2", png);
      expect(held).toMatchObject({ decision: "review", reason_code: "QUARANTINED" });
      expect(held.notes).toEqual(expect.arrayContaining([expect.stringContaining("entry E-blank is held for review")]));
      await g.hook.drain();
      expect(g.receiver.payloads).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: "quarantine", list: "hotline", entry: "E-blank", cause: "rejections" }),
          expect.objectContaining({ decision: "review", reason_code: "QUARANTINED" }),
        ]),
      );
    } finally {
      await g.close();
    }
    const records = g.records();
    const events = (type: string) => records.filter((r) => r.type === type);
    expect(events("feedback")).toHaveLength(5);
    expect(events("feedback")[0]).toMatchObject({
      verdict: "reject",
      reviewer: "r1",
      list: "hotline",
      entry: "E-blank",
    });
    expect(events("proposal")).toEqual([
      expect.objectContaining({
        action: "disable",
        list: "hotline",
        listVersion: 4,
        entry: "E-blank",
        algorithm: "pdq",
      }),
    ]);
    expect(events("quarantine")).toEqual([expect.objectContaining({ entry: "E-blank", cause: "rejections" })]);
    expect(events("decision").map((r) => r.decision)).toEqual(["match", "match", "review"]);

    // The hold outlives a restart: a new gate on the same state folder answers review at once.
    const again = await gate("three");
    try {
      expect(await again.upload("u3", png)).toMatchObject({ decision: "review", reason_code: "QUARANTINED" });
    } finally {
      await again.close();
    }
  });

  it("refuses verdicts: no feedback scope, a reviewer field, an unknown list or entry", async () => {
    const g = await gate("scopes");
    try {
      const id = "req-1";
      expect(await g.verdict("u1", reject(id))).toMatchObject({
        status: 403,
        body: { reason_code: "SCOPE_NOT_GRANTED" },
      });
      const upload = await g.app.inject({
        method: "POST",
        url: "/v1/check",
        headers: { ...bearer("r1"), "content-type": "image/png" },
        payload: png,
      });
      expect(upload.statusCode).toBe(403);
      expect(upload.json()).toMatchObject({ reason_code: "SCOPE_NOT_GRANTED" });
      expect(await g.verdict("r1", { ...reject(id), reviewer: "someone-else" })).toMatchObject({
        status: 400,
        body: { reason_code: "REVIEWER_FIELD" },
      });
      expect(await g.verdict("r1", { ...reject(id), list: "other" })).toMatchObject({
        status: 404,
        body: { reason_code: "LIST_NOT_LOADED" },
      });
      expect(await g.verdict("r1", { ...reject(id), entry: "E-none" })).toMatchObject({
        status: 422,
        body: { reason_code: "ENTRY_NOT_FOUND" },
      });
      expect(await g.verdict("r1", { ...reject(id), verdict: "maybe" })).toMatchObject({ status: 400 });
      expect(new FeedbackState(join(g.dir, "feedback")).read().verdicts).toEqual([]);
    } finally {
      await g.close();
    }
  });
});

describe("quarantine by spread: distinct clients (token and address) within a window", () => {
  it("one client re-encoding the picture does not hold the entry; more than N distinct clients do", async () => {
    const g = await gate("spread", { quarantineClients: 2, quarantineWindowMs: 3_600_000 });
    try {
      // One token from one address, six copies in three formats: one client.
      for (const copy of [
        png,
        await benignPicture("jpeg", 90),
        await benignPicture("jpeg", 70),
        await benignPicture("webp", 80),
        png,
        await benignPicture("jpeg", 60),
      ])
        expect(await g.upload("u1", copy)).toMatchObject({ decision: "match" });
      // A second client: two distinct, not more than 2.
      expect(await g.upload("u2", png, "10.0.0.2")).toMatchObject({ decision: "match" });
      expect(await g.upload("u1", png)).toMatchObject({ decision: "match" });
      // A third distinct client: more than 2, the entry is held from this upload on.
      expect(await g.upload("u3", png, "10.0.0.3")).toMatchObject({ decision: "review", reason_code: "QUARANTINED" });
      expect(await g.upload("u1", png)).toMatchObject({ decision: "review" });
      const metrics = await g.app.inject({ method: "GET", url: "/metrics", headers: bearer("u1") });
      expect(metrics.body).toMatch(/^phmatch_entry_hits_total\{list="hotline",entry="E-blank"\} 10$/m);
      expect(metrics.body).toMatch(/^phmatch_quarantined_entries 1$/m);
      expect(metrics.body).toMatch(/^phmatch_decisions_total\{decision="review"\} 2$/m);
    } finally {
      await g.close();
    }
    const held = g.records().filter((r) => r.type === "quarantine");
    expect(held).toEqual([expect.objectContaining({ cause: "spread", entry: "E-blank" })]);
  });
});

// Issue 21 part 2, a defence against false matches, end to end in process: the gate built on a list that holds the
// hash of a common benign picture (made here), reviewers' verdicts on POST /v1/feedback, quarantine (the next
// upload of the picture answers `review`), the on-match hook's alert, the audit log's events, and spread-based
// quarantine that one client re-encoding the picture cannot start.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AuditLog,
  checkerFor,
  generateSigningKeys,
  HashSetBuilder,
  loadHashSet,
  parseHashValue,
  parseTrustedKeys,
  serializeStore,
  signStore,
} from "@phmatch/core";
import { addOverride, FeedbackState, hashImageBytes } from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv } from "../../../test/support/env.js";
import { GateFeedback } from "../dist/serve/feedback.js";
import { OnMatchHook } from "../dist/serve/hook.js";
import { ListHolder } from "../dist/serve/lists.js";
import { createGate } from "../dist/serve/server.js";
import { TokenAuth } from "../dist/serve/tokens.js";
import { bin, runCli } from "./support/run-cli.js";

// The gate's answers, `review` among the decisions (packages/core/schema/check-answer.schema.json).
const validAnswer = new Ajv2020({ strict: true }).compile(
  JSON.parse(readFileSync(new URL("../../core/schema/check-answer.schema.json", import.meta.url), "utf8")) as object,
);
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

async function gate(
  name: string,
  feedbackOptions: { quarantineClients?: number; quarantineWindowMs?: number; autoOverrideKeyPem?: string } = {},
) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  // A gate that writes overrides (--auto-override) gets its own copy of the list to write them beside.
  const store = feedbackOptions.autoOverrideKeyPem === undefined ? listFile : join(dir, "hotline.phs");
  if (store !== listFile) writeFileSync(store, readFileSync(listFile));
  const lists = new ListHolder([store], () => ({}), { rotations: false, parts: false, trim: false });
  const reloads: unknown[] = [];
  await lists.load();
  const audit = AuditLog.open(join(dir, "audit.ndjson"));
  const receiver = await hookReceiver();
  const hook = new OnMatchHook({ url: receiver.url, attempts: 1 });
  const feedback = new GateFeedback({
    state: new FeedbackState(join(dir, "feedback")),
    audit,
    hook,
    ...feedbackOptions,
    onOverride: () => void lists.reload().then((r) => reloads.push(r)),
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
  return { app, dir, upload, verdict, close, records, receiver, hook, lists, reloads, store };
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
      expect(validAnswer(held), JSON.stringify(validAnswer.errors)).toBe(true);
      expect(validAnswer(first)).toBe(true);
      expect(validAnswer({ ...held, reason_code: "LIST_MATCH" })).toBe(false);
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

describe("phmatch feedback and lists stats, against a running gate", () => {
  it("sends verdicts as a reviewer token, lists and applies the proposal, exports verdicts, counts hits", {
    timeout: 120_000,
  }, async () => {
    const g = await gate("cli");
    const feedbackDir = join(g.dir, "feedback");
    const address = await g.app.listen({ host: "127.0.0.1", port: 0 });
    const cli = async (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { env: { ...cleanEnv(), ...env } });
    try {
      const id = (await g.upload("u1", png, "10.0.0.1")).request_id as string;
      await g.upload("u2", png, "10.0.0.2");
      for (const [i, reviewer] of reviewers.entries()) {
        const tokenFile = join(g.dir, `${reviewer}.token`);
        writeFileSync(tokenFile, `${secret(reviewer)}\n`);
        const args = ["feedback", "reject", "--list", "hotline", "--entry", "E-blank", "--request-id", id];
        const sent = await cli([
          ...args,
          "--reason",
          `not CSAM, ticket ${i}`,
          "--server",
          address,
          "--token-file",
          tokenFile,
        ]);
        expect(sent.status).toBe(0);
        expect(JSON.parse(sent.stdout)).toMatchObject({ verdict: "reject", rejecting_reviewers: i + 1 });
      }
      // The token from the environment works too; a token on the command line is no option at all.
      const confirm = ["feedback", "confirm", "--list", "hotline", "--entry", "E-blank", "--request-id", id];
      const byEnv = await cli([...confirm, "--reason", "ok", "--server", address], { PHMATCH_TOKEN: secret("r1") });
      expect(JSON.parse(byEnv.stdout)).toMatchObject({ verdict: "confirm", confirms: 1 });
      expect((await cli([...confirm, "--reason", "ok", "--server", address, "--token", secret("r1")])).status).toBe(64);
      // A check-only token is refused by the gate, and the command says so.
      const refused = await cli([...confirm, "--reason", "ok", "--server", address], { PHMATCH_TOKEN: secret("u1") });
      expect(refused.status).toBe(64);
      expect(refused.stderr).toContain("403 SCOPE_NOT_GRANTED");

      const proposals = await cli(["feedback", "proposals", "--feedback-dir", feedbackDir]);
      expect(
        proposals.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l)),
      ).toEqual([
        expect.objectContaining({ action: "disable", list: "hotline", listVersion: 4, entry: "E-blank", rejects: 3 }),
      ]);
      const exported = await cli(["feedback", "export", "--list", "hotline", "--feedback-dir", feedbackDir]);
      const lines = exported.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toEqual([
        expect.objectContaining({ entry: "E-blank", listVersion: 4, confirms: 1, rejects: 3, reviewers: 3 }),
      ]);
      expect(lines[0]?.hashes).toEqual([{ algorithm: "pdq", hash: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
      expect(exported.stdout).not.toMatch(/"r[123]"/); // reviewers are counted, never named

      const stats = await cli([
        "lists",
        "stats",
        "--audit-log",
        join(g.dir, "audit.ndjson"),
        "--feedback-dir",
        feedbackDir,
      ]);
      expect(JSON.parse(stats.stdout)).toEqual({
        list: "hotline",
        entry: "E-blank",
        hits: 2,
        tokens: 2,
        addresses: 2,
        confirms: 1,
        rejects: 3,
        quarantined: true,
      });
      // An edited log (a hit's line removed) breaks the chain: no counts from it.
      const cut = join(g.dir, "audit-cut.ndjson");
      const logLines = readFileSync(join(g.dir, "audit.ndjson"), "utf8").split("\n");
      const hitAt = logLines.findIndex((l) => l.includes('"decision":"match"'));
      writeFileSync(cut, logLines.filter((_, i) => i !== hitAt).join("\n"));
      const edited = await cli(["lists", "stats", "--audit-log", cut, "--feedback-dir", feedbackDir]);
      expect(edited.status).toBe(3);
      expect(edited.stderr).toMatch(
        new RegExp(`PHM_AUDIT_ALTERED.*audit-cut.ndjson:${hitAt + 1}: the hash chain breaks`),
      );
    } finally {
      await g.close();
    }

    // Applied with an overrides key: a disable naming list hotline release 4, signed; the list key is refused.
    const overrider = generateSigningKeys();
    writeFileSync(join(g.dir, "overrides.pem"), overrider.privateKeyPem);
    writeFileSync(join(g.dir, "overrides.pub"), overrider.publicKeyPem);
    writeFileSync(join(g.dir, "list.pem"), keys.privateKeyPem);
    writeFileSync(join(g.dir, "list.pub"), keys.publicKeyPem);
    const store = join(g.dir, "hotline.phs");
    writeFileSync(store, readFileSync(listFile));
    writeFileSync(`${store}.sig`, readFileSync(`${listFile}.sig`));
    const apply = [
      "feedback",
      "apply",
      store,
      "--feedback-dir",
      feedbackDir,
      "--trusted-keys",
      join(g.dir, "list.pub"),
    ];
    const byListKey = await runCli([...apply, "--sign-key", join(g.dir, "list.pem")]);
    expect(byListKey.status).toBe(64);
    expect(byListKey.stderr).toContain("a list key");
    const applied = await runCli([...apply, "--sign-key", join(g.dir, "overrides.pem")]);
    expect(applied.status).toBe(0);
    expect(applied.stdout).toContain("applied 1 proposal(s)");
    const [, override] = readFileSync(`${store}.overrides.ndjson`, "utf8").trim().split("\n");
    expect(JSON.parse(override as string)).toMatchObject({ action: "disable", listId: "hotline", listVersion: 4 });
    const roles = {
      trustedKeys: parseTrustedKeys(keys.publicKeyPem),
      trustedOverrideKeys: parseTrustedKeys(overrider.publicKeyPem),
    };
    const loaded = await loadHashSet(store, roles);
    const record = await hashImageBytes(png, "again.png", { algorithms: ["pdq"] });
    expect(checkerFor([loaded]).matchRecord(record).decision).toBe("no_match");
    expect((await runCli(["feedback", "proposals", "--feedback-dir", feedbackDir])).stdout).toBe("");
  });
});

describe("serve's feedback options", () => {
  it("refuses at start an --auto-override key that is a list key, or not trusted for overrides", async () => {
    const dir = join(work, "options");
    mkdirSync(dir, { recursive: true });
    const other = generateSigningKeys();
    writeFileSync(join(dir, "list.pem"), keys.privateKeyPem);
    writeFileSync(join(dir, "list.pub"), keys.publicKeyPem);
    writeFileSync(join(dir, "overrides.pem"), other.privateKeyPem);
    writeFileSync(join(dir, "overrides.pub"), other.publicKeyPem);
    const serve = ["serve", "--hashset", listFile, "--state-dir", join(dir, "state"), "--no-auth", "--port", "0"];
    const trusted = ["--trusted-keys", join(dir, "list.pub")];
    const env = { env: cleanEnv() };
    const listKey = await runCli([...serve, ...trusted, "--auto-override", join(dir, "list.pem")], env);
    expect(listKey).toMatchObject({ status: 64, stderr: expect.stringContaining("is a list key") });
    const untrusted = await runCli([...serve, ...trusted, "--auto-override", join(dir, "overrides.pem")], env);
    expect(untrusted).toMatchObject({
      status: 64,
      stderr: expect.stringContaining("not among --trusted-override-keys"),
    });
    const both = await runCli([...serve, ...trusted, "--trusted-override-keys", join(dir, "list.pub")], env);
    expect(both).toMatchObject({ status: 64, stderr: expect.stringContaining("a key has one role") });
    const window = await runCli([...serve, "--quarantine-clients", "3"], env);
    expect(window).toMatchObject({ status: 64, stderr: expect.stringContaining("go together") });
  });
});

describe("phmatch serve itself (spawned), with phmatch feedback", () => {
  it("three reviewers' rejections by the CLI hold the entry: the next upload answers review, after a restart too", {
    timeout: 120_000,
  }, async () => {
    const dir = join(work, "spawned");
    mkdirSync(dir, { recursive: true });
    const tokens = join(dir, "tokens.json");
    writeFileSync(
      tokens,
      JSON.stringify({
        tokens: [
          ...reviewers.map((name) => ({ name, token: secret(name), detail: "full", scopes: ["feedback"] })),
          { name: "u1", token: secret("u1"), detail: "full" },
        ],
      }),
    );
    const start = async () => {
      const child = spawn(
        process.execPath,
        [
          bin,
          "serve",
          "--port",
          "0",
          "--hashset",
          listFile,
          "--state-dir",
          join(dir, "state"),
          "--tokens",
          tokens,
          "--no-watch",
          "--threads",
          "1",
          "--audit-log",
          join(dir, "audit.ndjson"),
        ],
        { env: cleanEnv(), stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      while (!/listening on (\S+)/.test(stderr)) {
        if (child.exitCode !== null) throw new Error(`serve did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = /listening on (\S+)/.exec(stderr)![1] as string;
      const upload = async () =>
        (await (
          await fetch(`${url}/v1/check`, {
            method: "POST",
            headers: { ...bearer("u1"), "content-type": "image/png" },
            body: png,
          })
        ).json()) as Record<string, unknown>;
      const stop = async () => {
        child.kill("SIGTERM");
        await once(child, "exit");
      };
      return { url, upload, stop };
    };
    let gateProcess = await start();
    try {
      const first = await gateProcess.upload();
      expect(first).toMatchObject({ decision: "match" });
      for (const reviewer of reviewers) {
        const sent = await runCli(
          [
            "feedback",
            "reject",
            "--list",
            "hotline",
            "--entry",
            "E-blank",
            "--request-id",
            first.request_id as string,
            "--reason",
            "a test card",
            "--server",
            gateProcess.url,
          ],
          { env: cleanEnv({ PHMATCH_TOKEN: secret(reviewer) }) },
        );
        expect(sent.status, sent.stderr).toBe(0);
      }
      expect(await gateProcess.upload()).toMatchObject({ decision: "review", reason_code: "QUARANTINED" });
      await gateProcess.stop();
      gateProcess = await start();
      expect(await gateProcess.upload()).toMatchObject({ decision: "review", reason_code: "QUARANTINED" });
    } finally {
      await gateProcess.stop();
    }
    const types = readFileSync(join(dir, "audit.ndjson"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; decision?: string })
      .map((r) => (r.type === "decision" ? r.decision : r.type))
      .filter((t) => !["open", "close", "checkpoint", "resumed"].includes(t as string));
    expect(types).toEqual(["match", "feedback", "feedback", "feedback", "proposal", "quarantine", "review", "review"]);
  });
});

describe("serve --auto-override", () => {
  it("signs the proposal into the overrides file at once and reloads: the entry stops matching", async () => {
    const overrider = generateSigningKeys();
    const g = await gate("auto", { autoOverrideKeyPem: overrider.privateKeyPem });
    try {
      const id = (await g.upload("u1", png)).request_id as string;
      await g.verdict("r1", reject(id));
      await g.verdict("r2", reject(id));
      expect((await g.verdict("r3", reject(id))).body).toMatchObject({ proposed: true, override_applied: true });
      while (g.reloads.length === 0) await new Promise((r) => setTimeout(r, 20));
      expect(g.reloads).toEqual([{ ok: true, changed: true }]);
      const [, override] = readFileSync(`${g.store}.overrides.ndjson`, "utf8").trim().split("\n");
      expect(JSON.parse(override as string)).toMatchObject({
        action: "disable",
        listId: "hotline",
        listVersion: 4,
        entryId: "E-blank",
      });
      const roles = { trustedOverrideKeys: parseTrustedKeys(overrider.publicKeyPem) };
      expect((await loadHashSet(g.store, roles)).overridesProvenance?.signedBy).toMatch(/^[0-9a-f]{16}$/);
      const after = await g.upload("u1", png);
      expect(after).toMatchObject({ decision: "no_match" });
      expect(after.matches).toEqual([expect.objectContaining({ entryId: "E-blank", override: expect.anything() })]);
      expect(new FeedbackState(join(g.dir, "feedback")).read().proposals[0]?.applied).toBeDefined();
    } finally {
      await g.close();
    }
  });
});

describe("an override about another release", () => {
  it("is not applied by check, which says so on stderr and still answers the match", async () => {
    const dir = join(work, "other-release");
    mkdirSync(dir, { recursive: true });
    const store = join(dir, "hotline.phs");
    writeFileSync(store, readFileSync(listFile));
    const record = await hashImageBytes(png, "benign.png", { algorithms: ["pdq"] });
    const about = { action: "disable" as const, algorithm: "pdq", hash: record.hashes!.pdq!, listId: "hotline" };
    const decided = { who: "reviewer", when: "2026-12-01T00:00:00Z", why: "rejected in release 3" };
    await addOverride(store, { ...about, ...decided, listVersion: 3 }, { lists: ["hotline"] });
    const image = join(dir, "upload.png");
    writeFileSync(image, png);
    const check = await runCli(["check", image, "--hashset", store, "--no-rotations", "--no-parts"], {
      env: cleanEnv(),
    });
    expect(check.status).toBe(1); // a match, as the list says
    expect(check.stderr).toContain("release 3, and release 4 is loaded: not applied");
  });
});

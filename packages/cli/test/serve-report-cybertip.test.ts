// serve's POST /v1/report/cybertip (issue 21, part 3): the CyberTipline report XML and the preservation record of a
// match the gate answered, named by its request id, for full tokens holding the `report` scope only. The record
// points at the match's decision in the gate's audit log (seq + SHA-256 of its line), which holds; the record itself
// is appended as a `preservation` event. Nothing is submitted from serve, no file bytes pass through it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog, verifyAuditLog } from "@phmatch/core";
import { HashSetBuilder, serializeStore } from "@phmatch/core/internal";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { positionHolds } from "../dist/report/cybertip-preservation.js";
import { checkCybertipStructure } from "../dist/report/cybertip-schema.js";
import { RecentMatches } from "../dist/report/cybertip-serve.js";
import { parseXml } from "../dist/report/cybertip-xml.js";
import { ListHolder } from "../dist/serve/lists.js";
import { createGate } from "../dist/serve/server.js";
import { TokenAuth } from "../dist/serve/tokens.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-serve-cybertip-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const LISTED = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
const T = "token-0123456789abcdef";
const tokens = new TokenAuth(
  JSON.stringify({
    tokens: [
      { name: "reporter", token: `${T}-reporter`, detail: "full", scopes: ["check", "report"] },
      { name: "backend", token: `${T}-backend`, detail: "full" },
      { name: "device", token: `${T}-device`, detail: "decision", scopes: ["check", "report"] },
    ],
  }),
  "tokens.json",
);
const PLATFORM = {
  reporter: { firstName: "Trust", lastName: "Safety", email: "ts@example.org" },
  incidentTime: "2026-12-05T10:00:00Z",
  contentId: "c-9",
  uploader: { screenName: "</reporter><x/>" },
};

const logFile = join(work, "audit.ndjson");
let app: FastifyInstance;
let audit: AuditLog;
beforeAll(async () => {
  const builder = new HashSetBuilder();
  builder.addList({ listId: "L", version: 2 });
  builder.addEntry({
    algorithm: "pdq",
    value: Buffer.from(LISTED, "hex"),
    listId: "L",
    entryId: "e-1",
    category: "A1",
  });
  const file = join(work, "list.phs");
  writeFileSync(file, serializeStore(builder));
  const lists = new ListHolder([file], () => ({}), {});
  await lists.load();
  audit = AuditLog.open(logFile);
  app = await createGate({ lists, auth: tokens, maxBytes: 1 << 20, maxConcurrent: 2, timeoutMs: 10_000, audit });
}, 60_000);
afterAll(async () => {
  await app?.close();
  audit?.close();
});

const post = (token: string, url: string, payload: object) =>
  app.inject({ method: "POST", url, headers: { authorization: `Bearer ${T}-${token}` }, payload });

describe("POST /v1/report/cybertip", () => {
  it("answers a full token with the report scope: XML and preservation record of a match by request id", async () => {
    const matched = await post("reporter", "/v1/match", { hashes: { pdq: LISTED } });
    expect(matched.json()).toMatchObject({ decision: "match" });
    const requestId = matched.json().request_id as string;
    const reply = await post("reporter", "/v1/report/cybertip", {
      request_id: requestId,
      platform: PLATFORM,
      viewed: false,
      public: true,
    });
    expect(reply.statusCode).toBe(200);
    const body = reply.json();
    const doc = parseXml(body.report_xml);
    expect(checkCybertipStructure(doc, "report")).toEqual([]);
    expect(body.report_xml).toContain("matches list L release 2, entry e-1, category A1; pdq distance 0");
    expect(body.report_xml).toContain("&lt;/reporter&gt;&lt;x/&gt;");
    expect(body.preservation).toMatchObject({
      requestId,
      contentId: "c-9",
      lists: [{ listId: "L", version: 2 }],
      viewedByEsp: false,
      publiclyAvailable: true,
      report: { state: "built" },
    });
    const text = readFileSync(logFile, "utf8");
    const decision = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .find((r) => r.requestId === requestId && r.type === "decision");
    expect(body.preservation.decision.seq).toBe(decision.seq);
    expect(positionHolds(text, body.preservation.decision)).toBe(true);
    expect(positionHolds(text, body.preservation_audit)).toBe(true);
    // The chain holds; the gate is still writing, so the log has no closing checkpoint yet.
    const problems = verifyAuditLog(text).problems.map((p) => p.problem);
    expect(problems.filter((p) => !/the writer is still running/.test(p))).toEqual([]);
  });

  it("refuses tokens without the report scope or not full, before the body; requires viewed and public", async () => {
    const payload = { request_id: "x", platform: PLATFORM, viewed: false, public: false };
    const backend = await post("backend", "/v1/report/cybertip", payload);
    expect(backend.statusCode).toBe(403);
    expect(backend.json()).toMatchObject({ reason_code: "SCOPE_NOT_GRANTED" });
    const device = await post("device", "/v1/report/cybertip", payload);
    expect(device.statusCode).toBe(403);
    expect(device.json()).toMatchObject({ reason_code: "FORBIDDEN" });
    const none = await app.inject({ method: "POST", url: "/v1/report/cybertip", payload });
    expect(none.statusCode).toBe(401);
    const noFacts = await post("reporter", "/v1/report/cybertip", { request_id: "x", platform: PLATFORM });
    expect(noFacts.statusCode).toBe(400);
    expect(noFacts.json()).toMatchObject({ reason_code: "REPORT_INPUT" });
    expect(noFacts.json().message).toMatch(/viewed and public must be given as true or false, with no default/);
    const unknown = await post("reporter", "/v1/report/cybertip", payload);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ reason_code: "MATCH_NOT_FOUND" });
  });

  it("remembers a bounded number of matches, the oldest forgotten first", () => {
    const recent = new RecentMatches(2);
    for (const id of ["a", "b", "c"]) recent.remember(id, { matches: [], time: "", position: undefined });
    expect([recent.get("a"), recent.size]).toEqual([undefined, 2]);
    expect(recent.get("c")).toBeDefined();
  });
});

// `phmatch report cybertip`: the CyberTipline report for a match (issue 21, part 3). The report XML is checked by
// phmatch's own structure checker (written from NCMEC's public documentation), platform strings cannot break out
// of their elements, --viewed/--public have no default, and --submit speaks submit / upload / fileinfo / finish to
// a local server written from the documentation (test/support/cybertip-server.ts), streaming the file from a path
// or stdin, retracting on failure. The preservation record points at the match's decision in the audit log.
import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog, verifyAuditLog } from "@phmatch/core";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { findMatchDecision, positionHolds } from "../dist/report/cybertip-preservation.js";
import { checkCybertipStructure } from "../dist/report/cybertip-schema.js";
import { childrenNamed, parseXml, textOf, type XmlElement } from "../dist/report/cybertip-xml.js";
import { startCybertipServer } from "./support/cybertip-server.js";
import { runCli } from "./support/run-cli.js";

const root = mkdtempSync(join(tmpdir(), "phmatch-cybertip-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const REQUEST_ID = "7f1c2d3e-0000-4000-8000-1234567890ab";
const HIT = {
  list: "demo-list",
  listVersion: 3,
  entryId: "e-42",
  category: "A1",
  algorithm: "pdq",
  distance: 12,
  policy: "pdq:d31:q50@1",
};
const PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22";
const HOSTILE = `</screenName></personOrUserReported><additionalInfo>forged</additionalInfo><x a="'&amp;`;
const matchFile = join(root, "match.json");
writeFileSync(
  matchFile,
  JSON.stringify({
    request_id: REQUEST_ID,
    decision: "match",
    reason_code: "LIST_MATCH",
    matches: [HIT],
    hashes: { pdq: PDQ },
  }),
);
const PLATFORM = {
  reporter: { firstName: "Trust", lastName: "Safety", email: "ts@example.org" },
  service: "ExamplePhotos",
  incidentTime: "2026-12-05T10:00:00Z",
  uploader: { id: "u-1", screenName: HOSTILE },
  contentId: "c-123",
  fileName: "upload.png",
  upload: { ip: "192.0.2.7", time: "2026-12-05T09:59:58Z" },
};
const platformFile = join(root, "platform.json");
writeFileSync(platformFile, JSON.stringify(PLATFORM));
const BASE = ["report", "cybertip", "--match", matchFile, "--platform", platformFile];
const USER = "esp-user";
const PASSWORD = "s3cret-pa55word-never-printed";
const env = cleanEnv({ PHMATCH_CYBERTIP_USERNAME: USER, PHMATCH_CYBERTIP_PASSWORD: PASSWORD });
const png = readFileSync(fixtures("images/shapes.png"));
const pngFile = fixtures("images/shapes.png");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
let n = 0;
const fresh = (name: string) => join(root, `${++n}-${name}`);

const child = (node: XmlElement, ...path: string[]): XmlElement | undefined =>
  path.reduce<XmlElement | undefined>((at, name) => (at === undefined ? undefined : childrenNamed(at, name)[0]), node);

describe("phmatch report cybertip: the report XML", () => {
  it("builds a report for a match that the structure checker passes, naming the list entry and hashes", async () => {
    const out = fresh("report.xml");
    const built = await runCli([...BASE, "--viewed", "no", "--public", "yes", "-o", out]);
    expect(built.stderr).toBe("");
    expect(built.status).toBe(0);
    const xml = readFileSync(out, "utf8");
    const doc = parseXml(xml);
    expect(checkCybertipStructure(doc, "report")).toEqual([]);
    expect(textOf(child(doc, "incidentSummary", "incidentDateTime") as XmlElement)).toBe("2026-12-05T10:00:00Z");
    const info = textOf(child(doc, "additionalInfo") as XmlElement);
    expect(info).toContain("matches list demo-list release 3, entry e-42, category A1; pdq distance 12");
    expect(info).toContain(PDQ);
    const checked = await runCli(["report", "cybertip", "--check", out]);
    expect(checked.status).toBe(0);
    expect(checked.stdout).toContain("OK, a report document");
  });

  it("keeps a hostile screen name as text: no element can be injected", async () => {
    const built = await runCli([...BASE, "--viewed", "no", "--public", "no"]);
    expect(built.status).toBe(0);
    const doc = parseXml(built.stdout);
    const reported = child(doc, "personOrUserReported") as XmlElement;
    expect(textOf(child(reported, "screenName") as XmlElement)).toBe(HOSTILE);
    expect(childrenNamed(reported, "additionalInfo")).toEqual([]);
    expect(childrenNamed(doc, "additionalInfo")).toHaveLength(1);
    expect(built.stdout).not.toContain("<x ");
    // A character XML cannot carry is refused, not dropped.
    const control = fresh("platform.json");
    writeFileSync(control, JSON.stringify({ ...PLATFORM, uploader: { screenName: "a\u0001b" } }));
    const refused = await runCli([...BASE.slice(0, 4), "--platform", control, "--viewed", "no", "--public", "no"]);
    expect(refused.status).toBe(64);
    expect(refused.stderr).toMatch(/PHM_USAGE: .*screenName holds a character XML cannot carry/);
  });

  it("requires --viewed and --public, with no default, naming what is missing", async () => {
    const neither = await runCli(BASE);
    expect(neither.status).toBe(64);
    expect(neither.stderr).toMatch(/PHM_USAGE: --viewed yes\|no and --public yes\|no are required, with no default/);
    expect(neither.stdout).toBe("");
    const one = await runCli([...BASE, "--viewed", "yes"]);
    expect(one.status).toBe(64);
    expect(one.stderr).toMatch(/--public yes\|no is required/);
    const wrong = await runCli([...BASE, "--viewed", "true", "--public", "no"]);
    expect(wrong.status).toBe(64);
    expect(wrong.stderr).toMatch(/--viewed must be yes or no/);
  });

  it("--check catches a missing required element and elements out of order", async () => {
    const built = await runCli([...BASE, "--viewed", "no", "--public", "no"]);
    const xml = built.stdout;
    const missing = fresh("missing.xml");
    writeFileSync(missing, xml.replace(/\s*<incidentDateTime>[^<]*<\/incidentDateTime>/, ""));
    const a = await runCli(["report", "cybertip", "--check", missing]);
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(
      /PHM_REPORT_INVALID: .*\/report\/incidentSummary\[1\]: lacks the required element incidentDateTime/,
    );
    const reporter = /\s*<reporter>[\s\S]*<\/reporter>/.exec(xml)?.[0] as string;
    const swapped = fresh("order.xml");
    writeFileSync(swapped, xml.replace(reporter, "").replace("<report>", `<report>${reporter}`));
    const b = await runCli(["report", "cybertip", "--check", swapped]);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/PHM_REPORT_INVALID: .*incidentSummary\[2\]: is out of order/);
    const badValue = fresh("value.xml");
    writeFileSync(badValue, xml.replace("2026-12-05T10:00:00Z", "5 Dec 2026"));
    const c = await runCli(["report", "cybertip", "--check", badValue]);
    expect(c.status).toBe(2);
    expect(c.stderr).toMatch(/not a date-time with a time zone/);
    const doctype = fresh("doctype.xml");
    writeFileSync(doctype, `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]>${xml.replace(/^<\?xml[^>]*\?>/, "")}`);
    const d = await runCli(["report", "cybertip", "--check", doctype]);
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/PHM_REPORT_XML: .*DOCTYPE/);
  });

  it("--dry-run prints the submit sequence: methods, URLs, bodies; no credentials, no file bytes", async () => {
    const r = await runCli(
      [
        ...BASE,
        "--viewed",
        "yes",
        "--public",
        "no",
        "--submit",
        "https://exttest.cybertip.org/ispws",
        "--file",
        pngFile,
        "--dry-run",
      ],
      { env },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const posts = [...r.stdout.matchAll(/^POST (\S+)$/gm)].map((m) => m[1]);
    expect(posts).toEqual(
      ["submit", "upload", "fileinfo", "finish"].map((p) => `https://exttest.cybertip.org/ispws/${p}`),
    );
    expect(r.stdout).toContain("<fileViewedByEsp>true</fileViewedByEsp>");
    expect(r.stdout).toContain("<publiclyAvailable>false</publiclyAvailable>");
    expect(r.stdout).toContain('<originalFileHash hashType="MD5">{MD5 of the bytes streamed}</originalFileHash>');
    expect(r.stdout).not.toContain(PASSWORD);
    expect(r.stdout).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString("base64"));
    expect(r.stdout).not.toContain(png.subarray(0, 8).toString("latin1"));
  });
});

describe("the XML reader behind --check and the server's answers", () => {
  it("reads the five entities and character references, refuses what the documents have no use for", () => {
    expect(textOf(parseXml("<a>&lt;&amp;&#x41;&#66;&quot;</a>"))).toBe('<&AB"');
    for (const [xml, problem] of [
      ["<a>&ext;</a>", /unknown entity/],
      ["<a>x & y</a>", /bare '&'/],
      ["<a>&#0;</a>", /character XML cannot carry/],
      ["<!DOCTYPE a><a/>", /DOCTYPE/],
      ["<a><!-- c --></a>", /DOCTYPE, comment/],
      ["<a><![CDATA[x]]></a>", /CDATA/],
      ["<a><b>x</a>", /closes <b> with <\/a>/],
      ["<a>t<b/></a>", /mixes text and elements/],
      ["<a/><b/>", /something after its root/],
      [`${"<a>".repeat(40)}${"</a>".repeat(40)}`, /nests deeper than 32/],
    ] as const)
      expect(() => parseXml(xml), xml).toThrow(problem);
  });
});

describe("phmatch report cybertip --submit against a local server written from the documentation", () => {
  it("submits, streams the file from a path, puts its hash in fileinfo, finishes; keeps the report id", async () => {
    const server = await startCybertipServer({ username: USER, password: PASSWORD });
    try {
      const preservation = fresh("preservation.json");
      const r = await runCli(
        [
          ...BASE,
          "--viewed",
          "no",
          "--public",
          "no",
          "--submit",
          server.url,
          "--file",
          pngFile,
          "--preservation",
          preservation,
        ],
        { env },
      );
      expect(r.stderr).not.toContain(PASSWORD);
      expect(r.status).toBe(0);
      expect(server.violations).toEqual([]);
      expect(server.calls.map((c) => `${c.path} ${c.status}`)).toEqual([
        "/submit 200",
        "/upload 200",
        "/fileinfo 200",
        "/finish 200",
      ]);
      expect(server.uploads).toEqual([expect.objectContaining({ sha256: sha256(png), bytes: png.length })]);
      expect(server.calls[2]?.body).toContain(`<originalFileHash hashType="SHA256">${sha256(png)}</originalFileHash>`);
      expect(JSON.parse(r.stdout)).toMatchObject({ reportId: "4242", fileId: "file-1", sha256: sha256(png) });
      const record = JSON.parse(readFileSync(preservation, "utf8"));
      expect(record).toMatchObject({
        contentId: "c-123",
        requestId: REQUEST_ID,
        matches: [HIT],
        lists: [{ listId: "demo-list", version: 3 }],
        policies: ["pdq:d31:q50@1"],
        viewedByEsp: false,
        publiclyAvailable: false,
        report: { state: "submitted", reportId: "4242", fileId: "file-1", fileHashes: { sha256: sha256(png) } },
      });
    } finally {
      await server.close();
    }
  });

  it("streams the file from stdin (--file -), the server's hash of the bytes checked", async () => {
    const server = await startCybertipServer({ username: USER, password: PASSWORD });
    try {
      const r = await runCli([...BASE, "--viewed", "no", "--public", "no", "--submit", server.url, "--file", "-"], {
        env,
        input: png,
      });
      expect(r.status).toBe(0);
      expect(server.violations).toEqual([]);
      expect(server.uploads.map((u) => u.sha256)).toEqual([sha256(png)]);
    } finally {
      await server.close();
    }
  });

  it("a failure after submit retracts the report; a failed retract says the report is still open", async () => {
    const server = await startCybertipServer({ username: USER, password: PASSWORD, failAt: "fileinfo" });
    const preservation = fresh("failed.json");
    try {
      const r = await runCli(
        [
          ...BASE,
          "--viewed",
          "no",
          "--public",
          "no",
          "--submit",
          server.url,
          "--file",
          pngFile,
          "--preservation",
          preservation,
        ],
        { env },
      );
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(
        /PHM_REPORT_SUBMIT: CyberTipline fileinfo failed: .*responseCode 1100.*report 4242 was retracted/,
      );
      expect(server.calls.map((c) => c.path)).toEqual(["/submit", "/upload", "/fileinfo", "/retract"]);
      expect(JSON.parse(readFileSync(preservation, "utf8")).report).toMatchObject({
        state: "retracted",
        reportId: "4242",
      });
    } finally {
      await server.close();
    }
    const other = await startCybertipServer({ username: USER, password: PASSWORD, wrongHash: true });
    try {
      const r = await runCli([...BASE, "--viewed", "no", "--public", "no", "--submit", other.url, "--file", pngFile], {
        env,
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(
        /CyberTipline upload failed: the server received other bytes .*report 4242 was retracted/,
      );
      expect(other.calls.map((c) => c.path)).toEqual(["/submit", "/upload", "/retract"]);
    } finally {
      await other.close();
    }
    const stuck = await startCybertipServer({
      username: USER,
      password: PASSWORD,
      failAt: "finish",
      retractFails: true,
    });
    try {
      const r = await runCli([...BASE, "--viewed", "no", "--public", "no", "--submit", stuck.url, "--file", pngFile], {
        env,
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/CyberTipline finish failed: .*report 4242 is still OPEN at NCMEC/);
    } finally {
      await stuck.close();
    }
  });

  it("refused credentials stop at submit, no report opened; credentials never from the command line", async () => {
    const server = await startCybertipServer({ username: USER, password: "another-password" });
    try {
      const r = await runCli([...BASE, "--viewed", "no", "--public", "no", "--submit", server.url, "--file", pngFile], {
        env,
      });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(
        /CyberTipline submit failed: the server refused the credentials \(HTTP 401\); no report was opened/,
      );
      expect(server.calls.map((c) => c.path)).toEqual(["/submit"]);
      const none = await runCli(
        [...BASE, "--viewed", "no", "--public", "no", "--submit", server.url, "--file", pngFile],
        {
          env: cleanEnv({}),
        },
      );
      expect(none.status).toBe(64);
      expect(none.stderr).toMatch(/no CyberTipline credentials/);
      const open = fresh("credentials.json");
      writeFileSync(open, JSON.stringify({ username: USER, password: PASSWORD }));
      chmodSync(open, 0o644);
      const loose = await runCli(
        [...BASE, "--viewed", "no", "--public", "no", "--submit", server.url, "--file", pngFile, "--credentials", open],
        { env: cleanEnv({}) },
      );
      expect(loose.status).toBe(64);
      expect(loose.stderr).toMatch(/can be read by other users \(mode 644\)/);
      const plain = await runCli(
        [...BASE, "--viewed", "no", "--public", "no", "--submit", "http://report.example/ispws", "--file", pngFile],
        { env },
      );
      expect(plain.status).toBe(64);
      expect(plain.stderr).toMatch(/is not https/);
      expect(server.calls).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe("phmatch report cybertip: the preservation record", () => {
  it("points at the match's decision record in the audit log, which verifies; appended as an event", async () => {
    const log = fresh("audit.ndjson");
    const audit = AuditLog.open(log);
    audit.record({ source: "serve", requestId: "other", decision: "no_match", reasonCode: "NO_MATCH", lists: [] });
    const decided = audit.record({
      source: "serve",
      requestId: REQUEST_ID,
      decision: "match",
      reasonCode: "LIST_MATCH",
      lists: [{ listId: "demo-list", version: 3 }],
      matches: [HIT],
    });
    audit.record({ source: "serve", requestId: "later", decision: "no_match", reasonCode: "NO_MATCH", lists: [] });
    audit.close();
    const preservation = fresh("preservation.json");
    const r = await runCli([
      ...BASE,
      "--viewed",
      "no",
      "--public",
      "no",
      "--audit-log",
      log,
      "--preservation",
      preservation,
      "-o",
      fresh("r.xml"),
    ]);
    expect(r.status).toBe(0);
    const record = JSON.parse(readFileSync(preservation, "utf8"));
    expect(record.decision).toEqual(decided);
    const text = readFileSync(log, "utf8");
    expect(positionHolds(text, record.decision)).toBe(true);
    expect(findMatchDecision(text, REQUEST_ID)).toEqual(decided);
    // An edited decision record no longer holds at that position.
    expect(positionHolds(text.replace('"distance":12', '"distance":2'), record.decision)).toBe(false);
    const events = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === "preservation");
    expect(events).toEqual([
      expect.objectContaining({ decision: decided, contentId: "c-123", report: { state: "built" } }),
    ]);
    expect(verifyAuditLog(text).problems).toEqual([]);
    // A second record for the same file is a new file, never an overwrite: refused before anything is sent.
    const server = await startCybertipServer({ username: USER, password: PASSWORD });
    try {
      const again = await runCli(
        [...BASE, "--viewed", "no", "--public", "no", "--preservation", preservation, "--submit", server.url],
        { env },
      );
      expect(again.status).toBe(64);
      expect(again.stderr).toMatch(/exists \(an earlier record is never overwritten\)/);
      expect(server.calls).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

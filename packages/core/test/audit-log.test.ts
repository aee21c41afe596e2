// The decision audit log: a SHA-256 chain with signed checkpoints. Verification passes on the log as written and
// fails on a deleted, an edited, a reordered record and a cut tail (also a cut at a checkpoint, caught by --head).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AuditLog, generateSigningKeys, parseTrustedKeys, verifyAuditLog, type AuditDecision } from "@phmatch/core";

const dir = mkdtempSync(join(tmpdir(), "phmatch-audit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keys = generateSigningKeys();
const trusted = parseTrustedKeys(keys.publicKeyPem);

const decision = (i: number): AuditDecision =>
  i % 3 === 0
    ? { source: "serve", requestId: `r${i}`, decision: "match", reasonCode: "LIST_MATCH", lists: [{ listId: "L", version: 2 }], hashes: { pdq: "ab".repeat(32) }, matches: [{ listId: "L", entryId: "E1" }] }
    : { source: "serve", requestId: `r${i}`, decision: "no_match", reasonCode: "NO_MATCH", lists: [{ listId: "L", version: 2 }], hashes: { pdq: "cd".repeat(32) } };

function writeLog(name: string, records = 10): { file: string; head: string; lines: string[] } {
  const file = join(dir, name);
  const log = AuditLog.open(file, { signingKeyPem: keys.privateKeyPem, checkpointEvery: 4 });
  for (let i = 0; i < records; i++) log.record(decision(i));
  log.close();
  const head = log.head;
  return { file, head, lines: readFileSync(file, "utf8").trimEnd().split("\n") };
}

describe("AuditLog", () => {
  it("verifies as written: chain, periodic checkpoints, closing checkpoint; no hashes of non-matches", () => {
    const { lines, head } = writeLog("ok.ndjson");
    const result = verifyAuditLog(lines.join("\n") + "\n", trusted, { head });
    expect(result).toMatchObject({ ok: true, decisions: 10, checkpoints: 3, closed: true, problems: [] });
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records[0]).toMatchObject({ seq: 0, type: "open", prev: "0".repeat(64) });
    expect(records.filter((r) => r.decision === "no_match").every((r) => r.hashes === undefined)).toBe(true);
    expect(records.filter((r) => r.decision === "match").every((r) => r.hashes !== undefined && r.matches !== undefined)).toBe(true);
    expect(records.at(-1)).toMatchObject({ type: "checkpoint", final: true });
  });

  it("continues the chain when reopened", () => {
    const { file } = writeLog("continued.ndjson", 3);
    const log = AuditLog.open(file, { signingKeyPem: keys.privateKeyPem });
    log.record(decision(4));
    log.close();
    expect(verifyAuditLog(readFileSync(file, "utf8"), trusted, { head: log.head })).toMatchObject({ ok: true, decisions: 4 });
  });

  const tamper: [string, (lines: string[]) => string[]][] = [
    ["a deleted record", (l) => l.filter((_, i) => i !== 3)],
    ["an edited record", (l) => l.map((line, i) => (i === 2 ? line.replace('"no_match"', '"match"') : line))],
    ["two records swapped", (l) => [...l.slice(0, 2), l[3] as string, l[2] as string, ...l.slice(4)]],
    ["a cut tail", (l) => l.slice(0, -2)],
    ["an edited checkpoint", (l) => l.map((line) => (line.includes('"final":true') ? line.replace(/"time":"[^"]+"/, '"time":"2020-01-01T00:00:00.000Z"') : line))],
  ];
  it.each(tamper)("detects %s", (_name, change) => {
    const { lines, head } = writeLog("tampered.ndjson");
    expect(verifyAuditLog(lines.join("\n") + "\n", trusted, { head }).ok).toBe(true);
    const result = verifyAuditLog(change(lines).join("\n") + "\n", trusted, { head });
    expect(result.ok).toBe(false);
    expect(result.problems.length).toBeGreaterThan(0);
  });

  it("detects a tail cut back to an earlier checkpoint by the head kept at close", () => {
    const { lines, head } = writeLog("cut-at-checkpoint.ndjson");
    const firstCheckpoint = lines.findIndex((l) => l.includes('"type":"checkpoint"'));
    // Cut right after a signed (not final) checkpoint: the chain and signatures still hold up to there.
    const cut = lines.slice(0, firstCheckpoint + 1).join("\n") + "\n";
    const result = verifyAuditLog(cut, trusted, { head });
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.problem).join(" ")).toMatch(/closing checkpoint|cut/);
  });

  it("refuses a checkpoint signed by an untrusted key", () => {
    const { lines } = writeLog("untrusted.ndjson", 2);
    const other = parseTrustedKeys(generateSigningKeys().publicKeyPem);
    expect(verifyAuditLog(lines.join("\n"), other).ok).toBe(false);
  });

  it("refuses to continue a log whose last line is not a record", () => {
    const file = join(dir, "damaged.ndjson");
    writeFileSync(file, '{"seq":0}\n{"seq":1,"trunc');
    expect(() => AuditLog.open(file)).toThrow(expect.objectContaining({ code: "PHM_AUDIT_ALTERED" }));
  });
});

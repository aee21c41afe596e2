// The decision audit log: a SHA-256 chain with signed checkpoints. Verification passes on the log as written and
// fails on a deleted, an edited, a reordered record and a cut tail (also a cut at a checkpoint, caught by --head),
// and on a final flag added to a cut log. An unclean stop leaves a resumed record that verification reports; the
// head kept in the rollback state refuses a log cut back, even to an earlier run's closing checkpoint.
import { createHash, sign } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AuditDecision,
  AuditLog,
  generateSigningKeys,
  parseTrustedKeys,
  RollbackState,
  verifyAuditLog,
} from "@phmatch/core";
import { keyId } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "phmatch-audit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keys = generateSigningKeys();
const trusted = parseTrustedKeys(keys.publicKeyPem);

const decision = (i: number): AuditDecision =>
  i % 3 === 0
    ? {
        source: "serve",
        requestId: `r${i}`,
        decision: "match",
        reasonCode: "LIST_MATCH",
        lists: [{ listId: "L", version: 2 }],
        hashes: { pdq: "ab".repeat(32) },
        matches: [{ listId: "L", entryId: "E1" }],
      }
    : {
        source: "serve",
        requestId: `r${i}`,
        decision: "no_match",
        reasonCode: "NO_MATCH",
        lists: [{ listId: "L", version: 2 }],
        hashes: { pdq: "cd".repeat(32) },
      };

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
    expect(
      records.filter((r) => r.decision === "match").every((r) => r.hashes !== undefined && r.matches !== undefined),
    ).toBe(true);
    expect(records.at(-1)).toMatchObject({ type: "checkpoint", final: true });
  });

  it("says where each decision and event sits (seq, SHA-256 of its line), and events verify in the chain", () => {
    const file = join(dir, "positions.ndjson");
    const log = AuditLog.open(file, { signingKeyPem: keys.privateKeyPem, checkpointEvery: 2 });
    const first = log.record(decision(0));
    const verdict = log.event({ type: "feedback", verdict: "reject", listId: "L", entryId: "E1", reviewer: "rev" });
    const second = log.record(decision(1));
    expect(() => log.event({ type: "checkpoint" } as never)).toThrow(/not an audit event type/);
    log.close();
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    for (const position of [first, verdict, second]) {
      const line = lines[position.seq] as string;
      expect(JSON.parse(line)).toMatchObject({ seq: position.seq });
      expect(createHash("sha256").update(line).digest("hex")).toBe(position.sha256);
    }
    expect(JSON.parse(lines[verdict.seq] as string)).toMatchObject({ type: "feedback", verdict: "reject" });
    expect(verifyAuditLog(lines.join("\n") + "\n", trusted, { head: log.head })).toMatchObject({
      ok: true,
      decisions: 2,
    });
  });

  it("continues the chain when reopened", () => {
    const { file } = writeLog("continued.ndjson", 3);
    const log = AuditLog.open(file, { signingKeyPem: keys.privateKeyPem });
    log.record(decision(4));
    log.close();
    expect(verifyAuditLog(readFileSync(file, "utf8"), trusted, { head: log.head })).toMatchObject({
      ok: true,
      decisions: 4,
    });
  });

  const tamper: [string, (lines: string[]) => string[]][] = [
    ["a deleted record", (l) => l.filter((_, i) => i !== 3)],
    ["an edited record", (l) => l.map((line, i) => (i === 2 ? line.replace('"no_match"', '"match"') : line))],
    ["two records swapped", (l) => [...l.slice(0, 2), l[3] as string, l[2] as string, ...l.slice(4)]],
    ["a cut tail", (l) => l.slice(0, -2)],
    [
      "an edited checkpoint",
      (l) =>
        l.map((line) =>
          line.includes('"final":true') ? line.replace(/"time":"[^"]+"/, '"time":"2020-01-01T00:00:00.000Z"') : line,
        ),
    ],
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

  // Issue 16 item 4: the signature covered seq, prev and time but not final, so a log cut after any checkpoint,
  // with "final":true added to that checkpoint, verified as "OK ... closed".
  it("refuses a final flag added to a checkpoint of a cut log: the signature covers every field", () => {
    const { lines } = writeLog("final-added.ndjson");
    const firstCheckpoint = lines.findIndex((l) => l.includes('"type":"checkpoint"'));
    expect(lines[firstCheckpoint]).not.toContain('"final"');
    const forged = [
      ...lines.slice(0, firstCheckpoint),
      (lines[firstCheckpoint] as string).replace(/}$/, ',"final":true}'),
    ];
    const result = verifyAuditLog(forged.join("\n") + "\n", trusted);
    expect(result.ok).toBe(false);
    expect(result.problems.map((p) => p.problem)).toContain(
      "checkpoint signature does not match the record (edited or forged)",
    );
    // the checkpoint's signature is over its whole record: each field changed breaks it
    const record = JSON.parse(lines[firstCheckpoint] as string) as Record<string, unknown>;
    expect(record.v).toBe(2);
    for (const field of ["seq", "time", "prev", "v"]) {
      const changed = JSON.stringify({ ...record, [field]: field === "seq" || field === "v" ? 99 : "x" });
      expect(
        verifyAuditLog([...lines.slice(0, firstCheckpoint), changed].join("\n"), trusted).problems.some((p) =>
          p.problem.startsWith("checkpoint signature"),
        ),
        field,
      ).toBe(true);
    }
  });

  it("reopening a log that did not end with its closing record writes a resumed record, which verify reports", () => {
    const file = join(dir, "crashed.ndjson");
    const crashed = AuditLog.open(file, { signingKeyPem: keys.privateKeyPem, checkpointEvery: 100 });
    for (let i = 0; i < 3; i++) crashed.record(decision(i));
    const headAtCrash = crashed.head; // never closed: as after a kill -9
    const log = AuditLog.open(file, { signingKeyPem: keys.privateKeyPem });
    log.record(decision(4));
    log.close();
    const records = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const resumed = records.findIndex((r) => r.type === "resumed");
    expect(records[resumed]).toMatchObject({ seq: 4, prev: headAtCrash, after: { seq: 3, head: headAtCrash } });
    expect(records[resumed + 1]).toMatchObject({ type: "open" });
    const result = verifyAuditLog(readFileSync(file, "utf8"), trusted, { head: log.head });
    expect(result).toMatchObject({
      ok: true,
      closed: true,
      uncleanStops: [{ line: resumed + 1, afterSeq: 3, head: headAtCrash }],
    });
    // a log closed cleanly and reopened gets no resumed record
    const clean = writeLog("clean-reopen.ndjson", 2).file;
    AuditLog.open(clean, { signingKeyPem: keys.privateKeyPem }).close();
    expect(verifyAuditLog(readFileSync(clean, "utf8"), trusted).uncleanStops).toEqual([]);
  });

  it("takes a final flag added to a cut log for an unclean stop when reopening it", () => {
    const { file, lines } = writeLog("final-added-reopened.ndjson");
    const firstCheckpoint = lines.findIndex((l) => l.includes('"type":"checkpoint"'));
    writeFileSync(
      file,
      [...lines.slice(0, firstCheckpoint), (lines[firstCheckpoint] as string).replace(/}$/, ',"final":true}')].join(
        "\n",
      ) + "\n",
    );
    AuditLog.open(file, { signingKeyPem: keys.privateKeyPem }).close();
    expect(readFileSync(file, "utf8")).toContain('"type":"resumed"');
  });

  it(
    "with a rollback state, refuses to continue a log cut back behind " +
      "its recorded head, even to an earlier run's closing checkpoint",
    () => {
      const state = new RollbackState(join(dir, "state-cut"));
      const file = join(dir, "stateful.ndjson");
      const first = AuditLog.open(file, { signingKeyPem: keys.privateKeyPem, state });
      first.record(decision(0));
      first.close();
      const afterFirstRun = readFileSync(file, "utf8");
      const second = AuditLog.open(file, { signingKeyPem: keys.privateKeyPem, state, checkpointEvery: 2 });
      for (let i = 1; i < 6; i++) second.record(decision(i));
      second.close();
      const lastSeq = readFileSync(file, "utf8").trim().split("\n").length - 1;
      expect(state.auditHead(file)).toEqual({ seq: lastSeq, head: second.head });
      // The first run's closing checkpoint is genuine: without the state the cut log verifies as closed...
      writeFileSync(file, afterFirstRun);
      expect(verifyAuditLog(afterFirstRun, trusted)).toMatchObject({ ok: true, closed: true });
      // ...but the state's head tells it is behind: refused on open, naming both heads, and by verify.
      let error: unknown;
      try {
        AuditLog.open(file, { signingKeyPem: keys.privateKeyPem, state });
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: "PHM_AUDIT_ALTERED" });
      expect((error as Error).message).toContain(second.head);
      expect((error as Error).message).toContain(`record ${lastSeq}`);
      expect(readFileSync(file, "utf8")).toBe(afterFirstRun); // nothing appended to it
      const verified = verifyAuditLog(afterFirstRun, trusted, {
        head: state.auditHead(file) as { seq: number; head: string },
      });
      expect(verified.ok).toBe(false);
      // A record replaced at the recorded seq is refused too; a missing log as well.
      const lines = readFileSync(join(dir, "tampered.ndjson"), "utf8");
      writeFileSync(file, lines);
      expect(() => AuditLog.open(file, { state })).toThrow(expect.objectContaining({ code: "PHM_AUDIT_ALTERED" }));
      rmSync(file);
      expect(() => AuditLog.open(file, { state })).toThrow(expect.objectContaining({ code: "PHM_AUDIT_ALTERED" }));
    },
  );

  it("without a key, keeps the head in the rollback state at its cadence and at close", () => {
    const state = new RollbackState(join(dir, "state-unsigned"));
    const file = join(dir, "unsigned.ndjson");
    const log = AuditLog.open(file, { state, checkpointEvery: 2 });
    expect(state.auditHead(file)).toEqual({ seq: 0, head: log.head });
    log.record(decision(1));
    log.record(decision(2));
    expect(state.auditHead(file)).toEqual({ seq: 2, head: log.head });
    log.close();
    expect(state.auditHead(file)).toEqual({ seq: 3, head: log.head });
  });

  it(
    "verifies legacy checkpoints over the chain head, but a legacy " +
      "closing checkpoint proves the end only with the head kept at close",
    () => {
      const pem = keys.privateKeyPem;
      const id = keyId(parseTrustedKeys(keys.publicKeyPem)[0]!);
      const lines: string[] = [];
      let prev = "0".repeat(64);
      const push = (record: Record<string, unknown>) => {
        const line = JSON.stringify({ seq: lines.length, time: "2025-01-01T00:00:00.000Z", prev, ...record });
        lines.push(line);
        prev = createHash("sha256").update(line).digest("hex");
      };
      push({ type: "open", tool: "phmatch 0.9", keyId: id });
      push({ type: "decision", source: "scan", decision: "no_match", reasonCode: "NO_MATCH", lists: [] });
      const message = Buffer.from(`phmatch-audit-checkpoint\n${lines.length}\n${prev}\n2025-01-01T00:00:00.000Z\n`);
      push({ type: "checkpoint", keyId: id, signature: sign(null, message, pem).toString("base64"), final: true });
      const legacy = verifyAuditLog(lines.join("\n"), trusted);
      expect(legacy).toMatchObject({ ok: false, legacyCheckpoints: 1, closed: false });
      expect(legacy.problems[0]?.problem).toContain("legacy closing checkpoint");
      expect(verifyAuditLog(lines.join("\n"), trusted, { head: prev })).toMatchObject({
        ok: true,
        legacyCheckpoints: 1,
        closed: true,
      });
    },
  );
  it(
    "reports a head the rollback state cannot keep once open, never " +
      "throwing from a checkpoint; at open it refuses and closes the file",
    () => {
      const file = join(dir, "state-fails.ndjson");
      const state = new RollbackState(join(dir, "state-fails"));
      const told: string[] = [];
      const log = AuditLog.open(file, {
        signingKeyPem: keys.privateKeyPem,
        checkpointEvery: 2,
        state,
        onError: (e) => told.push(e.code),
      });
      const locked = () => {
        throw Object.assign(new Error("the state folder stayed locked"), { code: "PHM_STATE_LOCKED" });
      };
      state.recordAuditHead = locked;
      // A checkpoint falls due inside record() (every 2): the head is not kept, which is told, and the log goes on.
      for (let i = 0; i < 4; i++) log.record(decision(i));
      log.close();
      expect(told).toEqual(["PHM_STATE_LOCKED", "PHM_STATE_LOCKED", "PHM_STATE_LOCKED"]);
      expect(verifyAuditLog(readFileSync(file, "utf8"), trusted)).toMatchObject({
        ok: true,
        decisions: 4,
        closed: true,
      });
      // At open nothing has been answered yet: the caller gets the error, and no descriptor is left open.
      const fds = () => readdirSync("/proc/self/fd").length;
      const before = fds();
      expect(() => AuditLog.open(join(dir, "state-fails-2.ndjson"), { state, onError: () => undefined })).toThrow(
        "locked",
      );
      expect(fds()).toBe(before);
    },
  );
});

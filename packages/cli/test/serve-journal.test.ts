// serve's record journal (issue 21 part 1): the accepted uploads' hash records, the platform's content id and the
// time, encrypted at rest (AES-256-GCM; a wrong key and an altered byte are typed errors, never a skipped record),
// rotated per UTC day and size, purged past the retention (the files are gone and no reader sees their records),
// readable by full tokens only (GET /v1/journal), and by `phmatch rematch --journal`.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateSigningKeys, hashFile, loadHashSet, parseTrustedKeys } from "@phmatch/core";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { writeSignedList } from "../../../test/support/signed-list.js";
import { RecordJournal, readJournal } from "../dist/serve/journal.js";
import { ListHolder } from "../dist/serve/lists.js";
import { runRetroactive } from "../dist/serve/retroactive.js";
import { createGate } from "../dist/serve/server.js";
import { TokenAuth } from "../dist/serve/tokens.js";
import { bin, runCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-journal-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const at = (name: string) => join(work, name);
const key = randomBytes(32);
const record = (i: number) => ({
  hashes: { pdq: `${String(i % 10).repeat(2)}${"ab".repeat(31)}` },
  quality: { pdq: 90 },
  contentId: `secret-upload-${i}`,
  uploadedAt: "2026-12-01T10:00:00.000Z",
});
const readAll = (dir: string, k = key) => [...readJournal(dir, k)].map((t) => JSON.parse(t) as { contentId: string });
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return "no error";
};

describe("the journal at rest", () => {
  it("reads back what was appended; the file holds neither the ids nor the hashes in the clear", () => {
    const dir = at("plain");
    const journal = new RecordJournal({ dir, key, days: 30 });
    for (let i = 0; i < 3; i++) journal.append(record(i));
    journal.close();
    expect(readAll(dir).map((r) => r.contentId)).toEqual(["secret-upload-0", "secret-upload-1", "secret-upload-2"]);
    const [file] = readdirSync(dir);
    const bytes = readFileSync(join(dir, file as string));
    expect(bytes.includes("secret-upload")).toBe(false);
    expect(bytes.includes("abababab")).toBe(false);
    expect(bytes.includes(Buffer.from("ab".repeat(8), "hex"))).toBe(false);
  });

  it("refuses a wrong key (PHM_JOURNAL_KEY), and an altered, dropped or cut record (PHM_JOURNAL_ALTERED)", () => {
    const dir = at("altered");
    const journal = new RecordJournal({ dir, key, days: 30 });
    for (let i = 0; i < 3; i++) journal.append(record(i));
    journal.close();
    const file = join(dir, readdirSync(dir)[0] as string);
    const original = readFileSync(file);
    expect(codeOf(() => readAll(dir, randomBytes(32)))).toBe("PHM_JOURNAL_KEY");
    // One byte of the second record's ciphertext.
    const first = 52 + 4 + original.readUInt32LE(52);
    const flipped = Buffer.from(original);
    flipped[first + 4 + 20] = (flipped[first + 4 + 20] as number) ^ 1;
    writeFileSync(file, flipped);
    expect(codeOf(() => readAll(dir))).toBe("PHM_JOURNAL_ALTERED");
    // The second record taken out whole: the third no longer authenticates at its place.
    const second = 4 + original.readUInt32LE(first);
    writeFileSync(file, Buffer.concat([original.subarray(0, first), original.subarray(first + second)]));
    expect(codeOf(() => readAll(dir))).toBe("PHM_JOURNAL_ALTERED");
    writeFileSync(file, original.subarray(0, original.length - 5));
    expect(codeOf(() => readAll(dir))).toBe("PHM_JOURNAL_ALTERED");
    writeFileSync(file, original);
    expect(readAll(dir)).toHaveLength(3);
  });

  it("starts a new file per UTC day and past the size limit", () => {
    const dir = at("rotation");
    let now = new Date("2026-12-01T23:59:00Z");
    const journal = new RecordJournal({ dir, key, days: 30, maxFileBytes: 400, now: () => now });
    for (let i = 0; i < 4; i++) journal.append(record(i));
    now = new Date("2026-12-02T00:01:00Z");
    journal.append(record(4));
    journal.close();
    const names = readdirSync(dir).sort();
    expect(names.filter((n) => n.startsWith("journal-2026-12-01-")).length).toBeGreaterThan(1);
    expect(names.filter((n) => n.startsWith("journal-2026-12-02-"))).toEqual(["journal-2026-12-02-0000.phj"]);
    expect(readAll(dir).map((r) => r.contentId)).toEqual([0, 1, 2, 3, 4].map((i) => `secret-upload-${i}`));
  });

  it("purges the files past the retention: gone from the folder, and no reader gets their records", async () => {
    const dir = at("purge");
    let now = new Date("2026-11-01T12:00:00Z");
    const journal = new RecordJournal({ dir, key, days: 7, now: () => now });
    journal.append(record(1));
    now = new Date("2026-11-06T12:00:00Z");
    journal.append(record(2));
    now = new Date("2026-11-10T12:00:00Z");
    expect(journal.purge()).toEqual(["journal-2026-11-01-0000.phj"]);
    journal.append(record(3));
    journal.close();
    expect(readdirSync(dir).sort()).toEqual(["journal-2026-11-06-0000.phj", "journal-2026-11-10-0000.phj"]);
    expect(readAll(dir).map((r) => r.contentId)).toEqual(["secret-upload-2", "secret-upload-3"]);
    // A journal opened later purges at start.
    now = new Date("2026-11-20T12:00:00Z");
    new RecordJournal({ dir, key, days: 7, now: () => now }).close();
    expect(readdirSync(dir)).toEqual([]);
    const r = await runCli(["rematch", "--journal", dir, "--hashset", fixtures("hashsets/demo.phs")], {
      env: cleanEnv({ PHMATCH_JOURNAL_KEY: key.toString("hex") }),
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('"read":0');
  });
});

describe("the journal in the gate", () => {
  const T = "a-token-of-at-least-16-chars";
  const auth = () =>
    new TokenAuth(
      JSON.stringify({
        tokens: [
          { name: "backend", token: `${T}-full`, detail: "full" },
          { name: "app", token: `${T}-decision`, detail: "decision" },
        ],
      }),
      "tokens.json",
    );
  const signer = generateSigningKeys();

  it(
    "journals accepted uploads with a content id (not matches, not without one), serves them to full " +
      "tokens only, and rematch --journal finds the one a new release lists",
    async () => {
      const served = at("served.phs");
      await writeSignedList(served, 1, ["texture.jpg"], signer.privateKeyPem);
      const holder = new ListHolder([served], () => ({ trustedKeys: parseTrustedKeys(signer.publicKeyPem) }), {});
      await holder.load();
      const dir = at("gate-journal");
      const writer = new RecordJournal({ dir, key, days: 30 });
      const app = await createGate({
        lists: holder,
        auth: auth(),
        maxBytes: 1 << 20,
        maxConcurrent: 4,
        timeoutMs: 10_000,
        journal: { writer, dir, key },
      });
      const hashed = (await hashFile(fixtures("images/shapes-mirror.png"), {
        algorithms: ["pdq", "md5"],
        dihedral: true,
      })) as unknown as {
        hashes: Record<string, string>;
        quality: Record<string, number>;
        dihedral: Record<string, string[]>;
      };
      const listedMd5 = (
        (await hashFile(fixtures("images/texture.jpg"), { algorithms: ["md5"] })) as unknown as {
          hashes: { md5: string };
        }
      ).hashes.md5;
      const send = (payload: object, headers: Record<string, string> = {}) =>
        app.inject({
          method: "POST",
          url: "/v1/match",
          headers: { authorization: `Bearer ${T}-full`, ...headers },
          payload,
        });
      const body = { hashes: hashed.hashes, quality: hashed.quality, dihedral: hashed.dihedral };
      try {
        const accepted = await send(body, { "x-content-id": "c-42" });
        expect(accepted.json()).toMatchObject({ decision: "no_match" });
        expect(accepted.headers["x-phmatch-journal"]).toBe("recorded");
        const anonymous = await send(body);
        expect(anonymous.headers["x-phmatch-journal"]).toBe("not-recorded; no X-Content-Id");
        const matched = await send({ hashes: { md5: listedMd5 } }, { "x-content-id": "c-match" });
        expect(matched.json()).toMatchObject({ decision: "match" });
        const bad = await send(body, { "x-content-id": "bad\tid" });
        expect(bad.statusCode).toBe(400);
        expect(bad.json()).toMatchObject({ reason_code: "BAD_CONTENT_ID" });

        const get = (token?: string) =>
          app.inject({
            method: "GET",
            url: "/v1/journal",
            headers: token === undefined ? {} : { authorization: `Bearer ${T}-${token}` },
          });
        expect((await get()).statusCode).toBe(401);
        expect((await get("wrong")).statusCode).toBe(401);
        expect((await get("decision")).statusCode).toBe(403);
        const exported = await get("full");
        expect(exported.statusCode).toBe(200);
        const rows = exported.body
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(rows).toHaveLength(1);
        expect(Object.keys(rows[0] as object).sort()).toEqual([
          "contentId",
          "dihedral",
          "hashes",
          "quality",
          "uploadedAt",
        ]);
        expect(rows[0]).toMatchObject({ contentId: "c-42", hashes: hashed.hashes });
      } finally {
        await app.close();
        writer.close();
      }
      // The next release lists shapes.png: the journal's accepted upload now matches it.
      const next = at("next.phs");
      await writeSignedList(next, 2, ["texture.jpg", "shapes.png"], signer.privateKeyPem);
      writeFileSync(at("signer.pub"), signer.publicKeyPem);
      const r = await runCli(
        ["rematch", "--journal", dir, "--hashset", next, "--since", served, "--trusted-keys", at("signer.pub")],
        { env: cleanEnv({ PHMATCH_JOURNAL_KEY: key.toString("hex") }) },
      );
      expect(r.status).toBe(0);
      const hits = r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(hits).toHaveLength(1);
      expect(hits[0]).toMatchObject({
        contentId: "c-42",
        retroactive: true,
        release: [{ listId: "hotline", version: 2, since: 1 }],
      });
    },
  );

  it("serve --record-journal without a usable key refuses to start (exit 64)", async () => {
    const args = [
      "serve",
      "--port",
      "0",
      "--hashset",
      fixtures("hashsets/demo.phs"),
      "--state-dir",
      at("state"),
      "--no-auth",
      "--no-watch",
      "--record-journal",
      at("never"),
    ];
    const none = await runCli(args, { env: cleanEnv() });
    expect(none.status).toBe(64);
    expect(none.stderr).toContain("needs a key");
    const short = await runCli(args, { env: cleanEnv({ PHMATCH_JOURNAL_KEY: "abcd" }) });
    expect(short.status).toBe(64);
    expect(short.stderr).toContain("not a 32-byte key");
    expect(existsSync(at("never"))).toBe(false);
  });
});

describe("a list reload runs the journal against what it added", () => {
  it("delivers the retroactive hit through the on-match hook and records it in the audit log", async () => {
    const signer = generateSigningKeys();
    writeFileSync(at("reload.pub"), signer.publicKeyPem);
    const list = at("reload.phs");
    await writeSignedList(list, 1, ["texture.jpg"], signer.privateKeyPem);
    // The hook's target: a local HTTP server that keeps what it is sent.
    const delivered: Record<string, unknown>[] = [];
    const target = createServer((request, response) => {
      let body = "";
      request.on("data", (d: Buffer) => (body += d.toString()));
      request.on("end", () => {
        delivered.push(JSON.parse(body) as Record<string, unknown>);
        response.end("ok");
      });
    });
    target.listen(0, "127.0.0.1");
    await once(target, "listening");
    const hookUrl = `http://127.0.0.1:${(target.address() as { port: number }).port}/hook`;
    const gate = spawn(
      process.execPath,
      [
        bin,
        "serve",
        "--port",
        "0",
        "--no-auth",
        "--hashset",
        list,
        "--trusted-keys",
        at("reload.pub"),
        "--state-dir",
        at("reload-state"),
        "--no-watch",
        "--threads",
        "1",
        "--on-match-url",
        hookUrl,
        "--audit-log",
        at("reload-audit.ndjson"),
        "--record-journal",
        at("reload-journal"),
      ],
      { env: cleanEnv({ PHMATCH_JOURNAL_KEY: key.toString("base64") }), stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    gate.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const until = async (what: () => boolean, why: string) => {
      for (let i = 0; i < 300 && !what(); i++) {
        if (gate.exitCode !== null) throw new Error(`the gate exited: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      if (!what()) throw new Error(`${why} did not happen: ${stderr}`);
    };
    try {
      await until(() => /listening on (\S+)/.test(stderr), "start-up");
      const address = (/listening on (\S+)/.exec(stderr) as RegExpExecArray)[1] as string;
      const hashed = await hashFile(fixtures("images/shapes-mirror.png"), { algorithms: ["pdq"], dihedral: true });
      const { hashes, quality, dihedral } = hashed as unknown as Record<string, unknown>;
      const answer = await fetch(`${address}/v1/match`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-content-id": "c-77" },
        body: JSON.stringify({ hashes, quality, dihedral }),
      });
      expect(await answer.json()).toMatchObject({ decision: "no_match" });
      expect(answer.headers.get("x-phmatch-journal")).toBe("recorded");
      // Release 2 lists the original of the accepted upload; SIGHUP reloads it.
      await writeSignedList(list, 2, ["texture.jpg", "shapes.png"], signer.privateKeyPem);
      gate.kill("SIGHUP");
      await until(() => /retroactive run: /.test(stderr), "the retroactive run");
      expect(stderr).toContain("retroactive run: 2 entries added, 1 journal records read, 1 matched");
      await until(() => delivered.length > 0, "the hook's delivery");
      expect(delivered).toHaveLength(1);
      expect(delivered[0]).toMatchObject({
        retroactive: true,
        contentId: "c-77",
        decision: "match",
        release: [{ listId: "hotline", version: 2, since: 1 }],
        matches: [expect.objectContaining({ list: "hotline", entryId: "E-shapes.png", listVersion: 2 })],
      });
      expect(typeof delivered[0]?.uploadedAt).toBe("string");
    } finally {
      gate.kill("SIGTERM");
      await once(gate, "exit");
      target.close();
    }
    const audit = readFileSync(at("reload-audit.ndjson"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const retro = audit.filter((r) => r.source === "rematch");
    expect(retro).toHaveLength(1);
    expect(retro[0]).toMatchObject({ decision: "match", requestId: delivered[0]?.request_id });
  }, 60_000);
});

describe("the retroactive run matches only lists the gate verified", () => {
  it("refuses a store whose bytes are not those the gate verified (replaced again since)", async () => {
    const signer = generateSigningKeys();
    const list = at("replaced.phs");
    await writeSignedList(list, 1, ["texture.jpg"], signer.privateKeyPem);
    const before = await loadHashSet(list);
    await writeSignedList(list, 2, ["texture.jpg", "shapes.png"], signer.privateKeyPem);
    const after = await loadHashSet(list);
    const dir = at("replaced-journal");
    const writer = new RecordJournal({ dir, key, days: 30 });
    writer.append(record(1));
    const run = (verified: typeof after) =>
      runRetroactive({ before: [before], after: [verified], journal: { writer, dir, key }, report: () => {} });
    try {
      expect(await run(after)).toEqual({ ok: true, read: 1, failed: 0, matched: 0, added: 2 });
      // What the gate verified was other bytes: the file on disk is not that release.
      expect(await run({ ...after, storeSha256: "0".repeat(64) })).toMatchObject({
        ok: false,
        message: expect.stringContaining("changed again since the gate verified it"),
      });
    } finally {
      writer.close();
    }
  });
});

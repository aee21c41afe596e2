// `phmatch hashset import --format nsrl` (issue 22): an NSRL RDS version 3 database (SQLite), made here with the
// same library in RDSv3's shape (METADATA base table, FILE view over it; or a FILE table, upper-case columns), read
// into a .phd digest store that scan --ignorable uses. Malformed digest rows are counted and skipped (exit 2); a file
// that is not SQLite, or a database without the digest column, is refused (PHM_NSRL_FORMAT) and nothing is written.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openIgnorable } from "@phmatch/core/internal";
import sqlite from "node-sqlite3-wasm";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { runCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-nsrl-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state") });
const run = (args: string[]) => runCli(args, { env });
const digest = (algorithm: string, text: string) => createHash(algorithm).update(text).digest("hex").toUpperCase();
const files = ["ntdll.dll", "kernel32.dll", "notepad.exe"];

// An RDSv3-shaped database: METADATA rows (one file shipped by two packages repeats its digests), a FILE view.
function rdsDatabase(path: string, extraRows: [string | null, string | null][] = []): void {
  const db = new sqlite.Database(path);
  db.exec(
    "CREATE TABLE METADATA (package_id INTEGER, file_name TEXT, file_size INTEGER, md5 TEXT, sha1 TEXT, sha256 TEXT);" +
      "CREATE VIEW FILE AS SELECT sha256, sha1, md5, file_name, file_size, package_id FROM METADATA;",
  );
  const insert = db.prepare("INSERT INTO METADATA VALUES (?, ?, ?, ?, ?, ?)");
  for (const [i, name] of [...files, files[0] as string].entries())
    insert.run([i, name, name.length, digest("md5", name), digest("sha1", name), digest("sha256", name)]);
  for (const [sha1, sha256] of extraRows) insert.run([99, "odd", 0, null, sha1, sha256]);
  insert.finalize();
  db.close();
}

describe("phmatch hashset import --format nsrl", () => {
  it("reads the digests into a .phd store, deduplicated, that scan --ignorable sets files aside with", async () => {
    const db = join(work, "rds.db");
    rdsDatabase(db);
    const out = join(work, "nsrl.phd");
    const result = await run(["hashset", "import", "--format", "nsrl", db, "-o", out, "--source", "NSRL test set"]);
    expect(result.stderr).toMatch(/sha256 from METADATA\.sha256: 4 rows, 3 distinct digests/);
    expect(result.status).toBe(0);
    const set = await openIgnorable(out);
    expect([set.algorithm, set.count, set.source]).toEqual(["sha256", 3, "NSRL test set, sha256 from METADATA.sha256"]);
    for (const name of files) expect(set.has(Buffer.from(digest("sha256", name), "hex"))).toBe(true);
    expect(set.has(Buffer.from(digest("sha256", "other"), "hex"))).toBe(false);
    await set.close();

    const tree = join(work, "evidence");
    mkdirSync(tree);
    writeFileSync(join(tree, "kernel32.dll"), "kernel32.dll"); // its bytes are what the RDS rows digest
    writeFileSync(join(tree, "unlisted.txt"), "not in the RDS");
    const report = join(work, "scan.ndjson");
    const scan = await run(["scan", tree, "-s", fixtures("hashsets/demo.phs"), "--ignorable", out, "-o", report, "-q"]);
    expect(scan.status).toBe(2); // unlisted.txt is no image: an error record, as always
    const lines = readFileSync(report, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0].ignorable[0]).toMatchObject({ name: "nsrl.phd", kind: "store", algorithm: "sha256", count: 3 });
    const byName = Object.fromEntries(
      lines.filter((l) => l.type === "file").map((l) => [l.path.slice(tree.length + 1), l]),
    );
    expect(byName["kernel32.dll"]).toMatchObject({
      status: "ignorable",
      ignorable: [{ list: "nsrl.phd", algorithm: "sha256" }],
    });
    expect(byName["unlisted.txt"].status).toBe("error");
  });

  it("counts and skips malformed digest rows (exit 2), naming them; SHA-1 from a FILE table, any case", async () => {
    const db = join(work, "odd.db");
    rdsDatabase(db, [
      [null, null],
      ["zz".repeat(20), "12"],
    ]);
    const out = join(work, "odd.phd");
    const result = await run(["hashset", "import", "--format", "nsrl", db, "-o", out]);
    expect(result.stderr).toMatch(/6 rows, 3 distinct digests; 2 rows not a sha256 digest were skipped \(rows 5, 6\)/);
    expect(result.status).toBe(2);
    const odd = await openIgnorable(out);
    expect(odd.count).toBe(3);
    await odd.close();

    const minimal = join(work, "minimal.db");
    const m = new sqlite.Database(minimal);
    m.exec("CREATE TABLE File (SHA256 TEXT, SHA1 TEXT, MD5 TEXT, file_name TEXT)");
    m.run("INSERT INTO File VALUES (?, ?, ?, ?)", [
      digest("sha256", "a"),
      digest("sha1", "a").toLowerCase(),
      digest("md5", "a"),
      "a",
    ]);
    m.close();
    const sha1 = await run([
      "hashset",
      "import",
      "--format",
      "nsrl",
      minimal,
      "-o",
      join(work, "m.phd"),
      "--algorithm",
      "sha1",
    ]);
    expect(sha1.stderr).toMatch(/sha1 from File\.SHA1: 1 rows, 1 distinct digests/);
    expect(sha1.status).toBe(0);
  });

  it("refuses a database without the digest column, naming what it found, and a file that is not SQLite", async () => {
    const db = join(work, "other.db");
    const d = new sqlite.Database(db);
    d.exec("CREATE TABLE FILE (hash TEXT, name TEXT); CREATE TABLE PKG (package_id INTEGER)");
    d.close();
    const out = join(work, "refused.phd");
    const missing = await run(["hashset", "import", "--format", "nsrl", db, "-o", out]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/PHM_NSRL_FORMAT/);
    expect(missing.stderr).toMatch(
      /no METADATA or FILE table or view with a sha256 column.*table FILE \(hash, name\).*PKG/,
    );
    expect(existsSync(out)).toBe(false);

    const text = join(work, "NSRLFile.txt");
    writeFileSync(text, '"SHA-1","MD5","CRC32","FileName"\n'.repeat(200));
    const notSqlite = await run(["hashset", "import", "--format", "nsrl", text, "-o", out]);
    expect(notSqlite.stderr).toMatch(/PHM_NSRL_FORMAT/);
    expect(notSqlite.status).toBe(2);
    expect(existsSync(out)).toBe(false);

    const empty = join(work, "empty.db");
    rdsDatabase(empty);
    const e = new sqlite.Database(empty);
    e.exec("DELETE FROM METADATA");
    e.close();
    const none = await run(["hashset", "import", "--format", "nsrl", empty, "-o", out]);
    expect(none.stderr).toMatch(/holds no sha256 digest/);
    expect(existsSync(out)).toBe(false);

    const misplaced = await run(["hashset", "import", "--format", "nsrl", db, "-o", out, "--list-id", "x"]);
    expect(misplaced.status).toBe(64);
  });
});

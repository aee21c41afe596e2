// --ignorable in the scan's per-file step (issue 22): a file whose digest an ignorable list holds, and no list of
// known material holds, is recorded `ignorable` with every list that holds it and its digests, and is never sent to
// the hashing pool; a file on both a list of known material and an ignorable list is known (known first); copies of
// an ignorable file are its duplicates; the header names the lists with the SHA-256 of their bytes.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  HashSetBuilder,
  type LoadedHashSet,
  loadHashSet,
  Matcher,
  type ScanFileRecord,
  ScanTally,
  SupervisedHashPool,
} from "@phmatch/core";
import {
  buildDigestStore,
  buildHashOptions,
  closeScanIgnorables,
  createEntryScanner,
  openScanIgnorables,
  parseStore,
  type ScanIgnorable,
  sameIgnorableLists,
  scanFiles,
  serializeStore,
} from "@phmatch/core/internal";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-ignorable-scan-"));
const tree = join(work, "tree");
const pool = new SupervisedHashPool({
  jobs: 1,
  hashOptions: buildHashOptions({ algorithms: ["pdq", "md5", "sha256"] }),
});
const digest = (algorithm: string, path: string) => createHash(algorithm).update(readFileSync(path)).digest("hex");
let matcher: Matcher;
let ignorable: ScanIgnorable[];

// A list of known material holding the MD5 of one file, as a hotline's exact-digest list would.
function md5List(path: string): LoadedHashSet {
  const builder = new HashSetBuilder();
  builder.addList({ listId: "hotline", version: 1 });
  builder.addEntry({
    algorithm: "md5",
    value: Buffer.from(digest("md5", path), "hex"),
    listId: "hotline",
    entryId: "E1",
    category: "A",
  });
  return {
    set: parseStore(serializeStore(builder), "hotline.phs"),
    path: "hotline.phs",
    storeSha256: "",
    encrypted: false,
    overrides: [],
  };
}

beforeAll(async () => {
  mkdirSync(tree);
  writeFileSync(join(tree, "a-system.dll"), "an operating system file, not an image\n");
  copyFileSync(fixtures("images/shapes.png"), join(tree, "b.png"));
  writeFileSync(join(tree, "c-copy.dll"), "an operating system file, not an image\n");
  copyFileSync(fixtures("images/texture.jpg"), join(tree, "d-listed.jpg"));
  matcher = new Matcher([await loadHashSet(fixtures("hashsets/demo.phs")), md5List(join(tree, "d-listed.jpg"))]);
  // NSRL-like SHA-1 store holding the system file; a plain SHA-256 list holding it and the listed picture.
  await buildDigestStore({ algorithm: "sha1", output: join(work, "rds.phd"), source: "test RDS, sha1" }, [
    Buffer.from(digest("sha1", join(tree, "a-system.dll")), "hex"),
  ]);
  writeFileSync(
    join(work, "local.txt"),
    ["# local known-good", digest("sha256", join(tree, "a-system.dll")), digest("sha256", join(tree, "d-listed.jpg"))]
      .map((line) => `${line}\n`)
      .join(""),
  );
  ignorable = await openScanIgnorables([join(work, "rds.phd"), join(work, "local.txt")]);
});
afterAll(async () => {
  await closeScanIgnorables(ignorable);
  await pool.close();
  rmSync(work, { recursive: true, force: true });
});

async function scanTree(scanEntry: ReturnType<typeof createEntryScanner>): Promise<ScanFileRecord[]> {
  const records: ScanFileRecord[] = [];
  for (const name of ["a-system.dll", "b.png", "c-copy.dll", "d-listed.jpg"])
    records.push(await scanEntry({ kind: "file", path: join(tree, name) }));
  return records;
}

describe("scan --ignorable", () => {
  it("names each list in the header: unique name, kind, algorithm, count and the SHA-256 of its bytes", () => {
    expect(ignorable.map((i) => i.list)).toEqual([
      {
        name: "rds.phd",
        file: join(work, "rds.phd"),
        kind: "store",
        algorithm: "sha1",
        count: 1,
        sha256: digest("sha256", join(work, "rds.phd")),
        source: "test RDS, sha1",
      },
      {
        name: "local.txt",
        file: join(work, "local.txt"),
        kind: "list",
        algorithm: "sha256",
        count: 2,
        sha256: digest("sha256", join(work, "local.txt")),
        source: "local.txt",
      },
    ]);
  });

  it("gives two lists of one base name distinct names", async () => {
    mkdirSync(join(work, "other"));
    copyFileSync(join(work, "local.txt"), join(work, "other", "local.txt"));
    const two = await openScanIgnorables([join(work, "local.txt"), join(work, "other", "local.txt")]);
    expect(two.map((i) => i.list.name)).toEqual(["local.txt", "local.txt#2"]);
    expect(
      sameIgnorableLists(
        two.map((i) => i.list),
        ignorable.map((i) => i.list),
      ),
    ).toBe(false);
    await closeScanIgnorables(two);
  });

  it("refuses anything but a regular file (a device that never ends, a directory) before reading it", async () => {
    for (const path of ["/dev/zero", work])
      await expect(openScanIgnorables([path])).rejects.toMatchObject({ code: "PHM_FILE_UNREADABLE" });
  });

  it("sets a listed file aside without hashing it on the pool; copies are its duplicates; known first", async () => {
    const hash = vi.spyOn(pool, "hash");
    const [system, image, copy, listed] = await scanTree(createEntryScanner(pool, matcher, { ignorable }));
    // The pool saw the picture and the file on both kinds of list, never the ignorable file or its copy.
    expect(hash.mock.calls.map((call) => call[0])).toEqual([join(tree, "b.png"), join(tree, "d-listed.jpg")]);
    hash.mockRestore();
    const systemPath = join(tree, "a-system.dll");
    expect(system).toMatchObject({
      path: systemPath,
      status: "ignorable",
      matches: [],
      ignorable: [
        { list: "rds.phd", algorithm: "sha1" },
        { list: "local.txt", algorithm: "sha256" },
      ],
      hashes: {
        md5: digest("md5", systemPath),
        sha1: digest("sha1", systemPath),
        sha256: digest("sha256", systemPath),
      },
      size: 39,
      times: expect.objectContaining({ modified: expect.any(String) }),
    });
    expect(system?.quality).toBeUndefined();
    expect(copy).toMatchObject({ status: "ignorable", duplicateOf: systemPath, ignorable: system?.ignorable });
    expect(image?.status).not.toBe("ignorable");
    // On the hotline's list by MD5 and on local.txt by SHA-256: known, matched as always, not set aside.
    expect(listed).toMatchObject({
      status: "known",
      matches: expect.arrayContaining([expect.objectContaining({ list: "hotline" })]),
    });
    expect(listed?.ignorable).toBeUndefined();
    expect(listed?.hashes?.pdq).toMatch(/^[0-9a-f]{64}$/);
  });

  it("counts ignorable files in the summary, per list; without lists nothing is set aside", async () => {
    const tally = new ScanTally();
    for await (const _ of scanFiles([tree], pool, matcher, tally, { ignorable })) {
      // counted as they go by
    }
    expect(tally.summary).toMatchObject({ files: 4, ignorable: 2, duplicates: 1, known: 2 });
    expect(tally.summary.ignorableLists).toEqual({ "rds.phd": 2, "local.txt": 2 });
    const plain = new ScanTally();
    for await (const _ of scanFiles([tree], pool, matcher, plain)) {
      // no lists
    }
    expect(plain.summary.ignorable).toBe(0);
    expect(plain.summary.ignorableLists).toBeUndefined();
  });
});

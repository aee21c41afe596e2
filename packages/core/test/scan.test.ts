// scanFiles: identical files are hashed once (the pool is asked once per distinct content, even with copies in
// flight together) and each later copy is reported as a duplicate of the first, with its hashes and matches.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadHashSet, Matcher, type ScanFileRecord, ScanTally, SupervisedHashPool, scanFiles } from "@phmatch/core";
import { afterAll, describe, expect, it, vi } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-dup-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("scanFiles", () => {
  it("hashes identical files once and reports the copies as duplicates of the first", async () => {
    for (const d of ["a", "b", "c"]) mkdirSync(join(work, d));
    copyFileSync(fixtures("images/shapes.png"), join(work, "a", "1.png"));
    copyFileSync(fixtures("images/shapes.png"), join(work, "b", "2.png"));
    copyFileSync(fixtures("images/shapes.png"), join(work, "c", "3.png"));
    copyFileSync(fixtures("images/texture.jpg"), join(work, "c", "4.jpg"));
    const matcher = new Matcher([await loadHashSet(fixtures("hashsets/demo.phs"))]);
    const pool = new SupervisedHashPool({
      jobs: 2,
      hashOptions: { algorithms: ["pdq", "md5", "sha256"], dihedral: true },
    });
    const hash = vi.spyOn(pool, "hash");
    const tally = new ScanTally();
    const records: ScanFileRecord[] = [];
    try {
      for await (const r of scanFiles([work], pool, matcher, tally)) records.push(r);
    } finally {
      await pool.close();
    }
    expect(hash).toHaveBeenCalledTimes(2);
    expect(records.map((r) => [r.path.slice(work.length), r.duplicateOf?.slice(work.length)])).toEqual([
      ["/a/1.png", undefined],
      ["/b/2.png", "/a/1.png"],
      ["/c/3.png", "/a/1.png"],
      ["/c/4.jpg", undefined],
    ]);
    expect(records[2]?.hashes).toEqual(records[0]?.hashes);
    expect(records[2]?.matches).toEqual(records[0]?.matches);
    expect(records.every((r) => r.size !== undefined)).toBe(true);
    expect(tally.summary).toMatchObject({ files: 4, duplicates: 2, known: 4 });
  });
});

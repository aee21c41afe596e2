// A scan's map of first copies is a spill file held open while the scan runs: scanFiles closes the one it made
// when the scan ends, so a long-lived process (a library user scanning case after case) does not keep one open per
// scan. Seen from /proc/self/fd (Linux): the spill file is open during the scan and not after.
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadHashSet, Matcher, ScanTally, SupervisedHashPool, scanFiles } from "@phmatch/core";
import { buildHashOptions } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-spill-close-"));
const spillDir = join(work, "spill");
const tree = join(work, "tree");
mkdirSync(spillDir);
mkdirSync(tree);
for (const name of ["a", "b", "c"]) writeFileSync(join(tree, name), `contents ${name}\n`);
writeFileSync(join(tree, "d"), "contents a\n"); // a copy of a
const pool = new SupervisedHashPool({ jobs: 1, hashOptions: buildHashOptions({ algorithms: ["sha256"] }) });
afterAll(async () => {
  await pool.close();
  rmSync(work, { recursive: true, force: true });
});

// Descriptors of this process open on a file under the spill directory (named "(deleted)" once unlinked).
const spillFiles = () =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(spillDir);
    } catch {
      return false;
    }
  });

describe.runIf(process.platform === "linux")("scanFiles and its spill file", () => {
  it("holds the spill file open while it scans, and closes it when the scan ends", async () => {
    const matcher = new Matcher([await loadHashSet(fixtures("hashsets/demo.phs"))]);
    const saved = process.env.PHMATCH_TMPDIR;
    process.env.PHMATCH_TMPDIR = spillDir;
    try {
      const during: number[] = [];
      const records = [];
      for await (const record of scanFiles([tree], pool, matcher, new ScanTally())) {
        during.push(spillFiles().length);
        records.push(record);
      }
      expect(during.every((n) => n === 1)).toBe(true);
      expect(records.map((r) => r.duplicateOf)).toEqual([undefined, undefined, undefined, join(tree, "a")]);
      expect(spillFiles()).toEqual([]);
      expect(readdirSync(spillDir)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.PHMATCH_TMPDIR;
      else process.env.PHMATCH_TMPDIR = saved;
    }
  });
});

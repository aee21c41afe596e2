// A distributed scan's report, without Redis: two workers' per-file step (the scan's own, each remembering its own
// copies) and the collector's line building give, line for line, what a local scan of the same tree writes: hashes,
// matches, duplicateOf, size and each file's own times (issue 22). The Redis round trip is test/system's.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadHashSet, Matcher, type ScanFileRecord, ScanTally, SupervisedHashPool } from "@phmatch/core";
import {
  buildHashOptions,
  createEntryScanner,
  MemoryFirstCopies,
  SpillFirstCopies,
  scanFiles,
  symlinkRecord,
  walkEntries,
  withSize,
} from "@phmatch/core/internal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { collectedLine } from "../dist/queue/collector.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-collected-"));
const tree = join(work, "tree");
const pool = new SupervisedHashPool({ jobs: 1, hashOptions: buildHashOptions({ algorithms: ["pdq", "sha256"] }) });
let matcher: Matcher;

beforeAll(async () => {
  matcher = new Matcher([await loadHashSet(fixtures("hashsets/demo.phs"))]);
  mkdirSync(tree);
  copyFileSync(fixtures("images/shapes.png"), join(tree, "a.png"));
  copyFileSync(fixtures("images/texture.jpg"), join(tree, "b.jpg"));
  copyFileSync(fixtures("images/shapes.png"), join(tree, "c-copy.png"));
  symlinkSync("b.jpg", join(tree, "d-link.jpg"));
  // Distinct times per file, so a copy given its first file's times (or none) shows.
  utimesSync(join(tree, "a.png"), 946782245, 981173106);
  utimesSync(join(tree, "b.jpg"), 1000000000, 1000000000);
  utimesSync(join(tree, "c-copy.png"), 1234567890, 1234567890);
});
afterAll(async () => {
  await pool.close();
  rmSync(work, { recursive: true, force: true });
});

describe("collector lines from workers' records", () => {
  it("equal a local scan's, line for line, each file with its own times", async () => {
    const local: string[] = [];
    for await (const record of scanFiles([tree], pool, matcher, new ScanTally())) local.push(JSON.stringify(record));

    // Two workers, entries dealt in turn: the copy is hashed by the other worker than its first file's.
    const workers = [createEntryScanner(pool, matcher), createEntryScanner(pool, matcher)];
    const stored: ScanFileRecord[] = [];
    let turn = 0;
    for await (const entry of walkEntries([tree], { followSymlinks: false })) {
      if (entry.kind === "symlink") {
        stored.push(await withSize(symlinkRecord(entry))); // the coordinator's record, sized by a worker
        continue;
      }
      const record = await (workers[turn++ % 2] as (typeof workers)[0])(entry);
      delete record.duplicateOf; // as the worker does: the collector decides which copy is first
      delete record.duplicateOfBytes;
      stored.push(JSON.parse(JSON.stringify(record)) as ScanFileRecord); // through Redis as JSON
    }
    const firsts = new MemoryFirstCopies();
    const collected = stored.map((record) => JSON.stringify(collectedLine(record, firsts)));
    // The collector's own map (on disk) gives the same lines.
    const spilled = new SpillFirstCopies();
    try {
      expect(stored.map((record) => JSON.stringify(collectedLine(record, spilled)))).toEqual(local);
    } finally {
      spilled.close();
    }

    expect(collected).toEqual(local);
    const copy = JSON.parse(collected[2] as string) as ScanFileRecord;
    expect(copy.duplicateOf).toBe(join(tree, "a.png"));
    expect(copy.times?.modified).toBe("2009-02-13T23:31:30.000000000Z");
    expect((JSON.parse(collected[0] as string) as ScanFileRecord).times?.modified).toBe(
      "2001-02-03T04:05:06.000000000Z",
    );
  });
});

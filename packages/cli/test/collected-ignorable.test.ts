// A distributed scan with --ignorable, without Redis (issue 22): workers holding their own copies of the plan's
// ignorable lists (other paths, same bytes) give, through the collector, line for line what a local scan with those
// lists writes: `ignorable` records, duplicates of them, known files known first. A worker whose copies are not the
// plan's (other bytes, one missing or extra, another order) is refused before it hashes anything. The Redis round
// trip is test/system's.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadHashSet, Matcher, type ScanFileRecord, ScanTally, SupervisedHashPool } from "@phmatch/core";
import {
  buildHashOptions,
  closeScanIgnorables,
  createEntryScanner,
  MemoryFirstCopies,
  openScanIgnorables,
  type ScanIgnorable,
  scanFiles,
  walkEntries,
} from "@phmatch/core/internal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { collectedLine } from "../dist/queue/collector.js";
import { planIgnorables } from "../dist/queue/ignorable.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-collected-ignorable-"));
const tree = join(work, "tree");
const pool = new SupervisedHashPool({
  jobs: 1,
  hashOptions: buildHashOptions({ algorithms: ["pdq", "md5", "sha1", "sha256"] }),
});
const sha = (algorithm: string, path: string) => createHash(algorithm).update(readFileSync(path)).digest("hex");
let matcher: Matcher;
let local: ScanIgnorable[];
const opened: ScanIgnorable[][] = [];

beforeAll(async () => {
  matcher = new Matcher([await loadHashSet(fixtures("hashsets/demo.phs"))]);
  mkdirSync(tree);
  writeFileSync(join(tree, "a-system.dll"), "a known-good system file\n");
  copyFileSync(fixtures("images/shapes.png"), join(tree, "b.png"));
  writeFileSync(join(tree, "c-copy.dll"), "a known-good system file\n");
  copyFileSync(fixtures("images/texture.jpg"), join(tree, "d-listed.jpg")); // on demo.phs by MD5
  // The coordinator's lists, and each worker's copies of them elsewhere under other names.
  mkdirSync(join(work, "lists"));
  writeFileSync(join(work, "lists", "nsrl-sha1.txt"), `${sha("sha1", join(tree, "a-system.dll"))}\n`);
  writeFileSync(
    join(work, "lists", "lab.txt"),
    `${sha("sha256", join(tree, "a-system.dll"))}\n${sha("sha256", join(tree, "d-listed.jpg"))}\n`,
  );
  for (const w of ["w1", "w2"]) {
    mkdirSync(join(work, w));
    copyFileSync(join(work, "lists", "nsrl-sha1.txt"), join(work, w, "copy-1.txt"));
    copyFileSync(join(work, "lists", "lab.txt"), join(work, w, "copy-2.txt"));
  }
  local = await openScanIgnorables([join(work, "lists", "nsrl-sha1.txt"), join(work, "lists", "lab.txt")]);
});
afterAll(async () => {
  await closeScanIgnorables(local);
  for (const sets of opened) await closeScanIgnorables(sets);
  await pool.close();
  rmSync(work, { recursive: true, force: true });
});

async function open(...files: string[]): Promise<ScanIgnorable[]> {
  const sets = await openScanIgnorables(files);
  opened.push(sets);
  return sets;
}

describe("a distributed scan with --ignorable", () => {
  it("collects, line for line, what a local scan with the lists writes", async () => {
    const plan = local.map((l) => l.list); // the header the coordinator wrote
    const lines: string[] = [];
    for await (const record of scanFiles([tree], pool, matcher, new ScanTally(), { ignorable: local }))
      lines.push(JSON.stringify(record));

    const workers = [];
    for (const w of ["w1", "w2"]) {
      const copies = await open(join(work, w, "copy-1.txt"), join(work, w, "copy-2.txt"));
      workers.push(createEntryScanner(pool, matcher, { ignorable: planIgnorables("s", plan, copies) }));
    }
    const stored: ScanFileRecord[] = [];
    let turn = 0;
    for await (const entry of walkEntries([tree], { followSymlinks: false })) {
      const record = await (workers[turn++ % 2] as (typeof workers)[0])(entry);
      delete record.duplicateOf; // as the worker does: the collector decides which copy is first
      delete record.duplicateOfBytes;
      stored.push(JSON.parse(JSON.stringify(record)) as ScanFileRecord); // through Redis as JSON
    }
    const firsts = new MemoryFirstCopies();
    const collected = stored.map((record) => JSON.stringify(collectedLine(record, firsts)));

    expect(collected).toEqual(lines);
    const records = collected.map((l) => JSON.parse(l) as ScanFileRecord);
    expect(records.map((r) => r.status)).toEqual(["ignorable", "known", "ignorable", "known"]);
    expect(records[0]?.ignorable).toEqual([
      { list: "nsrl-sha1.txt", algorithm: "sha1" },
      { list: "lab.txt", algorithm: "sha256" },
    ]);
    expect(records[2]?.duplicateOf).toBe(join(tree, "a-system.dll"));
  });

  const refusal =
    "refuses a worker whose copies are not the plan's lists: other bytes, one missing or extra, another order";
  it(refusal, async () => {
    const plan = local.map((l) => l.list);
    writeFileSync(join(work, "other.txt"), `${sha("sha1", join(tree, "b.png"))}\n`);
    const refusals = [
      [join(work, "w1", "copy-1.txt"), join(work, "other.txt")],
      [join(work, "w1", "copy-1.txt")],
      [join(work, "w1", "copy-1.txt"), join(work, "w1", "copy-2.txt"), join(work, "other.txt")],
      [join(work, "w1", "copy-2.txt"), join(work, "w1", "copy-1.txt")],
      [],
    ];
    for (const files of refusals) {
      const copies = await open(...files);
      expect(() => planIgnorables("s", plan, copies), files.join(" ")).toThrow(
        expect.objectContaining({ code: "PHM_QUEUE_IGNORABLE_MISMATCH" }),
      );
    }
    // A worker given lists for a scan that has none is refused too: it would set files aside the header omits.
    const copies = await open(join(work, "w1", "copy-1.txt"));
    expect(() => planIgnorables("s", undefined, copies)).toThrow(/sets files aside with the ignorable lists none/);
    expect(planIgnorables("s", undefined, [])).toEqual([]);
  });
});

// createEntryScanner, the per-file step of a local scan and a distributed worker: a copy is a duplicate of the
// first file with its bytes and is not hashed again; with `remember`, copies beyond what is remembered are hashed
// again (a worker's bounded memory) and reported as files of their own. Each record has its own file's times.
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadHashSet, Matcher, type ScanFileRecord, SupervisedHashPool } from "@phmatch/core";
import { buildHashOptions, createEntryScanner, MemoryFirstCopies, readFileTimes } from "@phmatch/core/internal";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-entry-"));
const pool = new SupervisedHashPool({ jobs: 1, hashOptions: buildHashOptions({ algorithms: ["pdq", "sha256"] }) });
let matcher: Matcher;
beforeAll(async () => {
  matcher = new Matcher([await loadHashSet(fixtures("hashsets/demo.phs"))]);
  copyFileSync(fixtures("images/shapes.png"), join(work, "a1.png"));
  copyFileSync(fixtures("images/texture.jpg"), join(work, "b.jpg"));
  copyFileSync(fixtures("images/shapes.png"), join(work, "a2.png"));
});
afterAll(async () => {
  await pool.close();
  rmSync(work, { recursive: true, force: true });
});

// The entries one after another, as a walk gives them.
async function scanInOrder(scanEntry: ReturnType<typeof createEntryScanner>): Promise<ScanFileRecord[]> {
  const records: ScanFileRecord[] = [];
  for (const name of ["a1.png", "b.jpg", "a2.png"])
    records.push(await scanEntry({ kind: "file", path: join(work, name) }));
  return records;
}

describe("createEntryScanner", () => {
  it(
    "reports a copy as a duplicate of the first file with " + "its bytes, hashed once, each record with its size",
    async () => {
      const hash = vi.spyOn(pool, "hash");
      const [a1, b, a2] = await scanInOrder(createEntryScanner(pool, matcher));
      expect(hash).toHaveBeenCalledTimes(2);
      hash.mockRestore();
      expect(a1).toMatchObject({ status: "known", size: expect.any(Number) });
      expect(b?.duplicateOf).toBeUndefined();
      // Its own times (lstat before it was read), not the first copy's.
      const times = await readFileTimes(join(work, "a2.png"));
      expect(a2).toEqual({ ...a1, path: join(work, "a2.png"), duplicateOf: join(work, "a1.png"), times });
    },
  );

  it("with a memory of 1, forgets the first file once another comes, and hashes its copy again", async () => {
    const hash = vi.spyOn(pool, "hash");
    const [a1, , a2] = await scanInOrder(createEntryScanner(pool, matcher, { firsts: new MemoryFirstCopies(1) }));
    expect(hash).toHaveBeenCalledTimes(3);
    hash.mockRestore();
    expect(a2?.duplicateOf).toBeUndefined();
    expect(a2).toEqual({ ...a1, path: join(work, "a2.png"), times: await readFileTimes(join(work, "a2.png")) });
  });
});

describe("createEntryScanner, digest-only", () => {
  const digests = new SupervisedHashPool({ jobs: 1, hashOptions: buildHashOptions({ algorithms: ["md5", "sha256"] }) });
  afterAll(() => digests.close());

  it("computes the digests in its one read, never sends a file to the pool, and gives the pool's records", async () => {
    const viaPool = await scanInOrder(createEntryScanner(digests, matcher));
    const hash = vi.spyOn(digests, "hash");
    const direct = await scanInOrder(createEntryScanner(digests, matcher, { digestOnly: digests.algorithms }));
    expect(hash).not.toHaveBeenCalled();
    hash.mockRestore();
    expect(direct).toEqual(viaPool);
    expect(JSON.stringify(direct)).toBe(JSON.stringify(viaPool)); // line for line, keys in the same order
    // The demo list names shapes.png and texture.jpg by MD5: found without the pool; a copy is its duplicate.
    expect(direct.map((r) => [r.status, r.duplicateOf !== undefined])).toEqual([
      ["known", false],
      ["known", false],
      ["known", true],
    ]);
  });

  it("sends a file it cannot read to the pool, which says why; pixel algorithms always go to the pool", async () => {
    const hash = vi.spyOn(digests, "hash");
    const gone = await createEntryScanner(digests, matcher, { digestOnly: digests.algorithms })({
      kind: "file",
      path: join(work, "gone.png"),
    });
    expect(hash).toHaveBeenCalledTimes(1);
    expect(gone.error?.code).toBe("PHM_FILE_NOT_FOUND");
    hash.mockRestore();
    const withPdq = vi.spyOn(pool, "hash");
    await scanInOrder(createEntryScanner(pool, matcher, { digestOnly: pool.algorithms }));
    expect(withPdq).toHaveBeenCalledTimes(2);
    withPdq.mockRestore();
  });
});

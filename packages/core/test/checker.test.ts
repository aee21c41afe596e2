// createChecker, the library entry point for Node servers that already accept uploads: bytes or a stream in,
// a decision out; the stream is read into memory up to the limit, never to disk.
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  type CheckerPool,
  createChecker,
  HashPool,
  HashSetBuilder,
  hashFile,
  hashImageBytes,
  type LoadedHashSet,
  parseStore,
  SupervisedHashPool,
  serializeStore,
} from "@phmatch/core";
import { DEFAULT_CHECK_MAX_PIXELS } from "@phmatch/core/internal";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { headerOnlyPng } from "../../../test/support/pixel-bombs.js";

describe("createChecker", async () => {
  const checker = await createChecker({ hashsets: [fixtures("hashsets/demo.phs")], load: {}, maxBytes: 1_000_000 });

  it("decides match, no_match, low_quality and error, with reason codes", async () => {
    expect(await checker.check(readFileSync(fixtures("images/shapes-mirror.png")))).toMatchObject({
      decision: "match",
      reason_code: "LIST_MATCH",
      status: "known",
    });
    expect(await checker.check(createReadStream(fixtures("images/texture-grey.png")))).toMatchObject({
      decision: "no_match",
      reason_code: "NO_MATCH",
    });
    expect(await checker.check(readFileSync(fixtures("images/tiny-4x4.png")))).toMatchObject({
      decision: "low_quality",
      reason_code: "LOW_QUALITY",
    });
    expect(await checker.check(readFileSync(fixtures("bad/corrupt.png")))).toMatchObject({
      decision: "error",
      reason_code: "PHM_DECODE_CORRUPT",
    });
  });

  it("refuses input over the limit without reading all of it", async () => {
    let pulled = 0;
    const endless = new Readable({
      read() {
        pulled += 65536;
        this.push(pulled > 50_000_000 ? null : Buffer.alloc(65536));
      },
    });
    expect(await checker.check(endless)).toMatchObject({ decision: "error", reason_code: "PHM_FILE_TOO_LARGE" });
    expect(pulled).toBeLessThan(2_000_000);
    expect(await checker.check(Buffer.alloc(1_000_001))).toMatchObject({ reason_code: "PHM_FILE_TOO_LARGE" });
  });

  it("by default refuses a PNG over 50 MP from its header, and hashes a JPEG over it at reduced size", async () => {
    expect(DEFAULT_CHECK_MAX_PIXELS).toBe(50_000_000);
    // 10000 x 10000 with no pixel data: refused before decoding (a decode would find it truncated).
    expect(await checker.check(headerOnlyPng(10_000, 10_000))).toMatchObject({
      decision: "error",
      reason_code: "PHM_DECODE_TOO_MANY_PIXELS",
    });
    expect((await checker.check(headerOnlyPng(7_000, 7_000))).reason_code).toMatch(/PHM_DECODE_(TRUNCATED|CORRUPT)/);
    const big = await sharp({ create: { width: 9_000, height: 6_000, channels: 3, background: "#5a8cc8" } })
      .jpeg()
      .toBuffer();
    expect((await checker.check(big)).decision).not.toBe("error");
    const progressive = await sharp({ create: { width: 9_000, height: 6_000, channels: 3, background: "#5a8cc8" } })
      .jpeg({ progressive: true, chromaSubsampling: "4:4:4" })
      .toBuffer();
    expect(await checker.check(progressive)).toMatchObject({
      decision: "error",
      reason_code: "PHM_DECODE_TOO_MANY_PIXELS",
    });
  });

  it("matches a hash record computed elsewhere, and names its lists", async () => {
    const record = await hashFile(fixtures("images/shapes-rotate90.png"), { algorithms: ["pdq"], dihedral: true });
    expect(checker.matchRecord(record)).toMatchObject({
      decision: "match",
      matches: [expect.objectContaining({ variant: "rotate90" })],
    });
    expect(checker.lists).toEqual([{ listId: "phmatch-demo", version: 1 }]);
    expect(checker.algorithms).toContain("pdq");
  });

  it("hashes on worker threads when given a pool, with the same answers", async () => {
    const pool = new HashPool({ threads: 2 });
    try {
      const threaded = await createChecker({ hashsets: [fixtures("hashsets/demo.phs")], pool });
      const bytes = readFileSync(fixtures("images/shapes-mirror.png"));
      // A view into a larger buffer: only its own bytes may go to the thread.
      const inLarger = Buffer.concat([Buffer.alloc(100), bytes, Buffer.alloc(100)]).subarray(100, 100 + bytes.length);
      for (const input of [bytes, inLarger]) expect(await threaded.check(input)).toEqual(await checker.check(bytes));
      expect(await threaded.check(readFileSync(fixtures("bad/truncated.jpg")))).toMatchObject({
        decision: "error",
        reason_code: "PHM_DECODE_TRUNCATED",
      });
    } finally {
      await pool.close();
    }
  });

  it(
    "hashes in a supervised worker process when given " + "one, with the same answers, and survives its crash",
    async () => {
      const pool = new SupervisedHashPool({ jobs: 1 });
      try {
        const supervised = await createChecker({ hashsets: [fixtures("hashsets/demo.phs")], pool });
        const bytes = readFileSync(fixtures("images/shapes-mirror.png"));
        const inLarger = Buffer.concat([Buffer.alloc(100), bytes, Buffer.alloc(100)]).subarray(100, 100 + bytes.length);
        for (const input of [bytes, inLarger])
          expect(await supervised.check(input)).toEqual(await checker.check(bytes));
        process.kill(pool.childPid as number, "SIGSEGV");
        expect(await supervised.check(readFileSync(fixtures("images/texture-grey.png")))).toEqual(
          await checker.check(readFileSync(fixtures("images/texture-grey.png"))),
        );
        expect(pool.stats).toMatchObject({ starts: 2, crashes: 1 });
      } finally {
        await pool.close();
      }
    },
  );

  it("checks a file by its path with its own options, in process or on a pool built with others", async () => {
    const work = mkdtempSync(join(tmpdir(), "phmatch-check-file-"));
    // Built to compute MD5 only: the checker's per-call options must still give PDQ and its dihedral variants.
    const pool = new SupervisedHashPool({ jobs: 1, hashOptions: { algorithms: ["md5"] } });
    try {
      const big = join(work, "big.bin");
      writeFileSync(big, Buffer.alloc(1_000_001));
      const supervised = await createChecker({ hashsets: [fixtures("hashsets/demo.phs")], maxBytes: 1_000_000, pool });
      for (const c of [checker, supervised]) {
        const path = fixtures("images/shapes-rotate90.png");
        const rotated = await c.checkFile(path);
        const pdqRotate90 = expect.objectContaining({ algorithm: "pdq", variant: "rotate90" });
        expect(rotated).toMatchObject({ decision: "match", matches: expect.arrayContaining([pdqRotate90]) });
        expect(rotated).toEqual({ ...(await c.check(readFileSync(path))), path });
        const missing = await c.checkFile(fixtures("bad/does-not-exist.jpg"));
        expect(missing).toMatchObject({ decision: "error", reason_code: "PHM_FILE_NOT_FOUND" });
        expect(await c.checkFile(big)).toMatchObject({ decision: "error", reason_code: "PHM_FILE_TOO_LARGE" });
      }
    } finally {
      await pool.close();
      rmSync(work, { recursive: true, force: true });
    }
  });

  it("hashes the part views only when a list holds sub-window hashes (built with --augment)", async () => {
    const setOf = (fields?: Record<string, string>, entryId = "e1"): LoadedHashSet => {
      const builder = new HashSetBuilder();
      builder.addList({ listId: "L", version: 1 });
      const value = new Uint8Array(32).map((_, i) => (i * 37) & 0xff);
      builder.addEntry({ algorithm: "pdq", value, listId: "L", entryId, ...(fields !== undefined && { fields }) });
      return {
        set: parseStore(serializeStore(builder), "t"),
        path: "t",
        storeSha256: "",
        encrypted: false,
        overrides: [],
      };
    };
    const plain = setOf();
    // An id that only spells the field (JSON escapes its quotes) is not a window.
    const lookalike = setOf(undefined, 'x"window":"top-34"');
    const augmented = setOf({ window: "top-34" });
    expect([plain, lookalike, augmented].map((s) => s.set.holdsWindows)).toEqual([false, false, true]);

    const asked: (boolean | undefined)[] = [];
    const pool: CheckerPool = {
      hashBytes: (bytes, name, options) => {
        asked.push(options.parts);
        return hashImageBytes(bytes, name, options);
      },
      hash: (path, options) => {
        asked.push(options.parts);
        return hashFile(path, options);
      },
    };
    const image = readFileSync(fixtures("images/shapes.png"));
    for (const [hashsets, parts] of [
      [[plain], undefined],
      [[lookalike], undefined],
      [[plain, augmented], undefined],
      [[augmented], false],
    ] as const) {
      const record = await createChecker({ hashsets: [...hashsets], pool, ...(parts !== undefined && { parts }) });
      await record.check(image);
    }
    expect(asked).toEqual([false, false, true, false]);
  });
});

// SpillFirstCopies, the scan's default map of first copies: the same answers as the in-memory map over a random
// sequence with repeats, exact despite a shared key prefix, a spill file only its owner can read and that leaves
// nothing behind, and a measured memory cost per distinct file (a child process, 200,000 entries).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ScanFileRecord } from "@phmatch/core";
import { MemoryFirstCopies, SpillFirstCopies } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../../test/support/conformance.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-spill-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A small seeded generator (the sequence is the same every run): uint32 values, of which `below` takes the high bits.
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
}
const below = (next: () => number, n: number) => Math.floor((next() / 2 ** 32) * n);

const hex64 = (next: () => number) => Array.from({ length: 8 }, () => next().toString(16).padStart(8, "0")).join("");

const record = (path: string, sha256: string, extra = 0): ScanFileRecord => ({
  type: "file",
  path,
  status: "unseen",
  matches: [],
  hashes: { sha256 },
  ...(extra > 0 && { notes: ["é".repeat(extra)] }), // multi-byte text: byte and character counts differ
});

describe("SpillFirstCopies", () => {
  it("answers get, has and size as MemoryFirstCopies does over a random sequence with repeats", () => {
    const next = lcg(22);
    const keys = Array.from({ length: 1500 }, () => hex64(next)); // past the first table (1,024 slots)
    const spill = new SpillFirstCopies({ tempDir: work });
    const memory = new MemoryFirstCopies();
    try {
      for (let i = 0; i < 8000; i++) {
        const key = keys[below(next, keys.length)] as string;
        const op = below(next, 3);
        if (op === 0) {
          // Records of every size: most small, some past one read (4 KiB), one past the write buffer (256 KiB).
          const extra = i === 3000 ? 200_000 : below(next, 10) === 0 ? 3000 : below(next, 50);
          const r = record(`/case/${i}.jpg`, key, extra);
          spill.set(key, r);
          memory.set(key, r);
        } else if (op === 1) {
          expect(spill.has(key)).toBe(memory.has(key));
        } else {
          expect(spill.get(key)).toEqual(memory.get(key));
        }
        expect(spill.size).toBe(memory.size);
      }
      expect(spill.size).toBeGreaterThan(1024);
      for (const key of keys) expect(spill.get(key)).toEqual(memory.get(key));
      expect(spill.spillStat().size).toBeGreaterThan(256 * 1024); // some records were read back from the file
    } finally {
      spill.close();
    }
  });

  it("keeps a record from later changes to the object it was given", () => {
    const spill = new SpillFirstCopies({ tempDir: work });
    const key = "a".repeat(64);
    const r = record("/case/a.jpg", key);
    spill.set(key, r);
    r.path = "/case/changed.jpg";
    expect(spill.get(key)?.path).toBe("/case/a.jpg");
    spill.close();
  });

  it("never takes a digest sharing another's 8-byte prefix for it (a forced prefix collision)", () => {
    const spill = new SpillFirstCopies({ tempDir: work });
    const shared = "0123456789abcdef";
    const a = shared + "0".repeat(48);
    const b = shared + "f".repeat(48);
    const c = shared + "1".repeat(48);
    try {
      spill.set(a, record("/case/a.jpg", a));
      expect(spill.has(b)).toBe(false);
      expect(spill.get(b)).toBeUndefined();
      spill.set(b, record("/case/b.jpg", b));
      // Past the write buffer, so the records compared are read back from the file.
      const next = lcg(7);
      for (let i = 0; i < 800; i++) spill.set(hex64(next), record(`/f/${i}`, "", 300));
      expect(spill.get(a)?.path).toBe("/case/a.jpg");
      expect(spill.get(b)?.path).toBe("/case/b.jpg");
      expect(spill.has(c)).toBe(false);
      expect(spill.size).toBe(802);
    } finally {
      spill.close();
    }
  });

  it("finds keys that are not SHA-256 hex exactly too (a resumed report may hold anything)", () => {
    const spill = new SpillFirstCopies({ tempDir: work });
    spill.set("not a digest", record("/x", "not a digest"));
    expect(spill.get("not a digest")?.path).toBe("/x");
    expect(spill.has("not a digesT")).toBe(false);
    spill.close();
  });

  it("keeps its records in a file only its owner can read, which has no name left and is gone after close", () => {
    const dir = mkdtempSync(join(work, "private-"));
    const spill = new SpillFirstCopies({ tempDir: dir });
    spill.set("b".repeat(64), record("/case/b.jpg", "b".repeat(64)));
    const stat = spill.spillStat();
    expect(stat.mode).toBe(0o600);
    if (process.getuid !== undefined) expect(stat.uid).toBe(process.getuid());
    if (process.platform !== "win32") {
      // POSIX: unlinked as soon as it was opened (nothing to read by name, nothing left after a kill -9).
      expect(spill.spillPath).toBeUndefined();
      expect(readdirSync(dir)).toEqual([]);
    } else if (spill.spillPath !== undefined) {
      expect(statSync(dirname(spill.spillPath)).mode & 0o777).toBe(0o700);
      expect(statSync(spill.spillPath).mode & 0o777).toBe(0o600);
    }
    spill.close();
    expect(readdirSync(dir)).toEqual([]);
    expect(spill.spillPath).toBeUndefined();
    // Closed: remembers nothing and takes nothing (a file still in flight when its scan ended).
    expect(spill.has("b".repeat(64))).toBe(false);
    spill.set("c".repeat(64), record("/case/c.jpg", "c".repeat(64)));
    expect(spill.size).toBe(0);
  });

  it("refuses a spill directory that is not an absolute path to a directory (PHMATCH_TMPDIR is hostile too)", () => {
    expect(() => new SpillFirstCopies({ tempDir: "relative/dir" })).toThrow(
      expect.objectContaining({ code: "PHM_USAGE" }),
    );
    expect(() => new SpillFirstCopies({ tempDir: join(work, "missing") })).toThrow(
      expect.objectContaining({ code: "PHM_USAGE" }),
    );
    const saved = process.env.PHMATCH_TMPDIR;
    process.env.PHMATCH_TMPDIR = "tmp";
    try {
      expect(() => new SpillFirstCopies()).toThrow(expect.objectContaining({ code: "PHM_USAGE" }));
    } finally {
      if (saved === undefined) delete process.env.PHMATCH_TMPDIR;
      else process.env.PHMATCH_TMPDIR = saved;
    }
  });

  // Measured, not estimated: heap and array buffers after a full collection, before and after 200,000 distinct
  // entries, in a child process of its own (nothing else of the test run in its heap). The point is a bound, not a
  // time: the child takes a few seconds.
  it("costs at most 100 bytes of memory per distinct file, where the in-memory map costs more", () => {
    const perEntry = (kind: "SpillFirstCopies" | "MemoryFirstCopies") => {
      const script = `
        import { createHash } from "node:crypto";
        import { ${kind} } from "@phmatch/core/internal";
        const n = 200000;
        const used = () => {
          globalThis.gc();
          globalThis.gc();
          const m = process.memoryUsage();
          return m.heapUsed + m.arrayBuffers;
        };
        const copies = new ${kind}(${kind === "SpillFirstCopies" ? JSON.stringify({ tempDir: work }) : ""});
        const before = used();
        for (let i = 0; i < n; i++) {
          const sha256 = createHash("sha256").update(String(i)).digest("hex");
          const path = "/case/d" + (i % 1000) + "/f" + i + ".jpg";
          copies.set(sha256, { type: "file", path, status: "unseen", matches: [], hashes: { sha256 } });
        }
        const after = used();
        process.stdout.write(JSON.stringify({ perEntry: (after - before) / n, size: copies.size }));
        copies.close();`;
      const out = execFileSync(process.execPath, ["--expose-gc", "--input-type=module", "-e", script], {
        cwd: projectRoot,
        encoding: "utf8",
      });
      const result = JSON.parse(out) as { perEntry: number; size: number };
      expect(result.size).toBe(200_000);
      return result.perEntry;
    };
    const spill = perEntry("SpillFirstCopies");
    expect(spill).toBeLessThanOrEqual(100);
    expect(spill).toBeGreaterThan(16); // the table itself: the measurement sees what is held
    expect(perEntry("MemoryFirstCopies")).toBeGreaterThan(100);
  });
});

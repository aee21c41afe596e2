// readScanProgress streams the report (a report of millions of files is not read whole): lines that cross the
// stream's chunks, multi-byte paths split between chunks and a torn last line read back as before, and the first
// copies it hands back (on disk) give the first file of each content, not a later copy.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readScanProgress, type ScanFileRecord, scanReportSchemaId } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";

const work = mkdtempSync(join(tmpdir(), "phmatch-progress-stream-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const header = {
  type: "header",
  schema: scanReportSchemaId(),
  tool: "phmatch",
  version: "0.1.0",
  startedAt: "2026-12-05T00:00:00.000Z",
  inputs: ["/case"],
  algorithms: ["sha256"],
  policies: [],
  lists: [],
};
// Distinct digests that differ in their first bytes, as SHA-256s do.
const digest = (i: number) => createHash("sha256").update(String(i)).digest("hex");

describe("readScanProgress over a report larger than one read", () => {
  it("reads records across chunk boundaries, cuts the torn line, keeps the first copy of each content", async () => {
    const records: ScanFileRecord[] = [];
    for (let i = 0; i < 3000; i++) {
      // Paths of two-, three- and four-byte characters, of varying length, so lines end anywhere in a chunk.
      const path = `/case/${"é".repeat(i % 7)}${"漢".repeat(i % 5)}${"😀".repeat(i % 3)}/${i}.jpg`;
      const copyOf = i % 10 === 9 ? i - 5 : undefined; // every tenth file a copy of an earlier one
      const record: ScanFileRecord = {
        type: "file",
        path,
        status: "unseen",
        matches: [],
        hashes: { sha256: digest(copyOf ?? i) },
        size: i,
      };
      if (copyOf !== undefined) record.duplicateOf = records[copyOf]?.path as string;
      records.push(record);
    }
    const lines = [header, ...records].map((l) => `${JSON.stringify(l)}\n`).join("");
    expect(Buffer.byteLength(lines)).toBeGreaterThan(4 * 64 * 1024);
    const report = join(work, "report.ndjson");
    writeFileSync(report, `${lines}{"type":"file","path":"/case/ha`);
    const seen: number[] = [];
    const progress = await readScanProgress(report, { onRecord: (_record, line) => seen.push(line) });
    try {
      expect(readFileSync(report, "utf8")).toBe(lines);
      expect(progress.complete).toBe(false);
      expect(progress.header).toEqual(header);
      expect(progress.tally.summary.files).toBe(3000);
      expect(progress.tally.summary.duplicates).toBe(300);
      expect(seen).toEqual(records.map((_, i) => i + 2));
      expect(progress.lastPath).toContain("2999.jpg");
      expect(progress.firsts.size).toBe(2700);
      // The first copy, without its size (a duplicate has its own).
      const { size: _size, ...first } = records[4] as ScanFileRecord;
      expect(progress.firsts.get(digest(4))).toEqual(first);
      expect(progress.firsts.get(digest(9))).toBeUndefined(); // file 9 is a copy of file 4, never a first
    } finally {
      progress.firsts.close();
    }
  });

  it("refuses a line longer than any record (64 MiB) instead of gathering it; the report stays as it was", async () => {
    const report = join(work, "long-line.ndjson");
    const text = Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), Buffer.alloc(65 * 2 ** 20, 0x61)]);
    writeFileSync(report, text);
    await expect(readScanProgress(report)).rejects.toMatchObject({
      code: "PHM_USAGE",
      message: expect.stringContaining("longer than 64 MiB"),
    });
    expect(readFileSync(report).length).toBe(text.length);
    rmSync(report);
  });
});

// Each file's record carries its modified, changed, accessed and (where the file system keeps it) birth times, as
// lstat found them before the file was opened (issue 22); the scan report schema is version 2 for it, and version 1
// reports still validate against their own schema, still verify, and are refused (not mixed) by a resume.
import type { BigIntStats } from "node:fs";
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { release, tmpdir } from "node:os";
import { join } from "node:path";
import {
  loadHashSet,
  Matcher,
  type ScanFileRecord,
  ScanTally,
  SupervisedHashPool,
  scanReportSchema,
  verifyReport,
  writeReportIntegrity,
} from "@phmatch/core";
import {
  birthTimeSource,
  buildHashOptions,
  createEntryScanner,
  fileTimesOf,
  isoNs,
  readScanProgress,
  SCAN_REPORT_VERSION,
  scanFiles,
  scanReportSchemaId,
} from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-times-"));
const tree = join(work, "tree");
const pool = new SupervisedHashPool({ jobs: 1, hashOptions: buildHashOptions({ algorithms: ["pdq", "sha256"] }) });
let matcher: Matcher;

// Whole and half seconds: exact in a double, so utimes writes them exactly (libuv keeps microseconds).
const MTIME = 981173106; // 2001-02-03T04:05:06Z
const ATIME = 946782245.5; // 2000-01-02T03:04:05.5Z: before the mtime, so a plain read would move it (relatime)
const COPY_MTIME = 1234567890;

beforeAll(async () => {
  matcher = new Matcher([await loadHashSet(fixtures("hashsets/demo.phs"))]);
  mkdirSync(tree);
  copyFileSync(fixtures("images/shapes.png"), join(tree, "a.png"));
  copyFileSync(fixtures("images/shapes.png"), join(tree, "b-copy.png"));
  symlinkSync("a.png", join(tree, "c-link.png"));
  utimesSync(join(tree, "a.png"), ATIME, MTIME);
  utimesSync(join(tree, "b-copy.png"), COPY_MTIME, COPY_MTIME);
});
afterAll(async () => {
  await pool.close();
  rmSync(work, { recursive: true, force: true });
});

async function scanTree(): Promise<ScanFileRecord[]> {
  const records: ScanFileRecord[] = [];
  for await (const record of scanFiles([tree], pool, matcher, new ScanTally())) records.push(record);
  return records;
}

const byName = (records: ScanFileRecord[], name: string) => records.find((r) => r.path === join(tree, name));

// What the record must say of a file's birth time: the file system's, when this machine reports one.
function expectedBorn(stats: BigIntStats): string | undefined {
  const probes = ["/", process.execPath].map((path) => statSync(path, { bigint: true }));
  const source = birthTimeSource(process.platform, release(), probes);
  return source !== "copied-ctime" && stats.birthtimeNs > 0n ? isoNs(stats.birthtimeNs) : undefined;
}

describe("scan records carry file times", () => {
  it("records modified, changed and accessed as set, to the ns, and leaves the access time unread", async () => {
    const records = await scanTree();
    const a = byName(records, "a.png");
    const after = lstatSync(join(tree, "a.png"), { bigint: true });
    expect(a?.status).toBe("known");
    expect(a?.times).toMatchObject({
      modified: "2001-02-03T04:05:06.000000000Z",
      accessed: "2000-01-02T03:04:05.500000000Z",
      changed: isoNs(after.ctimeNs),
    });
    expect(a?.times?.born).toBe(expectedBorn(after));
    // The SHA-256 read and the hash opened it with O_NOATIME (we own it): its atime is still the one set.
    expect(after.atimeNs).toBe(BigInt(ATIME * 1e9));
    expect(Object.keys(a ?? {}).at(-1)).toBe("times"); // last, where the collector writes it too
  });

  it("gives a duplicate its own times, not its first copy's, and a link recorded as such none", async () => {
    const records = await scanTree();
    const copy = byName(records, "b-copy.png");
    expect(copy?.duplicateOf).toBe(join(tree, "a.png"));
    expect(copy?.times?.modified).toBe("2009-02-13T23:31:30.000000000Z");
    expect(copy?.times?.accessed).toBe("2009-02-13T23:31:30.000000000Z");
    const link = byName(records, "c-link.png");
    expect(link?.status).toBe("symlink");
    expect(link?.times).toBeUndefined();
  });

  it("reads the times before the file is hashed", async () => {
    const file = join(tree, "a.png");
    // A hasher that touches the file's access time: a scan that read the times after hashing would record it.
    const touching = {
      hash: (path: Parameters<SupervisedHashPool["hash"]>[0]) => {
        utimesSync(file, 1500000000, MTIME);
        return pool.hash(path);
      },
    };
    try {
      const record = await createEntryScanner(touching, matcher)({ kind: "file", path: file });
      expect(record.times?.accessed).toBe("2000-01-02T03:04:05.500000000Z");
      expect(lstatSync(file).atimeMs).toBe(1500000000 * 1000);
    } finally {
      utimesSync(file, ATIME, MTIME);
    }
  });
});

describe("birth times", () => {
  const stats = (birthtimeNs: bigint, ctimeNs = 5_000_000_123n) =>
    ({ atimeNs: 1n, mtimeNs: 2n, ctimeNs, birthtimeNs }) as unknown as BigIntStats;

  it("leaves out Node's 0 (unknown) and libuv's copied ctime, and keeps a real one", () => {
    expect(fileTimesOf(stats(0n), "statx").born).toBeUndefined();
    expect(fileTimesOf(stats(0n), "native").born).toBeUndefined();
    expect(fileTimesOf(stats(5_000_000_123n), "copied-ctime").born).toBeUndefined();
    expect(fileTimesOf(stats(4_000_000_007n), "statx")).toEqual({
      modified: "1970-01-01T00:00:00.000000002Z",
      changed: "1970-01-01T00:00:05.000000123Z",
      accessed: "1970-01-01T00:00:00.000000001Z",
      born: "1970-01-01T00:00:04.000000007Z",
    });
  });

  it("tells statx from libuv's stat fallback by kernel and by probes", () => {
    expect(birthTimeSource("darwin", "23.1.0")).toBe("native");
    expect(birthTimeSource("win32", "10.0.22631")).toBe("native");
    expect(birthTimeSource("linux", "4.4.0-210-generic")).toBe("copied-ctime");
    expect(birthTimeSource("linux", "4.11.0")).toBe("statx");
    expect(birthTimeSource("linux", "6.8.0-45-generic", [stats(0n)])).toBe("statx");
    expect(birthTimeSource("linux", "6.8.0", [stats(5_000_000_123n), stats(7n, 7n)])).toBe("copied-ctime");
    expect(birthTimeSource("linux", "6.8.0", [stats(5_000_000_123n), stats(6n, 7n)])).toBe("statx");
  });
});

describe("scan report schema versions", () => {
  const ajv = () => new Ajv2020({ strict: true });
  const v1Header = {
    type: "header",
    schema: scanReportSchemaId(1),
    tool: "phmatch",
    version: "0.1.0",
    startedAt: "2026-01-01T00:00:00.000Z",
    inputs: ["/case"],
    algorithms: ["sha256"],
    policies: [],
    lists: [],
  };
  const v1Record = { type: "file", path: "/case/a.jpg", status: "unseen", matches: [], size: 3 };

  it("version 2 adds times: records with times valid in 2, not in 1; version 1 lines valid in both", async () => {
    expect(SCAN_REPORT_VERSION).toBe(3);
    expect(scanReportSchemaId(2)).toBe("urn:phmatch:schema:scan-report:2");
    const v2 = ajv().compile(scanReportSchema(2));
    const v1 = ajv().compile(scanReportSchema(1));
    expect((scanReportSchema(1) as { $id: string }).$id).toBe("urn:phmatch:schema:scan-report:1");
    const record = byName(await scanTree(), "a.png");
    expect(v2(record), JSON.stringify(v2.errors)).toBe(true);
    expect(v1(record)).toBe(false);
    for (const line of [v1Header, v1Record]) {
      expect(v1(line), JSON.stringify(v1.errors)).toBe(true);
      expect(v2(line), JSON.stringify(v2.errors)).toBe(true);
    }
    expect(v2({ ...v1Record, times: { modified: "2001-02-03T04:05:06Z", changed: "x", accessed: "y" } })).toBe(false);
    expect(() => scanReportSchema(4)).toThrow(RangeError);
  });

  it("still verifies a version 1 report, and refuses to resume one, leaving it as it was", async () => {
    const report = join(work, "v1.ndjson");
    const summary = { type: "summary", finishedAt: "2026-01-01T00:00:01.000Z", files: 1 };
    writeFileSync(report, [v1Header, v1Record, summary].map((l) => `${JSON.stringify(l)}\n`).join(""));
    await writeReportIntegrity(report);
    expect(verifyReport(report).sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await readScanProgress(report)).complete).toBe(true); // finished: nothing to write, nothing refused

    const torn = join(work, "v1-torn.ndjson");
    const text = `${JSON.stringify(v1Header)}\n${JSON.stringify(v1Record)}\n{"type":"fi`;
    writeFileSync(torn, text);
    await expect(readScanProgress(torn)).rejects.toMatchObject({
      code: "PHM_USAGE",
      message: expect.stringContaining("urn:phmatch:schema:scan-report:1 report"),
    });
    expect(readFileSync(torn, "utf8")).toBe(text);
  });
});

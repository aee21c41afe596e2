// `phmatch report vics`: every file of a finished scan report as a VICS 2.0 Media, with its status and the cluster
// the report's cluster section puts it in; a report that is altered, unfinished or not a report is refused.
import { createHash } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { PhmatchError, type ScanFileRecord, type ScanHeader, writeReportIntegrity } from "@phmatch/core";
import { exportVics, type VicsExportOptions, vicsMedia } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";

const work = mkdtempSync(join(tmpdir(), "phmatch-vics-export-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const times = {
  modified: "2001-02-03T04:05:06.123456789Z",
  changed: "2026-12-05T14:00:00.000000001Z",
  accessed: "2020-01-02T03:04:05.500000000Z",
  born: "2000-01-01T00:00:00.999999999Z",
};

function header(version: number): ScanHeader {
  return {
    type: "header",
    schema: `urn:phmatch:schema:scan-report:${version}`,
    tool: "phmatch",
    version: "0",
    startedAt: "2026-12-05T00:00:00.000Z",
    inputs: ["/case"],
    algorithms: ["pdq", "md5", "sha256"],
    policies: [],
    lists: [],
  };
}

const digest = (n: number) => ({ sha256: n.toString(16).padStart(64, "0"), md5: n.toString(16).padStart(32, "0") });
const file = (path: string, status: ScanFileRecord["status"], n: number): ScanFileRecord => ({
  type: "file",
  path,
  size: 100 + n,
  hashes: digest(n),
  status,
  matches: [],
  times,
});

// Lines 2..9 of the report: the header is line 1.
const records: ScanFileRecord[] = [
  {
    ...file("/case/known.jpg", "known", 1),
    matches: [{ list: "hotline", listVersion: 3, category: "1", algorithm: "pdq", distance: 4, policy: "p@1" }],
  },
  file("/case/a.png", "unseen", 2),
  file("/case/b.png", "unseen", 3),
  // A file system that keeps no birth time: no `born`, so no Created.
  {
    ...file("/case/flat.png", "low_quality", 4),
    times: { modified: times.modified, changed: times.changed, accessed: times.accessed },
  },
  { ...file("/case/os.dll", "ignorable", 5), ignorable: [{ list: "nsrl", algorithm: "sha256" }] },
  {
    type: "file",
    path: "/case/bad.jpg",
    status: "error",
    matches: [],
    error: { code: "PHM_DECODE_CORRUPT", message: "corrupt" },
  },
  { ...file("/case/copy/a.png", "unseen", 2), duplicateOf: "/case/a.png" },
  { type: "file", path: "/case/link", linkTarget: "a.png", status: "symlink", matches: [] },
];
const lines = records.map((r) => JSON.stringify(r));

function clusterSection(): string[] {
  const cluster = JSON.stringify({
    type: "cluster",
    id: 1,
    size: 3,
    algorithm: "pdq",
    centre: { line: 3, path: "/case/a.png" },
    members: [
      { line: 3, path: "/case/a.png" },
      { line: 4, path: "/case/b.png" },
      { line: 8, path: "/case/copy/a.png" },
    ],
    touchesKnown: true,
  });
  const seal = JSON.stringify({
    type: "clusters",
    linkage: "leader",
    clusters: 1,
    clustered: 3,
    singletons: 0,
    unclustered: 0,
    sha256: createHash("sha256").update(`${cluster}\n`).digest("hex"),
  });
  return [cluster, seal];
}

const summary = JSON.stringify({ type: "summary", finishedAt: "2026-12-05T00:01:00.000Z", files: 8 });

async function report(name: string, content: string[], sealed = true): Promise<string> {
  const path = join(work, name);
  writeFileSync(path, content.map((l) => `${l}\n`).join(""));
  if (sealed) await writeReportIntegrity(path);
  return path;
}

async function exported(path: string, options: VicsExportOptions = {}) {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (chunk: Buffer) => chunks.push(chunk));
  const result = await exportVics(path, out, options);
  const doc = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown> & {
    value: Record<string, unknown>[];
  };
  return { result, doc };
}

async function refused(path: string): Promise<{ code: string; written: string }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (chunk: Buffer) => chunks.push(chunk));
  const error = await exportVics(path, out).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PhmatchError);
  return { code: (error as PhmatchError).code, written: Buffer.concat(chunks).toString("utf8") };
}

describe("report vics", () => {
  it("exports every file of a v3 report as a Media with its status, hashes, times and cluster", async () => {
    const path = await report("v3.ndjson", [JSON.stringify(header(3)), ...lines, ...clusterSection(), summary]);
    const { result, doc } = await exported(path);
    expect(Object.keys(doc)[0]).toBe("@odata.context");
    expect(doc["@odata.context"]).toBe(
      "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
    );
    expect(doc["@phmatch.report"]).toMatchObject({ schema: "urn:phmatch:schema:scan-report:3", verified: true });
    // Every file, the link recorded as such left out (it is not a file).
    expect(doc.value.map((m) => [m.MediaID, m.RelativeFilePath, m["@phmatch.status"]])).toEqual([
      [1, "/case/known.jpg", "known"],
      [2, "/case/a.png", "unseen"],
      [3, "/case/b.png", "unseen"],
      [4, "/case/flat.png", "low_quality"],
      [5, "/case/os.dll", "ignorable"],
      [6, "/case/bad.jpg", "error"],
      [7, "/case/copy/a.png", "duplicate"],
    ]);
    expect(result).toMatchObject({
      verified: true,
      links: 1,
      clustered: 3,
      media: { known: 1, unseen: 2, low_quality: 1, ignorable: 1, error: 1, duplicate: 1 },
    });
    const [known, a, b, flat, ignorable, bad, copy] = doc.value;
    // Category only for the known file whose category is a number, as `scan --format vics` writes it.
    expect(known).toMatchObject({
      MD5: "1".padStart(32, "0"),
      Category: 1,
      IsPrecategorized: true,
      PrecategorizationSource: "phmatch:hotline@3",
      Tags: "phmatch:status:known,phmatch:hotline@3:1",
      MediaSize: 101,
      AlternativeHashes: [{ MD5: "1".padStart(32, "0"), HashName: "SHA256", HashValue: digest(1).sha256 }],
    });
    expect(known?.["@phmatch.cluster"]).toBeUndefined();
    for (const m of [a, b, flat, ignorable, bad, copy]) {
      expect(m?.Category).toBeUndefined();
      expect(m?.IsPrecategorized).toBe(false);
    }
    // The clusters the report's section names, by line: the copy is line 8.
    expect([a, b, copy].map((m) => m?.["@phmatch.cluster"])).toEqual([1, 1, 1]);
    // The section says the cluster touches a known file: likely the same series.
    expect(a?.Tags).toBe("phmatch:status:unseen,phmatch:cluster:1,phmatch:cluster-near-known");
    expect([a, b, copy].map((m) => m?.["@phmatch.clusterNearKnown"])).toEqual([true, true, true]);
    expect(flat?.["@phmatch.clusterNearKnown"]).toBeUndefined();
    expect(copy).toMatchObject({ "@phmatch.duplicateOf": "/case/a.png", Tags: expect.stringContaining("duplicate") });
    expect(ignorable?.Tags).toBe("phmatch:status:ignorable,phmatch:ignorable:nsrl");
    expect(bad).toMatchObject({ "@phmatch.error": "PHM_DECODE_CORRUPT", Tags: "phmatch:status:error" });
    expect(bad?.MD5).toBeUndefined();
    // The times under VICS's names, to .NET's 100 ns; all four exactly beside them.
    expect(known?.MediaFiles).toEqual([
      {
        MD5: "1".padStart(32, "0"),
        MediaFileID: 1,
        FileName: "known.jpg",
        FilePath: "/case/",
        Created: "2000-01-01T00:00:00.9999999Z",
        Written: "2001-02-03T04:05:06.1234567Z",
        Accessed: "2020-01-02T03:04:05.5000000Z",
        "@phmatch.times": times,
      },
    ]);
    expect(flat?.MediaFiles).toEqual([expect.not.objectContaining({ Created: expect.anything() })]);
  });

  it("keeps a comma in a list's name from splitting Tags", () => {
    const record: ScanFileRecord = {
      ...file("/case/x.jpg", "known", 9),
      matches: [{ list: "hot,line%", listVersion: 2, category: "A,1", algorithm: "md5", distance: 0, policy: "p@1" }],
      ignorable: [{ list: "nsrl,2026", algorithm: "md5" }],
    };
    expect(String(vicsMedia(record, 1).Tags).split(",")).toEqual([
      "phmatch:status:known",
      "phmatch:hot%2Cline%25@2:A%2C1",
      "phmatch:ignorable:nsrl%2C2026",
    ]);
  });

  it("exports only the known files with knownOnly", async () => {
    const path = await report("known-only.ndjson", [JSON.stringify(header(3)), ...lines, ...clusterSection(), summary]);
    const { result, doc } = await exported(path, { knownOnly: true });
    expect(doc.value.map((m) => m.RelativeFilePath)).toEqual(["/case/known.jpg"]);
    expect(result).toMatchObject({ skipped: 6, links: 1 });
  });

  it("exports a v2 report, which has no cluster section, without clusters", async () => {
    const path = await report("v2.ndjson", [JSON.stringify(header(2)), ...lines.slice(0, 4), summary]);
    const { result, doc } = await exported(path);
    expect(doc.value).toHaveLength(4);
    expect(doc.value.every((m) => m["@phmatch.cluster"] === undefined && !String(m.Tags).includes("cluster"))).toBe(
      true,
    );
    expect(result.clustered).toBe(0);
  });

  it("exports a v1 report, whose records have no times, with no times", async () => {
    const v1 = records.slice(0, 2).map(({ times: _times, ...r }) => JSON.stringify(r));
    const path = await report("v1.ndjson", [JSON.stringify(header(1)), ...v1, summary]);
    const { doc } = await exported(path, { scheme: "UK" });
    expect(doc["@odata.context"]).toContain("/2.0.xml/UK/$metadata#Media");
    expect(doc.value.map((m) => m.MediaFiles)).toEqual([
      [{ MD5: "1".padStart(32, "0"), MediaFileID: 1, FileName: "known.jpg", FilePath: "/case/" }],
      [{ MD5: "2".padStart(32, "0"), MediaFileID: 1, FileName: "a.png", FilePath: "/case/" }],
    ]);
    const unknown = await exportVics(path, new PassThrough(), { scheme: "XX" as never }).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: "PHM_USAGE" });
  });

  it("refuses a report that does not match its .sha256, and closes no document", async () => {
    const path = await report("altered.ndjson", [JSON.stringify(header(3)), ...lines, summary]);
    writeFileSync(path, readFileSync(path, "utf8").replace('"status":"known"', '"status":"unseen"'));
    const { code, written } = await refused(path);
    expect(code).toBe("PHM_REPORT_ALTERED");
    expect(written).toBe("");
  });

  it("leaves the document unclosed when the report changes between its passes", async () => {
    const many = Array.from({ length: 3000 }, (_, i) => JSON.stringify(file(`/case/f${i}.png`, "unseen", i + 10)));
    const path = await report("changing.ndjson", [JSON.stringify(header(3)), ...many, summary], false);
    const chunks: Buffer[] = [];
    let changed = false;
    const out = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        // Once the second pass writes its first Media, a byte near the report's end (not yet read) changes.
        if (!changed && chunk.toString().includes("MediaID")) {
          changed = true;
          const text = readFileSync(path, "utf8");
          writeFileSync(path, text.replace('"path":"/case/f2999.png"', '"path":"/case/f2999.jpg"'));
        }
        done();
      },
    });
    const error = await exportVics(path, out).catch((e: unknown) => e);
    expect(changed).toBe(true);
    expect(error).toMatchObject({ code: "PHM_REPORT_ALTERED", message: expect.stringContaining("changed while") });
    expect(Buffer.concat(chunks).toString().trimEnd().endsWith("]}")).toBe(false);
  });

  it("refuses a cluster section that does not match its seal, even with no .sha256 beside the report", async () => {
    const [cluster, seal] = clusterSection();
    const moved = (cluster as string).replace('"line":4', '"line":5');
    const path = await report(
      "reseal.ndjson",
      [JSON.stringify(header(3)), ...lines, moved, seal as string, summary],
      false,
    );
    expect((await refused(path)).code).toBe("PHM_REPORT_ALTERED");
  });

  it("refuses an unfinished report, a torn one and a file that is not a report", async () => {
    const unfinished = await report("unfinished.ndjson", [JSON.stringify(header(3)), ...lines], false);
    expect((await refused(unfinished)).code).toBe("PHM_REPORT_FORMAT");
    const torn = await report("torn.ndjson", [JSON.stringify(header(3)), ...lines, summary], false);
    appendFileSync(torn, '{"type":"file","pa');
    expect((await refused(torn)).code).toBe("PHM_REPORT_FORMAT");
    const csv = join(work, "report.csv");
    writeFileSync(csv, "path,size,sha256,status\n/case/a.png,1,00,unseen\n");
    expect((await refused(csv)).code).toBe("PHM_REPORT_FORMAT");
    const future = await report("v9.ndjson", [JSON.stringify(header(9)), summary], false);
    expect((await refused(future)).code).toBe("PHM_REPORT_FORMAT");
  });

  it("refuses a line longer than the limit before holding it whole", async () => {
    const path = await report("long.ndjson", [JSON.stringify(header(3)), ...lines, summary], false);
    const out = new PassThrough();
    const error = await exportVics(path, out, { maxLineBytes: 100 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "PHM_REPORT_FORMAT", message: expect.stringContaining("line 1 is longer") });
    // The same report with room for its lines exports.
    await expect(exportVics(path, new PassThrough(), { maxLineBytes: 4096 })).resolves.toMatchObject({ links: 1 });
  });
});

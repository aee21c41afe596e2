// Scan report version 3 (issue 22): the `ignorable` status with the lists that hold a file's digest, the header's
// ignorable lists and cluster settings, the cluster section (cluster lines closed by a seal) before the summary;
// version 1 and 2 lines stay valid, and a resumed report's unsealed cluster section is cut off, not kept.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readScanProgress, type ScanFileRecord, scanReportSchema, scanReportSchemaId } from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, describe, expect, it } from "vitest";

const ajv = () => new Ajv2020({ strict: true, allErrors: true });
const work = mkdtempSync(join(tmpdir(), "phmatch-v3-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const header = {
  type: "header",
  schema: scanReportSchemaId(),
  tool: "phmatch",
  version: "0.1.0",
  startedAt: "2026-12-05T00:00:00.000Z",
  inputs: ["/case"],
  algorithms: ["pdq", "sha1", "sha256"],
  policies: [],
  lists: [],
  ignorable: [
    { name: "nsrl.phd", file: "/lists/nsrl.phd", kind: "store", algorithm: "sha1", count: 3, sha256: "a".repeat(64) },
  ],
  cluster: { linkage: "leader", pdqDistance: 31, minPdqQuality: 50, phashDistance: 10 },
};
const ignorable = {
  type: "file",
  path: "/case/libc.so",
  status: "ignorable",
  matches: [],
  hashes: { sha1: "b".repeat(40), sha256: "c".repeat(64) },
  ignorable: [{ list: "nsrl.phd", algorithm: "sha1" }],
  size: 10,
};
const unseen = (n: number) => ({ type: "file", path: `/case/${n}.jpg`, status: "unseen", matches: [], size: n });
const cluster = {
  type: "cluster",
  id: 1,
  size: 2,
  algorithm: "pdq",
  centre: { line: 3, path: "/case/1.jpg" },
  members: [
    { line: 3, path: "/case/1.jpg" },
    { line: 4, path: "/case/2.jpg" },
  ],
  touchesKnown: false,
};
const seal = {
  type: "clusters",
  linkage: "leader",
  clusters: 1,
  clustered: 2,
  singletons: 0,
  unclustered: 0,
  sha256: "d".repeat(64),
};

describe("scan report version 3", () => {
  it("holds ignorable records, the header's lists and settings, and the cluster section; v2 refuses them", () => {
    const v3 = ajv().compile(scanReportSchema(3));
    const v2 = ajv().compile(scanReportSchema(2));
    for (const line of [header, ignorable, cluster, seal]) {
      expect(v3(line), JSON.stringify(v3.errors)).toBe(true);
      expect(v2(line)).toBe(false);
    }
    expect(v3({ ...ignorable, ignorable: [{ list: "nsrl.phd", algorithm: "crc32" }] })).toBe(false);
    expect(v3({ ...cluster, size: 1, members: [cluster.centre] })).toBe(false); // a cluster has two members or more
    expect(v3({ ...seal, sha256: "D".repeat(64) })).toBe(false);
  });

  it("keeps version 2's lines valid", () => {
    const v3 = ajv().compile(scanReportSchema(3));
    const v2Summary = {
      ...{ type: "summary", finishedAt: "2026-12-05T00:00:01.000Z", files: 1, bytes: 1, known: 0, unseen: 1 },
      ...{ low_quality: 0, error: 0, symlink: 0, duplicates: 0, videos: 0, lists: {}, errors: {} },
    };
    const v2 = ajv().compile(scanReportSchema(2));
    for (const line of [unseen(1), v2Summary]) {
      expect(v2(line), JSON.stringify(v2.errors)).toBe(true);
      expect(v3(line), JSON.stringify(v3.errors)).toBe(true);
    }
  });

  it("resuming cuts off a cluster section with no summary after it, and hands back each record's line", async () => {
    const report = join(work, "unsealed.ndjson");
    const records = [header, ignorable, unseen(1), unseen(2)].map((l) => `${JSON.stringify(l)}\n`).join("");
    writeFileSync(report, `${records}${JSON.stringify(cluster)}\n{"type":"clus`);
    const seen: [string, number][] = [];
    const progress = await readScanProgress(report, {
      onRecord: (record: ScanFileRecord, line: number) => seen.push([record.path, line]),
    });
    expect(progress.complete).toBe(false);
    expect(readFileSync(report, "utf8")).toBe(records);
    expect(seen).toEqual([
      ["/case/libc.so", 2],
      ["/case/1.jpg", 3],
      ["/case/2.jpg", 4],
    ]);
    expect(progress.tally.summary).toMatchObject({
      files: 3,
      unseen: 2,
      ignorable: 1,
      ignorableLists: { "nsrl.phd": 1 },
    });
    expect(progress.lastPath).toBeDefined();
  });
});

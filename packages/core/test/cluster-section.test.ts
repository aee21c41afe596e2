// The cluster section of `scan --cluster` (issue 22): the collector keeps unseen images' hashes in columns as records
// are written, groups them at the end, names each member by its report line and path (read back from the report),
// marks clusters near a known file, and seals the section; `report verify` catches a section edited after the scan,
// even when the whole report's .sha256 was rewritten to match.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CLUSTER_BYTES_PER_IMAGE,
  ClusterCollector,
  defaultClusterSettings,
  generateSigningKeys,
  type PhmatchError,
  parseTrustedKeys,
  type ScanClusterLine,
  type ScanClusterMember,
  type ScanFileRecord,
  ScanTally,
  scanReportSchema,
  scanReportSchemaId,
  verifyReport,
  writeReportIntegrity,
} from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, describe, expect, it } from "vitest";

const work = mkdtempSync(join(tmpdir(), "phmatch-cluster-section-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const next = rng(22);
const random = (bytes: number) => Uint8Array.from({ length: bytes }, () => Math.floor(next() * 256));
// `base` with its first `flips` bits flipped (distance exactly `flips`).
const flip = (base: Uint8Array, flips: number) => {
  const out = base.slice();
  for (let b = 0; b < flips; b++) out[b >> 3] = (out[b >> 3] as number) ^ (1 << (b & 7));
  return out;
};
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

const base = random(32);
const lowBase = random(8);
const header = {
  type: "header",
  schema: scanReportSchemaId(),
  tool: "phmatch",
  version: "0.1.0",
  startedAt: "2026-12-05T00:00:00.000Z",
  inputs: ["/case"],
  algorithms: ["pdq", "phash", "sha256"],
  policies: [],
  lists: [],
  cluster: defaultClusterSettings(),
};
const file = (path: string, status: ScanFileRecord["status"], hashes: Record<string, string>, pdq?: number) =>
  ({
    type: "file",
    path,
    status,
    matches: [],
    hashes: { ...hashes, sha256: createHash("sha256").update(path).digest("hex") },
    ...(pdq !== undefined && { quality: { pdq } }),
    size: 1,
  }) as ScanFileRecord;
// Line 2 onwards (the header is line 1).
const records: ScanFileRecord[] = [
  file("/case/family-0.jpg", "unseen", { pdq: hex(base), phash: hex(random(8)) }, 90), // 2
  file("/case/other-1.jpg", "unseen", { pdq: hex(random(32)) }, 90), // 3
  file("/case/known.jpg", "known", { pdq: hex(flip(base, 10)) }, 90), // 4: near the family
  file("/case/family-1.png", "unseen", { pdq: hex(flip(base, 12)) }, 90), // 5
  { ...file("/case/family-0-copy.jpg", "unseen", { pdq: hex(base) }, 90), duplicateOf: "/case/family-0.jpg" }, // 6
  file("/case/dark-0.png", "low_quality", { pdq: hex(random(32)), phash: hex(lowBase) }, 20), // 7
  file("/case/dark-1.png", "low_quality", { pdq: hex(random(32)), phash: hex(flip(lowBase, 3)) }, 20), // 8
  {
    ...file("/case/family-%FF.jpg", "unseen", { pdq: hex(flip(base, 20)) }, 90),
    pathBytes: "L2Nhc2UvZmFtaWx5Lf8uanBn",
  }, // 9
  file("/case/notes.txt", "unseen", {}), // 10: no perceptual hash
  {
    ...file("/case/broken.jpg", "error", { pdq: hex(base) }, 90),
    error: { code: "PHM_DECODE_CORRUPT", message: "corrupt" },
  }, // 11
  file("/case/known-far.jpg", "known", { pdq: hex(random(32)) }, 90), // 12
  file("/case/other-2.jpg", "unseen", { pdq: hex(random(32)) }, 90), // 13
];
const tally = new ScanTally();
for (const record of records) tally.add(record);
const summary = tally.finish();

// A report as the scan writes it up to its last record; then the section and the summary, as the writer adds them.
function recordsOnly(name: string): string {
  const path = join(work, name);
  writeFileSync(path, [header, ...records].map((l) => `${JSON.stringify(l)}\n`).join(""));
  return path;
}
function collect(): ClusterCollector {
  const collector = new ClusterCollector();
  records.forEach((record, i) => {
    collector.add(record, i + 2);
  });
  return collector;
}
async function finished(name: string, signingKeyPem?: string): Promise<string> {
  const report = recordsOnly(name);
  const { lines, seal } = await collect().finish({
    settings: header.cluster,
    report,
    ...(signingKeyPem !== undefined && { signingKeyPem }),
  });
  writeFileSync(report, [...lines, seal, summary].map((l) => `${JSON.stringify(l)}\n`).join(""), { flag: "a" });
  await writeReportIntegrity(report);
  return report;
}
const lines = (report: string) => readFileSync(report, "utf8").trimEnd().split("\n");
function refusal(run: () => unknown): PhmatchError {
  try {
    run();
  } catch (error) {
    return error as PhmatchError;
  }
  throw new Error("expected a refusal");
}
// Rewrites one line of the report and its .sha256 to match: what someone editing the report after the scan does.
interface EditedLine {
  [key: string]: unknown;
  members: ScanClusterMember[];
  sha256: string;
}
function edit(
  report: string,
  at: (line: Record<string, unknown>) => boolean,
  change: (line: EditedLine) => void,
): void {
  const text = lines(report).map((l) => {
    const parsed = JSON.parse(l) as Record<string, unknown>;
    if (!at(parsed)) return l;
    change(parsed as EditedLine);
    return JSON.stringify(parsed);
  });
  writeFileSync(report, `${text.join("\n")}\n`);
  const sha256 = createHash("sha256").update(readFileSync(report)).digest("hex");
  writeFileSync(`${report}.sha256`, `${sha256}  report\n`);
}

describe("ClusterCollector", () => {
  it("groups the unseen images by report line, with paths read back, near known files marked", async () => {
    const report = recordsOnly("group.ndjson");
    const collector = collect();
    expect(collector.size).toEqual({ unseen: 7, known: 2 }); // not the copy, the error, the hashless file
    expect(collector.bytes).toBe(2 * 1024 * CLUSTER_BYTES_PER_IMAGE); // two sets of columns, 1,024 rows at first
    const { lines: section, seal } = await collector.finish({ settings: header.cluster, report });
    expect(section).toEqual([
      {
        type: "cluster",
        id: 1,
        size: 3,
        algorithm: "pdq",
        centre: { line: 2, path: "/case/family-0.jpg" },
        members: [
          { line: 2, path: "/case/family-0.jpg" },
          { line: 5, path: "/case/family-1.png" },
          { line: 9, path: "/case/family-%FF.jpg", pathBytes: "L2Nhc2UvZmFtaWx5Lf8uanBn" },
        ],
        touchesKnown: true,
        known: [{ line: 4, path: "/case/known.jpg" }],
      },
      {
        type: "cluster",
        id: 2,
        size: 2,
        algorithm: "phash",
        centre: { line: 7, path: "/case/dark-0.png" },
        members: [
          { line: 7, path: "/case/dark-0.png" },
          { line: 8, path: "/case/dark-1.png" },
        ],
        touchesKnown: false,
      },
    ] satisfies ScanClusterLine[]);
    const digest = createHash("sha256")
      .update(section.map((l) => `${JSON.stringify(l)}\n`).join(""))
      .digest("hex");
    // other-1, other-2 alone; notes.txt has no perceptual hash.
    expect(seal).toEqual({
      type: "clusters",
      linkage: "leader",
      clusters: 2,
      clustered: 5,
      singletons: 2,
      unclustered: 1,
      sha256: digest,
    });
  });

  it("gives the same section whichever index searches (flat scan, MIH)", async () => {
    const report = recordsOnly("index.ndjson");
    const flat = await collect().finish({ settings: header.cluster, report, index: "flat" });
    const mih = await collect().finish({ settings: header.cluster, report, index: "mih" });
    expect(mih).toEqual(flat);
  });

  it("refuses a report whose named line is no longer the record it kept (changed while written)", async () => {
    const report = recordsOnly("changed.ndjson");
    const text = lines(report);
    text[4] = JSON.stringify({ ...records[3], hashes: { pdq: hex(random(32)) } }); // line 5
    writeFileSync(report, `${text.join("\n")}\n`);
    await expect(collect().finish({ settings: header.cluster, report })).rejects.toMatchObject({
      code: "PHM_REPORT_ALTERED",
    });
    writeFileSync(report, `${lines(report).slice(0, 4).join("\n")}\n`); // cut before line 5
    await expect(collect().finish({ settings: header.cluster, report })).rejects.toMatchObject({
      code: "PHM_REPORT_ALTERED",
    });
  });

  it("does not use hashes that are not well-formed (a resumed report is input): the image is unclustered", async () => {
    const report = recordsOnly("malformed.ndjson");
    const collector = collect();
    const malformed = [
      file("/case/upper.jpg", "unseen", { pdq: hex(base).toUpperCase() }, 90),
      file("/case/short.jpg", "unseen", { pdq: hex(base).slice(2) }, 90),
      file("/case/quality.jpg", "unseen", { pdq: hex(base) }, 101),
      file("/case/no-quality.jpg", "unseen", { pdq: hex(base) }),
      file("/case/phash.jpg", "unseen", { phash: "g".repeat(16) }),
    ];
    malformed.forEach((record, i) => {
      collector.add(record, records.length + 2 + i);
    });
    expect(collector.size).toEqual({ unseen: 7, known: 2 });
    const { seal } = await collector.finish({ settings: header.cluster, report });
    expect(seal).toMatchObject({ clusters: 2, clustered: 5, unclustered: 1 + malformed.length });
  });

  it("takes records in report order only", () => {
    const collector = new ClusterCollector();
    collector.add(records[0] as ScanFileRecord, 2);
    expect(() => collector.add(records[1] as ScanFileRecord, 2)).toThrow(/report order/);
  });
});

describe("the cluster section in the report", () => {
  it("validates against the v3 schema, and its members' lines are their records", async () => {
    const report = await finished("valid.ndjson");
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(scanReportSchema(3));
    const all = lines(report).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const line of all) expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
    for (const cluster of all.filter((l) => l.type === "cluster") as unknown as ScanClusterLine[]) {
      for (const member of [...cluster.members, ...(cluster.known ?? [])]) {
        expect((all[member.line - 1] as unknown as ScanFileRecord).path).toBe(member.path);
      }
    }
    expect(verifyReport(report).clusterSection).toEqual({ clusters: 2 });
  });

  it("is PHM_REPORT_ALTERED when a cluster line is edited, even with the report's .sha256 rewritten", async () => {
    const report = await finished("edited.ndjson");
    edit(
      report,
      (l) => l.type === "cluster" && l.id === 1,
      (l) => {
        l.touchesKnown = false;
        delete l.known;
      },
    );
    const error = refusal(() => verifyReport(report));
    expect(error.code).toBe("PHM_REPORT_ALTERED");
    expect(error.message).toMatch(/does not match its seal's SHA-256/);
  });

  it("is PHM_REPORT_ALTERED when the section is cut out, or added to a report without --cluster", async () => {
    const cut = await finished("cut.ndjson");
    writeFileSync(
      cut,
      `${lines(cut)
        .filter((l) => !/"type":"clusters?"/.test(l))
        .join("\n")}\n`,
    );
    edit(
      cut,
      () => false,
      () => undefined,
    );
    expect(refusal(() => verifyReport(cut)).code).toBe("PHM_REPORT_ALTERED");

    const added = await finished("added.ndjson");
    edit(
      added,
      (l) => l.type === "header",
      (l) => delete l.cluster,
    );
    expect(refusal(() => verifyReport(added)).message).toMatch(/header states no cluster settings/);

    const member = await finished("member.ndjson");
    // A member moved past the records, with the seal's digest made to match: still caught.
    edit(
      member,
      (l) => l.type === "cluster" && l.id === 2,
      (l) => ((l.members[1] as ScanClusterMember).line = 99),
    );
    const text = lines(member);
    const section = text.filter((l) => l.includes('"type":"cluster"'));
    const digest = createHash("sha256")
      .update(section.map((l) => `${l}\n`).join(""))
      .digest("hex");
    edit(
      member,
      (l) => l.type === "clusters",
      (l) => (l.sha256 = digest),
    );
    expect(refusal(() => verifyReport(member)).message).toMatch(/outside the report's records/);
  });

  it("with --sign: the seal's signature is checked against trusted keys; a recomputed digest is caught", async () => {
    const keys = generateSigningKeys();
    const trusted = parseTrustedKeys(keys.publicKeyPem);
    const report = await finished("signed.ndjson", keys.privateKeyPem);
    await writeReportIntegrity(report, { signingKeyPem: keys.privateKeyPem });
    expect(verifyReport(report, { trustedKeys: trusted }).clusterSection?.signedBy).toMatch(/^[0-9a-f]{16}$/);
    expect(
      refusal(() => verifyReport(report, { trustedKeys: parseTrustedKeys(generateSigningKeys().publicKeyPem) })).code,
    ).toBe("PHM_REPORT_ALTERED");

    // Edited, and the seal's SHA-256 recomputed to match: the checksum alone cannot tell, the signature does.
    edit(
      report,
      (l) => l.type === "cluster" && l.id === 2,
      (l) => ((l.members[1] as ScanClusterMember).path = "/case/elsewhere.png"),
    );
    const section = lines(report).filter((l) => l.includes('"type":"cluster"'));
    const digest = createHash("sha256")
      .update(section.map((l) => `${l}\n`).join(""))
      .digest("hex");
    edit(
      report,
      (l) => l.type === "clusters",
      (l) => (l.sha256 = digest),
    );
    expect(verifyReport(report).clusterSection).toEqual({ clusters: 2 });
    const error = refusal(() => verifyReport(report, { trustedKeys: trusted }));
    expect(error.code).toBe("PHM_REPORT_ALTERED");
    expect(error.message).toMatch(/cluster section/);

    // Unsigned, with trusted keys given: not attributable.
    const unsigned = await finished("unsigned.ndjson");
    expect(refusal(() => verifyReport(unsigned, { trustedKeys: trusted })).message).toMatch(/carries no signature/);
  });
});

// The report room: the writers give the bytes scan and the collector write (non-UTF-8 paths escaped, their bytes
// beside them), and a report's checksum and signature show it unaltered and whose it is.
import type { KeyObject } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import {
  createReportWriter,
  generateSigningKeys,
  PhmatchError,
  parseTrustedKeys,
  type ReportFormat,
  type ScanFileRecord,
  type ScanHeader,
  ScanTally,
  verifyReport,
  writeReportIntegrity,
} from "@phmatch/core";
import { keyId, reportPathFields } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";

const work = mkdtempSync(join(tmpdir(), "phmatch-report-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// "/case/fo\xff.jpg": not UTF-8.
const rawPath = Buffer.concat([Buffer.from("/case/fo"), Buffer.from([0xff]), Buffer.from(".jpg")]);
const header: ScanHeader = {
  type: "header",
  schema: "urn:phmatch:schema:scan-report:1",
  tool: "phmatch",
  version: "0",
  startedAt: "2026-01-01T00:00:00.000Z",
  inputs: ["/case"],
  algorithms: ["pdq", "sha256"],
  policies: [],
  lists: [],
};

function knownRecord(): ScanFileRecord {
  const { path, pathBytes } = reportPathFields(rawPath);
  return {
    type: "file",
    path,
    ...(pathBytes !== undefined && { pathBytes }),
    size: 12,
    hashes: { sha256: "ab".repeat(32), md5: "cd".repeat(16) },
    status: "known",
    matches: [
      { list: "hotline", listVersion: 3, category: "1", algorithm: "pdq", distance: 4, policy: "pdq:d31:q50@1" },
      { list: "hotline", listVersion: 3, category: "1", algorithm: "md5", distance: 0, policy: "md5@1" },
    ],
  };
}

async function written(format: ReportFormat, records: ScanFileRecord[]): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (chunk: Buffer) => chunks.push(chunk));
  const writer = createReportWriter(out, format);
  const tally = new ScanTally();
  await writer.begin(header);
  for (const record of records) {
    tally.add(record);
    await writer.record(record);
  }
  await writer.end(tally.finish());
  return Buffer.concat(chunks).toString("utf8");
}

describe("report writers", () => {
  it("write a non-UTF-8 path escaped, with its exact bytes, in CSV", async () => {
    const lines = (await written("csv", [knownRecord()])).split("\n");
    expect(lines[0]).toBe(
      "path,size,sha256,status,lists,categories,best_algorithm,best_distance,error," +
        "path_bytes_base64,link_target,link_target_bytes_base64,duplicate_of,duplicate_of_bytes_base64," +
        "modified,changed,accessed,born,ignorable",
    );
    const bytes = rawPath.toString("base64");
    expect(lines[1]).toBe(`/case/fo%FF.jpg,12,${"ab".repeat(32)},known,hotline@3,1,md5,0,,${bytes},,,,,,,,,`);
    expect(lines).toHaveLength(3); // no summary row, and the last line ends
  });

  it("write a file's times in CSV's last columns, born empty where there is none", async () => {
    const times = {
      modified: "2001-02-03T04:05:06.000000000Z",
      changed: "2026-12-05T14:00:00.123456789Z",
      accessed: "2000-01-02T03:04:05.500000000Z",
    };
    const lines = (
      await written("csv", [
        { ...knownRecord(), times },
        { ...knownRecord(), times: { ...times, born: times.modified } },
      ])
    ).split("\n");
    expect(lines[1]).toMatch(
      /,2001-02-03T04:05:06\.000000000Z,2026-12-05T14:00:00\.123456789Z,2000-01-02T03:04:05\.500000000Z,,$/,
    );
    expect(lines[2]?.endsWith(",2000-01-02T03:04:05.500000000Z,2001-02-03T04:05:06.000000000Z,")).toBe(true);
  });

  it("write the known files as VICS JSON, a non-UTF-8 path's bytes in the annotation", async () => {
    const unseen: ScanFileRecord = { type: "file", path: "/case/other.png", status: "unseen", matches: [] };
    const vics = JSON.parse(await written("vics", [unseen, knownRecord()])) as { value: Record<string, unknown>[] };
    expect(vics.value).toEqual([
      {
        MediaID: 1,
        Category: 1,
        MD5: "CD".repeat(16),
        MediaSize: 12,
        RelativeFilePath: "/case/fo%FF.jpg",
        "RelativeFilePath@phmatch.pathBytes": rawPath.toString("base64"),
        FileName: "fo%FF.jpg",
        Tags: "phmatch:hotline@3:1",
        Hashes: [
          { HashName: "SHA256", HashValue: "ab".repeat(32) },
          { HashName: "MD5", HashValue: "cd".repeat(16) },
        ],
      },
    ]);
  });

  it("write NDJSON as header, records and summary, one JSON object a line", async () => {
    const text = await written("ndjson", [knownRecord()]);
    const lines = text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string });
    expect(lines.map((l) => l.type)).toEqual(["header", "file", "summary"]);
    expect(lines[1]).toEqual(knownRecord());
    const lists = { hotline: { files: 1, categories: { "1": 1 } } };
    expect(lines[2]).toMatchObject({ files: 1, known: 1, bytes: 12, lists });
  });
});

describe("report integrity", () => {
  const signer = generateSigningKeys();
  const trusted = parseTrustedKeys(signer.publicKeyPem);

  async function sealed(name: string, signingKeyPem?: string): Promise<string> {
    const report = join(work, name);
    writeFileSync(report, await written("ndjson", [knownRecord()]));
    await writeReportIntegrity(report, signingKeyPem === undefined ? {} : { signingKeyPem });
    return report;
  }

  function refusal(run: () => unknown): PhmatchError {
    try {
      run();
    } catch (error) {
      if (error instanceof PhmatchError) return error;
      throw error;
    }
    throw new Error("not refused");
  }

  it("verifies a sealed report by its checksum, and by its signature with trusted keys", async () => {
    const report = await sealed("signed.ndjson", signer.privateKeyPem);
    const { sha256 } = verifyReport(report);
    expect(readFileSync(`${report}.sha256`, "utf8")).toBe(`${sha256}  signed.ndjson\n`);
    expect(verifyReport(report, { trustedKeys: trusted }).signedBy).toBe(keyId(trusted[0] as KeyObject));
  });

  it("refuses a tampered report", async () => {
    const report = await sealed("tampered.ndjson", signer.privateKeyPem);
    writeFileSync(report, readFileSync(report, "utf8").replace('"status":"known"', '"status":"unseen"'));
    const error = refusal(() => verifyReport(report));
    expect(error.code).toBe("PHM_REPORT_ALTERED");
    expect(error.message).toContain("altered or damaged");
  });

  it("refuses a report signed by a key that is not trusted, or not signed when keys are given", async () => {
    const other = generateSigningKeys();
    const byOther = await sealed("other.ndjson", other.privateKeyPem);
    expect(verifyReport(byOther).sha256).toMatch(/^[0-9a-f]{64}$/); // its checksum alone holds
    const untrusted = refusal(() => verifyReport(byOther, { trustedKeys: trusted }));
    expect(untrusted.code).toBe("PHM_REPORT_ALTERED");
    expect(untrusted.message).toContain("not among the trusted keys: the report cannot be attributed");
    const unsigned = await sealed("unsigned.ndjson");
    expect(refusal(() => verifyReport(unsigned, { trustedKeys: trusted })).code).toBe("PHM_REPORT_ALTERED");
  });

  it("says a report without its .sha256 cannot be verified", () => {
    const report = join(work, "bare.ndjson");
    writeFileSync(report, "{}\n");
    const error = refusal(() => verifyReport(report));
    expect(error.code).toBe("PHM_USAGE");
    expect(error.message).toContain("bare.ndjson.sha256");
  });
});

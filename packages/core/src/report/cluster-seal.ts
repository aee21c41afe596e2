import { createHash, type KeyObject } from "node:crypto";
import { PhmatchError } from "../errors/index.js";
import { verifyStore } from "../hashset/signature.js";
import type { ScanClusterLine, ScanClustersSeal, ScanHeader } from "./scan-report.js";

/** What {@link checkClusterSection} found: the section's clusters, and the key that signed its seal. */
export interface ClusterSectionCheck {
  clusters: number;
  signedBy?: string;
}

/**
 * Checks the cluster section of a finished NDJSON scan report held in `bytes` (as `report verify` reads it): a
 * header stating `cluster` needs the section (its cluster lines, then the seal, then the summary) and a header
 * without it must have none; the seal's SHA-256 must be that of the cluster lines' bytes, their ids 1, 2, ... and
 * their members' lines those of records before the section; with `trustedKeys`, the seal must carry a signature by
 * one of them over that digest. Anything else is PHM_REPORT_ALTERED, so an edited cluster line is caught even when
 * the whole report's `.sha256` was rewritten to match. Returns undefined for a report with no section to check (not
 * NDJSON, unfinished, or written without `--cluster`).
 */
export function checkClusterSection(
  bytes: Buffer,
  report: string,
  trustedKeys?: KeyObject[],
): ClusterSectionCheck | undefined {
  const altered = (why: string) =>
    new PhmatchError("PHM_REPORT_ALTERED", `${report}: the cluster section ${why}: the report was altered or damaged`);
  const firstEnd = bytes.indexOf(10);
  if (firstEnd < 0) return undefined;
  const header = parseLine(bytes, 0, firstEnd) as Partial<ScanHeader> | undefined;
  if (header?.type !== "header") return undefined; // CSV, VICS: no section
  const clustered = header.cluster !== undefined;

  // Lines from the end, as [start, end) byte ranges without their newline.
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 10) end--;
  const previous = (lineEnd: number): [number, number] => {
    const start = lineEnd <= 0 ? 0 : bytes.lastIndexOf(10, lineEnd - 1) + 1;
    return [start, lineEnd];
  };
  const [summaryStart] = previous(end);
  const summary = parseLine(bytes, summaryStart, end) as { type?: unknown } | undefined;
  if (summary?.type !== "summary") {
    if (clustered) throw altered("and the summary after it are missing (the report does not end with its summary)");
    return undefined;
  }
  const [sealStart, sealEnd] = previous(summaryStart - 1);
  const seal = parseLine(bytes, sealStart, sealEnd) as Partial<ScanClustersSeal> | undefined;
  const isSection = (line: { type?: unknown } | undefined) => line?.type === "clusters" || line?.type === "cluster";
  if (!clustered) {
    if (isSection(seal)) throw altered("is there, but the header states no cluster settings");
    return undefined;
  }
  if (seal?.type !== "clusters" || !Number.isInteger(seal.clusters) || (seal.clusters as number) < 0)
    throw altered("has no seal before the summary");
  const count = seal.clusters as number;
  // The cluster lines, read backwards from the seal: `count` of them, ids count..1.
  let sectionStart = sealStart;
  const lines: ScanClusterLine[] = [];
  for (let id = count; id >= 1; id--) {
    if (sectionStart === 0) throw altered(`has fewer cluster lines than its seal's ${count}`);
    const [start, lineEnd] = previous(sectionStart - 1);
    const line = parseLine(bytes, start, lineEnd) as ScanClusterLine | undefined;
    if (line?.type !== "cluster" || line.id !== id) throw altered(`line for cluster ${id} is missing or out of order`);
    lines.push(line);
    sectionStart = start;
  }
  if (sectionStart > 0) {
    const [start, lineEnd] = previous(sectionStart - 1);
    if (isSection(parseLine(bytes, start, lineEnd) as { type?: unknown } | undefined))
      throw altered(`holds more lines than its seal's ${count} clusters`);
  }
  const sha256 = createHash("sha256").update(bytes.subarray(sectionStart, sealStart)).digest("hex");
  if (sha256 !== seal.sha256) throw altered("does not match its seal's SHA-256");
  // Members name records before the section (the header is line 1, the first record line 2).
  let recordLines = 0;
  for (let i = 0; i < sectionStart; i++) if (bytes[i] === 10) recordLines++;
  for (const line of lines) {
    const named = [line.centre, ...(line.members ?? []), ...(line.known ?? [])];
    if (named.some((m) => !Number.isInteger(m?.line) || m.line < 2 || m.line > recordLines))
      throw altered(`names a line outside the report's records (cluster ${line.id})`);
  }
  if (trustedKeys === undefined) return { clusters: count };
  if (typeof seal.signature !== "string")
    throw altered("carries no signature, but trusted keys were given (a signed scan signs it)");
  const signature = JSON.stringify({ algorithm: "ed25519", keyId: seal.signedBy, signature: seal.signature });
  try {
    const signedBy = verifyStore(Buffer.from(sha256, "hex"), signature, trustedKeys, `${report}'s cluster section`);
    return { clusters: count, signedBy };
  } catch (error) {
    if (error instanceof PhmatchError && error.code === "PHM_USAGE") throw error;
    throw new PhmatchError(
      "PHM_REPORT_ALTERED",
      (error as Error).message.replace("refused", "the cluster section cannot be attributed"),
      { cause: error },
    );
  }
}

function parseLine(bytes: Buffer, start: number, end: number): unknown {
  try {
    const value = JSON.parse(bytes.toString("utf8", start, end)) as unknown;
    return typeof value === "object" && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

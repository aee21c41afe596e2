import { createHash } from "node:crypto";
import { lstat, readFile } from "node:fs/promises";
import { hasherSpec } from "../hashers/index.js";
import type { LoadedHashSet } from "../hashset/load.js";
import type { Matcher } from "../match/matcher.js";
import { recordPath } from "../pipeline/file-path.js";
import { walkInputs } from "../pipeline/walk.js";
import type { SupervisedHashPool } from "../pool/supervised-pool.js";
import { after } from "./resume.js";
import { SCAN_REPORT_VERSION, ScanTally, type ScanFileRecord, type ScanHeader } from "./scan-report.js";

const version = (JSON.parse((await readFile(new URL("../../package.json", import.meta.url), "utf8"))) as { version: string }).version;

/** Algorithms a scan computes: what the lists hold that phmatch computes, plus SHA-256 always (chain of custody). */
export function scanAlgorithms(sets: LoadedHashSet[], requested?: string[]): string[] {
  const listed = new Set(sets.flatMap((s) => s.set.algorithms).filter((id) => hasherSpec(id)?.input !== "imported"));
  const chosen = requested ?? [...listed];
  return [...new Set([...chosen, "sha256"])];
}

/** The report's header: tool, lists with the SHA-256 of each store file, case and examiner. */
export async function scanHeader(options: { inputs: string[]; sets: LoadedHashSet[]; algorithms: string[]; policies: string[]; case?: string; examiner?: string }): Promise<ScanHeader> {
  const lists: ScanHeader["lists"] = [];
  for (const loaded of options.sets) {
    const storeSha256 = createHash("sha256").update(await readFile(loaded.path)).digest("hex");
    for (const list of loaded.set.lists) {
      lists.push({ listId: list.listId, version: list.version, store: loaded.path, storeSha256, ...(loaded.signedBy !== undefined && { signedBy: loaded.signedBy }) });
    }
  }
  return {
    type: "header",
    schema: `urn:phmatch:schema:scan-report:${SCAN_REPORT_VERSION}`,
    tool: "phmatch",
    version,
    startedAt: new Date().toISOString(),
    ...(options.case !== undefined && { case: options.case }),
    ...(options.examiner !== undefined && { examiner: options.examiner }),
    inputs: options.inputs,
    algorithms: options.algorithms,
    policies: options.policies,
    lists,
  };
}

/**
 * Scans inputs: walks them streaming (symlinks not followed), hashes every file read-only on the supervised pool,
 * matches it, and yields one record per file in walk order; the tally gives the summary. A bad file is a record
 * with its error code, never the end of the scan.
 */
export async function* scanFiles(inputs: string[], pool: SupervisedHashPool, matcher: Matcher, tally: ScanTally, resumeAfter?: string): AsyncGenerator<ScanFileRecord> {
  for await (const hashed of pool.hashAll(after(walkInputs(inputs), resumeAfter))) {
    const result = matcher.match(hashed);
    const record: ScanFileRecord = { type: "file", path: hashed.path, status: result.status, matches: result.matches };
    if (hashed.pathBytes !== undefined) record.pathBytes = hashed.pathBytes;
    const size = await lstat(recordPath(hashed)).then((s) => s.size, () => undefined);
    if (size !== undefined) record.size = size;
    if (hashed.hashes !== undefined) record.hashes = hashed.hashes;
    if (hashed.quality !== undefined) record.quality = hashed.quality;
    if (result.notes !== undefined) record.notes = result.notes;
    if (result.error !== undefined) record.error = result.error;
    tally.add(record);
    yield record;
  }
}

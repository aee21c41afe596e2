import { readFile, truncate } from "node:fs/promises";
import { PhmatchError } from "../errors/index.js";
import { pathKey, recordPath } from "../files/file-path.js";
import { type FirstCopies, MemoryFirstCopies } from "../scan/first-copies.js";
import { type ScanFileRecord, type ScanHeader, ScanTally, scanReportSchemaId } from "./scan-report.js";

/** Where an interrupted scan stopped, read back from its own report. */
export interface ScanProgress {
  header: ScanHeader;
  tally: ScanTally;
  /** Key (pathKey) of the last file reported; the walk resumes after it. */
  lastPath?: string;
  /** The report already ends with its summary: nothing left to do. */
  complete: boolean;
  /** The first reported file of each content, so copies after the resume point are still reported as duplicates. */
  firsts: FirstCopies;
}

/** What {@link readScanProgress} tells its caller besides the progress. */
export interface ReadScanProgressOptions {
  /**
   * Called with each file record already reported and its line in the report (the header is line 1), in order:
   * what a scan that gathers across records (the clusters of `--cluster`) needs to take up where it stopped.
   */
  onRecord?: (record: ScanFileRecord, line: number) => void;
}

/**
 * Reads an interrupted report so that `scan --resume` can finish it with every file reported exactly once.
 * Records are written in walk order, one line per write, and the scanned tree does not change, so the report is
 * its own journal: a torn last line (a kill -9 mid-write) is cut off, the complete lines are tallied again, and
 * the walk resumes after the last reported path. A cluster section begun but not sealed by a summary (the scan was
 * stopped while writing it) is cut off too: it is computed again from the records when the scan ends.
 */
export async function readScanProgress(report: string, options: ReadScanProgressOptions = {}): Promise<ScanProgress> {
  const text = await readFile(report, "utf8");
  const end = text.lastIndexOf("\n") + 1;
  const lines = text
    .slice(0, end)
    .split("\n")
    .filter((l) => l !== "");
  const bad = (why: string) => new PhmatchError("PHM_USAGE", `${report} cannot be resumed: ${why}`);
  let header: ScanHeader;
  try {
    header = JSON.parse(lines[0] ?? "") as ScanHeader;
  } catch {
    throw bad("its first line is not a scan report header (only NDJSON reports can be resumed)");
  }
  if (header.type !== "header") throw bad("its first line is not a scan report header");
  const tally = new ScanTally();
  const firsts = new MemoryFirstCopies();
  let lastPath: string | undefined;
  let complete = false;
  let offset = Buffer.byteLength(lines[0] ?? "") + 1; // bytes before the line being read
  let section: number | undefined; // where an unfinished cluster section begins
  for (const [index, line] of lines.slice(1).entries()) {
    const parsed = JSON.parse(line) as ScanFileRecord | { type: "summary" | "cluster" | "clusters" };
    if (parsed.type === "summary") {
      complete = true;
      break;
    }
    if (parsed.type !== "file") {
      section ??= offset;
      offset += Buffer.byteLength(line) + 1;
      continue;
    }
    offset += Buffer.byteLength(line) + 1;
    const record = parsed as ScanFileRecord;
    options.onRecord?.(record, index + 2);
    tally.add(record);
    lastPath = pathKey(recordPath(record));
    const digest = record.hashes?.sha256;
    if (digest !== undefined && record.duplicateOf === undefined && record.error === undefined && !firsts.has(digest)) {
      const { size: _size, times: _times, ...first } = record;
      firsts.set(digest, first);
    }
  }
  // A report is one version throughout: records of this version appended to an older report would not validate
  // against the schema its header names (nor would an older tool read them). Refused, not converted.
  if (!complete && header.schema !== scanReportSchemaId()) {
    throw bad(
      `it is a ${String(header.schema)} report and this phmatch writes ${scanReportSchemaId()}: finish it with ` +
        "the phmatch version that started it, or start a new report",
    );
  }
  // Cut only once the report is known to be resumable (an older version's report is left as it was).
  if (!complete && section !== undefined) {
    await truncate(report, section);
  } else if (end < text.length) await truncate(report, Buffer.byteLength(text.slice(0, end)));
  const progress: ScanProgress = { header, tally, complete, firsts };
  if (lastPath !== undefined) progress.lastPath = lastPath;
  return progress;
}

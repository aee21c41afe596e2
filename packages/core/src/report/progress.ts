import { createReadStream } from "node:fs";
import { truncate } from "node:fs/promises";
import { PhmatchError } from "../errors/index.js";
import { pathKey, recordPath } from "../files/file-path.js";
import type { FirstCopies } from "../scan/first-copies.js";
import { SpillFirstCopies } from "../scan/spill-first-copies.js";
import { type ScanFileRecord, type ScanHeader, ScanTally, scanReportSchemaId } from "./scan-report.js";

/** Where an interrupted scan stopped, read back from its own report. */
export interface ScanProgress {
  header: ScanHeader;
  tally: ScanTally;
  /** Key (pathKey) of the last file reported; the walk resumes after it. */
  lastPath?: string;
  /** The report already ends with its summary: nothing left to do. */
  complete: boolean;
  /**
   * The first reported file of each content, so copies after the resume point are still reported as duplicates (a
   * {@link SpillFirstCopies}: the caller closes it when the scan ends).
   */
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
  const bad = (why: string) => new PhmatchError("PHM_USAGE", `${report} cannot be resumed: ${why}`);
  let header: ScanHeader | undefined;
  const tally = new ScanTally();
  // What grows with the report: on disk (see FirstCopies), closed here if the report cannot be resumed.
  const firsts = new SpillFirstCopies();
  let lastPath: string | undefined;
  let complete = false;
  let section: number | undefined; // where an unfinished cluster section begins
  let end = 0; // bytes up to the last complete line (a torn line after it is cut off)
  let size = 0;
  let lineNumber = 0; // lines that are not empty, the header first
  try {
    for await (const { text, offset, next } of reportLines(report)) {
      size = next;
      if (text === undefined) break; // a torn last line
      end = next;
      if (text === "" || complete) continue; // after the summary: only where the last line ends is wanted
      lineNumber++;
      if (header === undefined) {
        try {
          header = JSON.parse(text) as ScanHeader;
        } catch {
          throw bad("its first line is not a scan report header (only NDJSON reports can be resumed)");
        }
        if (header?.type !== "header") throw bad("its first line is not a scan report header");
        continue;
      }
      const parsed = JSON.parse(text) as ScanFileRecord | { type: "summary" | "cluster" | "clusters" };
      if (parsed.type === "summary") {
        complete = true;
        continue;
      }
      if (parsed.type !== "file") {
        section ??= offset;
        continue;
      }
      const record = parsed as ScanFileRecord;
      options.onRecord?.(record, lineNumber);
      tally.add(record);
      lastPath = pathKey(recordPath(record));
      const digest = record.hashes?.sha256;
      if (
        digest !== undefined &&
        record.duplicateOf === undefined &&
        record.error === undefined &&
        !firsts.has(digest)
      ) {
        const { size: _size, times: _times, ...first } = record;
        firsts.set(digest, first);
      }
    }
    if (header === undefined)
      throw bad("its first line is not a scan report header (only NDJSON reports can be resumed)");
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
    } else if (end < size) await truncate(report, end);
  } catch (error) {
    firsts.close();
    throw error;
  }
  const progress: ScanProgress = { header, tally, complete, firsts };
  if (lastPath !== undefined) progress.lastPath = lastPath;
  return progress;
}

const MAX_LINE_BYTES = 64 * 2 ** 20;

/**
 * The report's lines, streamed (a report of millions of files is not read into memory whole): each with its text
 * (without the newline; undefined for bytes after the last newline, a torn line), the byte offset it starts at and
 * the offset after it.
 */
async function* reportLines(
  report: string,
): AsyncGenerator<{ text: string | undefined; offset: number; next: number }> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let offset = 0; // where the line being gathered starts
  for await (const chunk of createReadStream(report) as AsyncIterable<Buffer>) {
    let from = 0;
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, from)) {
      const part = chunk.subarray(from, at);
      const line = pendingBytes === 0 ? part : Buffer.concat([...pending, part], pendingBytes + part.length);
      const next = offset + line.length + 1;
      yield { text: line.toString("utf8"), offset, next };
      offset = next;
      pending = [];
      pendingBytes = 0;
      from = at + 1;
    }
    if (from < chunk.length) {
      pending.push(chunk.subarray(from));
      pendingBytes += chunk.length - from;
      // A line is one record (a few KB): one far longer is not a report's, and is not gathered into memory.
      if (pendingBytes > MAX_LINE_BYTES)
        throw new PhmatchError(
          "PHM_USAGE",
          `${report} cannot be resumed: a line at byte ${offset} is longer than ${MAX_LINE_BYTES / 2 ** 20} MiB`,
        );
    }
  }
  if (pendingBytes > 0) yield { text: undefined, offset, next: offset + pendingBytes };
}

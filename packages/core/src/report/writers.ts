import { once } from "node:events";
import { basename } from "node:path";
import type { Writable } from "node:stream";
import { PhmatchError } from "../errors/index.js";
import { PATH_ESCAPE } from "../files/file-path.js";
import { csvCell } from "../hashset/export.js";
import type { ScanClusterLine, ScanClustersSeal, ScanFileRecord, ScanHeader, ScanSummary } from "./scan-report.js";

/**
 * A scan report's format: `ndjson` (header, one record per entry, summary; the only one a scan can resume), `csv`
 * (one row per entry), `vics` (the known files as Project VIC VICS JSON, for Griffeye, IPED or Autopsy).
 */
export type ReportFormat = "ndjson" | "csv" | "vics";

/** Writes a scan report line by line, waiting for the stream to drain, so a million records stay bounded. */
export interface ReportWriter {
  /** Opens a new report: NDJSON's header line, CSV's column line, VICS's opening (not when appending to one). */
  begin(header: ScanHeader): Promise<void>;
  /** One entry's record (VICS keeps only known files). */
  record(record: ScanFileRecord): Promise<void>;
  /**
   * The cluster section (`--cluster`), after the last record and before {@link end}: one line per cluster, then
   * the seal. NDJSON only (the seal's SHA-256 is of these lines' bytes); other formats refuse it (PHM_USAGE).
   */
  clusters(lines: readonly ScanClusterLine[], seal: ScanClustersSeal): Promise<void>;
  /** Closes the report: NDJSON's summary line, VICS's closing; CSV has no summary. The stream stays open. */
  end(summary: ScanSummary): Promise<void>;
}

/**
 * A writer of the report in `format` on `out`, the same for a local scan, the distributed collector and a library
 * user:
 *
 * ```ts
 * const writer = createReportWriter(createWriteStream("case.ndjson"), "ndjson");
 * await writer.begin(header);
 * for await (const record of scanFiles(inputs, pool, matcher, tally)) await writer.record(record);
 * await writer.end(tally.finish());
 * ```
 */
export function createReportWriter(out: Writable, format: ReportFormat): ReportWriter {
  switch (format) {
    case "ndjson":
      return {
        begin: (header) => writeLine(out, JSON.stringify(header)),
        record: (record) => writeLine(out, JSON.stringify(record)),
        async clusters(lines, seal) {
          for (const line of lines) await writeLine(out, JSON.stringify(line));
          await writeLine(out, JSON.stringify(seal));
        },
        end: (summary) => writeLine(out, JSON.stringify(summary)),
      };
    case "csv":
      return {
        begin: () => writeLine(out, CSV_COLUMNS.join(",")),
        record: (record) => writeLine(out, csvLine(record)),
        clusters: noClusterSection("csv"),
        end: async () => undefined,
      };
    case "vics":
      return vicsWriter(out);
    default:
      throw new TypeError(`unknown report format ${String(format)}`);
  }
}

function noClusterSection(format: ReportFormat): ReportWriter["clusters"] {
  return async () => {
    throw new PhmatchError(
      "PHM_USAGE",
      `a ${format} report has no cluster section: clusters are written in NDJSON reports only`,
    );
  };
}

async function writeLine(out: Writable, line: string): Promise<void> {
  if (!out.write(line + "\n")) await once(out, "drain");
}

// The columns after `error` carry what the NDJSON report has beside a path: a path that is not UTF-8 is escaped
// (PATH_ESCAPE) and its exact bytes are in the *_bytes_base64 column next to it; a symbolic link's target; the
// path a duplicate or a link not followed again repeats; then the file's times (report version 2: `times`, ISO 8601
// UTC to the nanosecond; born empty where the file system keeps no birth time); then (version 3) the ignorable lists
// holding a file of status ignorable, by their header names joined with ";".
const CSV_COLUMNS = [
  "path",
  "size",
  "sha256",
  "status",
  "lists",
  "categories",
  "best_algorithm",
  "best_distance",
  "error",
  "path_bytes_base64",
  "link_target",
  "link_target_bytes_base64",
  "duplicate_of",
  "duplicate_of_bytes_base64",
  "modified",
  "changed",
  "accessed",
  "born",
  "ignorable",
];

function csvLine(r: ScanFileRecord): string {
  const hits = r.matches.filter((m) => m.override === undefined);
  const best = [...hits].sort((a, b) => a.distance - b.distance)[0];
  const cells = [
    r.path,
    String(r.size ?? ""),
    r.hashes?.sha256 ?? "",
    r.status,
    [...new Set(hits.map((m) => `${m.list}@${m.listVersion}`))].join(";"),
    [...new Set(hits.map((m) => m.category ?? ""))].filter((c) => c !== "").join(";"),
    best?.algorithm ?? "",
    best === undefined ? "" : String(best.distance),
    r.error?.code ?? "",
  ];
  cells.push(
    r.pathBytes ?? "",
    r.linkTarget ?? "",
    r.linkTargetBytes ?? "",
    r.duplicateOf ?? "",
    r.duplicateOfBytes ?? "",
    r.times?.modified ?? "",
    r.times?.changed ?? "",
    r.times?.accessed ?? "",
    r.times?.born ?? "",
    (r.ignorable ?? []).map((hit) => hit.list).join(";"),
  );
  return cells.map(csvCell).join(",");
}

// Project VIC VICS JSON: the known files as Media objects, written as they come. Category is the matched entry's
// category when it is a number (Project VIC's 0-4 scale); other category names (UK A/B/C, NCMEC A1...) go to Tags
// with the list, so nothing is recoded by guesswork.
const VICS_HASH_NAMES = new Set(["md5", "sha1", "sha256", "pdq"]);

// A path that is not UTF-8 is escaped in RelativeFilePath and FileName (PATH_ESCAPE), its bytes in an OData
// property annotation (`RelativeFilePath@phmatch.pathBytes`) that VICS readers ignore, and the root's
// `@phmatch.pathEscape` annotation says so.
function vicsWriter(out: Writable): ReportWriter {
  let count = 0;
  return {
    begin: () => writeLine(out, `{${JSON.stringify("@phmatch.pathEscape")}:${JSON.stringify(PATH_ESCAPE)},"value":[`),
    async record(record) {
      if (record.status !== "known") return;
      const hits = record.matches.filter((m) => m.override === undefined);
      const numeric = hits.map((m) => m.category).find((c) => c !== undefined && /^\d+$/.test(c));
      const media: Record<string, unknown> = {
        MediaID: ++count,
        ...(numeric !== undefined && { Category: Number(numeric) }),
        ...(record.hashes?.md5 !== undefined && { MD5: record.hashes.md5.toUpperCase() }),
        ...(record.hashes?.sha1 !== undefined && { SHA1: record.hashes.sha1.toUpperCase() }),
        ...(record.size !== undefined && { MediaSize: record.size }),
        RelativeFilePath: record.path,
        ...(record.pathBytes !== undefined && { "RelativeFilePath@phmatch.pathBytes": record.pathBytes }),
        FileName: basename(record.path),
        Tags: [
          ...new Set(
            hits.map((m) => `phmatch:${m.list}@${m.listVersion}${m.category !== undefined ? `:${m.category}` : ""}`),
          ),
        ].join(","),
        // Only hash types VICS defines; perceptual hashes phmatch computed for matching stay in phmatch's report.
        Hashes: Object.entries(record.hashes ?? {})
          .filter(([name]) => VICS_HASH_NAMES.has(name))
          .map(([name, value]) => ({ HashName: name.toUpperCase(), HashValue: value })),
      };
      await writeLine(out, (count > 1 ? "," : "") + JSON.stringify(media));
    },
    clusters: noClusterSection("vics"),
    end: () => writeLine(out, "]}"),
  };
}

import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { PhmatchError } from "../errors/index.js";
import { hasherSpec } from "../hashers/index.js";
import type { HashSetBuilder } from "./builder.js";
import { ImportReport } from "./import-report.js";
import { readCsv } from "./readers/csv.js";
import { readIcse } from "./readers/icse.js";
import { readNcmec } from "./readers/ncmec.js";
import { readNdjson } from "./readers/ndjson.js";
import type { HashSetReader, ReaderOptions } from "./readers/reader.js";
import { readPytx, readText } from "./readers/text.js";
import { numberedLines } from "./readers/lines.js";
import { readVics } from "./readers/vics.js";
import { checkedListInfo, type ListInfo } from "./store-format.js";

/** List formats phmatch reads. */
export const HASH_SET_FORMATS = ["text", "pytx", "csv", "ndjson", "vics", "icse", "ncmec"] as const;
export type HashSetFormat = (typeof HASH_SET_FORMATS)[number];

const READERS: Record<HashSetFormat, HashSetReader> = {
  text: readText,
  pytx: readPytx,
  csv: readCsv,
  ndjson: readNdjson,
  vics: readVics,
  icse: readIcse,
  ncmec: readNcmec,
};

/** What detection decided, and what in the file decided it (reported to the user). */
export interface DetectedFormat {
  format: HashSetFormat;
  reason: string;
}

/** Guesses a list's format from its first 64 KiB. Throws PHM_HASHSET_PARSE when nothing fits. */
export async function detectHashSetFormat(path: string): Promise<DetectedFormat> {
  const handle = await open(path, "r");
  let head: string;
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead).toString("utf8").replace(/^\uFEFF/, "");
  } finally {
    await handle.close();
  }
  const text = head.trimStart();
  const firstLine = (text.split(/\r?\n/)[0] ?? "").trim();
  if (text.startsWith("<")) return { format: "ncmec", reason: "starts with an XML element" };
  if (text.startsWith("{") || text.startsWith("[")) {
    try {
      const first = JSON.parse(firstLine) as Record<string, unknown>;
      if (typeof first === "object" && first !== null && ("type" in first || "hashes" in first || "path" in first)) {
        return { format: "ndjson", reason: "the first line is a phmatch JSON record" };
      }
    } catch {
      // not one JSON value per line
    }
    if (/"(value|odata\.metadata|Media|MediaID)"/.test(text)) return { format: "vics", reason: 'JSON with a "value"/"Media" structure (Project VIC VICS)' };
    return { format: "ndjson", reason: "one JSON object per line" };
  }
  if (/^md5\s*;\s*sha1\s*;\s*photodna\s*;\s*image id/i.test(firstLine)) return { format: "icse", reason: "the ICSE export header" };
  if (/[,;\t]/.test(firstLine) && /(^|[,;\t"])\s*"?(hash|md5|sha1|sha256|pdq|algorithm|value)"?\s*([,;\t"]|$)/i.test(firstLine)) {
    return { format: "csv", reason: `a delimited header (${JSON.stringify(firstLine.slice(0, 60))})` };
  }
  // Line formats go by the majority of the first lines: malformed lines are for the report to show, not a
  // reason to refuse the file.
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#")).slice(0, 20);
  const most = (pattern: RegExp) => lines.length > 0 && lines.filter((l) => pattern.test(l)).length * 4 >= lines.length * 3;
  if (most(/^[a-z][a-z_0-9]*\s+\S+$/i)) return { format: "pytx", reason: '"<signal_type> <value>" lines (python-threatexchange)' };
  if (most(/^(0x)?[0-9a-f]+$/i)) return { format: "text", reason: "one hex value per line" };
  throw new PhmatchError("PHM_HASHSET_PARSE", `cannot tell the format of ${path}; name it with --format (${HASH_SET_FORMATS.join(", ")})`);
}

/** Options of one import. */
export interface ImportOptions extends Partial<ReaderOptions> {
  listId: string;
  format?: HashSetFormat;
  strict?: boolean;
  /** Release metadata of the list this file is (its version only grows). */
  list?: Omit<ListInfo, "listId">;
}

/**
 * Imports one list file into a builder, streaming, and reports what happened (counts, every problem with its
 * line). Nothing is dropped silently: duplicates, invalid lines, unrecognised names and not-computable values
 * (PhotoDNA, imported and carried) are all counted. In strict mode the first invalid line is fatal.
 */
export async function importHashSet(builder: HashSetBuilder, path: string, options: ImportOptions): Promise<ImportReport> {
  const detected: DetectedFormat = options.format !== undefined ? { format: options.format, reason: "--format" } : await detectHashSetFormat(path);
  const report = new ImportReport(path, options.strict === true);
  report.format = detected.format;
  report.detectedBy = detected.reason;
  if (options.algorithm !== undefined && hasherSpec(options.algorithm) === undefined) {
    throw new PhmatchError("PHM_USAGE", `unknown algorithm "${options.algorithm}"`);
  }
  // A phmatch export names its lists (versions, terms): those win over the defaults below.
  if (detected.format === "ndjson") for (const list of await exportedLists(path)) builder.addList(list);
  builder.addList({ listId: options.listId, version: 1, ...options.list });
  const readerOptions: ReaderOptions = { listId: options.listId };
  if (options.algorithm !== undefined) readerOptions.algorithm = options.algorithm;
  if (options.columns !== undefined) readerOptions.columns = options.columns;
  const input = createReadStream(path);
  try {
    for await (const record of READERS[detected.format](input, readerOptions, report)) {
      if (record.kind === "withdrawal") {
        if (builder.addWithdrawal(record.withdrawal)) report.withdrawn++;
        else report.duplicate++;
        continue;
      }
      if (!builder.addEntry(record.entry)) {
        report.duplicate++;
        continue;
      }
      report.imported++;
      if (hasherSpec(record.entry.algorithm)?.input === "imported") report.notComputable++;
    }
  } finally {
    input.destroy();
  }
  return report;
}

// The lists named in the header line of phmatch's own NDJSON export (so versions and terms survive a round trip).
// A header whose lists are damaged is fatal: the versions it names are what rollback protection goes by.
async function exportedLists(path: string): Promise<ListInfo[]> {
  const input = createReadStream(path);
  try {
    for await (const { text, tooLong } of numberedLines(input)) {
      if (tooLong) return [];
      let header: unknown;
      try {
        header = JSON.parse(text);
      } catch {
        return []; // not a header: the reader reports the line
      }
      if (typeof header !== "object" || header === null || (header as { type?: unknown }).type !== "hashset") return [];
      const lists = (header as { lists?: unknown }).lists;
      const refuse = (why: string) =>
        new PhmatchError("PHM_HASHSET_PARSE", `${path}:1: the "hashset" header line's ${why}; fix the header or remove the line (the list then gets --list-id and --list-version)`, { path });
      if (!Array.isArray(lists)) throw refuse('"lists" is not an array');
      return lists.map((list: unknown, i) => {
        const checked = checkedListInfo(list);
        if (typeof checked === "string") throw refuse(`lists[${i}] ${checked}`);
        return checked;
      });
    }
    return [];
  } finally {
    input.destroy();
  }
}

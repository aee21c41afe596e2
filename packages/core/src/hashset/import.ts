import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { basename } from "node:path";
import { Transform, type TransformCallback } from "node:stream";
import { PhmatchError } from "../errors/index.js";
import { hasherSpec } from "../hashers/index.js";
import { PHMATCH_VERSION } from "../version.js";
import type { HashSetBuilder } from "./builder.js";
import { degenerateValue } from "./hash-value.js";
import { ImportReport } from "./import-report.js";
import { readCsv } from "./readers/csv.js";
import { readIcse } from "./readers/icse.js";
import { numberedLines } from "./readers/lines.js";
import { readNcmec } from "./readers/ncmec.js";
import { readNdjson } from "./readers/ndjson.js";
import type { HashSetReader, ReaderOptions } from "./readers/reader.js";
import { readPytx, readText } from "./readers/text.js";
import { readVics } from "./readers/vics.js";
import { readThreatExchange, readVpdqText } from "./readers/vpdq.js";
import { checkedListInfo, type ListInfo, type StoreProvenance } from "./store-format.js";

/** List formats phmatch reads. */
export const HASH_SET_FORMATS = [
  "text",
  "pytx",
  "csv",
  "ndjson",
  "vics",
  "icse",
  "ncmec",
  "vpdq",
  "threatexchange",
] as const;
/** One of {@link HASH_SET_FORMATS}. */
export type HashSetFormat = (typeof HASH_SET_FORMATS)[number];

const READERS: Record<HashSetFormat, HashSetReader> = {
  text: readText,
  pytx: readPytx,
  csv: readCsv,
  ndjson: readNdjson,
  vics: readVics,
  icse: readIcse,
  ncmec: readNcmec,
  vpdq: readVpdqText,
  threatexchange: readThreatExchange,
};

/** What detection decided, and what in the file decided it (reported to the user). */
export interface DetectedFormat {
  format: HashSetFormat;
  reason: string;
}

/** Guesses a list's format from its first 64 KiB. Throws PHM_HASHSET_PARSE when nothing fits. */
export async function detectHashSetFormat(path: string): Promise<DetectedFormat> {
  const handle = await open(path, "r").catch((error: unknown) => {
    throw inputError(error, path);
  });
  let head: string;
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
  // The content decides; a vPDQ hash file with no frame line is still known by its name, to be refused as an empty
  // video rather than as a file of no known format.
  const detected =
    detectFormatOfText(head) ??
    (/\.vpdq\.txt$/i.test(path) ? { format: "vpdq" as const, reason: "the file name ends in .vpdq.txt" } : undefined);
  if (detected === undefined) {
    const message = `cannot tell the format of ${path}; name it with \`format\` (${HASH_SET_FORMATS.join(", ")})`;
    throw new PhmatchError("PHM_HASHSET_PARSE", message, { optionNames: ["format"] });
  }
  return detected;
}

/** The list format the start of a file looks like (its first 64 KiB as text), or undefined when none fits. */
export function detectFormatOfText(head: string): DetectedFormat | undefined {
  const text = head.replace(/^\uFEFF/, "").trimStart();
  const firstLine = (text.split(/\r?\n/)[0] ?? "").trim();
  if (text.startsWith("<")) return { format: "ncmec", reason: "starts with an XML element" };
  if (text.startsWith("{") || text.startsWith("[")) {
    try {
      const first = JSON.parse(firstLine) as Record<string, unknown>;
      if (
        typeof first === "object" &&
        first !== null &&
        ("indicator" in first || "signal_type" in first || "signals" in first)
      ) {
        return { format: "threatexchange", reason: 'the first line is a ThreatExchange/HMA record ("indicator")' };
      }
      if (typeof first === "object" && first !== null && ("type" in first || "hashes" in first || "path" in first)) {
        return { format: "ndjson", reason: "the first line is a phmatch JSON record" };
      }
    } catch {
      // not one JSON value per line
    }
    if (/"(value|odata\.metadata|Media|MediaID)"/.test(text))
      return { format: "vics", reason: 'JSON with a "value"/"Media" structure (Project VIC VICS)' };
    return { format: "ndjson", reason: "one JSON object per line" };
  }
  if (/^md5\s*;\s*sha1\s*;\s*photodna\s*;\s*image id/i.test(firstLine))
    return { format: "icse", reason: "the ICSE export header" };
  if (
    /[,;\t]/.test(firstLine) &&
    /(^|[,;\t"])\s*"?(hash|md5|sha1|sha256|pdq|algorithm|value)"?\s*([,;\t"]|$)/i.test(firstLine)
  ) {
    return { format: "csv", reason: `a delimited header (${JSON.stringify(firstLine.slice(0, 60))})` };
  }
  // Line formats go by the majority of the first lines: malformed lines are for the report to show, not a
  // reason to refuse the file.
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .slice(0, 20);
  const most = (pattern: RegExp) =>
    lines.length > 0 && lines.filter((l) => pattern.test(l)).length * 4 >= lines.length * 3;
  if (most(/^\d{1,10},\d{1,3},[0-9a-f]{64},\d/i))
    return { format: "vpdq", reason: "frame,quality,hash,timestamp lines (the vPDQ reference's text format)" };
  if (most(/^([a-z][a-z_0-9]*\s+\S+|vpdq\s+\[.*)$/i))
    return { format: "pytx", reason: '"<signal_type> <value>" lines (python-threatexchange)' };
  if (most(/^(0x)?[0-9a-f]+$/i)) return { format: "text", reason: "one hex value per line" };
  return undefined;
}

/** Options of one import. */
export interface ImportOptions extends Partial<ReaderOptions> {
  listId: string;
  format?: HashSetFormat;
  strict?: boolean;
  /** Release metadata of the list this file is (its version only grows). */
  list?: Omit<ListInfo, "listId">;
}

/** Formats read line by line, whose last line should end with a line end like every other. */
const LINE_FORMATS: ReadonlySet<HashSetFormat> = new Set([
  "text",
  "pytx",
  "csv",
  "ndjson",
  "icse",
  "vpdq",
  "threatexchange",
]);

/**
 * Imports one list file into a builder, streaming, and reports what happened (counts, every problem with its
 * line). Nothing is dropped silently: duplicates, invalid lines, unrecognised names, degenerate values (refused,
 * see degenerateValue) and not-computable values (PhotoDNA, imported and carried) are all counted. The report
 * also says what was read (SHA-256 and size of the bytes) and how the input ended (`ending`), and the builder
 * gets a provenance record of the import for the store's header. In strict mode the first invalid line is
 * fatal, and so is an input that was cut short or does not end with a line end.
 */
export async function importHashSet(
  builder: HashSetBuilder,
  path: string,
  options: ImportOptions,
): Promise<ImportReport> {
  await checkInput(path);
  const detected: DetectedFormat =
    options.format !== undefined
      ? { format: options.format, reason: "`format` given" }
      : await detectHashSetFormat(path);
  const report = new ImportReport(path, options.strict === true);
  report.format = detected.format;
  report.detectedBy = detected.reason;
  if (options.entryId !== undefined && detected.format !== "vpdq") {
    throw new PhmatchError(
      "PHM_USAGE",
      `\`entryId\` names the one video of a vPDQ text file; ${path} is ${detected.format}, whose records carry ` +
        "their own ids",
      { optionNames: ["entryId"] },
    );
  }
  if (options.algorithm !== undefined && hasherSpec(options.algorithm) === undefined) {
    throw new PhmatchError("PHM_USAGE", `unknown algorithm "${options.algorithm}"`);
  }
  // A phmatch export names its lists (versions, terms): those win over the defaults below.
  if (detected.format === "ndjson") for (const list of await exportedLists(path)) builder.addList(list);
  builder.addList({ listId: options.listId, version: 1, ...options.list });
  const readerOptions: ReaderOptions = { listId: options.listId };
  if (options.algorithm !== undefined) readerOptions.algorithm = options.algorithm;
  if (options.columns !== undefined) readerOptions.columns = options.columns;
  if (options.category !== undefined) readerOptions.category = options.category;
  // A vPDQ text file is one video: named by the file unless told (clip.vpdq.txt lists video "clip").
  if (detected.format === "vpdq") readerOptions.entryId = options.entryId ?? videoIdOfFile(path);
  const lists = new Set<string>([options.listId]);
  const input = createReadStream(path);
  const tap = new InputTap();
  input.on("error", (error) => tap.destroy(inputError(error, path)));
  try {
    for await (const record of READERS[detected.format](input.pipe(tap), readerOptions, report)) {
      if (record.kind === "withdrawal") {
        lists.add(record.withdrawal.listId);
        if (builder.addWithdrawal(record.withdrawal)) report.withdrawn++;
        else report.duplicate++;
        continue;
      }
      const degenerate = degenerateValue(record.entry.algorithm, record.entry.value);
      if (degenerate !== undefined) {
        report.refuseDegenerate(record.line, record.entry.algorithm, degenerate);
        continue;
      }
      lists.add(record.entry.listId);
      if (options.category !== undefined && record.entry.category === undefined)
        record.entry.category = options.category;
      if (!builder.addEntry(record.entry)) {
        report.duplicate++;
        continue;
      }
      report.imported++;
      if (hasherSpec(record.entry.algorithm)?.input === "imported") report.notComputable++;
    }
    const stopped = !tap.readableEnded;
    // A reader that stopped early left the rest unread: the file is then hashed whole, so that the SHA-256 still
    // names the file (what was read of it is in the report's counts and ending).
    report.source = stopped ? await fileSource(path) : tap.source();
    endingOf(report, detected.format, tap, stopped);
  } finally {
    input.destroy();
    tap.destroy();
  }
  builder.provenance.push(importProvenance(report, [...lists]));
  return report;
}

/** The entry id of a video listed by its vPDQ text file: the file's name without `.vpdq.txt` (or `.txt`). */
export function videoIdOfFile(path: string): string {
  return basename(path).replace(/\.vpdq\.txt$|\.txt$/i, "");
}

// How the input ended, when no reader saw it cut short; fatal in strict mode, as an invalid line is.
function endingOf(report: ImportReport, format: HashSetFormat, tap: InputTap, stopped: boolean): void {
  if (report.ending !== "complete") return;
  if (stopped) {
    report.ending = "stopped";
    report.endingProblem = { line: tap.lines, reason: "the reader stopped here and did not read the rest of the file" };
    return;
  }
  if (LINE_FORMATS.has(format) && tap.bytes > 0 && !tap.endsWithLineEnd) {
    const reason =
      "the file ends without a line end after its last line: it may have been cut off mid-line " +
      "(add the line end if the file is whole)";
    if (report.strict) {
      const message = `${report.file}:${tap.lines}: ${reason} (\`strict\` refuses a file that may be incomplete)`;
      throw new PhmatchError("PHM_HASHSET_PARSE", message, { path: report.file, optionNames: ["strict"] });
    }
    report.ending = "unterminated";
    report.endingProblem = { line: tap.lines, reason };
  }
}

function importProvenance(report: ImportReport, lists: string[]): StoreProvenance {
  const source = report.source ?? { sha256: "", bytes: 0 };
  return {
    step: "import",
    at: new Date().toISOString(),
    by: `phmatch ${PHMATCH_VERSION}`,
    lists,
    input: {
      file: report.file,
      sha256: source.sha256,
      bytes: source.bytes,
      format: report.format,
      detectedBy: report.detectedBy,
      ending: report.ending,
    },
    strict: report.strict,
    read: report.read,
    taken: report.imported,
    withdrawals: report.withdrawn,
    duplicate: report.duplicate,
    refused: report.refused,
  };
}

/**
 * Passes the input through unchanged while taking its SHA-256, its size, its number of lines and whether its
 * last byte ends a line: the import's record of exactly what it read.
 */
class InputTap extends Transform {
  readonly #hash = createHash("sha256");
  bytes = 0;
  #lineFeeds = 0;
  #carriageReturns = 0;
  #last = -1;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) this.#lineFeeds++;
    if (this.#lineFeeds === 0)
      for (let i = chunk.indexOf(0x0d); i >= 0; i = chunk.indexOf(0x0d, i + 1)) this.#carriageReturns++;
    if (chunk.length > 0) this.#last = chunk[chunk.length - 1] as number;
    done(null, chunk);
  }

  get endsWithLineEnd(): boolean {
    return this.#last === 0x0a || this.#last === 0x0d;
  }

  /** Lines so far (a last line without a line end counts): LF, or CR in a file without any LF. */
  get lines(): number {
    const ends = this.#lineFeeds > 0 ? this.#lineFeeds : this.#carriageReturns;
    return ends + (this.bytes > 0 && !this.endsWithLineEnd ? 1 : 0);
  }

  source(): { sha256: string; bytes: number } {
    return { sha256: this.#hash.digest("hex"), bytes: this.bytes };
  }
}

async function fileSource(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

// A list file that is missing or is not a file is the user's to fix, with its own code (exit 2), never an
// internal error.
async function checkInput(path: string): Promise<void> {
  const info = await stat(path).catch((error: unknown) => {
    throw inputError(error, path);
  });
  if (info.isDirectory())
    throw new PhmatchError(
      "PHM_FILE_UNREADABLE",
      `${path} is a directory, not a list file; name the list file itself`,
      { path },
    );
}

function inputError(error: unknown, path: string): PhmatchError {
  if (error instanceof PhmatchError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR")
    return new PhmatchError("PHM_FILE_NOT_FOUND", `${path}: no such file; check the path of the list to import`, {
      path,
      cause: error,
    });
  return new PhmatchError("PHM_FILE_UNREADABLE", `${path} cannot be read: ${(error as Error).message}`, {
    path,
    cause: error,
  });
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
        new PhmatchError(
          "PHM_HASHSET_PARSE",
          `${path}:1: the "hashset" header line's ${why}; fix the header or remove the line ` +
            "(the list then gets `listId` and `list.version`)",
          { path, optionNames: ["listId", "list.version"] },
        );
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

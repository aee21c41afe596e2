import { pipeline, Readable } from "node:stream";
import { parse } from "csv-parse";
import { PhmatchError } from "../../errors/index.js";
import { hasherSpec, hasherSpecs } from "../../hashers/index.js";
import type { HashSetEntry } from "../entry.js";
import { parseHashValue } from "../hash-value.js";
import type { ImportReport } from "../import-report.js";
import type { HashSetReader, ReaderOptions } from "./reader.js";

/**
 * Generic delimited hash lists (CSV, TSV, semicolon-separated): a header row, then one hash per row. The
 * row streaming below (`delimitedRows`) is shared with the ICSE reader, whose exports are semicolon CSV.
 */

/** A data row of a delimited file: its cells, the header they belong to, and the physical line it starts on. */
export interface DelimitedRow {
  /** Header names, trimmed; the same array for every row of a file. */
  header: readonly string[];
  /** Exactly `header.length` cells, verbatim (quotes removed, nothing trimmed). */
  cells: string[];
  /** 1-based physical line where the row starts (the header is on line 1 unless blank lines precede it). */
  line: number;
}

// A row longer than this is not a row: a quote that is never closed, or a file that is not delimited text.
// The limit keeps such a file from being buffered whole.
const MAX_ROW_CHARS = 1 << 20;
// How much of the file is looked at to find the header line for delimiter detection.
const HEADER_PEEK_BYTES = 64 * 1024;

/**
 * Streams the data rows of a delimited text file with a header row. The delimiter is `delimiter`, or, when it
 * is omitted, whichever of tab, comma and semicolon occurs most often (outside quotes) in the header line.
 * Fields follow RFC 4180 (quoted delimiters, line breaks and doubled quotes); a stray quote inside an unquoted
 * field is kept as text. A UTF-8 BOM, CRLF, LF or CR line ends (mixed too) and blank lines are accepted; blank
 * lines (empty or only spaces) are skipped.
 *
 * Every data row counts in `report.read`. Rows with more or fewer cells than the header, and a quote left open
 * at the end of the file, are reported to `report` and not yielded. A row over 1 Mi characters, or a header
 * that cannot be parsed, is fatal (PHM_HASHSET_PARSE): the file is not delimited text as expected.
 */
export async function* delimitedRows(
  input: Readable,
  report: ImportReport,
  delimiter?: string,
): AsyncGenerator<DelimitedRow> {
  let source: Readable = input;
  if (delimiter === undefined) ({ source, delimiter } = await detectDelimiter(input));
  let unclosedQuote = false;
  const parser = parse({
    delimiter,
    record_delimiter: ["\r\n", "\n", "\r"],
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    max_record_size: MAX_ROW_CHARS,
    // Only an unclosed quote at the very end is survivable: it is reported once all rows before it are read.
    // Anything else (a row over MAX_ROW_CHARS) is thrown, and ends the stream.
    skip_records_with_error: true,
    on_skip: (error) => {
      if (error?.code !== "CSV_QUOTE_NOT_CLOSED") throw error;
      unclosedQuote = true;
      return undefined;
    },
  });
  // Errors of `source` reach the consumer through the parser; closing the parser early closes `source`.
  pipeline(source, parser, () => {});

  let header: string[] | undefined;
  // Lines are counted here rather than with csv-parse's `info` (a snapshot object per row costs more than the
  // parse, and it counts a CRLF inside quotes as two lines). Blank lines come through as rows so they count.
  let next = 1;
  try {
    for await (const cells of parser as AsyncIterable<string[]>) {
      const line = next;
      next += 1 + lineBreaks(cells);
      if (cells.length === 1 && cells[0]?.trim() === "") continue; // a blank line
      if (header === undefined) {
        header = cells.map((name) => name.trim());
        continue;
      }
      report.read++;
      if (cells.length !== header.length) {
        report.problem(line, `expected ${header.length} cells (one per header column), found ${cells.length}`);
        continue;
      }
      yield { header, cells, line };
    }
  } catch (error) {
    throw parseFailure(error, report.file);
  }
  if (unclosedQuote) {
    if (header === undefined)
      throw new PhmatchError(
        "PHM_HASHSET_PARSE",
        `${report.file}:${next}: the header row opens a quote that is never closed`,
        { path: report.file },
      );
    report.read++;
    report.cutShort(next, "a quote opened in this row is never closed: the rest of the file is one broken row");
  }
}

/** Line breaks inside the (quoted) cells of a row. */
function lineBreaks(cells: readonly string[]): number {
  let breaks = 0;
  for (const cell of cells) {
    if (cell.includes("\n") || cell.includes("\r")) breaks += cell.match(/\r\n|\r|\n/g)?.length ?? 0;
  }
  return breaks;
}

/** Turns the parser's own errors into PHM_HASHSET_PARSE; anything else (a strict-mode problem, an I/O error) passes. */
function parseFailure(error: unknown, file: string): unknown {
  if (
    !(error instanceof Error) ||
    !("code" in error) ||
    typeof error.code !== "string" ||
    !error.code.startsWith("CSV_")
  )
    return error;
  const line = "lines" in error && typeof error.lines === "number" ? error.lines : 0;
  const reason =
    error.code === "CSV_MAX_RECORD_SIZE"
      ? `a row is still going at this line after ${MAX_ROW_CHARS} characters: ` +
        `a quote that is never closed, or not a delimited text file`
      : error.message;
  return new PhmatchError("PHM_HASHSET_PARSE", `${file}:${line}: ${reason}`, { path: file, cause: error });
}

const DELIMITERS = ["\t", ",", ";"] as const;

/**
 * Reads the input up to the end of its header line, picks the delimiter from that line, and returns a stream
 * that replays what was read followed by the rest of the input.
 */
async function detectDelimiter(input: Readable): Promise<{ source: Readable; delimiter: string }> {
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<unknown>;
  const head: Buffer[] = [];
  async function* replay(): AsyncGenerator<Buffer> {
    try {
      yield* head;
      for (;;) {
        const next = await chunks.next();
        if (next.done === true) return;
        yield asBuffer(next.value);
      }
    } finally {
      await chunks.return?.();
    }
  }
  // Each chunk is scanned once, where it arrives: re-scanning the head for every chunk made a long header line
  // quadratic in the number of chunks (a 64 KiB line in 1-byte chunks took two minutes).
  const scan = new HeaderScan();
  let size = 0;
  for (;;) {
    const next = await chunks.next();
    if (next.done !== true) {
      const chunk = asBuffer(next.value);
      head.push(chunk);
      size += chunk.length;
      scan.feed(chunk);
    }
    const delimiter = scan.delimiter(next.done === true || size >= HEADER_PEEK_BYTES);
    if (delimiter !== undefined) return { source: Readable.from(replay(), { objectMode: false }), delimiter };
  }
}

function asBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`a hash list stream must yield bytes or strings, got ${typeof chunk}`);
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * Finds the delimiter of the first non-blank line of a byte stream (after a UTF-8 BOM), fed chunk by chunk: the
 * most frequent of tab, comma and semicolon outside quotes, ties going in that order, comma when there is none
 * (a one-column list).
 */
class HeaderScan {
  #position = 0;
  /** Bytes of a leading UTF-8 BOM seen so far. */
  #bom = 0;
  /** Past the BOM and the line breaks before the header. */
  #inLine = false;
  #quoted = false;
  #complete = false;
  readonly #counts = DELIMITERS.map(() => 0);

  feed(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length && !this.#complete; i++, this.#position++) {
      const b = bytes[i] as number;
      if (!this.#inLine) {
        if (this.#position === this.#bom && b === UTF8_BOM[this.#position]) {
          this.#bom++;
          continue;
        }
        // A BOM cut short is text of the header line; line breaks before the header are skipped.
        if (this.#bom > 0 && this.#bom < UTF8_BOM.length) this.#inLine = true;
        else if (b === 0x0a || b === 0x0d) continue;
        this.#inLine = true;
      }
      if (b === 0x22) this.#quoted = !this.#quoted;
      else if (this.#quoted) continue;
      else if (b === 0x0a || b === 0x0d) this.#complete = true;
      else {
        const d = DELIMITERS.findIndex((c) => c.charCodeAt(0) === b);
        if (d >= 0) this.#counts[d] = (this.#counts[d] ?? 0) + 1;
      }
    }
  }

  /** The delimiter, or undefined while the header line is incomplete and more input may follow. */
  delimiter(final: boolean): string | undefined {
    if (!this.#complete && !final) return undefined;
    const best = this.#counts.indexOf(Math.max(...this.#counts));
    return (this.#counts[best] ?? 0) > 0 ? (DELIMITERS[best] ?? ",") : ",";
  }
}

// Spellings lists use for registry ids, lowercased. Registry ids themselves are accepted in any case.
const ALGORITHM_ALIASES: Record<string, string> = {
  "sha-1": "sha1",
  sha_1: "sha1",
  "sha-256": "sha256",
  sha_256: "sha256",
  pdna: "photodna",
  "photo-dna": "photodna",
};

/** The registry id a list's algorithm name stands for, or undefined. */
function algorithmId(name: string): string | undefined {
  const key = name.trim().toLowerCase();
  const id = Object.hasOwn(ALGORITHM_ALIASES, key) ? ALGORITHM_ALIASES[key] : key;
  return id !== undefined && hasherSpec(id) !== undefined ? id : undefined;
}

/** Where the columns of a CSV list are, worked out once from its header. */
interface CsvLayout {
  /** Column indexes, -1 when absent. */
  algorithm: number;
  hash: number;
  category: number;
  id: number;
  /** A row's own list id (phmatch's CSV export writes one); rows without one get options.listId. */
  list: number;
  /** The registry id of rows without an algorithm cell (options.algorithm). */
  defaultAlgorithm: string | undefined;
  /** Every other column: [index, header name]. */
  extra: [number, string][];
  /** Set when the header cannot be used: each row is a problem with this reason. */
  unusable: string | undefined;
}

const ROLES = ["algorithm", "hash", "category", "id", "list"] as const;

function csvLayout(header: readonly string[], options: ReaderOptions): CsvLayout {
  const listed = header.map((name) => `"${name}"`).join(", ");
  const index: Record<(typeof ROLES)[number], number> = { algorithm: -1, hash: -1, category: -1, id: -1, list: -1 };
  const missing: string[] = [];
  for (const role of ROLES) {
    const named = options.columns?.[role];
    const wanted = (named ?? role).trim().toLowerCase();
    index[role] = header.findIndex((name) => name.toLowerCase() === wanted);
    if (index[role] < 0 && named !== undefined) missing.push(`"${named}" (the ${role} column)`);
  }
  const defaultAlgorithm = options.algorithm === undefined ? undefined : algorithmId(options.algorithm);
  let unusable: string | undefined;
  if (missing.length > 0) {
    unusable = `the header has no column ${missing.join(" or ")}; its columns are ${listed}`;
  } else if (index.hash < 0) {
    unusable =
      `the header has no "hash" column (its columns are ${listed}); ` +
      `name the column that holds the hashes in the columns option`;
  } else if (options.algorithm !== undefined && defaultAlgorithm === undefined) {
    const known = hasherSpecs().map((spec) => spec.id);
    unusable = `unknown algorithm "${options.algorithm}" (known: ${known.join(", ")})`;
  } else if (index.algorithm < 0 && defaultAlgorithm === undefined) {
    unusable =
      `no algorithm: the header has no "algorithm" column and none was given; ` +
      `give \`algorithm\` or add an algorithm column`;
  }
  const used = new Set(Object.values(index).filter((i) => i >= 0));
  const extra: [number, string][] = [];
  header.forEach((name, i) => {
    if (!used.has(i)) extra.push([i, name === "" ? `column ${i + 1}` : name]);
  });
  return { ...index, defaultAlgorithm, extra, unusable };
}

/** The extra fields of a row: the given columns' non-empty cells, verbatim, keyed by header name. */
export function extraFields(
  cells: readonly string[],
  columns: readonly [number, string][],
): Record<string, string> | undefined {
  let extra: Record<string, string> | undefined;
  for (const [i, name] of columns) {
    const value = cells[i];
    if (value === undefined || value.trim() === "") continue;
    extra ??= {};
    extra[name] = value;
  }
  return extra;
}

function csvEntry(
  row: DelimitedRow,
  layout: CsvLayout,
  listId: string,
  report: ImportReport,
): HashSetEntry | undefined {
  const { cells, line, header } = row;
  if (layout.unusable !== undefined) {
    report.problem(line, layout.unusable);
    return undefined;
  }
  let algorithm = layout.defaultAlgorithm;
  const name = layout.algorithm < 0 ? "" : (cells[layout.algorithm] ?? "").trim();
  if (name !== "") {
    algorithm = algorithmId(name);
    if (algorithm === undefined) {
      report.unrecognisedName(line, name);
      return undefined;
    }
  } else if (algorithm === undefined) {
    report.problem(
      line,
      `the "${header[layout.algorithm]}" cell is empty; fill it or give \`algorithm\` for rows without one`,
    );
    return undefined;
  }
  const text = cells[layout.hash] ?? "";
  if (text.trim() === "") {
    report.problem(line, `the "${header[layout.hash]}" cell is empty`);
    return undefined;
  }
  const parsed = parseHashValue(algorithm, text);
  if (!parsed.ok) {
    report.problem(line, `"${header[layout.hash]}": ${parsed.reason}`);
    return undefined;
  }
  const ownList = layout.list < 0 ? "" : (cells[layout.list] ?? "").trim();
  const entry: HashSetEntry = { algorithm, value: parsed.value, listId: ownList !== "" ? ownList : listId };
  const id = layout.id < 0 ? "" : (cells[layout.id] ?? "").trim();
  if (id !== "") entry.entryId = id;
  const category = layout.category < 0 ? "" : (cells[layout.category] ?? "").trim();
  if (category !== "") entry.category = category;
  const extra = extraFields(cells, layout.extra);
  if (extra !== undefined) entry.fields = { extra };
  return entry;
}

/**
 * Reads a CSV, TSV or semicolon-separated hash list: a header row, then one hash per row. Columns are found by
 * name, case-insensitively: `algorithm`, `hash`, `category`, `id` and `list` unless `options.columns` names others.
 * Without an algorithm column, `options.algorithm` applies (it also fills empty algorithm cells). Algorithm
 * names are registry ids in any case, or a common spelling (SHA-1, SHA-256, PDNA). Every other column is kept
 * in `fields.extra` under its header name (empty cells omitted).
 *
 * @example
 * for await (const record of readCsv(
 *   createReadStream("list.csv"),
 *   { listId: "hotline-a", columns: { hash: "MD5 Hash" }, algorithm: "md5" },
 *   report,
 * )) { ... }
 */
export const readCsv: HashSetReader = async function* (input, options, report) {
  let layout: CsvLayout | undefined;
  for await (const row of delimitedRows(input, report)) {
    layout ??= csvLayout(row.header, options);
    const entry = csvEntry(row, layout, options.listId, report);
    if (entry !== undefined) yield { kind: "entry", entry, line: row.line };
  }
};

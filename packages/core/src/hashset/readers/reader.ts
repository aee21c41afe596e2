import type { Readable } from "node:stream";
import type { HashSetRecord } from "../entry.js";
import type { ImportReport } from "../import-report.js";

/** Options every reader accepts. */
export interface ReaderOptions {
  /** The list id every entry gets (a list file does not always name its list). */
  listId: string;
  /** Algorithm of bare values (plain text lists), a registry id. */
  algorithm?: string;
  /** Column names for CSV/TSV: which header holds what (defaults: algorithm, hash, category, id). */
  columns?: { algorithm?: string; hash?: string; category?: string; id?: string; list?: string };
  /** The category of entries whose record gives none (bare lists: text, pytx, vPDQ text). */
  category?: string;
  /** The entry id of a list file that is one listed video (vPDQ text), whose lines carry none. */
  entryId?: string;
}

/**
 * A reader streams one list format: it yields entries and withdrawals in file order, never holding the whole
 * file as text, and reports every record it could not import to `report` (`report.read` counts each record
 * seen; `report.problem(line, reason)` each invalid one, which throws in strict mode). Readers validate
 * values with `parseHashValue` (hash-value.ts). They do not deduplicate: the importer does.
 */
export type HashSetReader = (
  input: Readable,
  options: ReaderOptions,
  report: ImportReport,
) => AsyncGenerator<HashSetRecord>;

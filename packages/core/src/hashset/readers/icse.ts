import type { HashSetEntry } from "../entry.js";
import { parseHashValue } from "../hash-value.js";
import type { ImportReport } from "../import-report.js";
import { type DelimitedRow, delimitedRows, extraFields } from "./csv.js";
import type { HashSetReader } from "./reader.js";

/**
 * INTERPOL ICSE (International Child Sexual Exploitation database) CSV exports: semicolon-separated, header
 * `MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;Number of
 * submissions;File Available;Media Type;Baseline`. One row is one image and carries up to three hashes.
 */

// Header names are matched ignoring case, spaces, underscores and hyphens ("image_id", "SHA-1", " Baseline ").
function headerKey(name: string): string {
  return name.toLowerCase().replace(/[\s_-]+/g, "");
}

/** The hash columns of an export, in the order their entries are yielded: [registry id, header key]. */
const HASH_COLUMNS = [
  ["md5", "md5"],
  ["sha1", "sha1"],
  ["photodna", "photodna"],
] as const;
const REQUIRED = ["MD5", "SHA1", "Image ID"];
// "Baseline" says whether the image is in INTERPOL's baseline set; these values mean it is.
const IN_BASELINE = new Set(["yes", "y", "true", "1"]);

interface IcseLayout {
  /** [registry id, column index, header name] of the hash columns present. */
  hashes: [string, number, string][];
  imageId: number;
  baseline: number;
  /** Every column but the hashes and Image ID (Baseline included, as the export says it). */
  extra: [number, string][];
  /** Set when required columns are missing: each row is a problem with this reason. */
  unusable: string | undefined;
}

function icseLayout(header: readonly string[]): IcseLayout {
  const keys = header.map(headerKey);
  const hashes: [string, number, string][] = [];
  for (const [algorithm, key] of HASH_COLUMNS) {
    const i = keys.indexOf(key);
    if (i >= 0) hashes.push([algorithm, i, header[i] ?? key]);
  }
  const imageId = keys.indexOf("imageid");
  const missing = REQUIRED.filter((name) => !keys.includes(headerKey(name)));
  const unusable =
    missing.length === 0
      ? undefined
      : `not an ICSE export: the header lacks ${missing.map((name) => `"${name}"`).join(", ")} ` +
        `(it has ${header.map((name) => `"${name}"`).join(", ")})`;
  const hashIndexes = new Set(hashes.map(([, i]) => i));
  const extra: [number, string][] = [];
  header.forEach((name, i) => {
    if (!hashIndexes.has(i) && i !== imageId) extra.push([i, name === "" ? `column ${i + 1}` : name]);
  });
  return { hashes, imageId, baseline: keys.indexOf("baseline"), extra, unusable };
}

/** The entries of one row, reporting its invalid or missing hashes (one problem per row). */
function icseEntries(row: DelimitedRow, layout: IcseLayout, listId: string, report: ImportReport): HashSetEntry[] {
  const { cells, line } = row;
  if (layout.unusable !== undefined) {
    report.problem(line, layout.unusable);
    return [];
  }
  const entryId = (cells[layout.imageId] ?? "").trim();
  const inBaseline = layout.baseline >= 0 && IN_BASELINE.has((cells[layout.baseline] ?? "").trim().toLowerCase());
  const extra = extraFields(cells, layout.extra);
  const entries: HashSetEntry[] = [];
  const wrong: string[] = [];
  for (const [algorithm, i, column] of layout.hashes) {
    const text = cells[i] ?? "";
    if (text.trim() === "") continue;
    const parsed = parseHashValue(algorithm, text);
    if (!parsed.ok) {
      wrong.push(`"${column}": ${parsed.reason}`);
      continue;
    }
    const entry: HashSetEntry = { algorithm, value: parsed.value, listId };
    if (entryId !== "") entry.entryId = entryId;
    if (inBaseline) entry.category = "baseline";
    if (extra !== undefined) entry.fields = { extra: { ...extra } };
    entries.push(entry);
  }
  // The row's valid hashes are still imported: one damaged value does not discard the others.
  if (wrong.length > 0) report.problem(line, wrong.join("; "));
  else if (entries.length === 0)
    report.problem(line, `no hash: ${layout.hashes.map(([, , column]) => `"${column}"`).join(", ")} are all empty`);
  return entries;
}

/**
 * Reads an INTERPOL ICSE CSV export. Each row yields an entry per non-empty hash (md5, sha1, photodna, in that
 * order) with `entryId` = Image ID and, when Baseline says yes, category "baseline". The other columns are
 * kept in `fields.extra` under their header names (empty cells omitted). `options.algorithm` and
 * `options.columns` do not apply: the format fixes both.
 */
export const readIcse: HashSetReader = async function* (input, options, report) {
  let layout: IcseLayout | undefined;
  for await (const row of delimitedRows(input, report, ";")) {
    layout ??= icseLayout(row.header);
    for (const entry of icseEntries(row, layout, options.listId, report))
      yield { kind: "entry", entry, line: row.line };
  }
};

import type { HashSetEntry, Withdrawal } from "./entry.js";
import type { HashSet } from "./hash-set.js";

/**
 * phmatch's NDJSON export, lossless: a header line with the lists' metadata, then one line per entry and per
 * withdrawal. `hashset import --format ndjson` reads it back into the same entries and metadata.
 */
export function* exportNdjson(set: HashSet): Generator<string> {
  yield JSON.stringify({ type: "hashset", format: "phmatch-hashset", formatVersion: 1, lists: set.lists });
  for (const entry of set.entries()) yield JSON.stringify(entryLine(entry));
  for (const w of set.withdrawals()) yield JSON.stringify(withdrawalLine(w));
}

function entryLine(e: HashSetEntry): object {
  return {
    type: "entry",
    algorithm: e.algorithm,
    hash: Buffer.from(e.value).toString("hex"),
    list: e.listId,
    ...(e.entryId !== undefined && { id: e.entryId }),
    ...(e.category !== undefined && { category: e.category }),
    ...(e.fields !== undefined && { fields: e.fields }),
  };
}

function withdrawalLine(w: Withdrawal): object {
  return {
    type: "withdrawal",
    ...(w.algorithm !== undefined && { algorithm: w.algorithm }),
    ...(w.value !== undefined && { hash: Buffer.from(w.value).toString("hex") }),
    list: w.listId,
    ...(w.entryId !== undefined && { id: w.entryId }),
  };
}

/**
 * CSV export for spreadsheets and other tools: algorithm, hash, list, id, category, then one column per
 * `fields.extra` key found in the set. Structured provenance other than `extra` (dates, tags, ...) is kept only
 * by the NDJSON export. Withdrawals are not part of a CSV export.
 */
export function* exportCsv(set: HashSet): Generator<string> {
  const extraKeys = new Set<string>();
  for (const entry of set.entries()) for (const key of Object.keys(entry.fields?.extra ?? {})) extraKeys.add(key);
  const extra = [...extraKeys].sort();
  yield ["algorithm", "hash", "list", "id", "category", ...extra].map(csvCell).join(",");
  for (const e of set.entries()) {
    yield [e.algorithm, Buffer.from(e.value).toString("hex"), e.listId, e.entryId ?? "", e.category ?? "", ...extra.map((k) => e.fields?.extra?.[k] ?? "")]
      .map(csvCell)
      .join(",");
  }
}

/** One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled. */
export function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

import type { EntryFields, HashSetEntry, HashSetRecord } from "../entry.js";
import { parseHashValue } from "../hash-value.js";
import type { HashSetReader } from "./reader.js";
import { numberedLines, tooLongReason } from "./lines.js";

/**
 * NDJSON, two shapes on any line:
 * - phmatch's own export (`hashset export --format ndjson`): a `{"type":"hashset",...}` header line (list
 *   metadata, read by the importer), then `{"type":"entry","algorithm","hash","list","id","category","fields"}`
 *   and `{"type":"withdrawal","algorithm","hash","list","id"}` lines;
 * - the records `phmatch hash` prints (`{"path","hashes":{...}}`): one entry per hash, entry id = path, so a
 *   list can be made from a hashing run. A record with an error keeps the hashes it has (digests).
 */
export const readNdjson: HashSetReader = async function* (input, options, report) {
  for await (const { line, text, tooLong } of numberedLines(input)) {
    if (tooLong) {
      report.read++;
      report.problem(line, tooLongReason("one JSON record"));
      continue;
    }
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      report.read++;
      report.problem(line, "not valid JSON");
      continue;
    }
    if (!isObject(value)) {
      report.read++;
      report.problem(line, "not a JSON object");
      continue;
    }
    if (value.type === "hashset") continue; // the export's header: metadata, not a record
    report.read++;
    if (value.type === "entry" || value.type === "withdrawal") {
      const record = exportRecord(value, options.listId, line, report);
      if (record !== undefined) yield record;
      continue;
    }
    if (typeof value.path === "string" && (isObject(value.hashes) || isObject(value.error))) {
      const hashes = isObject(value.hashes) ? Object.entries(value.hashes) : [];
      if (hashes.length === 0) {
        report.problem(line, `hash record of ${value.path} has no hashes (error ${isObject(value.error) ? String(value.error.code) : "?"})`);
        continue;
      }
      for (const [algorithm, hex] of hashes) {
        const parsed = parseHashValue(algorithm, String(hex));
        if (!parsed.ok) {
          report.problem(line, parsed.reason);
          continue;
        }
        yield { kind: "entry", entry: { algorithm, value: parsed.value, listId: options.listId, entryId: value.path }, line };
      }
      continue;
    }
    report.problem(line, 'neither a phmatch hash-set line ("type": "entry" | "withdrawal") nor a phmatch hash record');
  }
};

function exportRecord(value: Record<string, unknown>, defaultList: string, line: number, report: { problem(line: number, reason: string): void }): HashSetRecord | undefined {
  const listId = typeof value.list === "string" ? value.list : defaultList;
  const entryId = typeof value.id === "string" ? value.id : undefined;
  if (value.type === "withdrawal" && value.hash === undefined && value.algorithm === undefined && entryId !== undefined) {
    return { kind: "withdrawal", withdrawal: { listId, entryId }, line };
  }
  const algorithm = typeof value.algorithm === "string" ? value.algorithm : "";
  const parsed = parseHashValue(algorithm, typeof value.hash === "string" ? value.hash : "");
  if (!parsed.ok) {
    report.problem(line, parsed.reason);
    return undefined;
  }
  if (value.type === "withdrawal") {
    return { kind: "withdrawal", withdrawal: { algorithm, value: parsed.value, listId, ...(entryId !== undefined && { entryId }) }, line };
  }
  const entry: HashSetEntry = { algorithm, value: parsed.value, listId, ...(entryId !== undefined && { entryId }) };
  if (typeof value.category === "string") entry.category = value.category;
  if (isObject(value.fields)) entry.fields = value.fields as EntryFields;
  return { kind: "entry", entry, line };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

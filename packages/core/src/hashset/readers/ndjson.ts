import type { EntryFields, HashSetEntry, HashSetRecord } from "../entry.js";
import { parseHashValue } from "../hash-value.js";
import { numberedLines, tooLongReason } from "./lines.js";
import type { HashSetReader } from "./reader.js";

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
    if (value.type === "hashset") {
      // The export's header: metadata, not a record, read by the importer from line 1 only.
      if (line !== 1) {
        report.read++;
        report.problem(
          line,
          'a "hashset" header line belongs on line 1; its list metadata (versions, terms) was not read',
        );
      }
      continue;
    }
    report.read++;
    if (value.type === "entry" || value.type === "withdrawal") {
      const record = exportRecord(value, options.listId, line, report);
      if (record !== undefined) yield record;
      continue;
    }
    if (typeof value.path === "string" && (isObject(value.hashes) || isObject(value.error))) {
      const hashes = isObject(value.hashes) ? Object.entries(value.hashes) : [];
      if (hashes.length === 0) {
        report.problem(
          line,
          `hash record of ${value.path} has no hashes ` +
            `(error ${isObject(value.error) ? String(value.error.code) : "?"})`,
        );
        continue;
      }
      for (const [algorithm, hex] of hashes) {
        if (typeof hex !== "string") {
          report.problem(line, `hash record of ${value.path}: the ${JSON.stringify(algorithm)} hash is not a string`);
          continue;
        }
        const parsed = parseHashValue(algorithm, hex);
        if (!parsed.ok) {
          report.problem(line, parsed.reason);
          continue;
        }
        yield {
          kind: "entry",
          entry: { algorithm, value: parsed.value, listId: options.listId, entryId: value.path },
          line,
        };
      }
      continue;
    }
    report.problem(line, 'neither a phmatch hash-set line ("type": "entry" | "withdrawal") nor a phmatch hash record');
  }
};

function exportRecord(
  value: Record<string, unknown>,
  defaultList: string,
  line: number,
  report: { problem(line: number, reason: string): void },
): HashSetRecord | undefined {
  // Fields of the wrong type are refused, not dropped: an entry must not lose its id or list on the way in.
  for (const key of ["list", "id", "category", "algorithm", "hash"] as const) {
    if (value[key] !== undefined && typeof value[key] !== "string") {
      report.problem(line, `"${key}" is not a string`);
      return undefined;
    }
  }
  const listId = typeof value.list === "string" ? value.list : defaultList;
  const entryId = typeof value.id === "string" ? value.id : undefined;
  if (
    value.type === "withdrawal" &&
    value.hash === undefined &&
    value.algorithm === undefined &&
    entryId !== undefined
  ) {
    return { kind: "withdrawal", withdrawal: { listId, entryId }, line };
  }
  const algorithm = typeof value.algorithm === "string" ? value.algorithm : "";
  const parsed = parseHashValue(algorithm, typeof value.hash === "string" ? value.hash : "");
  if (!parsed.ok) {
    report.problem(line, parsed.reason);
    return undefined;
  }
  if (value.type === "withdrawal") {
    return {
      kind: "withdrawal",
      withdrawal: { algorithm, value: parsed.value, listId, ...(entryId !== undefined && { entryId }) },
      line,
    };
  }
  const entry: HashSetEntry = { algorithm, value: parsed.value, listId, ...(entryId !== undefined && { entryId }) };
  if (typeof value.category === "string") entry.category = value.category;
  if (value.fields !== undefined) {
    const fields = entryFields(value.fields);
    if (typeof fields === "string") {
      report.problem(line, fields);
      return undefined;
    }
    if (Object.keys(fields).length > 0) entry.fields = fields;
  }
  return { kind: "entry", entry, line };
}

/**
 * The provenance fields of an export line, checked to be what the entry model holds: text, `tags` a list of
 * text, `extra` an object of text. Anything else (numbers, nesting) is refused with the reason, since it would
 * be stored as it is and break the exports and reports that read it.
 */
function entryFields(value: unknown): EntryFields | string {
  if (!isObject(value)) return '"fields" is not an object';
  const fields = Object.create(null) as Record<string, unknown>; // a "__proto__" field stays a field
  for (const [key, field] of Object.entries(value)) {
    if (key === "tags") {
      if (!Array.isArray(field) || !field.every((tag) => typeof tag === "string"))
        return '"fields.tags" is not a list of strings';
    } else if (key === "extra") {
      if (!isObject(field) || !Object.values(field).every((text) => typeof text === "string"))
        return '"fields.extra" is not an object of strings';
    } else if (typeof field !== "string") {
      return `"fields.${key}" is not a string`;
    }
    fields[key] = field;
  }
  return fields as EntryFields;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

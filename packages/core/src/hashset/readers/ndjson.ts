import { PDQ } from "../../hashers/pdq.js";
import type { EntryFields, HashSetEntry, HashSetRecord } from "../entry.js";
import { parseHashValue } from "../hash-value.js";
import type { VpdqFrame } from "../vpdq-text.js";
import { numberedLines, tooLongReason } from "./lines.js";
import type { HashSetReader } from "./reader.js";
import { videoRecords } from "./vpdq.js";

/**
 * NDJSON, two shapes on any line:
 * - phmatch's own export (`hashset export --format ndjson`): a `{"type":"hashset",...}` header line (list
 *   metadata, read by the importer), then `{"type":"entry","algorithm","hash","list","id","category","fields"}`
 *   and `{"type":"withdrawal","algorithm","hash","list","id"}` lines;
 * - the records `phmatch hash` prints (`{"path","hashes":{...}}`): one entry per hash, entry id = path, so a
 *   list can be made from a hashing run. A record with an error keeps the hashes it has (digests).
 * Listed videos come back through listedVideoEntries, as every listed video is made: the export's frame lines
 * (`fields.video`) are gathered by list and entry id and listed once the file is read, and a hash record's `video`
 * (its vPDQ frames) lists the video under its path.
 */
export const readNdjson: HashSetReader = async function* (input, options, report) {
  const videos = new Map<string, ExportedVideo>();
  yield* readLines(input, options, report, videos);
  for (const video of videos.values())
    yield* videoRecords(
      video.frames,
      {
        listId: video.listId,
        entryId: video.entryId,
        fields: video.fields,
        ...(video.category !== undefined && { category: video.category }),
      },
      video.line,
      report,
    );
};

/** A listed video of an export, gathered from its frame lines. */
interface ExportedVideo {
  listId: string;
  entryId: string;
  category?: string;
  fields: EntryFields;
  frames: VpdqFrame[];
  line: number;
}

async function* readLines(
  input: Parameters<HashSetReader>[0],
  options: Parameters<HashSetReader>[1],
  report: Parameters<HashSetReader>[2],
  videos: Map<string, ExportedVideo>,
): AsyncGenerator<HashSetRecord> {
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
      if (record?.kind === "frame") gather(videos, record, line);
      else if (record !== undefined) yield record;
      continue;
    }
    if (typeof value.path === "string" && (isObject(value.hashes) || isObject(value.error) || isObject(value.video))) {
      const hashes = isObject(value.hashes) ? Object.entries(value.hashes) : [];
      // A video's record: its vPDQ frames list it under its path (its digests, if any, follow as entries).
      if (isObject(value.video)) {
        const frames = hashedFrames(value.video);
        if (typeof frames === "string") report.problem(line, `hash record of ${value.path}: ${frames}`);
        else yield* videoRecords(frames, { listId: options.listId, entryId: value.path, fields: {} }, line, report);
        if (hashes.length === 0) continue;
      }
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
}

/** One frame line of an exported listed video. */
type FrameLine = { kind: "frame"; entry: HashSetEntry; frame: VpdqFrame };

function gather(videos: Map<string, ExportedVideo>, record: FrameLine, line: number): void {
  const { entry, frame } = record;
  const key = `${entry.listId}\0${entry.entryId ?? ""}`;
  let video = videos.get(key);
  if (video === undefined) {
    video = { listId: entry.listId, entryId: entry.entryId ?? "", fields: entry.fields ?? {}, frames: [], line };
    if (entry.category !== undefined) video.category = entry.category;
    videos.set(key, video);
  }
  video.frames.push(frame);
}

// Where a frame sits in its video, as the export writes `fields.video` (its kept count is recounted on the way in).
function exportedFrame(value: unknown, bytes: Uint8Array): VpdqFrame | string {
  if (!isObject(value)) return '"fields.video" is not an object';
  const { frame, timestamp, quality } = value;
  if (typeof frame !== "number" || !Number.isSafeInteger(frame) || frame < 0)
    return '"fields.video.frame" is not a frame number';
  if (typeof timestamp !== "number" || !(timestamp >= 0)) return '"fields.video.timestamp" is not seconds';
  if (typeof quality !== "number" || !Number.isInteger(quality) || quality < 0 || quality > 100)
    return '"fields.video.quality" is not 0-100';
  return { frame, timestamp, hash: { algorithm: PDQ, bytes, quality } };
}

// The frames of a hash record's `video` (what `phmatch hash` prints for a video).
function hashedFrames(video: Record<string, unknown>): VpdqFrame[] | string {
  if (!Array.isArray(video.frames)) return '"video.frames" is not a list';
  const frames: VpdqFrame[] = [];
  for (const f of video.frames) {
    const pdq = isObject(f) && typeof f.pdq === "string" ? parseHashValue(PDQ, f.pdq) : undefined;
    if (pdq === undefined || !pdq.ok) return "a frame of video.frames has no 64-hex pdq hash";
    const frame = exportedFrame(f, pdq.value);
    if (typeof frame === "string") return frame.replace("fields.video", "video.frames[]");
    frames.push(frame);
  }
  return frames.length > 0 ? frames : "an empty video.frames is not a video hash";
}

function exportRecord(
  value: Record<string, unknown>,
  defaultList: string,
  line: number,
  report: { problem(line: number, reason: string): void },
): HashSetRecord | FrameLine | undefined {
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
  let video: unknown;
  if (value.fields !== undefined) {
    const { video: where, ...rest } = isObject(value.fields) ? value.fields : { video: undefined };
    video = where;
    const fields = entryFields(isObject(value.fields) ? rest : value.fields);
    if (typeof fields === "string") {
      report.problem(line, fields);
      return undefined;
    }
    if (Object.keys(fields).length > 0) entry.fields = fields;
  }
  if (video !== undefined) {
    if (algorithm !== PDQ || entryId === undefined) {
      report.problem(line, "a frame of a listed video (fields.video) is a pdq entry with an id");
      return undefined;
    }
    const frame = exportedFrame(video, parsed.value);
    if (typeof frame === "string") {
      report.problem(line, frame);
      return undefined;
    }
    return { kind: "frame", entry, frame };
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

import { createHash } from "node:crypto";
import { PDQ } from "../../hashers/pdq.js";
import type { EntryFields, HashSetRecord } from "../entry.js";
import { parseHashValue } from "../hash-value.js";
import type { ImportReport } from "../import-report.js";
import { listedVideoEntries } from "../video-entries.js";
import { parseVpdqLine, type VpdqFrame } from "../vpdq-text.js";
import { numberedLines, tooLongReason } from "./lines.js";
import type { HashSetReader } from "./reader.js";

/**
 * The reference's vPDQ text format (`frame,quality,hash,timestamp` lines, what `vpdq-hash-video` and
 * `phmatch hash --format vpdq` write): the whole file is one listed video, whose entry id is `entryId` (the
 * importer defaults it to the file's name without `.vpdq.txt`). Each line is checked as parseVpdqText checks it
 * and a bad one is reported with its number; frame numbers must grow, so two files joined end to end are caught
 * where the second starts. The video's entries are made by listedVideoEntries once the file is read.
 */
export const readVpdqText: HashSetReader = async function* (input, options, report) {
  const frames: VpdqFrame[] = [];
  let lastLine = 0;
  for await (const { line, text, tooLong } of numberedLines(input)) {
    lastLine = line;
    if (!tooLong && text.trim() === "") continue;
    report.read++;
    if (tooLong) {
      report.problem(line, tooLongReason("a vPDQ frame line"));
      continue;
    }
    const frame = parseVpdqLine(text.endsWith("\r") ? text.slice(0, -1) : text);
    if (typeof frame === "string") {
      report.problem(line, frame);
      continue;
    }
    const previous = frames[frames.length - 1];
    if (previous !== undefined && frame.frame <= previous.frame) {
      report.problem(
        line,
        `frame ${frame.frame} after frame ${previous.frame}: a video's frames come in increasing order (two hash ` +
          "files joined into one? import each video from its own file)",
      );
      continue;
    }
    frames.push(frame);
  }
  const entryId = options.entryId ?? "";
  if (entryId === "") {
    report.problem(Math.max(lastLine, 1), "a vPDQ text file is one video and needs its entry id (`entryId`)");
    return;
  }
  if (frames.length === 0) {
    report.problem(Math.max(lastLine, 1), "no frame hashes: an empty vPDQ hash is not a video hash");
    return;
  }
  yield* videoRecords(frames, { listId: options.listId, entryId, fields: {} }, 1, report, options.category);
};

/**
 * The entries of one listed video, through listedVideoEntries (the only maker of video frame entries), with what
 * it left out counted in the report: repeated frames as `duplicate`, frames below quality 50 as `lowQuality`; a
 * video left with no frame is refused (never fatal: it is not malformed, it just can never match).
 */
export function* videoRecords(
  frames: readonly VpdqFrame[],
  video: { listId: string; entryId: string; fields: EntryFields; category?: string },
  line: number,
  report: ImportReport,
  category?: string,
): Generator<HashSetRecord> {
  const chosen = video.category ?? category;
  const { entries, dropped } = listedVideoEntries(
    {
      listId: video.listId,
      entryId: video.entryId,
      ...(chosen !== undefined && { category: chosen }),
      ...(Object.keys(video.fields).length > 0 && { fields: video.fields }),
    },
    frames,
  );
  report.duplicate += dropped.duplicate;
  report.lowQuality += dropped.lowQuality;
  if (entries.length === 0) {
    report.refuseEmptyVideo(line, video.entryId, `none of its ${frames.length} frames has PDQ quality 50 or more`);
    return;
  }
  report.videos++;
  for (const entry of entries) yield { kind: "entry", entry, line };
}

// Everything a vPDQ frame field may hold: pytx writes timestamps with Python's `{:.3}` (3 significant digits, so
// 123.4 s is "1.23e+02"), hence the exponent.
const NUMBER = /^\d+(?:\.\d*)?(?:[eE][+-]?\d+)?$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;

/**
 * A vPDQ hash as python-threatexchange serialises its VPDQSignal (the signal string ThreatExchange and HMA carry):
 * a JSON list of "pdqhex,quality,timestamp" strings, one per frame in video order (frame numbers are not carried:
 * the position is the frame's number here); or the older form, a JSON object from frame number to
 * {quality, hash (hex), timestamp}. The frames, or why the text is not a vPDQ hash.
 */
export function parseVpdqSignal(signal: string): VpdqFrame[] | string {
  let value: unknown;
  try {
    value = JSON.parse(signal);
  } catch {
    return 'the vPDQ signal is not JSON (expected a list of "pdqhex,quality,timestamp" strings)';
  }
  const frames: VpdqFrame[] = [];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const feature = value[i];
      const parts = typeof feature === "string" ? feature.split(",") : [];
      const why = `frame ${i} of the vPDQ signal: expected "pdqhex,quality(0-100),timestamp", got `;
      if (parts.length !== 3) return why + JSON.stringify(String(feature).slice(0, 120));
      const frame = vpdqFrame(i, parts[0] as string, parts[1] as string, parts[2] as string);
      if (frame === undefined) return why + JSON.stringify((feature as string).slice(0, 120));
      frames.push(frame);
    }
  } else if (typeof value === "object" && value !== null) {
    for (const [key, feature] of Object.entries(value)) {
      const f = (typeof feature === "object" && feature !== null ? feature : {}) as Record<string, unknown>;
      const frame =
        /^\d{1,10}$/.test(key) && typeof f.hash === "string"
          ? vpdqFrame(Number(key), f.hash, String(f.quality), String(f.timestamp))
          : undefined;
      if (frame === undefined)
        return (
          `frame ${JSON.stringify(key.slice(0, 20))} of the vPDQ signal: expected ` +
          '{"quality": 0-100, "hash": 64 hex, "timestamp": seconds}'
        );
      frames.push(frame);
    }
    frames.sort((a, b) => a.frame - b.frame);
  } else {
    return "the vPDQ signal is neither a list of frames nor an object of frames";
  }
  if (frames.length === 0) return "the vPDQ signal has no frames: an empty vPDQ hash is not a video hash";
  return frames;
}

function vpdqFrame(frame: number, hex: string, quality: string, timestamp: string): VpdqFrame | undefined {
  if (!HEX64.test(hex) || !/^\d{1,3}$/.test(quality) || Number(quality) > 100 || !NUMBER.test(timestamp))
    return undefined;
  const seconds = Number(timestamp);
  if (!Number.isFinite(seconds)) return undefined;
  const bytes = new Uint8Array(Buffer.from(hex, "hex"));
  return { frame, timestamp: seconds, hash: { algorithm: PDQ, bytes, quality: Number(quality) } };
}

/** An entry id for a listed video whose source names none (pytx lines): stable, from the signal's own text. */
export function vpdqSignalId(signal: string): string {
  return `vpdq-${createHash("sha256").update(signal).digest("hex").slice(0, 16)}`;
}

// The indicator types of ThreatExchange records (and the signal type names of pytx and HMA) this reader imports,
// mapped to phmatch algorithms; "vpdq" is a listed video. Anything else is counted as unrecognised.
const SIGNAL_TYPES: Record<string, string> = {
  hash_video_vpdq: "vpdq",
  video_vpdq: "vpdq",
  vpdq: "vpdq",
  hash_pdq: "pdq",
  pdq: "pdq",
  photo_pdq: "pdq",
  hash_md5: "md5",
  hash_video_md5: "md5",
  video_md5: "md5",
  photo_md5: "md5",
  md5: "md5",
  hash_sha256: "sha256",
  sha256: "sha256",
};

/**
 * ThreatExchange and HMA records, one JSON object per line: the records of ThreatExchange's /threat_updates (and
 * ThreatDescriptor objects), which python-threatexchange and HMA fetch, and the signal records HMA hands out.
 * From each it takes
 * - the signal: `indicator` (a string, or an object holding `indicator` and `type`), `raw_indicator`, `signal`,
 *   `signal_value` or `signal_hash`; its type: `type` or `signal_type` (HASH_VIDEO_VPDQ / vpdq: a listed video,
 *   its signal string read by parseVpdqSignal; HASH_PDQ, HASH_MD5, HASH_VIDEO_MD5 and their pytx names: one entry);
 * - HMA's bank content (`{"id", "bank", "enabled", "signals": {"vpdq": ..., "pdq": ...}}`): each signal under the
 *   content's id, the bank kept as `fields.extra.bank`; content disabled in its bank is not listed;
 * - the id: `id`, `signal_id`, `bank_content_id` or `content_id` (a video without one gets vpdqSignalId);
 * - the tags: `tags` and each descriptor's `tags` (a list of strings, or the Graph API's {data: [{text}]}), kept
 *   as `fields.tags`; `category` when the record has one; the type, descriptor statuses and `last_updated` as
 *   `fields.extra`;
 * - `should_delete: true` (a ThreatExchange deletion): a withdrawal of that id.
 * A record every one of whose descriptors says NON_MALICIOUS is an opinion that the content is not harmful: it is
 * refused, never listed.
 */
export const readThreatExchange: HashSetReader = async function* (input, options, report) {
  for await (const { line, text, tooLong } of numberedLines(input)) {
    if (!tooLong && text.trim() === "") continue;
    report.read++;
    if (tooLong) {
      report.problem(line, tooLongReason("one ThreatExchange/HMA JSON record"));
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      report.problem(line, "not valid JSON (one ThreatExchange/HMA record per line)");
      continue;
    }
    if (!isObject(value)) {
      report.problem(line, "not a JSON object (one ThreatExchange/HMA record per line)");
      continue;
    }
    yield* exchangeRecord(value, line, options.listId, report, options.category);
  }
};

function* exchangeRecord(
  record: Record<string, unknown>,
  line: number,
  listId: string,
  report: ImportReport,
  category: string | undefined,
): Generator<HashSetRecord> {
  // HMA's bank content: one id, its signals by type name ({"pdq": ..., "vpdq": ...}); disabled content is not listed.
  if (isObject(record.signals)) {
    if (record.enabled === false) {
      report.problem(line, "disabled in its HMA bank (enabled: false): not listed");
      return;
    }
    const { signals, ...content } = record;
    for (const [name, value] of Object.entries(signals)) {
      const one = { ...content, signal_type: name, signal: value };
      yield* exchangeRecord(one, line, listId, report, category);
    }
    return;
  }
  const nested = isObject(record.indicator) ? record.indicator : undefined;
  const signal = firstString(
    nested?.indicator,
    record.indicator,
    record.raw_indicator,
    record.signal,
    record.signal_value,
    record.signal_hash,
  );
  const type = firstString(record.type, nested?.type, record.signal_type);
  const rawId = [record.id, record.signal_id, record.bank_content_id, record.content_id].find(
    (id) => (typeof id === "string" && id !== "") || (typeof id === "number" && Number.isSafeInteger(id)),
  );
  const id = rawId === undefined ? undefined : String(rawId);
  if (record.should_delete === true) {
    if (id === undefined) report.problem(line, "a deletion (should_delete) without an id: nothing to withdraw");
    else yield { kind: "withdrawal", withdrawal: { listId, entryId: id }, line };
    return;
  }
  if (type === undefined) {
    report.problem(line, 'no signal type ("type" or "signal_type")');
    return;
  }
  const algorithm = SIGNAL_TYPES[type.toLowerCase()];
  if (algorithm === undefined) {
    report.unrecognisedName(line, type);
    return;
  }
  if (signal === undefined) {
    report.problem(line, 'no signal ("indicator", "signal" or "signal_value" holding text)');
    return;
  }
  const descriptors =
    isObject(record.descriptors) && Array.isArray(record.descriptors.data) ? record.descriptors.data : [];
  const statuses = descriptors.flatMap((d) => (isObject(d) && typeof d.status === "string" ? [d.status] : []));
  if (typeof record.status === "string") statuses.push(record.status);
  if (statuses.length > 0 && statuses.every((s) => s === "NON_MALICIOUS")) {
    report.problem(line, "every opinion on this signal is NON_MALICIOUS: it is not listed as harmful");
    return;
  }
  const tags = new Set<string>(tagsOf(record.tags));
  for (const d of descriptors) if (isObject(d)) for (const tag of tagsOf(d.tags)) tags.add(tag);
  const extra: Record<string, string> = { type };
  if (typeof record.bank === "string") extra.bank = record.bank;
  if (statuses.length > 0) extra.status = [...new Set(statuses)].sort().join(" ");
  if (typeof record.last_updated === "string" || typeof record.last_updated === "number")
    extra.lastUpdated = String(record.last_updated);
  const fields: EntryFields = { ...(tags.size > 0 && { tags: [...tags].sort() }), extra };
  const own = typeof record.category === "string" && record.category !== "" ? record.category : category;
  if (algorithm === "vpdq") {
    const frames = parseVpdqSignal(signal);
    if (typeof frames === "string") {
      report.problem(line, frames);
      return;
    }
    const video = { listId, entryId: id ?? vpdqSignalId(signal), fields, ...(own !== undefined && { category: own }) };
    yield* videoRecords(frames, video, line, report);
    return;
  }
  const parsed = parseHashValue(algorithm, signal);
  if (!parsed.ok) {
    report.problem(line, parsed.reason);
    return;
  }
  yield {
    kind: "entry",
    entry: {
      algorithm,
      value: parsed.value,
      listId,
      ...(id !== undefined && { entryId: id }),
      ...(own !== undefined && { category: own }),
      fields,
    },
    line,
  };
}

// Tags as the Graph API gives them ({data: [{text}]}), or as pytx and HMA keep them (a list of strings).
function tagsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((t): t is string => typeof t === "string" && t !== "");
  if (isObject(value) && Array.isArray(value.data))
    return value.data.flatMap((t) => (isObject(t) && typeof t.text === "string" && t.text !== "" ? [t.text] : []));
  return [];
}

function firstString(...values: unknown[]): string | undefined {
  return values.find((v): v is string => typeof v === "string" && v !== "");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

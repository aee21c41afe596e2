import { hasherSpec, hexDigits } from "../hashers/registry.js";
import type { HashRecord } from "../record/hash-record.js";

/**
 * One accepted upload as a platform keeps it for retroactive matching: the hash record `phmatch hash` printed for it
 * (its `path` optional: a platform need not keep one), the platform's own content id and the upload time. Never the
 * upload's bytes.
 */
export interface AcceptedRecord extends Omit<HashRecord, "path"> {
  path?: string;
  /** The platform's id of the upload (what it acts on when a later list release matches it). */
  contentId: string;
  /** When the upload was accepted (ISO 8601). */
  uploadedAt: string;
}

/** The longest content id taken (a platform's id is a key or a URL, not a document). */
export const MAX_CONTENT_ID_LENGTH = 1024;

// ISO 8601 date and time as Date#toISOString and most platforms write it: a date, a time, a zone (Z or an offset).
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A line of accepted-upload records, read: the record, or why it is not one (never the line's text). */
export type AcceptedRecordParse = { ok: true; record: AcceptedRecord } | { ok: false; why: string };

/**
 * Reads one NDJSON line of accepted-upload records. Everything in it is checked before the matcher sees it: a hash of
 * an algorithm phmatch knows must be hex of that algorithm's length (a short value would be read as another hash),
 * dihedral variants are 8 such values, qualities are 0..100, video frames are whole. What is wrong is said without
 * quoting the line (it may hold a platform's ids).
 */
export function parseAcceptedRecord(text: string): AcceptedRecordParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, why: "not JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, why: "not an object" };
  const r = value as Record<string, unknown>;
  if (typeof r.contentId !== "string" || r.contentId.length === 0)
    return { ok: false, why: "contentId is missing or not a non-empty string" };
  if (r.contentId.length > MAX_CONTENT_ID_LENGTH)
    return { ok: false, why: `contentId is longer than ${MAX_CONTENT_ID_LENGTH} characters` };
  if (typeof r.uploadedAt !== "string" || !ISO_8601.test(r.uploadedAt) || Number.isNaN(Date.parse(r.uploadedAt)))
    return { ok: false, why: "uploadedAt is missing or not an ISO 8601 date and time (e.g. 2026-12-05T10:00:00Z)" };
  if (r.path !== undefined && typeof r.path !== "string") return { ok: false, why: "path is not a string" };
  const hashes = checkHashes(r.hashes, "hashes");
  if (hashes !== undefined) return { ok: false, why: hashes };
  if (r.quality !== undefined) {
    if (typeof r.quality !== "object" || r.quality === null || Array.isArray(r.quality))
      return { ok: false, why: "quality is not an object" };
    for (const [algorithm, q] of Object.entries(r.quality))
      if (typeof q !== "number" || !Number.isFinite(q) || q < 0 || q > 100)
        return { ok: false, why: `quality.${algorithm} is not a number 0..100` };
  }
  if (r.dihedral !== undefined) {
    if (typeof r.dihedral !== "object" || r.dihedral === null || Array.isArray(r.dihedral))
      return { ok: false, why: "dihedral is not an object" };
    for (const [algorithm, variants] of Object.entries(r.dihedral)) {
      if (!Array.isArray(variants) || variants.length !== 8)
        return { ok: false, why: `dihedral.${algorithm} is not 8 variants` };
      for (const v of variants) {
        const bad = checkHex(algorithm, v, `dihedral.${algorithm}`);
        if (bad !== undefined) return { ok: false, why: bad };
      }
    }
  }
  for (const view of ["trimmed"] as const) {
    const inner = r[view];
    if (inner === undefined) continue;
    if (typeof inner !== "object" || inner === null) return { ok: false, why: `${view} is not an object` };
    const bad = checkHashes((inner as Record<string, unknown>).hashes, `${view}.hashes`);
    if (bad !== undefined) return { ok: false, why: bad };
  }
  for (const view of ["rotated", "parts"] as const) {
    const list = r[view];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return { ok: false, why: `${view} is not an array` };
    for (const item of list) {
      if (typeof item !== "object" || item === null) return { ok: false, why: `${view} holds a non-object` };
      const bad = checkHashes((item as Record<string, unknown>).hashes, `${view}[].hashes`);
      if (bad !== undefined) return { ok: false, why: bad };
    }
  }
  if (r.video !== undefined && !videoFramesReadable(r.video))
    return { ok: false, why: "video.frames are not PDQ frames (64 hex digits, quality 0..100, frame, timestamp)" };
  if (r.hashes === undefined && r.video === undefined) return { ok: false, why: "it holds no hashes and no video" };
  return { ok: true, record: value as AcceptedRecord };
}

function checkHashes(hashes: unknown, what: string): string | undefined {
  if (hashes === undefined) return undefined;
  if (typeof hashes !== "object" || hashes === null || Array.isArray(hashes)) return `${what} is not an object`;
  for (const [algorithm, hex] of Object.entries(hashes)) {
    const bad = checkHex(algorithm, hex, `${what}.${algorithm}`);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

function checkHex(algorithm: string, hex: unknown, what: string): string | undefined {
  if (typeof hex !== "string" || !/^[0-9a-f]+$/i.test(hex)) return `${what} is not hex`;
  const spec = hasherSpec(algorithm);
  // An algorithm phmatch does not know is never looked up; its value is carried as given.
  if (spec !== undefined && hex.length !== hexDigits(spec))
    return `${what} has ${hex.length} hex digits, ${algorithm} has ${hexDigits(spec)}`;
  return undefined;
}

/**
 * Whether a record's `video` holds frames as the matcher reads them: PDQ as 64 hex digits, a quality 0-100, a
 * frame number and a time (rematch's records and `phmatch match`'s input alike).
 */
export function videoFramesReadable(video: unknown): boolean {
  const frames = (video as { frames?: unknown } | null)?.frames;
  return (
    Array.isArray(frames) &&
    frames.every((f: Record<string, unknown> | null) => {
      if (typeof f !== "object" || f === null) return false;
      const { pdq, quality, frame, timestamp } = f;
      return (
        typeof pdq === "string" &&
        /^[0-9a-f]{64}$/i.test(pdq) &&
        Number.isInteger(quality) &&
        (quality as number) >= 0 &&
        (quality as number) <= 100 &&
        Number.isInteger(frame) &&
        typeof timestamp === "number" &&
        Number.isFinite(timestamp)
      );
    })
  );
}

// The body of POST /v1/match, checked before a hash of it is looked up: what `phmatch hash --dihedral` (or
// `@phmatch/wasm`'s hashImage) prints, and nothing else. Every algorithm id is one the registry knows (ids are
// lower case: "PDQ" is not "pdq"), every value has exactly its algorithm's hex length, and dihedral variants are
// the 8 of the hash given, so no hex is cut or padded, no hash is silently skipped, and no request carries more
// than 8 lookups per algorithm. Each lookup is a "needle": the token's rate counts them. A video's vPDQ hash
// (`video`, as `phmatch hash clip.mp4` prints it) is a list of PDQ frame hashes: sent only by a token that may send
// pdq by hash, at most MAX_MATCH_VIDEO_FRAMES of them, each frame one needle.
import { type HashRecord, hasherSpec } from "@phmatch/core";
import { hexDigits, PDQ, type VideoFrameHash } from "@phmatch/core/internal";
import { MATCHABLE_ALGORITHMS } from "./tokens.js";

/** How many dihedral variants a hash may carry: the 8 symmetries of the square, the original first. */
export const DIHEDRAL_VARIANTS = 8;

/**
 * Most frames one /v1/match video may carry: an hour of video at the reference's one frame a second. Each is a
 * lookup (and a unit of the token's rate); a longer video is sent as several records, or uploaded to /v1/check.
 */
export const MAX_MATCH_VIDEO_FRAMES = 3600;

/**
 * Largest /v1/match body: 64 KiB for a picture's hashes, with room for {@link MAX_MATCH_VIDEO_FRAMES} frames as
 * `phmatch hash` prints them (about 110 bytes each), so the frame cap, not the body limit, is what refuses a
 * long video, with its own reason.
 */
export const MATCH_BODY_LIMIT = 64 * 1024 + MAX_MATCH_VIDEO_FRAMES * 128;

/** A /v1/match body that may be looked up, with the number of hashes it looks up. */
export interface MatchRequest {
  record: HashRecord;
  /** One per hash, or per dihedral variant where they are given (they replace the hash, which is the first). */
  needles: number;
}

/** Why a /v1/match body is refused: the HTTP status, the answer's reason_code, and what to do. */
export interface MatchRefusal {
  status: 400 | 403;
  reason:
    | "PHM_MATCH_INPUT"
    | "UNKNOWN_ALGORITHM"
    | "ALGORITHM_NOT_MATCHABLE"
    | "HASH_LENGTH"
    | "DIHEDRAL_VARIANTS"
    | "ALGORITHM_NOT_GRANTED"
    | "VIDEO_FRAMES";
  message: string;
}

// Fields of a hash record /v1/match reads; `path` and `pathBytes` are taken and ignored (the gate names no file).
const FIELDS = new Set(["hashes", "quality", "dihedral", "video", "path", "pathBytes"]);
const HEX = /^[0-9a-fA-F]+$/;

/**
 * Checks a parsed /v1/match body. `granted`: the algorithms the token may send by hash (a decision token's are
 * few, see tokens.ts). Returns the record to look up, or why it is refused.
 */
export function parseMatchRequest(body: unknown, granted: ReadonlySet<string>): MatchRequest | MatchRefusal {
  const input = (message: string): MatchRefusal => ({ status: 400, reason: "PHM_MATCH_INPUT", message });
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return input('the body is not a hash record: expected {"hashes":{"pdq":"<64 hex>"},...} as phmatch hash prints it');
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => !FIELDS.has(k));
  if (extra.length > 0)
    return input(
      `/v1/match takes hashes, quality, dihedral and video, not ${extra.join(", ")}: send each set of hashes ` +
        "as its own record",
    );
  // A video's record may carry no other hash (`phmatch hash -a pdq clip.mp4` prints none): then `hashes` may be
  // left out or empty.
  const hasVideo = b.video !== undefined;
  if (hasVideo && b.hashes === undefined) b.hashes = {};
  if (!isObject(b.hashes) || (Object.keys(b.hashes).length === 0 && !hasVideo))
    return input('"hashes" must be an object of algorithm id to hex, e.g. {"pdq":"<64 hex>"}');
  const hashes: Record<string, string> = {};
  for (const [id, value] of Object.entries(b.hashes)) {
    const spec = hasherSpec(id);
    if (spec === undefined)
      return {
        status: 400,
        reason: "UNKNOWN_ALGORITHM",
        message:
          `hashes.${id}: not an algorithm id phmatch knows (ids are lower case: ` +
          `${MATCHABLE_ALGORITHMS.join(", ")})`,
      };
    if (!MATCHABLE_ALGORITHMS.includes(id))
      return {
        status: 400,
        reason: "ALGORITHM_NOT_MATCHABLE",
        message: `hashes.${id}: phmatch carries ${id} values from lists but does not match them`,
      };
    if (!granted.has(id))
      return {
        status: 403,
        reason: "ALGORITHM_NOT_GRANTED",
        message:
          `hashes.${id}: this token may not send ${id} by ` +
          `hash${granted.size > 0 ? ` (it may send ${[...granted].join(", ")})` : ""}`,
      };
    const hex = hexOf(value, hexDigits(spec), `hashes.${id}`);
    if (typeof hex !== "string") return hex;
    hashes[id] = hex;
  }
  const record: HashRecord = { path: "request", hashes };
  let needles = Object.keys(hashes).length;

  if (b.quality !== undefined) {
    if (!isObject(b.quality)) return input('"quality" must be an object of algorithm id to a number, e.g. {"pdq":100}');
    for (const [id, q] of Object.entries(b.quality)) {
      if (!Object.hasOwn(hashes, id)) return input(`quality.${id}: no hashes.${id} it would be the quality of`);
      if (typeof q !== "number" || !Number.isFinite(q)) return input(`quality.${id} must be a number`);
    }
    record.quality = b.quality as Record<string, number>;
  }

  if (b.dihedral !== undefined) {
    if (!isObject(b.dihedral))
      return input(
        '"dihedral" must be an object of algorithm id to its 8 variants, as phmatch hash --dihedral prints them',
      );
    const dihedral: Record<string, string[]> = {};
    for (const [id, variants] of Object.entries(b.dihedral)) {
      const spec = hasherSpec(id);
      if (spec === undefined)
        return {
          status: 400,
          reason: "UNKNOWN_ALGORITHM",
          message: `dihedral.${id}: not an algorithm id phmatch knows (ids are lower case)`,
        };
      const original = hashes[id];
      if (original === undefined || spec.input !== "pixels")
        return {
          status: 400,
          reason: "DIHEDRAL_VARIANTS",
          message: `dihedral.${id}: variants of a perceptual hash given in hashes.${id} only`,
        };
      if (!Array.isArray(variants) || variants.length !== DIHEDRAL_VARIANTS) {
        return {
          status: 400,
          reason: "DIHEDRAL_VARIANTS",
          message:
            `dihedral.${id} must hold the ${DIHEDRAL_VARIANTS} dihedral variants, the original first, as ` +
            "phmatch hash --dihedral prints them",
        };
      }
      const values: string[] = [];
      for (const [i, v] of variants.entries()) {
        const hex = hexOf(v, hexDigits(spec), `dihedral.${id}[${i}]`);
        if (typeof hex !== "string") return hex;
        values.push(hex);
      }
      if (values[0] !== original)
        return {
          status: 400,
          reason: "DIHEDRAL_VARIANTS",
          message: `dihedral.${id}[0] must be the original, hashes.${id}`,
        };
      dihedral[id] = values;
      needles += DIHEDRAL_VARIANTS - 1; // the variants replace the hash, which is the first of them
    }
    record.dihedral = dihedral;
  }

  if (hasVideo) {
    const video = parseVideo(b.video, granted);
    if ("reason" in video) return video;
    record.video = video;
    needles += video.frames.length;
  }
  return { record, needles };
}

// Fields of a video hash /v1/match reads (those `phmatch hash` prints); only `frames` is required.
const VIDEO_FIELDS = new Set([
  "algorithm",
  "secondsPerHash",
  "container",
  "codec",
  "width",
  "height",
  "frameRate",
  "durationSeconds",
  "frameCount",
  "frames",
]);
const VIDEO_NUMBERS = ["secondsPerHash", "width", "height", "frameRate", "durationSeconds", "frameCount"] as const;
const FRAME_FIELDS = new Set(["frame", "pdq", "quality", "timestamp"]);

// A video's vPDQ hash: its frames are PDQ hashes, so pdq must be granted (fail closed: a token that may not send a
// PDQ hash may not send a thousand of them as a video); 1 to MAX_MATCH_VIDEO_FRAMES frames, each exactly as
// `phmatch hash` prints it.
function parseVideo(value: unknown, granted: ReadonlySet<string>): NonNullable<HashRecord["video"]> | MatchRefusal {
  const input = (message: string): MatchRefusal => ({ status: 400, reason: "PHM_MATCH_INPUT", message });
  if (!isObject(value))
    return input('"video" must be a vPDQ hash as phmatch hash prints it: {"algorithm":"vpdq","frames":[...]}');
  if (!granted.has(PDQ))
    return {
      status: 403,
      reason: "ALGORITHM_NOT_GRANTED",
      message:
        "video: a video's frames are PDQ hashes, and this token may not send pdq by " +
        `hash${granted.size > 0 ? ` (it may send ${[...granted].join(", ")})` : ""}`,
    };
  const extra = Object.keys(value).filter((k) => !VIDEO_FIELDS.has(k));
  if (extra.length > 0) return input(`video takes the fields phmatch hash prints, not ${extra.join(", ")}`);
  if (value.algorithm !== undefined && value.algorithm !== "vpdq")
    return input(`video.algorithm must be "vpdq", not ${JSON.stringify(value.algorithm)}`);
  for (const key of VIDEO_NUMBERS) {
    const n = value[key];
    if (n !== undefined && !(typeof n === "number" && Number.isFinite(n) && n >= 0))
      return input(`video.${key} must be a number, 0 or more`);
  }
  for (const key of ["container", "codec"] as const) {
    const text = value[key];
    if (text !== undefined && (typeof text !== "string" || text.length > 64))
      return input(`video.${key} must be a short string`);
  }
  const frames = value.frames;
  if (!Array.isArray(frames) || frames.length === 0)
    return input("video.frames must be an array of the hashed frames, {frame, pdq, quality, timestamp} each");
  if (frames.length > MAX_MATCH_VIDEO_FRAMES)
    return {
      status: 400,
      reason: "VIDEO_FRAMES",
      message:
        `video.frames holds ${frames.length} frames; /v1/match takes at most ${MAX_MATCH_VIDEO_FRAMES} a request ` +
        "(each is a lookup): send a longer video's frames as several records, or upload it to /v1/check",
    };
  const parsed: VideoFrameHash[] = [];
  for (const [i, frame] of frames.entries()) {
    const where = `video.frames[${i}]`;
    if (!isObject(frame) || Object.keys(frame).some((k) => !FRAME_FIELDS.has(k)))
      return input(`${where} must be {frame, pdq, quality, timestamp}`);
    const { frame: n, pdq, quality, timestamp } = frame;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0)
      return input(`${where}.frame must be a frame number, 0 or more`);
    if (typeof quality !== "number" || !Number.isInteger(quality) || quality < 0 || quality > 100)
      return input(`${where}.quality must be PDQ's quality, an integer 0-100`);
    if (typeof timestamp !== "number" || !Number.isFinite(timestamp) || timestamp < 0)
      return input(`${where}.timestamp must be seconds, 0 or more`);
    const hex = hexOf(pdq, 64, `${where}.pdq`);
    if (typeof hex !== "string") return hex;
    parsed.push({ frame: n, pdq: hex, quality, timestamp });
  }
  const last = parsed.at(-1) as VideoFrameHash;
  const num = (key: (typeof VIDEO_NUMBERS)[number], fallback: number) =>
    typeof value[key] === "number" ? (value[key] as number) : fallback;
  return {
    algorithm: "vpdq",
    secondsPerHash: num("secondsPerHash", 1),
    container: typeof value.container === "string" ? value.container : "",
    codec: typeof value.codec === "string" ? value.codec : "",
    width: num("width", 0),
    height: num("height", 0),
    frameRate: num("frameRate", 0),
    durationSeconds: num("durationSeconds", last.timestamp),
    frameCount: num("frameCount", parsed.length),
    frames: parsed,
  };
}

/** True for a refusal, false for a request to look up. */
export function isRefusal(parsed: MatchRequest | MatchRefusal): parsed is MatchRefusal {
  return "reason" in parsed;
}

// Exactly `digits` hex digits, lower-cased; never cut, never padded.
function hexOf(value: unknown, digits: number, where: string): string | MatchRefusal {
  if (typeof value !== "string" || !HEX.test(value))
    return { status: 400, reason: "PHM_MATCH_INPUT", message: `${where} is not hex` };
  if (value.length !== digits)
    return {
      status: 400,
      reason: "HASH_LENGTH",
      message: `${where} has ${value.length} hex digits; it needs exactly ${digits}`,
    };
  return value.toLowerCase();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// The container pre-check of ISO BMFF / QuickTime videos (mp4, mov, m4v; issue 20): a strict, bounded walk of the
// box structure of ISO/IEC 14496-12 in JS, run before FFmpeg is even looked for. It reads what the limits need
// (the movie's and the video tracks' timescale and duration, frame size, sample count) and whether the boxes and
// the samples' bytes lie within the file, and refuses absurd headers and cut files with the codes ffprobe's checks
// use. Defence in depth: a hostile header never reaches a subprocess, and the refusal is the same with or without
// FFmpeg installed. Matroska/WebM and AVI are not walked here: ffprobe's header checks (decode/video.ts) cover them.
import { PhmatchError } from "../errors/index.js";
import { DEFAULT_VIDEO_LIMITS, MAX_FRAME_RATE, type VideoLimits } from "./video-limits.js";

/** What the walk of an ISO BMFF file found about one track. */
export interface IsoBmffTrack {
  /** The handler type of its `hdlr` box (`vide` for video, `soun` for sound, ...). */
  handler: string;
  /** Frame size: the visual sample entry's (the coded size, as ffprobe gives it), else the track header's. */
  width: number;
  height: number;
  /** The track header's (tkhd) presentation size, integer part of its 16.16 fixed point (0 if absent). */
  trackWidth: number;
  trackHeight: number;
  /** The media header's (mdhd) time scale, ticks per second; 0 if absent. */
  timescale: number;
  /** The media duration in seconds (mdhd duration / timescale); undefined if absent or unknown (all ones). */
  durationSeconds: number | undefined;
  /** Samples (for video: frames) the sample tables declare: the larger of stsz/stz2's count and stts's total. */
  sampleCount: number;
  /** The furthest byte the sample table puts this track's samples at (0 without a sample table). */
  dataEnd: number;
}

/** What the walk of an ISO BMFF file found. */
export interface IsoBmffFacts {
  /** The `ftyp` major brand ("" for a QuickTime file without ftyp). */
  majorBrand: string;
  /** The movie header's (mvhd) duration in seconds; undefined if absent or unknown. */
  movieDurationSeconds: number | undefined;
  tracks: IsoBmffTrack[];
  /** True when the movie is fragmented (mvex, moof): its samples are in fragments, not counted here. */
  fragmented: boolean;
  /**
   * Where the bytes end inside a top-level box that comes after a whole `moov` (typically `mdat`): the file is cut
   * after its index, so the frames before the cut can still be decoded. Undefined for a file not cut there.
   */
  cutAfterIndex?: { box: string; at: number; claims: number };
}

// Boxes whose payload is nothing but boxes: walked to the bottom, so that every one of them is bounds-checked.
const CONTAINERS = new Set(["moov", "trak", "mdia", "minf", "stbl", "edts", "dinf", "mvex", "moof", "traf", "udta"]);

/** Deepest box nesting walked (real files nest 8-10 deep: moov/trak/mdia/minf/stbl/stsd/avc1/...). */
const MAX_DEPTH = 16;
/** Most boxes walked in one file (a real short clip has dozens; a fragmented hour a few tens of thousands). */
const MAX_BOXES = 100_000;

// Visual sample entries whose width/height are read (H.264, HEVC, MPEG-4 part 2, AV1, VP8/9, H.263, QuickTime).
const VISUAL_ENTRIES = new Set(["avc1", "avc3", "hvc1", "hev1", "mp4v", "av01", "vp08", "vp09", "s263", "encv"]);

/** True if the bytes start like an ISO BMFF / QuickTime file (ftyp, or a QuickTime file opening on moov/mdat/...). */
export function isIsoBmff(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const type = String.fromCharCode(...bytes.subarray(4, 8));
  return ["ftyp", "moov", "mdat", "free", "wide", "skip"].includes(type);
}

interface Box {
  type: string;
  /** Offset of the box's payload (after size, type and any 64-bit size). */
  start: number;
  /** Offset just past the box. */
  end: number;
}

/**
 * Walks an ISO BMFF / QuickTime file's boxes with strict bounds and returns what the limits need. Throws
 * PhmatchError: PHM_VIDEO_TRUNCATED (a top-level box, 64-bit sized or not, runs past the end of the bytes: the
 * file is cut before its index is whole; a cut after a whole `moov` is a fact, `cutAfterIndex`, as are samples placed
 * past the end, `dataEnd`: the decoder gets the frames before the cut), PHM_DECODE_CORRUPT
 * (a box smaller than its header, a child box past its parent, a size-0 box below the top level, nesting deeper
 * than 16, more than 100,000 boxes, a table claiming more entries than its box holds, chunk numbers going
 * backwards, no `moov`), PHM_DECODE_UNSUPPORTED (no video track).
 */
export function readIsoBmff(bytes: Uint8Array, path: string): IsoBmffFacts {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const corrupt = (what: string) =>
    new PhmatchError("PHM_DECODE_CORRUPT", `${path}: the video's container is damaged: ${what}`, { path });
  const ascii = (at: number) =>
    String.fromCharCode(bytes[at] ?? 0, bytes[at + 1] ?? 0, bytes[at + 2] ?? 0, bytes[at + 3] ?? 0);
  let boxes = 0;
  let cut: IsoBmffFacts["cutAfterIndex"];

  // The boxes between start and end: strict sizes, 64-bit sizes (size 1), size 0 only at the top (to the end).
  const children = (start: number, end: number, depth: number): Box[] => {
    if (depth > MAX_DEPTH) throw corrupt(`boxes nested more than ${MAX_DEPTH} deep`);
    const out: Box[] = [];
    let at = start;
    while (at < end) {
      if (++boxes > MAX_BOXES) throw corrupt(`more than ${MAX_BOXES} boxes`);
      if (end - at < 8) {
        if (depth === 0 && out.some((b) => b.type === "moov")) {
          cut = { box: "", at, claims: 8 };
          break;
        }
        if (depth === 0) throw truncated(path, `a box header at byte ${at} is cut off`);
        // QuickTime ends some atom lists (udta) with a 32-bit zero: padding, not a box.
        if (bytes.subarray(at, end).every((b) => b === 0)) break;
        throw corrupt(`${end - at} stray bytes at byte ${at}`);
      }
      const type = ascii(at + 4);
      let size = view.getUint32(at);
      let header = 8;
      if (size === 1) {
        if (end - at < 16) {
          if (depth === 0) throw truncated(path, `the 64-bit size of the ${JSON.stringify(type)} box is cut off`);
          throw corrupt(`the 64-bit size of a ${JSON.stringify(type)} box runs past its parent`);
        }
        const large = view.getBigUint64(at + 8);
        // Anything over 2^53 is past the end of any file in memory; keep it as a number past the end.
        size = large > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(large);
        header = 16;
      } else if (size === 0) {
        if (depth !== 0) throw corrupt(`a ${JSON.stringify(type)} box of size 0 inside another box`);
        size = end - at;
      }
      if (size < header) throw corrupt(`a ${JSON.stringify(type)} box of ${size} bytes, smaller than its header`);
      if (size > end - at) {
        // Cut after a whole movie box: the index is there, the frames before the cut can be decoded; keep the box
        // to the end of the bytes and let the decoder say how far it got (PHM_VIDEO_TRUNCATED with the frames).
        if (depth === 0 && out.some((b) => b.type === "moov") && type !== "moov") {
          cut = { box: type, at, claims: size };
          out.push({ type, start: at + header, end });
          break;
        }
        if (depth === 0) {
          throw truncated(
            path,
            `the ${JSON.stringify(type)} box at byte ${at} claims ${size} bytes, ${end - at} remain`,
          );
        }
        throw corrupt(`a ${JSON.stringify(type)} box runs past the box that holds it`);
      }
      out.push({ type, start: at + header, end: at + size });
      at += size;
    }
    return out;
  };
  const within = (box: Box, depth: number) => children(box.start, box.end, depth);
  // A full box's payload must hold `need` bytes from its start.
  const need = (box: Box, bytesNeeded: number) => {
    if (box.end - box.start < bytesNeeded) throw corrupt(`a ${JSON.stringify(box.type)} box too short for its fields`);
  };
  const u64 = (at: number) => {
    const value = view.getBigUint64(at);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
  };

  const top = children(0, bytes.length, 0);
  // Every container box, to the bottom: sizes within their parents, nesting and box count bounded.
  const check = (list: Box[], depth: number): void => {
    for (const box of list) if (CONTAINERS.has(box.type)) check(within(box, depth), depth + 1);
  };
  check(top, 1);
  const ftyp = top.find((b) => b.type === "ftyp");
  const majorBrand = ftyp !== undefined && ftyp.end - ftyp.start >= 4 ? ascii(ftyp.start) : "";
  const moov = top.find((b) => b.type === "moov");
  if (moov === undefined) throw corrupt("no movie box (moov): nothing says what the file holds");

  let movieDurationSeconds: number | undefined;
  let fragmented = top.some((b) => b.type === "moof");
  const tracks: IsoBmffTrack[] = [];
  for (const box of within(moov, 1)) {
    if (box.type === "mvhd") movieDurationSeconds = readMediaHeader(box).durationSeconds;
    else if (box.type === "mvex") fragmented = true;
    else if (box.type === "trak") tracks.push(readTrack(box, 2));
  }

  // mvhd and mdhd share their first fields: version/flags, times, timescale, duration (32 or 64 bits by version).
  function readMediaHeader(box: Box): { timescale: number; durationSeconds: number | undefined } {
    need(box, 4);
    const version = bytes[box.start];
    need(box, version === 1 ? 32 : 20);
    const timescale = view.getUint32(box.start + (version === 1 ? 20 : 12));
    const raw = version === 1 ? view.getBigUint64(box.start + 24) : BigInt(view.getUint32(box.start + 16));
    const unknown = raw === (version === 1 ? 0xffffffffffffffffn : 0xffffffffn);
    return {
      timescale,
      durationSeconds: unknown || timescale === 0 ? undefined : Number(raw) / timescale,
    };
  }

  function readTrack(trak: Box, depth: number): IsoBmffTrack {
    const track: IsoBmffTrack = {
      handler: "",
      width: 0,
      height: 0,
      trackWidth: 0,
      trackHeight: 0,
      timescale: 0,
      durationSeconds: undefined,
      sampleCount: 0,
      dataEnd: 0,
    };
    let stbl: Box | undefined;
    for (const box of within(trak, depth)) {
      if (box.type === "tkhd") {
        need(box, 4);
        const version = bytes[box.start];
        const at = box.start + (version === 1 ? 88 : 76);
        need(box, at + 8 - box.start);
        // 16.16 fixed point: the integer part.
        track.trackWidth = view.getUint32(at) >>> 16;
        track.trackHeight = view.getUint32(at + 4) >>> 16;
      } else if (box.type === "mdia") {
        for (const inner of within(box, depth + 1)) {
          if (inner.type === "mdhd") Object.assign(track, readMediaHeader(inner));
          else if (inner.type === "hdlr") {
            need(inner, 12);
            track.handler = ascii(inner.start + 8);
          } else if (inner.type === "minf") {
            stbl = within(inner, depth + 2).find((b) => b.type === "stbl");
          }
        }
      }
    }
    if (stbl !== undefined) readSampleTable(stbl, depth + 3, track);
    if (track.width === 0 && track.height === 0) [track.width, track.height] = [track.trackWidth, track.trackHeight];
    return track;
  }

  function readSampleTable(stbl: Box, depth: number, track: IsoBmffTrack): void {
    const tables = new Map(within(stbl, depth).map((b) => [b.type, b]));
    const stsd = tables.get("stsd");
    if (stsd !== undefined) {
      need(stsd, 8);
      for (const entry of children(stsd.start + 8, stsd.end, depth + 1)) {
        if (!VISUAL_ENTRIES.has(entry.type) || entry.end - entry.start < 28) continue;
        track.width = Math.max(track.width, view.getUint16(entry.start + 24));
        track.height = Math.max(track.height, view.getUint16(entry.start + 26));
        // (The largest of several entries: the one the decoder meets may be any.)
      }
    }
    // Entries of a table: its count, checked against the bytes its box holds.
    const entries = (box: Box, headerBytes: number, entryBytes: number) => {
      need(box, headerBytes);
      const count = view.getUint32(box.start + headerBytes - 4);
      if (count * entryBytes > box.end - box.start - headerBytes) {
        throw corrupt(`a ${JSON.stringify(box.type)} table claims ${count} entries, more than its box holds`);
      }
      return count;
    };
    // Sample sizes: constant, or one per sample (stsz), or packed in 4/8/16 bits (stz2).
    let sampleSize: (i: number) => number = () => 0;
    const stsz = tables.get("stsz");
    const stz2 = tables.get("stz2");
    if (stsz !== undefined) {
      need(stsz, 12);
      const constant = view.getUint32(stsz.start + 4);
      const count = view.getUint32(stsz.start + 8);
      if (constant === 0) {
        entries(stsz, 12, 4);
        sampleSize = (i) => view.getUint32(stsz.start + 12 + 4 * i);
      } else sampleSize = () => constant;
      track.sampleCount = count;
    } else if (stz2 !== undefined) {
      need(stz2, 12);
      const bits = bytes[stz2.start + 7] ?? 0;
      if (bits !== 4 && bits !== 8 && bits !== 16) throw corrupt(`an stz2 table of ${bits}-bit sizes`);
      const count = view.getUint32(stz2.start + 8);
      if (Math.ceil((count * bits) / 8) > stz2.end - stz2.start - 12) {
        throw corrupt(`an "stz2" table claims ${count} entries, more than its box holds`);
      }
      const at = stz2.start + 12;
      sampleSize =
        bits === 16
          ? (i) => view.getUint16(at + 2 * i)
          : bits === 8
            ? (i) => bytes[at + i] ?? 0
            : (i) => ((bytes[at + (i >> 1)] ?? 0) >> (i & 1 ? 0 : 4)) & 0xf;
      track.sampleCount = count;
    }
    const stts = tables.get("stts");
    if (stts !== undefined) {
      let total = 0;
      for (let i = 0, n = entries(stts, 8, 8); i < n; i++) total += view.getUint32(stts.start + 8 + 8 * i);
      track.sampleCount = Math.max(track.sampleCount, total);
    }
    // Where the samples' bytes lie: chunk offsets (stco, co64) and samples per chunk (stsc). The furthest byte any
    // chunk's samples reach is kept: past the end of the file, the file was cut (mdat shortened).
    const stco = tables.get("stco") ?? tables.get("co64");
    const stsc = tables.get("stsc");
    if (stco === undefined || stsc === undefined || (stsz === undefined && stz2 === undefined)) return;
    const wide = stco.type === "co64";
    const chunks = entries(stco, 8, wide ? 8 : 4);
    const runs = entries(stsc, 8, 12);
    const samples = stsz !== undefined ? view.getUint32(stsz.start + 8) : view.getUint32((stz2 as Box).start + 8);
    const constantSize = stsz !== undefined ? view.getUint32(stsz.start + 4) : 0;
    let sample = 0;
    for (let run = 0; run < runs && sample < samples; run++) {
      const first = view.getUint32(stsc.start + 8 + 12 * run);
      const perChunk = view.getUint32(stsc.start + 12 + 12 * run);
      const next = run + 1 < runs ? view.getUint32(stsc.start + 8 + 12 * (run + 1)) : chunks + 1;
      if (first < 1 || next < first) throw corrupt("an stsc table whose chunk numbers do not increase");
      for (let chunk = first; chunk < next && chunk <= chunks && sample < samples; chunk++) {
        const offset = wide ? u64(stco.start + 8 + 8 * (chunk - 1)) : view.getUint32(stco.start + 8 + 4 * (chunk - 1));
        const taken = Math.min(perChunk, samples - sample);
        let end = offset;
        // A constant size is multiplied out (a header may claim billions of samples); sizes from a table are
        // added one by one, bounded by the table, which lies within the file.
        if (constantSize !== 0) end += taken * constantSize;
        else for (let k = 0; k < taken; k++) end += sampleSize(sample + k);
        sample += taken;
        track.dataEnd = Math.max(track.dataEnd, end);
      }
    }
  }

  if (!tracks.some((t) => t.handler === "vide")) {
    throw new PhmatchError("PHM_DECODE_UNSUPPORTED", `${path}: the container holds no video track`, { path });
  }
  const facts: IsoBmffFacts = { majorBrand, movieDurationSeconds, tracks, fragmented };
  if (cut !== undefined) facts.cutAfterIndex = cut;
  return facts;
}

function truncated(path: string, what: string): PhmatchError {
  return new PhmatchError("PHM_VIDEO_TRUNCATED", `${path}: the video is cut short: ${what}; refused before decoding`, {
    path,
  });
}

/**
 * The container pre-check, run before any FFmpeg is looked for: for an ISO BMFF / QuickTime file, walks its boxes
 * ({@link readIsoBmff}: PHM_VIDEO_TRUNCATED, PHM_DECODE_CORRUPT, PHM_DECODE_UNSUPPORTED) and refuses with
 * PHM_VIDEO_LIMIT (naming the limit) a video track whose declared frame size, duration or frame count exceeds
 * the limits, or whose frame rate is absurd (over 1000 fps); a movie duration over the limit likewise. A file cut
 * after its index passes: the frames before the cut are worth having (a carved or interrupted copy of a listed
 * video), and the decoder reports PHM_VIDEO_TRUNCATED with them. Returns the facts, or undefined for Matroska/WebM
 * and AVI, which ffprobe's checks cover.
 */
export function precheckVideoContainer(bytes: Uint8Array, limits: VideoLimits, path: string): IsoBmffFacts | undefined {
  if (!isIsoBmff(bytes)) return undefined;
  const facts = readIsoBmff(bytes, path);
  const max = { ...DEFAULT_VIDEO_LIMITS };
  for (const [key, value] of Object.entries(limits)) if (value !== undefined) Object.assign(max, { [key]: value });
  const refuse = (what: string, optionName?: string) =>
    new PhmatchError(
      "PHM_VIDEO_LIMIT",
      `${path}: its container declares ${what}; refused before decoding` +
        (optionName === undefined ? "" : ` (raise \`${optionName}\`)`),
      { path, optionNames: optionName === undefined ? [] : [optionName] },
    );
  if (facts.movieDurationSeconds !== undefined && facts.movieDurationSeconds > max.maxVideoSeconds) {
    throw refuse(
      `a duration of ${facts.movieDurationSeconds} s, over the limit of ${max.maxVideoSeconds} s`,
      "maxVideoSeconds",
    );
  }
  for (const track of facts.tracks) {
    if (track.handler !== "vide") continue;
    // The coded size and the presentation size alike: a decoder may scale to either.
    const [width, height] =
      track.trackWidth * track.trackHeight > track.width * track.height
        ? [track.trackWidth, track.trackHeight]
        : [track.width, track.height];
    const pixels = width * height;
    if (pixels > max.maxVideoPixels) {
      throw refuse(
        `frames of ${width}x${height} = ${pixels} pixels, over the limit of ${max.maxVideoPixels}`,
        "maxVideoPixels",
      );
    }
    if (track.durationSeconds !== undefined && track.durationSeconds > max.maxVideoSeconds) {
      throw refuse(
        `a duration of ${track.durationSeconds} s, over the limit of ${max.maxVideoSeconds} s`,
        "maxVideoSeconds",
      );
    }
    if (track.sampleCount > max.maxVideoFrames) {
      throw refuse(`${track.sampleCount} frames, over the limit of ${max.maxVideoFrames}`, "maxVideoFrames");
    }
    const seconds = track.durationSeconds ?? facts.movieDurationSeconds;
    if (seconds !== undefined && seconds > 0 && track.sampleCount / seconds > MAX_FRAME_RATE) {
      throw refuse(
        `${track.sampleCount} frames in ${seconds} s, a frame rate over ${MAX_FRAME_RATE} fps (an absurd header)`,
      );
    }
  }
  // Samples placed past the end (a file cut in or before its mdat, or a table that lies) are left to the decoder:
  // with the index whole, the frames before the cut decode, and the decoder reports PHM_VIDEO_TRUNCATED with them.
  return facts;
}

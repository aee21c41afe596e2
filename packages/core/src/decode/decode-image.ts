import { gunzipSync, constants as zlibConstants } from "node:zlib";
import { PhmatchError } from "../errors/index.js";
import { decoderMemory } from "./decoder-memory.js";
import { decodeHeic } from "./heic.js";
import type { DecodedImage, Pixels } from "./pixels.js";
import { loadSharp, type Metadata, type Sharp } from "./sharp.js";

// Every sharp option applied to untrusted input lives in this module and nowhere else.

/** Default ceiling on declared pixels (width x height of the first frame); above it decoding is refused. */
export const DEFAULT_MAX_PIXELS = 100_000_000;
/** Default per-file decode time limit, in seconds (libvips checks it between stages). */
export const DEFAULT_DECODE_TIMEOUT_SECONDS = 30;
/** Fast mode, and an image over the limit decoded at reduced size, keep the longer side at least this long. */
export const FAST_MODE_MIN_LONG_SIDE = 512;
/**
 * ... and at most this long: past 9 x 2048 px a side (the decoder's 1/8 plus the linear step) a further linear step
 * reduces it, so that the pixels a reduced decode hands the hashers stay bounded (4 MP) however large the image.
 */
export const REDUCED_MAX_LONG_SIDE = 2048;
/**
 * What a JPEG or WebP decoder may hold for the whole image (see decoder-memory.ts) when it decodes one over the
 * pixel limit at reduced size, per pixel of the limit: no more than a full-size 8-bit RGBA decode at the limit.
 */
export const REDUCED_HELD_BYTES_PER_LIMIT_PIXEL = 4;

/** Raster formats phmatch decodes. SVG is refused by default (vector input: see PHM_DECODE_VECTOR). */
const RASTER_FORMATS = new Set(["jpeg", "png", "webp", "gif", "tiff", "heif", "avif", "jp2k", "jxl"]);

/** How untrusted bytes become pixels. */
export interface DecodeOptions {
  /** Refuse images that declare more pixels than this. Default {@link DEFAULT_MAX_PIXELS}. */
  maxPixels?: number;
  /** Apply the EXIF orientation. Default false, like the PDQ reference, pytx and HMA (lists are made that way). */
  autoOrient?: boolean;
  /**
   * Fast mode: JPEG and WebP are decoded at reduced size, keeping the longer side at least this long (JPEG:
   * libjpeg's 1/2, 1/4 or 1/8 DCT scaling, then a small linear step; WebP: libwebp's own scaling). Other
   * formats cannot shrink while loading and decode at full size. Default: full resolution.
   */
  shrinkOnLoadTo?: number;
  /**
   * An image declaring more than `maxPixels`: `refuse` it (default; PHM_DECODE_TOO_MANY_PIXELS, from the header,
   * before any pixel is decoded), or `shrink` it when it is a JPEG or WebP whose decoder can scale it without
   * holding more of it than a full decode at the limit would (sequential JPEG, lossy WebP; a progressive JPEG or a
   * WebP with alpha up to that bound): decoded as in fast mode (the decoder's own scaling, never the full frame,
   * then a linear step; longer side {@link FAST_MODE_MIN_LONG_SIDE} to {@link REDUCED_MAX_LONG_SIDE}). Every other
   * format, and every JPEG or WebP past that bound, is refused from its header.
   */
  oversize?: "refuse" | "shrink";
  /** libvips' sensitivity to bad data. Default "error": corrupt and truncated data are refused, not guessed at. */
  failOn?: "none" | "truncated" | "error" | "warning";
  /** Per-file decode time limit in seconds. Default {@link DEFAULT_DECODE_TIMEOUT_SECONDS}. */
  timeoutSeconds?: number;
}

/**
 * Decodes the first frame of an image held in memory to 8-bit samples, the way the reference implementations
 * do, so hashes equal those in lists they made: no colour management (embedded ICC profiles are ignored), grey
 * stays grey (1 or 2 channels), CMYK becomes RGB by ImageMagick's formula, and a 16-bit source gives its high
 * bytes (Pillow's reading) plus, as `pdqPixels`, its low bytes (the PDQ reference's). Throws a {@link PhmatchError}.
 */
export async function decodeImage(
  bytes: Uint8Array,
  options: DecodeOptions = {},
  path?: string,
): Promise<DecodedImage> {
  const where = path ?? "input";
  if (bytes.length === 0) {
    throw new PhmatchError("PHM_DECODE_EMPTY", `${where} is empty (0 bytes): nothing to hash`, { path });
  }
  if (looksLikeSvg(bytes)) {
    throw new PhmatchError(
      "PHM_DECODE_VECTOR",
      `${where} is SVG: vector input is refused; rasterise it yourself if you trust it`,
      { path },
    );
  }
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  // sharp applies limitInputPixels to the size the file declares, when it opens it (before any shrink-on-load):
  // the header is read without it, the limit is applied below from the header, and the decode then opens with
  // the limit set to exactly what was allowed (maxPixels, or the declared size of a JPEG or WebP to be shrunk).
  const open = (limitInputPixels: number | false) =>
    loadSharp()(bytes, {
      limitInputPixels,
      failOn: options.failOn ?? "error",
      autoOrient: options.autoOrient ?? false,
      ignoreIcc: true,
      pages: 1,
      page: 0,
      sequentialRead: true,
    }).timeout({ seconds: options.timeoutSeconds ?? DEFAULT_DECODE_TIMEOUT_SECONDS });

  let meta: Metadata;
  try {
    meta = await open(false).metadata();
  } catch (error) {
    throw decodeError(error, where, path, endsEarly(bytes, containerOf(bytes)));
  }
  const format = meta.format ?? "unknown";
  if (!RASTER_FORMATS.has(format)) {
    throw new PhmatchError(
      "PHM_DECODE_UNSUPPORTED",
      `${where} is ${format}, not a raster image format phmatch decodes`,
      { path },
    );
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  let shrinkOnLoadTo = options.shrinkOnLoadTo;
  let limit = maxPixels;
  if (width * height > maxPixels) {
    const refusal = oversizeRefusal(bytes, format, width, height, maxPixels, options.oversize ?? "refuse");
    if (refusal !== undefined) {
      throw new PhmatchError(
        "PHM_DECODE_TOO_MANY_PIXELS",
        `${where} declares ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels}: ` +
          `${refusal}; ` +
          "raise `maxPixels` only for files you trust",
        { path, optionNames: ["maxPixels"] },
      );
    }
    // Over the limit, a JPEG or WebP is hashed as fast mode decodes it (docs/formats.md: the fast-mode distance
    // table): the hashes are those of the image the decoder's 1/2-1/8 (JPEG) or libwebp's scaling gives, after a
    // linear step, the same as `--mode fast` gives for the file (up to REDUCED_MAX_LONG_SIDE a side), not those of
    // the full-size image a list built in exact mode hashed: PDQ within 10 bits of it on the reference vectors of
    // quality >= 80, well inside the match threshold (31).
    shrinkOnLoadTo = FAST_MODE_MIN_LONG_SIDE;
    limit = width * height;
  }
  const image = open(limit);

  if (format === "heif" && meta.compression === "hevc") {
    const pixels = await decodeHeic(bytes, maxPixels, where, path).catch((error: unknown) => {
      throw decodeError(error, where, path, endsEarly(bytes, format));
    });
    return { pixels, format: "heic", sourceWidth: pixels.width, sourceHeight: pixels.height };
  }

  const grey = meta.space === "b-w" || meta.space === "grey16";
  const sixteenBit = meta.depth === "ushort";
  const hasAlpha = meta.hasAlpha === true;
  let pipeline = image;
  const shrink = shrinkOnLoadTo === undefined ? 1 : shrinkOnLoadFactor(format, width, height, shrinkOnLoadTo);
  if (shrink > 1 || limit > maxPixels) {
    // sharp uses the JPEG shrink s only when the requested shrink is at least s + 1 (it steps down where
    // libjpeg's rounding would show), so ask for s + 1: the decoder does the 1/s, a linear step the rest
    // (Lanczos costs 1 ms more per 2 MP image for 2 bits less worst-case distance on the reference vectors).
    // The longer side is kept within
    // REDUCED_MAX_LONG_SIDE, and an image over the limit within the limit too (a small maxPixels).
    const factor = Math.max(
      shrink + 1,
      Math.max(width, height) / REDUCED_MAX_LONG_SIDE,
      limit > maxPixels ? Math.sqrt((width * height) / maxPixels) : 1,
    );
    // With auto-orientation the target is in displayed axes: EXIF orientations 5-8 swap width and height.
    const swap = options.autoOrient === true && (meta.orientation ?? 1) >= 5;
    const [w, h] = swap ? [height, width] : [width, height];
    pipeline = pipeline.resize({
      width: Math.max(1, Math.round(w / factor)),
      height: Math.max(1, Math.round(h / factor)),
      fit: "fill",
      kernel: "linear",
      fastShrinkOnLoad: true,
    });
  }
  let pixels: Pixels;
  let pdqPixels: Pixels | undefined;
  try {
    if (meta.space === "cmyk") {
      pixels = cmykToRgb(await rawPixels(pipeline.toColourspace("cmyk")));
    } else if (sixteenBit) {
      const wide = await rawPixels16(pipeline.toColourspace(grey && !hasAlpha ? "grey16" : "rgb16"));
      [pixels, pdqPixels] = [wide.high, wide.low].map((p) => (grey && hasAlpha ? greyFromRgb(p) : p)) as [
        Pixels,
        Pixels,
      ];
    } else if (grey && !hasAlpha) {
      pixels = await rawPixels(pipeline.toColourspace("b-w"));
    } else {
      const raw = await rawPixels(pipeline.toColourspace("srgb"));
      pixels = grey ? greyFromRgb(raw) : raw;
    }
  } catch (error) {
    throw decodeError(error, where, path, endsEarly(bytes, format));
  }
  const decoded: DecodedImage = { pixels, format, sourceWidth: width, sourceHeight: height };
  if (pdqPixels !== undefined) decoded.pdqPixels = pdqPixels;
  return decoded;
}

const SHRINK_ON_LOAD_FORMATS = new Set(["jpeg", "webp"]);

// The decoder's shrink s (1, 2, 4 or 8) such that the longer side after shrinking by s + 1 stays >= minLongSide.
function shrinkOnLoadFactor(format: string, width: number, height: number, minLongSide: number): number {
  if (!SHRINK_ON_LOAD_FORMATS.has(format)) return 1;
  let factor = 1;
  while (factor < 8 && Math.max(width, height) / (factor * 2 + 1) >= minLongSide) factor *= 2;
  return factor;
}

// Why an image over the pixel limit is refused, or undefined when it may be decoded at reduced size: only JPEG and
// WebP can be (their decoders scale while they read), and only when the decoder holds no more of the whole image
// than a full decode at the limit would (decoder-memory.ts), as the header the decoder reads confirms.
function oversizeRefusal(
  bytes: Uint8Array,
  format: string,
  width: number,
  height: number,
  maxPixels: number,
  oversize: "refuse" | "shrink",
): string | undefined {
  if (oversize === "refuse") return "refused before decoding";
  if (!SHRINK_ON_LOAD_FORMATS.has(format))
    return `${format} cannot be decoded at reduced size (only JPEG and WebP can), so it is refused before decoding`;
  const memory = decoderMemory(bytes, format);
  if (memory === undefined || memory.width !== width || memory.height !== height)
    return `its ${format} header is not one phmatch decodes at reduced size, so it is refused before decoding`;
  const bound = maxPixels * REDUCED_HELD_BYTES_PER_LIMIT_PIXEL;
  if (memory.heldBytes > bound)
    return (
      `it is ${memory.kind}, whose decoder holds ${memory.heldBytes} bytes for the whole image at any scale, ` +
      `over the ${bound}-byte bound, so it is refused before decoding`
    );
  if (bytes.length < memory.minBytes)
    return (
      `it is ${memory.kind} of ${bytes.length} bytes, fewer than the ${memory.minBytes} its declared size needs ` +
      `(a Huffman code of at least 1 bit for every 8x8 block), ` +
      `so its data cannot fill it and it is refused before decoding`
    );
  return undefined;
}

async function rawPixels(pipeline: Sharp): Promise<Pixels> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  const channels = info.channels as Pixels["channels"];
  return {
    width: info.width,
    height: info.height,
    channels,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}

// 16-bit samples, two ways: the high byte (Pillow, browsers, imagehash, blockhash), and the low byte, which is
// what the PDQ reference's decode (ImageMagick into CImg) hands PDQ: measured on all four 16-bit PNGs of the
// conformance data (grey, RGB, RGBA), the low byte matches the reference exactly and the high byte lands
// 48 to 130 bits off, while the high byte matches imagehash exactly.
async function rawPixels16(pipeline: Sharp): Promise<{ high: Pixels; low: Pixels }> {
  const { data, info } = await pipeline.raw({ depth: "ushort" }).toBuffer({ resolveWithObject: true });
  const samples = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
  const high = new Uint8Array(samples.length);
  const low = new Uint8Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i] as number;
    high[i] = v >> 8;
    low[i] = v & 0xff;
  }
  const shape = { width: info.width, height: info.height, channels: info.channels as Pixels["channels"] };
  return { high: { ...shape, data: high }, low: { ...shape, data: low } };
}

// A grey source that libvips widened to RGB(A) has R = G = B: keep one of them (and the alpha).
function greyFromRgb(rgb: Pixels): Pixels {
  const n = rgb.width * rgb.height;
  const alpha = rgb.channels === 4;
  const out = new Uint8Array(n * (alpha ? 2 : 1));
  for (let i = 0, o = 0; i < n; i++) {
    const p = i * rgb.channels;
    out[o++] = rgb.data[p] as number;
    if (alpha) out[o++] = rgb.data[p + 3] as number;
  }
  return { ...rgb, channels: alpha ? 2 : 1, data: out };
}

// ImageMagick's CMYK -> RGB (what the reference's `convert` produces): R = (255 - C)(255 - K) / 255, rounded;
// no colour profile. Measured on the reference vectors: 2 bits from the reference (its JPEG decoder differs).
function cmykToRgb(cmyk: Pixels): Pixels {
  const n = cmyk.width * cmyk.height;
  const out = new Uint8Array(n * 3);
  const src = cmyk.data;
  for (let i = 0; i < n; i++) {
    const p = i * cmyk.channels;
    const k = 255 - (src[p + 3] as number);
    out[i * 3] = Math.round(((255 - (src[p] as number)) * k) / 255);
    out[i * 3 + 1] = Math.round(((255 - (src[p + 1] as number)) * k) / 255);
    out[i * 3 + 2] = Math.round(((255 - (src[p + 2] as number)) * k) / 255);
  }
  return { width: cmyk.width, height: cmyk.height, channels: 3, data: out };
}

// A file that fails to decode and is cut short by its own structure: PNG chunks or ISOBMFF boxes that run past
// the last byte, a RIFF size beyond it, TIFF data placed after it, or no end marker (JPEG, GIF). With the
// structure complete, the data itself is bad. (libvips' messages do not tell the two apart: a cut TIFF or AVIF
// reads as "unsupported image format" or "bad seek".) Undefined: the format's structure is not known here.
function endsEarly(bytes: Uint8Array, format: string | undefined): boolean | undefined {
  const n = bytes.length;
  switch (format) {
    case "png":
      return pngEndsEarly(bytes);
    case "jpeg": {
      let end = n;
      while (end > 2 && bytes[end - 1] === 0) end--; // some writers pad after EOI
      return !(bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9);
    }
    case "gif":
      return bytes[n - 1] !== 0x3b;
    case "webp":
      return n < 12 || 8 + view(bytes).getUint32(4, true) > n;
    case "tiff":
      return tiffEndsEarly(bytes);
    case "heif":
      return boxesEndEarly(bytes);
    default:
      return undefined;
  }
}

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
// Chunk and box types are four ASCII letters or digits (or spaces): anything else is damage, not a cut.
const isTypeCode = (bytes: Uint8Array, at: number) =>
  [0, 1, 2, 3].every((i) => /[A-Za-z0-9 ]/.test(String.fromCharCode(bytes[at + i] as number)));

// The container a file's magic number names, for a file that libvips could not even identify.
function containerOf(bytes: Uint8Array): string | undefined {
  const ascii = (from: number, to: number) =>
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1", from, to);
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return "png";
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return "jpeg";
  if (ascii(0, 4) === "GIF8") return "gif";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
  if (ascii(0, 4) === "II*\0" || ascii(0, 4) === "MM\0*") return "tiff";
  if (ascii(4, 8) === "ftyp") return "heif";
  return undefined;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

// PNG: IHDR first, then chunks up to IEND. A length that runs past the end is a cut, unless the file still ends
// with IEND (then a length was damaged). A best guess, as for every format: damage can look like a cut.
function pngEndsEarly(bytes: Uint8Array): boolean {
  const data = view(bytes);
  const n = bytes.length;
  if (n < 16) return true;
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") return false;
  const endsWithIend = n >= 20 && String.fromCharCode(...bytes.subarray(n - 8, n - 4)) === "IEND";
  for (let p = 8; ; ) {
    if (p + 8 > n) return !endsWithIend;
    if (!isTypeCode(bytes, p + 4)) return false;
    const end = p + 12 + data.getUint32(p);
    if (end > n) return !endsWithIend;
    if (String.fromCharCode(...bytes.subarray(p + 4, p + 8)) === "IEND") return false;
    p = end;
  }
}

// HEIF and AVIF: top-level ISOBMFF boxes (size, type; size 1: 64-bit size follows; size 0: to the end).
function boxesEndEarly(bytes: Uint8Array): boolean {
  const data = view(bytes);
  for (let p = 0; p < bytes.length; ) {
    if (p + 8 > bytes.length) return true;
    if (!isTypeCode(bytes, p + 4)) return false;
    const size32 = data.getUint32(p);
    if (size32 === 0) return false;
    if (size32 === 1 && p + 16 > bytes.length) return true;
    const size = size32 === 1 ? Number(data.getBigUint64(p + 8)) : size32;
    if (size < 8) return false;
    if (p + size > bytes.length) return true;
    p += size;
  }
  return false;
}

// TIFF: the first IFD, its out-of-line values and the strips or tiles it points to must lie inside the file.
const TIFF_TYPE_BYTES: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
};
function tiffEndsEarly(bytes: Uint8Array): boolean | undefined {
  const n = bytes.length;
  if (n < 8) return true;
  const data = view(bytes);
  const le = bytes[0] === 0x49;
  if (data.getUint16(2, le) !== 42) return undefined; // BigTIFF: not checked here
  const ifd = data.getUint32(4, le);
  if (ifd + 2 > n) return true;
  const count = data.getUint16(ifd, le);
  if (ifd + 2 + count * 12 + 4 > n) return true;
  const values = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + i * 12;
    const tag = data.getUint16(e, le);
    const type = data.getUint16(e + 2, le);
    const items = data.getUint32(e + 4, le);
    const size = items * (TIFF_TYPE_BYTES[type] ?? 1);
    const at = size > 4 ? data.getUint32(e + 8, le) : e + 8;
    if (at + size > n) return true;
    if ((tag === 273 || tag === 279 || tag === 324 || tag === 325) && (type === 3 || type === 4) && items <= 1 << 20) {
      values.set(
        tag,
        Array.from({ length: items }, (_, k) =>
          type === 3 ? data.getUint16(at + k * 2, le) : data.getUint32(at + k * 4, le),
        ),
      );
    }
  }
  const offsets = values.get(273) ?? values.get(324) ?? [];
  const counts = values.get(279) ?? values.get(325) ?? [];
  return offsets.some((offset, k) => offset + (counts[k] ?? 0) > n);
}

// libvips reports failures as free text; these patterns give them stable codes.
const TRUNCATED = /premature end|truncat|unexpected end|end of (file|stream|data)|not enough (image )?data|short read/i;
const TOO_MANY_PIXELS = /pixel limit/i;
const UNSUPPORTED =
  /unsupported image format|input buffer contains unsupported|not a known file format|unknown file type/i;
const TIMEOUT = /timeout/i;

// libvips keeps its error text in a buffer shared by threads, so the text for one file can vary between
// runs (or come from another thread's file). Records must be reproducible: messages state phmatch's own
// classification, and the decoder's text stays only in `cause` for a library user debugging a file.
// `truncated` is what the file's own structure says (see endsEarly); it outranks the decoder's text, which calls a
// cut TIFF an "unsupported image format".
function decodeError(error: unknown, where: string, path: string | undefined, truncated?: boolean): PhmatchError {
  const options = { path, cause: error };
  const cut = () =>
    new PhmatchError(
      "PHM_DECODE_TRUNCATED",
      `${where} is truncated: the image data ends early; re-copy the file from its source`,
      options,
    );
  if (error instanceof PhmatchError) return error.code === "PHM_DECODE_CORRUPT" && truncated === true ? cut() : error;
  const detail = (error instanceof Error ? error.message : String(error)).split("\n")[0]?.trim() ?? "";
  if (TOO_MANY_PIXELS.test(detail)) {
    const message = `${where} exceeds the pixel limit; raise \`maxPixels\` only for files you trust`;
    return new PhmatchError("PHM_DECODE_TOO_MANY_PIXELS", message, { ...options, optionNames: ["maxPixels"] });
  }
  if (TIMEOUT.test(detail)) {
    return new PhmatchError("PHM_DECODE_TIMEOUT", `${where} took longer than the decode time limit`, options);
  }
  if (truncated === true) return cut();
  if (UNSUPPORTED.test(detail)) {
    return new PhmatchError(
      "PHM_DECODE_UNSUPPORTED",
      `${where} is not an image format phmatch decodes (JPEG, PNG, WebP, GIF, TIFF, HEIF/AVIF, JPEG 2000, JPEG XL)`,
      options,
    );
  }
  if (truncated === undefined && TRUNCATED.test(detail)) return cut();
  return new PhmatchError(
    "PHM_DECODE_CORRUPT",
    `${where} is corrupt: the decoder could not read its image data; the file is damaged or not what its name says`,
    options,
  );
}

// SVG is text: an XML declaration, comments or a doctype may come before the <svg element, in UTF-8 or UTF-16,
// and .svgz is gzipped SVG. Every form gets PHM_DECODE_VECTOR (libvips' SVG loader is blocked below either way).
const SVG_HEAD_BYTES = 64 * 1024;
function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = textHead(bytes);
  const trimmed = head.replace(/^\uFEFF|^\xEF\xBB\xBF/, "").trimStart();
  return trimmed.startsWith("<") && /<svg[\s>]/i.test(head);
}

function textHead(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, SVG_HEAD_BYTES));
  if (head[0] === 0xff && head[1] === 0xfe) return head.subarray(2).toString("utf16le");
  if (head[0] === 0xfe && head[1] === 0xff)
    return Buffer.from(head.subarray(2, head.length - (head.length % 2)))
      .swap16()
      .toString("utf16le");
  if (head[0] === 0x1f && head[1] === 0x8b) {
    // The stream's first 512 bytes only (deflate expands at most ~1032 times): a gzip bomb costs < 1 MiB here.
    try {
      return gunzipSync(head.subarray(0, 512), {
        finishFlush: zlibConstants.Z_SYNC_FLUSH,
        maxOutputLength: 1024 * 1024,
      }).toString("latin1", 0, SVG_HEAD_BYTES);
    } catch {
      return "";
    }
  }
  return head.toString("latin1");
}

/** Sets libvips' threads per image; workers use 1 so that parallelism comes from the pool alone. */
export function setDecoderConcurrency(threads: number): void {
  loadSharp().concurrency(threads);
}

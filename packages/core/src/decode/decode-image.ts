import sharp, { type Metadata, type Sharp } from "sharp";
import { PhmatchError } from "../errors/index.js";
import { decodeHeic } from "./heic.js";
import type { DecodedImage, Pixels } from "./pixels.js";

// Every sharp option applied to untrusted input lives in this module and nowhere else.

/** Default ceiling on declared pixels (width x height of the first frame); above it decoding is refused. */
export const DEFAULT_MAX_PIXELS = 100_000_000;
/** Default per-file decode time limit, in seconds (libvips checks it between stages). */
export const DEFAULT_DECODE_TIMEOUT_SECONDS = 30;

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
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}, path?: string): Promise<DecodedImage> {
  const where = path ?? "input";
  if (bytes.length === 0) {
    throw new PhmatchError("PHM_DECODE_EMPTY", `${where} is empty (0 bytes): nothing to hash`, { path });
  }
  if (looksLikeSvg(bytes)) {
    throw new PhmatchError("PHM_DECODE_VECTOR", `${where} is SVG: vector input is refused; rasterise it yourself if you trust it`, { path });
  }
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const image = sharp(bytes, {
    limitInputPixels: maxPixels,
    failOn: options.failOn ?? "error",
    autoOrient: options.autoOrient ?? false,
    ignoreIcc: true,
    pages: 1,
    page: 0,
    sequentialRead: true,
  }).timeout({ seconds: options.timeoutSeconds ?? DEFAULT_DECODE_TIMEOUT_SECONDS });

  let meta: Metadata;
  try {
    meta = await image.metadata();
  } catch (error) {
    throw decodeError(error, where, path);
  }
  const format = meta.format ?? "unknown";
  if (!RASTER_FORMATS.has(format)) {
    throw new PhmatchError("PHM_DECODE_UNSUPPORTED", `${where} is ${format}, not a raster image format phmatch decodes`, { path });
  }
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width * height > maxPixels) {
    throw new PhmatchError(
      "PHM_DECODE_TOO_MANY_PIXELS",
      `${where} declares ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels}; raise --max-pixels only for files you trust`,
      { path },
    );
  }

  if (format === "heif" && meta.compression === "hevc") {
    const pixels = await decodeHeic(bytes, maxPixels, where, path);
    return { pixels, format: "heic", sourceWidth: pixels.width, sourceHeight: pixels.height };
  }

  const grey = meta.space === "b-w" || meta.space === "grey16";
  const sixteenBit = meta.depth === "ushort";
  const hasAlpha = meta.hasAlpha === true;
  let pipeline = image;
  const shrink = options.shrinkOnLoadTo === undefined ? 1 : shrinkOnLoadFactor(format, width, height, options.shrinkOnLoadTo);
  if (shrink > 1) {
    // sharp uses the JPEG shrink s only when the requested shrink is at least s + 1 (it steps down where
    // libjpeg's rounding would show), so ask for s + 1: the decoder does the 1/s, a linear step the rest (Lanczos costs 1 ms more per 2 MP
    // image for 2 bits less worst-case distance on the reference vectors).
    const factor = shrink + 1;
    // With auto-orientation the target is in displayed axes: EXIF orientations 5-8 swap width and height.
    const swap = options.autoOrient === true && (meta.orientation ?? 1) >= 5;
    const [w, h] = swap ? [height, width] : [width, height];
    pipeline = pipeline.resize({ width: Math.round(w / factor), height: Math.round(h / factor), fit: "fill", kernel: "linear", fastShrinkOnLoad: true });
  }
  let pixels: Pixels;
  let pdqPixels: Pixels | undefined;
  try {
    if (meta.space === "cmyk") {
      pixels = cmykToRgb(await rawPixels(pipeline.toColourspace("cmyk")));
    } else if (sixteenBit) {
      const wide = await rawPixels16(pipeline.toColourspace(grey && !hasAlpha ? "grey16" : "rgb16"));
      [pixels, pdqPixels] = [wide.high, wide.low].map((p) => (grey && hasAlpha ? greyFromRgb(p) : p)) as [Pixels, Pixels];
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

async function rawPixels(pipeline: Sharp): Promise<Pixels> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  const channels = info.channels as Pixels["channels"];
  return { width: info.width, height: info.height, channels, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
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

// A file that fails to decode and lacks its format's end marker was cut short; with the marker present the
// data itself is bad. (libvips' messages do not tell the two apart for PNG.)
function endsEarly(bytes: Uint8Array, format: string): boolean | undefined {
  const n = bytes.length;
  switch (format) {
    case "png": {
      const iend = [0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82];
      return n < 8 || !iend.every((b, i) => bytes[n - 8 + i] === b);
    }
    case "jpeg": {
      let end = n;
      while (end > 2 && bytes[end - 1] === 0) end--; // some writers pad after EOI
      return !(bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9);
    }
    case "gif":
      return bytes[n - 1] !== 0x3b;
    default:
      return undefined;
  }
}

// libvips reports failures as free text; these patterns give them stable codes.
const TRUNCATED = /premature end|truncat|unexpected end|end of (file|stream|data)|not enough (image )?data|short read/i;
const TOO_MANY_PIXELS = /pixel limit/i;
const UNSUPPORTED = /unsupported image format|input buffer contains unsupported|not a known file format|bad seek|unknown file type/i;
const TIMEOUT = /timeout/i;

// libvips keeps its error text in a buffer shared by threads, so the text for one file can vary between
// runs (or come from another thread's file). Records must be reproducible: messages state phmatch's own
// classification, and the decoder's text stays only in `cause` for a library user debugging a file.
function decodeError(error: unknown, where: string, path: string | undefined, truncated?: boolean): PhmatchError {
  if (error instanceof PhmatchError) return error;
  const detail = (error instanceof Error ? error.message : String(error)).split("\n")[0]?.trim() ?? "";
  const options = { path, cause: error };
  if (TOO_MANY_PIXELS.test(detail)) {
    return new PhmatchError("PHM_DECODE_TOO_MANY_PIXELS", `${where} exceeds the pixel limit; raise --max-pixels only for files you trust`, options);
  }
  if (TIMEOUT.test(detail)) {
    return new PhmatchError("PHM_DECODE_TIMEOUT", `${where} took longer than the decode time limit`, options);
  }
  if (UNSUPPORTED.test(detail)) {
    return new PhmatchError("PHM_DECODE_UNSUPPORTED", `${where} is not an image format phmatch decodes (JPEG, PNG, WebP, GIF, TIFF, HEIF/AVIF, JPEG 2000, JPEG XL)`, options);
  }
  if (truncated ?? TRUNCATED.test(detail)) {
    return new PhmatchError("PHM_DECODE_TRUNCATED", `${where} is truncated: the image data ends early; re-copy the file from its source`, options);
  }
  return new PhmatchError("PHM_DECODE_CORRUPT", `${where} is corrupt: the decoder could not read its image data; the file is damaged or not what its name says`, options);
}

// libvips' operation cache would keep decoded pixels alive between files: phmatch never wants that.
sharp.cache(false);
// Loaders phmatch never needs are blocked inside libvips, so hostile bytes cannot reach their parsers
// (vector and document formats, and catch-all loaders that shell out or parse many formats).
sharp.block({
  operation: ["VipsForeignLoadSvg", "VipsForeignLoadPdf", "VipsForeignLoadMagick", "VipsForeignLoadOpenslide", "VipsForeignLoadVips", "VipsForeignLoadMatrix", "VipsForeignLoadCsv", "VipsForeignLoadFits", "VipsForeignLoadNifti", "VipsForeignLoadAnalyze", "VipsForeignLoadRad", "VipsForeignLoadPpm"],
});

// SVG is text: an XML declaration, comments or a doctype may come before the <svg element.
function looksLikeSvg(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 4096)).toString("latin1");
  const trimmed = head.replace(/^\uFEFF|^\xEF\xBB\xBF/, "").trimStart();
  return trimmed.startsWith("<") && /<svg[\s>]/i.test(head);
}

/** Sets libvips' threads per image; workers use 1 so that parallelism comes from the pool alone. */
export function setDecoderConcurrency(threads: number): void {
  sharp.concurrency(threads);
}

// The hostile-input corpus: malformed, malicious-looking and mislabelled files built in memory from benign
// synthetic content only (smooth noise and shapes drawn with sharp, or bytes written by hand below). Seeded
// and deterministic: the same options give the same bytes with the same sharp. Nothing is written unless a
// caller asks (writeCorpus, into a directory it made and removes).
//
//   import { hostileInputs, hostileCorpus, meetsExpectation } from "../test-fixtures/hostile/generate.mjs";
//   for await (const input of hostileInputs({ size: "fast" })) ...   // { name, kind, bytes, expect, codes?, note }
//   const svgs = await hostileCorpus({ kinds: ["svg"], canary: { url, file } });
//
// size "fast" (~140 inputs, a few seconds: npm test) or "full" (~630, ~20 s: bench/hostile); kinds: a subset of
// HOSTILE_KINDS; canary: the loopback URL and local file the SVG/XML inputs reference (nothing may touch them).
//
// `expect` says what a correct phmatch does with the input:
//   "error": a typed error (one of `codes`, when given); a hash would be wrong (e.g. a bomb, an SVG, an empty file);
//   "hash":  a valid hash (the file is a decodable image whatever its name or trailing bytes say), or one of
//            `codes` when given (a limit the caller set, such as the pool's memory limit, refusing it is right too);
//   "any":   either a valid hash or a typed error (a bit flip may leave an image decodable).
// meetsExpectation(input, answer) applies this (a worker death or PHM_INTERNAL never meets it). In every case: no
// crash, no hang past the time limit, and the next file is processed.
import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createDeflate, deflateSync, gzipSync } from "node:zlib";
import sharp from "sharp";

/** Kinds of hostile input, in the order they are generated. */
export const HOSTILE_KINDS = [
  "tiny",
  "truncated",
  "bitflip",
  "bomb",
  "animated",
  "svg",
  "polyglot",
  "mislabelled",
  "metadata",
];

/**
 * Kinds of hostile video input (issue 20), built from the committed synthetic clip test-fixtures/videos/
 * testsrc-64x48-2s.mp4: cuts, headers claiming huge frames or millions of frames, damaged boxes, bit flips, other
 * containers and images named .mp4, and a FIFO that never stops giving bytes. Not in HOSTILE_KINDS (ask for them):
 * each input carries `noFfmpeg`, the exact answer of `phmatch hash` (video on) when FFmpeg is absent, which the
 * container pre-check makes the same on every machine.
 */
export const VIDEO_KINDS = ["video-truncated", "video-bomb", "video-corrupt", "video-mislabelled", "video-endless"];

// mulberry32: small, seeded, reproducible.
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const u16le = (v) => Buffer.from([v & 0xff, (v >>> 8) & 0xff]);
const u32le = (v) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
};
const u32be = (v) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
};

// --- benign base content ---------------------------------------------------------------------------------

/**
 * Smooth colour noise with three shapes over it: photo-like enough for PDQ, and benign by construction. The shapes
 * are drawn in JS, not from SVG: @phmatch/core blocks sharp's SVG loader in any process that imports it.
 */
async function baseRaster(width, height, seed) {
  const rand = prng(seed);
  const gw = Math.max(2, Math.round(width / 12));
  const gh = Math.max(2, Math.round(height / 12));
  const coarse = Buffer.alloc(gw * gh * 3);
  for (let i = 0; i < coarse.length; i++) coarse[i] = Math.floor(rand() * 256);
  const pixels = await sharp(coarse, { raw: { width: gw, height: gh, channels: 3 } })
    .resize(width, height, { kernel: "cubic" })
    .raw()
    .toBuffer();
  const paint = (inside, [r, g, b]) => {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (!inside(x + 0.5, y + 0.5)) continue;
        const p = (y * width + x) * 3;
        [pixels[p], pixels[p + 1], pixels[p + 2]] = [r, g, b];
      }
    }
  };
  paint((x, y) => (x - width * 0.3) ** 2 + (y - height * 0.4) ** 2 < (height * 0.22) ** 2, [0xe4, 0x57, 0x2e]);
  paint((x, y) => x > width * 0.55 && x < width * 0.85 && y > height * 0.15 && y < height * 0.65, [0x76, 0xb0, 0x41]);
  // The triangle (0.1, 0.95), (0.45, 0.65), (0.8, 0.92) of the image, by the signs of its edge functions.
  const [ax, ay, bx, by, cx, cy] = [
    0.1 * width,
    0.95 * height,
    0.45 * width,
    0.65 * height,
    0.8 * width,
    0.92 * height,
  ];
  const edge = (x0, y0, x1, y1, x, y) => (x1 - x0) * (y - y0) - (y1 - y0) * (x - x0);
  paint(
    (x, y) => {
      const [d1, d2, d3] = [edge(ax, ay, bx, by, x, y), edge(bx, by, cx, cy, x, y), edge(cx, cy, ax, ay, x, y)];
      return (d1 >= 0 && d2 >= 0 && d3 >= 0) || (d1 <= 0 && d2 <= 0 && d3 <= 0);
    },
    [0x17, 0xbe, 0xbb],
  );
  return pixels;
}

/** The seed of the corpus when none is given. */
export const DEFAULT_SEED = 20260501;

/**
 * Small valid images, one per format phmatch decodes, from the same benign raster: `bases` by extension (jpg,
 * progressive.jpg, png, lossy.webp, lossless.webp, gif, tif, avif, heic), every hostile variant starts from these.
 */
export async function benignBases(seed = DEFAULT_SEED) {
  const w = 96;
  const h = 72;
  const raw = await baseRaster(w, h, seed);
  const img = () => sharp(raw, { raw: { width: w, height: h, channels: 3 } });
  const bases = {
    jpg: await img().jpeg({ quality: 85 }).toBuffer(),
    "progressive.jpg": await img().jpeg({ quality: 85, progressive: true }).toBuffer(),
    png: await img().png().toBuffer(),
    "lossy.webp": await img().webp({ quality: 80 }).toBuffer(),
    "lossless.webp": await img().webp({ lossless: true }).toBuffer(),
    gif: await img().gif().toBuffer(),
    tif: await img().tiff({ compression: "deflate" }).toBuffer(),
    avif: await img().avif({ quality: 50, effort: 0 }).toBuffer(),
  };
  // HEIC (HEVC) cannot be encoded by sharp's prebuilt libvips: the committed benign fixture is the base.
  bases.heic = readFileSync(new URL("../images/shapes.heic", import.meta.url));
  return { bases, raw, w, h };
}

// --- format writers (enough of each format to say what a hostile file says) ---------------------------

function pngChunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  return Buffer.concat([u32be(data.length), body, u32be(crc32(body))]);
}
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngIhdr(width, height, depth = 8, colourType = 0) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width >>> 0, 0);
  ihdr.writeUInt32BE(height >>> 0, 4);
  ihdr[8] = depth;
  ihdr[9] = colourType;
  return pngChunk("IHDR", ihdr);
}

/** A PNG made of the given chunks after IHDR (each [type, data]), with IEND. */
function pngFile(width, height, chunks, depth = 8, colourType = 0) {
  return Buffer.concat([
    PNG_SIGNATURE,
    pngIhdr(width, height, depth, colourType),
    ...chunks.map(([t, d]) => pngChunk(t, d)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The chunks of a PNG, as [type, data] pairs (IHDR first, IEND last). */
function pngChunks(png) {
  const chunks = [];
  for (let p = 8; p + 12 <= png.length; ) {
    const length = png.readUInt32BE(p);
    chunks.push([png.toString("latin1", p + 4, p + 8), png.subarray(p + 8, p + 8 + length)]);
    p += 12 + length;
  }
  return chunks;
}

/** Inserts chunks into a valid PNG just after IHDR. */
function pngWith(png, extra) {
  const [ihdr, ...rest] = pngChunks(png);
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk(...ihdr),
    ...extra.map(([t, d]) => pngChunk(t, d)),
    ...rest.map(([t, d]) => pngChunk(t, d)),
  ]);
}

// A zlib stream of `total` zero bytes (PNG rows of zeros, filter byte 0 included), deflated 16 MB at a time so
// that a 100-megapixel image costs a few MB here, not its size.
async function zerosDeflated(total) {
  const deflate = createDeflate({ level: 9 });
  const out = [];
  deflate.on("data", (chunk) => out.push(chunk));
  const done = new Promise((resolve, reject) => deflate.on("end", resolve).on("error", reject));
  const block = Buffer.alloc(16 * 1024 * 1024);
  for (let left = total; left > 0; left -= block.length) {
    if (!deflate.write(left >= block.length ? block : block.subarray(0, left)))
      await new Promise((resolve) => deflate.once("drain", resolve));
  }
  deflate.end();
  await done;
  return Buffer.concat(out);
}

function jpegSegments(jpeg) {
  // [marker, offset, length] of each segment before the first SOS (length includes the two length bytes).
  const segments = [];
  for (let p = 2; p + 4 <= jpeg.length; ) {
    if (jpeg[p] !== 0xff) break;
    const marker = jpeg[p + 1];
    const length = jpeg.readUInt16BE(p + 2);
    segments.push({ marker, offset: p, length });
    if (marker === 0xda) break;
    p += 2 + length;
  }
  return segments;
}

/** A JPEG whose SOF says width x height (the scan data stays that of the small image). */
function jpegClaiming(jpeg, width, height) {
  const out = Buffer.from(jpeg);
  const sof = jpegSegments(out).find((s) => s.marker >= 0xc0 && s.marker <= 0xc3);
  out.writeUInt16BE(height, sof.offset + 5);
  out.writeUInt16BE(width, sof.offset + 7);
  return out;
}

/** Inserts raw segments (each [marker, payload]) after SOI. */
function jpegWith(jpeg, segments) {
  const parts = segments.map(([marker, payload]) =>
    Buffer.concat([
      Buffer.from([0xff, marker]),
      Buffer.from([(payload.length + 2) >> 8, (payload.length + 2) & 0xff]),
      payload,
    ]),
  );
  return Buffer.concat([jpeg.subarray(0, 2), ...parts, jpeg.subarray(2)]);
}

// GIF with a 4-colour global table; every frame all index 0 (LZW: a clear code before each pixel keeps the
// code size at 3 bits, which any decoder must accept).
function gifLzw(pixels) {
  const codes = [];
  for (let i = 0; i < pixels; i++) codes.push(4, 0);
  codes.push(5);
  const bytes = [];
  let acc = 0;
  let bits = 0;
  for (const code of codes) {
    acc |= code << bits;
    bits += 3;
    while (bits >= 8) {
      bytes.push(acc & 0xff);
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) bytes.push(acc & 0xff);
  const blocks = [2]; // LZW minimum code size
  for (let i = 0; i < bytes.length; i += 255) {
    const block = bytes.slice(i, i + 255);
    blocks.push(block.length, ...block);
  }
  blocks.push(0);
  return Buffer.from(blocks);
}

/**
 * A GIF: screen width x height, frames each { w, h, pixels } (pixels: how many are coded, default w*h), optional
 * comment extensions before the frames.
 */
function gifFile(screenW, screenH, frames, { comments = [], loop = frames.length > 1 } = {}) {
  const parts = [
    Buffer.from("GIF89a", "latin1"),
    u16le(screenW),
    u16le(screenH),
    Buffer.from([0xf1, 0, 0]),
    Buffer.from([0x20, 0x40, 0x80, 0xe0, 0x80, 0x40, 0x80, 0x80, 0x80, 0xf0, 0xd0, 0x30]),
  ];
  if (loop)
    parts.push(Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from("NETSCAPE2.0", "latin1"), 0x03, 0x01, 0x00, 0x00, 0x00]));
  for (const text of comments) {
    const body = Buffer.from(text, "latin1");
    const blocks = [];
    for (let i = 0; i < body.length; i += 255)
      blocks.push(Buffer.from([Math.min(255, body.length - i)]), body.subarray(i, i + 255));
    parts.push(Buffer.from([0x21, 0xfe]), ...blocks, Buffer.from([0]));
  }
  const lzwCache = new Map();
  for (const frame of frames) {
    const pixels = frame.pixels ?? frame.w * frame.h;
    if (!lzwCache.has(pixels)) lzwCache.set(pixels, gifLzw(pixels));
    parts.push(Buffer.from([0x21, 0xf9, 0x04, 0x04, 0x02, 0x00, 0x00, 0x00]));
    parts.push(
      Buffer.from([0x2c]),
      u16le(frame.x ?? 0),
      u16le(frame.y ?? 0),
      u16le(frame.w),
      u16le(frame.h),
      Buffer.from([0]),
    );
    parts.push(lzwCache.get(pixels));
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

// Baseline little-endian TIFF: 8-bit grey, one strip; each IFD as { width, height, strip, next } where next is
// "chain" (the following IFD), "self" (a loop back to itself) or "none".
function tiffFile(ifds, strip, { compression = 1 } = {}) {
  const stripOffset = 8;
  const offset = stripOffset + strip.length + (strip.length % 2);
  const ifdSize = 2 + 9 * 12 + 4;
  const ifdOffsets = ifds.map((_, i) => offset + i * ifdSize);
  const parts = [Buffer.from("II*\0", "latin1"), u32le(ifdOffsets[0] ?? 0), strip, Buffer.alloc(strip.length % 2)];
  ifds.forEach((ifd, i) => {
    const entry = (tag, type, value) => {
      const e = Buffer.alloc(12);
      e.writeUInt16LE(tag, 0);
      e.writeUInt16LE(type, 2);
      e.writeUInt32LE(1, 4);
      if (type === 3) e.writeUInt16LE(value, 8);
      else e.writeUInt32LE(value >>> 0, 8);
      return e;
    };
    const next =
      ifd.next === "self" ? ifdOffsets[i] : ifd.next === "none" || i === ifds.length - 1 ? 0 : ifdOffsets[i + 1];
    parts.push(
      u16le(9),
      entry(256, 4, ifd.width),
      entry(257, 4, ifd.height),
      entry(258, 3, 8),
      entry(259, 3, compression),
      entry(262, 3, 1),
      entry(273, 4, stripOffset),
      entry(277, 3, 1),
      entry(278, 4, ifd.rowsPerStrip ?? ifd.height),
      entry(279, 4, strip.length),
      u32le(next),
    );
  });
  return Buffer.concat(parts);
}

function riffWebp(chunks) {
  const body = Buffer.concat(
    chunks.map(([type, data]) =>
      Buffer.concat([Buffer.from(type, "latin1"), u32le(data.length), data, Buffer.alloc(data.length % 2)]),
    ),
  );
  return Buffer.concat([Buffer.from("RIFF", "latin1"), u32le(4 + body.length), Buffer.from("WEBP", "latin1"), body]);
}

/** The chunks of a WebP file as [type, data]. */
function webpChunks(webp) {
  const chunks = [];
  for (let p = 12; p + 8 <= webp.length; ) {
    const size = webp.readUInt32LE(p + 4);
    chunks.push([webp.toString("latin1", p, p + 4), webp.subarray(p + 8, p + 8 + size)]);
    p += 8 + size + (size % 2);
  }
  return chunks;
}

function vp8x(flags, width, height) {
  const b = Buffer.alloc(10);
  b[0] = flags;
  b.writeUIntLE(width - 1, 4, 3);
  b.writeUIntLE(height - 1, 7, 3);
  return b;
}

/** Patches the first ISOBMFF `ispe` box (the image spatial extents HEIF and AVIF declare). */
function ispeClaiming(file, width, height) {
  const out = Buffer.from(file);
  const at = out.indexOf(Buffer.from("ispe", "latin1"));
  if (at < 0) throw new Error("no ispe box");
  out.writeUInt32BE(width >>> 0, at + 8);
  out.writeUInt32BE(height >>> 0, at + 12);
  return out;
}

/** A ZIP archive of stored (uncompressed) files: enough to make a real archive polyglot. */
function zipFile(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const [name, data] of files) {
    const nameBytes = Buffer.from(name, "utf8");
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(10, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(10, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A little-endian TIFF-structured EXIF block (for APP1 "Exif\0\0" or a PNG eXIf chunk). */
function exifBlock({ loop = false, entries = 4, hugeCount = false, size = 0 } = {}) {
  const ifd = Buffer.alloc(2 + entries * 12 + 4);
  ifd.writeUInt16LE(entries, 0);
  for (let i = 0; i < entries; i++) {
    const e = 2 + i * 12;
    ifd.writeUInt16LE(0x010e + (i % 32), e); // ImageDescription and neighbours
    ifd.writeUInt16LE(2, e + 2); // ASCII
    ifd.writeUInt32LE(hugeCount ? 0xfffffff0 : 3, e + 4);
    ifd.writeUInt32LE(hugeCount ? 0x7ffffff0 : 0x00006968, e + 8);
  }
  ifd.writeUInt32LE(loop ? 8 : 0, 2 + entries * 12);
  const tiff = Buffer.concat([Buffer.from("II*\0", "latin1"), u32le(8), ifd]);
  return size > tiff.length ? Buffer.concat([tiff, Buffer.alloc(size - tiff.length, 0x41)]) : tiff;
}

// Benign text bytes of a given length (lorem-like words from a fixed list).
function text(rand, length) {
  const words = [
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "image",
    "test",
    "fixture",
    "phmatch",
    "benign",
    "shapes",
    "noise",
  ];
  let out = "";
  while (out.length < length) out += words[Math.floor(rand() * words.length)] + (rand() < 0.1 ? "\n" : " ");
  return Buffer.from(out.slice(0, length), "latin1");
}

function noise(rand, length) {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

// --- the corpus -----------------------------------------------------------------------------------------

/**
 * The hostile inputs, in memory, one at a time: `{ name, kind, bytes, expect, codes?, note }`. `size: "fast"`
 * gives a representative few per kind (for npm test), `"full"` everything (bench/hostile). `canary` names a
 * loopback URL and a local file that the SVG and XML inputs reference: nothing may ever fetch or open them.
 */
export async function* hostileInputs({ seed = DEFAULT_SEED, size = "full", canary = {}, kinds = HOSTILE_KINDS } = {}) {
  const full = size === "full";
  const rand = prng(seed);
  const canaryUrl = canary.url ?? "http://127.0.0.1:9/phmatch-canary";
  const canaryFile = canary.file ?? "/nonexistent/phmatch-canary";
  const { bases, raw, w, h } = await benignBases(seed);
  // Shared by several kinds.
  const lossless = webpChunks(bases["lossless.webp"]).find(([t]) => t === "VP8L")[1];
  const zip = zipFile([["readme.txt", text(prng(seed + 1), 200)]]);
  const html = Buffer.from("<!DOCTYPE html><html><body><script>document.title='polyglot'</script></body></html>\n");
  const png = bases.png;
  // Inputs of kinds not asked for are skipped before they are built (some cost seconds to deflate).
  const want = (kind) => kinds.includes(kind);
  const make = (kind, name, bytes, expect, extra = {}) => ({
    name,
    kind,
    bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length),
    expect,
    ...extra,
  });

  if (want("tiny")) {
    // tiny: zero bytes, one byte, and magic numbers alone.
    yield make("tiny", "empty.jpg", Buffer.alloc(0), "error", { codes: ["PHM_DECODE_EMPTY"], note: "0 bytes" });
    yield make("tiny", "empty.png", Buffer.alloc(0), "error", { codes: ["PHM_DECODE_EMPTY"], note: "0 bytes" });
    for (const byte of full ? [0x00, 0xff, 0x89, 0x47, 0x3c, 0x52, 0x49] : [0x00, 0x89]) {
      yield make("tiny", `one-byte-${byte.toString(16).padStart(2, "0")}.jpg`, Buffer.from([byte]), "error", {
        note: "1 byte",
      });
    }
    const magics = {
      "png-signature.png": PNG_SIGNATURE,
      "jpeg-soi.jpg": Buffer.from([0xff, 0xd8, 0xff]),
      "jpeg-soi-eoi.jpg": Buffer.from([0xff, 0xd8, 0xff, 0xd9]),
      "gif-header.gif": Buffer.from("GIF89a", "latin1"),
      "webp-riff.webp": Buffer.concat([Buffer.from("RIFF", "latin1"), u32le(4), Buffer.from("WEBP", "latin1")]),
      "tiff-header.tif": Buffer.from("II*\0\x08\0\0\0", "latin1"),
      "heif-ftyp.heic": Buffer.concat([u32be(24), Buffer.from("ftypheic\0\0\0\0mif1heic", "latin1")]),
      "avif-ftyp.avif": Buffer.concat([u32be(24), Buffer.from("ftypavif\0\0\0\0mif1avif", "latin1")]),
    };
    for (const [name, bytes] of Object.entries(magics))
      if (full || name.startsWith("png") || name.startsWith("heif"))
        yield make("tiny", name, bytes, "error", { note: "magic number only" });
  }

  if (want("truncated")) {
    // truncated: every base format cut at many offsets (header bytes, then fractions of the file).
    for (const [ext, bytes] of Object.entries(bases)) {
      const offsets = full ? [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 100, 128, 200, 256, 400, 512, 1024] : [16];
      const fractions = full ? [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99] : [0.5];
      const cuts = new Set([
        ...offsets.filter((o) => o < bytes.length),
        ...fractions.map((f) => Math.floor(bytes.length * f)),
        ...(full ? [bytes.length - 2, bytes.length - 1] : [bytes.length - 1]),
      ]);
      for (const cut of [...cuts].sort((a, b) => a - b)) {
        // A few formats still decode when only their last byte or two are gone (a GIF's trailer, a JPEG's EOI):
        // a hash is then correct too.
        yield make(
          "truncated",
          `cut-${cut}-of-${bytes.length}.${ext}`,
          bytes.subarray(0, cut),
          cut >= bytes.length - 2 ? "any" : "error",
          { note: `${ext} cut to ${cut} of ${bytes.length} bytes` },
        );
      }
    }
  }

  if (want("bitflip")) {
    // bitflip: seeded single-bit flips in the header, multi-bit flips anywhere, and stomped runs of bytes.
    for (const [ext, bytes] of Object.entries(bases)) {
      const variants = full ? 8 : 1;
      for (let v = 0; v < variants; v++) {
        const header = Buffer.from(bytes);
        const at = Math.floor(rand() * Math.min(64, bytes.length));
        header[at] ^= 1 << Math.floor(rand() * 8);
        yield make("bitflip", `header-flip-${v}.${ext}`, header, "any", { note: `${ext}: bit flipped at byte ${at}` });
        const many = Buffer.from(bytes);
        const flips = 1 + Math.floor(rand() * 8);
        for (let f = 0; f < flips; f++) many[Math.floor(rand() * many.length)] ^= 1 << Math.floor(rand() * 8);
        yield make("bitflip", `flip-${flips}-bits-${v}.${ext}`, many, "any", {
          note: `${ext}: ${flips} bits flipped anywhere`,
        });
        const stomped = Buffer.from(bytes);
        const start = Math.floor(rand() * (bytes.length - 16));
        stomped.fill(rand() < 0.5 ? 0xff : 0x00, start, start + 16);
        yield make("bitflip", `stomp-16-at-${start}-${v}.${ext}`, stomped, "any", {
          note: `${ext}: 16 bytes overwritten at ${start}`,
        });
      }
    }
  }

  if (want("bomb")) {
    // bomb: headers that claim huge dimensions in a few bytes, refused before decoding; and images at the pixel
    // limit that cost the most a decode may cost.
    const over = ["PHM_DECODE_TOO_MANY_PIXELS", "PHM_DECODE_CORRUPT", "PHM_DECODE_TRUNCATED", "PHM_DECODE_UNSUPPORTED"];
    const smallIdat = deflateSync(Buffer.alloc(2 * 100001));
    yield make("bomb", "png-100000x100000.png", pngFile(100000, 100000, [["IDAT", smallIdat]]), "error", {
      codes: over,
      note: "PNG IHDR 100000x100000 (valid CRC), 1e10 pixels in a few hundred bytes",
    });
    yield make("bomb", "png-2147483647-square.png", pngFile(0x7fffffff, 0x7fffffff, [["IDAT", smallIdat]]), "error", {
      codes: over,
      note: "PNG IHDR at the format maximum 2^31-1",
    });
    yield make("bomb", "png-1x100000000.png", pngFile(1, 100_000_001, [["IDAT", smallIdat]]), "error", {
      codes: over,
      note: "one pixel wide, 1e8+1 tall",
    });
    yield make("bomb", "jpeg-sof-65500x65500.jpg", jpegClaiming(bases.jpg, 65500, 65500), "error", {
      codes: over,
      note: "JPEG SOF0 claims 65500x65500",
    });
    yield make("bomb", "jpeg-sof-65535x1.jpg", jpegClaiming(bases.jpg, 65535, 1), "any", {
      note: "JPEG SOF0 claims 65535x1 (small in pixels, odd in shape)",
    });
    yield make("bomb", "jpeg-sof-0x0.jpg", jpegClaiming(bases.jpg, 0, 0), "error", { note: "JPEG SOF0 claims 0x0" });
    yield make("bomb", "gif-65535x65535.gif", gifFile(65535, 65535, [{ w: 65535, h: 65535, pixels: 1 }]), "error", {
      codes: over,
      note: "GIF screen and frame 65535x65535, one pixel coded",
    });
    yield make(
      "bomb",
      "gif-frame-outside-screen.gif",
      gifFile(16, 16, [{ w: 65535, h: 65535, x: 65000, y: 65000, pixels: 1 }]),
      "any",
      { note: "GIF 16x16 screen, a 65535x65535 frame placed outside it" },
    );
    yield make("bomb", "gif-0x0.gif", gifFile(0, 0, [{ w: 0, h: 0, pixels: 1 }]), "any", {
      note: "GIF of 0x0 (libnsgif reads it as 1x1: a quality-0 hash, so low_quality, is right too)",
    });
    const vp8l = (width, height) => {
      const chunk = Buffer.from(lossless);
      const bits = chunk.readUInt32LE(1);
      chunk.writeUInt32LE(((bits & 0xf0000000) | ((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14)) >>> 0, 1);
      return chunk;
    };
    yield make(
      "bomb",
      "webp-vp8x-16777216-square.webp",
      riffWebp([
        ["VP8X", vp8x(0x10, 16777216, 16777216)],
        ["VP8L", lossless],
      ]),
      "error",
      { codes: over, note: "WebP VP8X canvas 2^24 x 2^24 (the format maximum)" },
    );
    yield make("bomb", "webp-vp8l-16384x16384.webp", riffWebp([["VP8L", vp8l(16384, 16384)]]), "error", {
      codes: over,
      note: "WebP lossless header 16384x16384",
    });
    yield make("bomb", "webp-vp8l-10000x10000.webp", riffWebp([["VP8L", vp8l(10000, 10000)]]), "error", {
      note: "WebP lossless header 10000x10000 (at the pixel limit), data of a 96x72 image",
    });
    yield make(
      "bomb",
      "tiff-100000x100000.tif",
      tiffFile([{ width: 100000, height: 100000 }], Buffer.alloc(64)),
      "error",
      { codes: over, note: "TIFF 100000x100000, one 64-byte strip" },
    );
    yield make(
      "bomb",
      "tiff-4294967295-square.tif",
      tiffFile([{ width: 0xffffffff, height: 0xffffffff }], Buffer.alloc(64)),
      "error",
      { codes: over, note: "TIFF 2^32-1 square" },
    );
    yield make(
      "bomb",
      "tiff-10000x10000-short-strip.tif",
      tiffFile([{ width: 10000, height: 10000 }], Buffer.alloc(64)),
      "error",
      { note: "TIFF 10000x10000 (at the limit) with a 64-byte strip" },
    );
    yield make("bomb", "avif-ispe-100000x100000.avif", ispeClaiming(bases.avif, 100000, 100000), "error", {
      codes: over,
      note: "AVIF ispe box claims 100000x100000",
    });
    yield make("bomb", "avif-ispe-10000x10000.avif", ispeClaiming(bases.avif, 10000, 10000), "any", {
      note: "AVIF ispe 10000x10000 around a 96x72 AV1 image",
    });
    yield make("bomb", "heic-ispe-100000x100000.heic", ispeClaiming(bases.heic, 100000, 100000), "error", {
      codes: over,
      note: "HEIC ispe box claims 100000x100000",
    });
    yield make("bomb", "heic-ispe-10000x10000.heic", ispeClaiming(bases.heic, 10000, 10000), "any", {
      note: "HEIC ispe 10000x10000 around a 480x360 HEVC image",
    });
    if (full) {
      // Within the limit (1e8 pixels): these are decoded, and cost what a legitimate 100-megapixel image costs.
      yield make(
        "bomb",
        "png-10000x10000-grey-zeros.png",
        pngFile(10000, 10000, [["IDAT", await zerosDeflated(10001 * 10000)]]),
        "hash",
        { note: "PNG 10000x10000 grey, 1e8 pixels at the limit, from a ~100 KB file" },
      );
      yield make(
        "bomb",
        "png-10000x10000-rgba16-zeros.png",
        pngFile(10000, 10000, [["IDAT", await zerosDeflated(80001 * 10000)]], 16, 6),
        "hash",
        {
          codes: ["PHM_WORKER_MEMORY"],
          note: "PNG 10000x10000 RGBA 16-bit at the limit (800 MB of samples), from a ~800 KB file",
        },
      );
      yield make("bomb", "gif-screen-10000x10000-frame-1x1.gif", gifFile(10000, 10000, [{ w: 1, h: 1 }]), "any", {
        note: "GIF screen 10000x10000 (at the limit), one 1x1 frame",
      });
      yield make(
        "bomb",
        "png-200000-empty-idat.png",
        Buffer.concat([
          PNG_SIGNATURE,
          pngIhdr(96, 72),
          ...Array.from({ length: 200000 }, () => pngChunk("IDAT", Buffer.alloc(0))),
          pngChunk("IDAT", deflateSync(Buffer.alloc(97 * 72))),
          pngChunk("IEND", Buffer.alloc(0)),
        ]),
        "any",
        { note: "200,000 empty IDAT chunks before the real one" },
      );
    }
    // Extreme shapes within the limit: one pixel wide or tall (every step after decoding must cope).
    for (const [tw, th] of full
      ? [
          [1, 65535],
          [65535, 1],
          [1, 1],
          [2, 40000],
        ]
      : [[65535, 1]]) {
      yield make(
        "bomb",
        `png-${tw}x${th}.png`,
        pngFile(tw, th, [["IDAT", deflateSync(Buffer.alloc((tw + 1) * th, 0))]]),
        "hash",
        { note: `PNG ${tw}x${th} (extreme aspect ratio)` },
      );
    }
    yield make("bomb", "jpeg-many-scans.jpg", jpegManyScans(bases["progressive.jpg"], full ? 20000 : 2000), "any", {
      note: `progressive JPEG with a scan repeated ${full ? 20000 : 2000} times`,
    });
  }

  if (want("animated")) {
    // animated: thousands of frames (only the first is hashed; none may cost the others' time or memory).
    const frames = full ? 5000 : 1000;
    const frameRaw = Buffer.alloc(16 * 16 * 3 * frames);
    for (let i = 0; i < frameRaw.length; i++) frameRaw[i] = (i * 7 + Math.floor(i / 768) * 13) & 0xff;
    yield make(
      "animated",
      `gif-${frames}-frames.gif`,
      await sharp(frameRaw, { raw: { width: 16, height: 16 * frames, channels: 3, pageHeight: 16 } })
        .gif({ effort: 1 })
        .toBuffer(),
      "any",
      { note: `${frames}-frame 16x16 GIF (sharp)` },
    );
    yield make(
      "animated",
      `webp-${full ? 3000 : 500}-frames.webp`,
      await sharp(frameRaw.subarray(0, 16 * 16 * 3 * (full ? 3000 : 500)), {
        raw: { width: 16, height: 16 * (full ? 3000 : 500), channels: 3, pageHeight: 16 },
      })
        .webp({ quality: 50, effort: 0 })
        .toBuffer(),
      "any",
      { note: "animated 16x16 WebP (sharp)" },
    );
    const manyTiny = full ? 100000 : 10000;
    yield make(
      "animated",
      `gif-${manyTiny}-frames-1x1.gif`,
      gifFile(
        1,
        1,
        Array.from({ length: manyTiny }, () => ({ w: 1, h: 1 })),
      ),
      "any",
      { note: `${manyTiny} frames of 1x1` },
    );
    yield make(
      "animated",
      "gif-second-frame-65535.gif",
      gifFile(16, 16, [
        { w: 16, h: 16 },
        { w: 65535, h: 65535, pixels: 1 },
      ]),
      "any",
      { note: "first frame fine, second frame claims 65535x65535" },
    );
    yield make(
      "animated",
      "gif-first-frame-truncated-of-1000.gif",
      gifFile(
        64,
        64,
        Array.from({ length: 1000 }, () => ({ w: 64, h: 64 })),
      ).subarray(0, 200),
      "error",
      { note: "1000-frame GIF cut inside its first frame" },
    );
    if (full) {
      yield make(
        "animated",
        "webp-anmf-16777216.webp",
        riffWebp([
          ["VP8X", vp8x(0x02, 16, 16)],
          ["ANIM", Buffer.alloc(6)],
          [
            "ANMF",
            Buffer.concat([
              Buffer.alloc(6),
              vp8x(0, 16777216, 16777216).subarray(4),
              Buffer.alloc(4),
              riffWebp([["VP8L", lossless]]).subarray(12),
            ]),
          ],
        ]),
        "any",
        { note: "animated WebP whose frame claims 2^24 x 2^24" },
      );
    }
  }

  if (want("svg")) {
    // svg: vector input is refused before any parser sees it; none of these may fetch a URL or open a file.
    const svg = (body, prolog = "") =>
      Buffer.from(
        `<?xml version="1.0"?>\n${prolog}<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="48">${body}</svg>\n`,
      );
    const vector = { codes: ["PHM_DECODE_VECTOR"] };
    const svgs = {
      "xxe-file.svg": svg("<text>&xxe;</text>", `<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file://${canaryFile}">]>\n`),
      "xxe-http.svg": svg("<text>&xxe;</text>", `<!DOCTYPE svg [<!ENTITY xxe SYSTEM "${canaryUrl}/xxe">]>\n`),
      "xxe-parameter-entity.svg": svg("", `<!DOCTYPE svg [<!ENTITY % remote SYSTEM "${canaryUrl}/dtd"> %remote;]>\n`),
      "external-dtd.svg": svg("", `<!DOCTYPE svg SYSTEM "${canaryUrl}/svg.dtd">\n`),
      "image-href-http.svg": svg(`<image href="${canaryUrl}/image.png" width="64" height="48"/>`),
      "image-xlink-file.svg": svg(`<image xlink:href="file://${canaryFile}" width="64" height="48"/>`),
      "image-relative.svg": svg(`<image href="${canaryFile}" width="64" height="48"/>`),
      "use-external.svg": svg(`<use href="${canaryUrl}/sprite.svg#a"/>`),
      "css-import.svg": svg(
        `<style>@import url(${canaryUrl}/style.css); rect { fill: url(${canaryUrl}/fill.svg#g) }</style><rect width="64" height="48"/>`,
      ),
      "xinclude.svg": svg(
        `<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://${canaryFile}" parse="text"/>`,
      ),
      "billion-laughs.svg": svg(
        "<text>&l9;</text>",
        `<!DOCTYPE svg [<!ENTITY l0 "ha">${Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`).join("")}]>\n`,
      ),
      "script.svg": svg(`<script>fetch("${canaryUrl}/script")</script><rect width="64" height="48"/>`),
    };
    for (const [name, bytes] of Object.entries(svgs))
      if (full || ["xxe-file.svg", "image-href-http.svg", "billion-laughs.svg"].includes(name))
        yield make("svg", name, bytes, "error", { ...vector, note: "SVG referencing the canary" });
    yield make("svg", "xxe-named.png", svgs["xxe-file.svg"], "error", { ...vector, note: "XXE SVG named .png" });
    yield make("svg", "image-href-named.jpg", svgs["image-href-http.svg"], "error", {
      ...vector,
      note: "external-href SVG named .jpg",
    });
    yield make(
      "svg",
      "long-comment-prefix.svg",
      Buffer.concat([
        Buffer.from(`<?xml version="1.0"?>\n<!--${" ".repeat(8192)}-->\n`),
        svgs["image-href-http.svg"].subarray(22),
      ]),
      "error",
      { ...vector, note: "the <svg element after 8 KB of comment" },
    );
    yield make(
      "svg",
      "utf16.svg",
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(svgs["xxe-http.svg"].toString("latin1"), "utf16le")]),
      "error",
      { ...vector, note: "UTF-16 SVG with an external entity" },
    );
    yield make("svg", "gzipped.svgz", gzipSync(svgs["image-href-http.svg"]), "error", {
      ...vector,
      note: "gzip-compressed SVG (svgz) with an external href",
    });
    yield make(
      "svg",
      "xxe-plain-xml.xml.png",
      Buffer.from(`<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://${canaryFile}">]>\n<r>&xxe;</r>\n`),
      "error",
      { note: "XML (not SVG) with an external entity, named .png" },
    );
    yield make(
      "svg",
      "svg-in-png-text.png",
      pngWith(bases.png, [["tEXt", Buffer.concat([Buffer.from("Comment\0"), svgs["xxe-http.svg"]])]]),
      "hash",
      { note: "a valid PNG carrying an XXE SVG in a tEXt chunk" },
    );
  }

  if (want("polyglot")) {
    // polyglot: files valid in two formats; the image reading wins (or the file is refused), never the other.
    const php = Buffer.from("<?php echo 'polyglot'; ?>");
    yield make("polyglot", "png-plus-zip.png", Buffer.concat([bases.png, zip]), "hash", {
      note: "PNG with a ZIP appended (also a valid ZIP)",
    });
    yield make(
      "polyglot",
      "png-html-text-chunk.png",
      pngWith(bases.png, [["tEXt", Buffer.concat([Buffer.from("Comment\0"), html])]]),
      "hash",
      { note: "PNG with HTML in a tEXt chunk" },
    );
    yield make("polyglot", "png-plus-html.png", Buffer.concat([bases.png, html]), "hash", {
      note: "PNG with HTML after IEND",
    });
    yield make("polyglot", "jpeg-php-comment.jpg", jpegWith(bases.jpg, [[0xfe, php]]), "hash", {
      note: "JPEG with PHP in a COM segment",
    });
    yield make("polyglot", "jpeg-plus-zip.jpg", Buffer.concat([bases.jpg, zip]), "hash", {
      note: "JPEG with a ZIP appended",
    });
    yield make(
      "polyglot",
      "gif-plus-js.gif",
      Buffer.concat([
        bases.gif.subarray(0, bases.gif.length - 1),
        Buffer.from([0x21, 0xfe, 20]),
        Buffer.from("*/=1;alert('poly');/*", "latin1").subarray(0, 20),
        Buffer.from([0, 0x3b]),
      ]),
      "hash",
      { note: "GIF with JavaScript in a comment extension" },
    );
    yield make("polyglot", "zip-with-png.png", zipFile([["image.png", bases.png]]), "error", {
      note: "a ZIP holding a PNG, named .png",
    });
    yield make(
      "polyglot",
      "pdf-with-jpeg.jpg",
      Buffer.concat([
        Buffer.from("%PDF-1.4\n1 0 obj << /Type /XObject /Subtype /Image >> stream\n"),
        bases.jpg,
        Buffer.from("\nendstream endobj\n%%EOF\n"),
      ]),
      "error",
      { note: "a PDF wrapping a JPEG, named .jpg" },
    );
    yield make("polyglot", "jpeg-plus-pdf.jpg", Buffer.concat([bases.jpg, Buffer.from("%PDF-1.4\n%%EOF\n")]), "hash", {
      note: "JPEG with a PDF trailer",
    });
    yield make("polyglot", "html-with-png-signature.png", Buffer.concat([PNG_SIGNATURE, html]), "error", {
      note: "PNG signature then HTML",
    });
    if (full) {
      yield make("polyglot", "webp-plus-zip.webp", Buffer.concat([bases["lossy.webp"], zip]), "any", {
        note: "WebP with a ZIP appended (outside its RIFF size)",
      });
      yield make("polyglot", "tiff-plus-zip.tif", Buffer.concat([bases.tif, zip]), "hash", {
        note: "TIFF with a ZIP appended",
      });
      yield make("polyglot", "gif-plus-zip.gif", Buffer.concat([bases.gif, zip]), "hash", {
        note: "GIF with a ZIP appended",
      });
    }
  }

  if (want("mislabelled")) {
    // mislabelled: non-images with image names, images with other names, and formats phmatch does not read.
    yield make("mislabelled", "text.jpg", text(rand, 2000), "error", {
      codes: ["PHM_DECODE_UNSUPPORTED"],
      note: "plain text named .jpg",
    });
    yield make("mislabelled", "html.png", html, "error", { note: "HTML named .png" });
    yield make("mislabelled", "noise.webp", noise(rand, 4096), "error", { note: "4 KB of noise named .webp" });
    yield make("mislabelled", "noise.heic", noise(rand, 4096), "error", { note: "4 KB of noise named .heic" });
    yield make("mislabelled", "zip.gif", zip, "error", { note: "a ZIP named .gif" });
    yield make("mislabelled", "json.tif", Buffer.from(JSON.stringify({ not: "an image", list: [1, 2, 3] })), "error", {
      note: "JSON named .tif",
    });
    yield make(
      "mislabelled",
      "elf-like.png",
      Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), noise(rand, 1024)]),
      "error",
      { note: "an executable's magic number and noise, named .png" },
    );
    yield make("mislabelled", "png-as.txt", png, "hash", { note: "a PNG named .txt" });
    yield make("mislabelled", "jpeg-as.exe", bases.jpg, "hash", { note: "a JPEG named .exe" });
    yield make("mislabelled", "png-as.svg", png, "hash", { note: "a PNG named .svg" });
    yield make("mislabelled", "webp-no-extension", bases["lossy.webp"], "hash", { note: "a WebP with no extension" });
    yield make("mislabelled", "jpeg-as.heic", bases.jpg, "hash", { note: "a JPEG named .heic" });
    const bmp = bmpFile(8, 8);
    yield make("mislabelled", "bmp.jpg", bmp, "error", {
      codes: ["PHM_DECODE_UNSUPPORTED"],
      note: "a BMP (not decoded by phmatch) named .jpg",
    });
    yield make(
      "mislabelled",
      "ppm.png",
      Buffer.concat([Buffer.from("P6\n8 8\n255\n"), Buffer.alloc(8 * 8 * 3, 0x80)]),
      "error",
      { codes: ["PHM_DECODE_UNSUPPORTED"], note: "a PPM (blocked loader) named .png" },
    );
    if (full) {
      yield make("mislabelled", "ppm-bomb.ppm", Buffer.from("P6\n100000 100000\n255\n"), "error", {
        note: "PPM header claiming 100000x100000",
      });
      yield make(
        "mislabelled",
        "fits.png",
        Buffer.concat([
          Buffer.from("SIMPLE  =                    T".padEnd(80)),
          Buffer.from("END".padEnd(80)),
          Buffer.alloc(2720),
        ]),
        "error",
        { codes: ["PHM_DECODE_UNSUPPORTED"], note: "a FITS header (blocked loader) named .png" },
      );
      yield make(
        "mislabelled",
        "vips-native.jpg",
        Buffer.concat([Buffer.from([0x08, 0xf2, 0xa6, 0xb6]), Buffer.alloc(60)]),
        "error",
        { codes: ["PHM_DECODE_UNSUPPORTED", "PHM_DECODE_CORRUPT"], note: "libvips' own format magic (blocked loader)" },
      );
      yield make(
        "mislabelled",
        "pdf.tif",
        Buffer.from("%PDF-1.4\n1 0 obj << >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
        "error",
        { note: "a PDF (blocked loader) named .tif" },
      );
      yield make(
        "mislabelled",
        "jp2-signature.jp2",
        Buffer.concat([u32be(12), Buffer.from("jP  \r\n\x87\n", "latin1"), noise(rand, 256)]),
        "error",
        { note: "JPEG 2000 signature and noise" },
      );
      yield make(
        "mislabelled",
        "jxl-signature.jxl",
        Buffer.concat([Buffer.from([0xff, 0x0a]), noise(rand, 256)]),
        "error",
        { note: "JPEG XL codestream signature and noise" },
      );
      yield make(
        "mislabelled",
        "psd-signature.jpg",
        Buffer.concat([Buffer.from("8BPS\0\x01", "latin1"), noise(rand, 256)]),
        "error",
        { note: "Photoshop signature and noise" },
      );
      yield make(
        "mislabelled",
        "ico.png",
        Buffer.concat([Buffer.from([0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0]), u32le(png.length), u32le(22), png]),
        "any",
        { note: "an ICO holding a PNG" },
      );
    }
  }

  if (want("metadata")) {
    // metadata: huge, looping and nested EXIF / ICC / XMP / text chunks around a valid image.
    const exifHeader = Buffer.from("Exif\0\0", "latin1");
    yield make(
      "metadata",
      "jpeg-exif-ifd-loop.jpg",
      jpegWith(bases.jpg, [[0xe1, Buffer.concat([exifHeader, exifBlock({ loop: true })])]]),
      "any",
      { note: "EXIF whose IFD0 points back to itself" },
    );
    yield make(
      "metadata",
      "jpeg-exif-huge-counts.jpg",
      jpegWith(bases.jpg, [[0xe1, Buffer.concat([exifHeader, exifBlock({ hugeCount: true, entries: 64 })])]]),
      "any",
      { note: "EXIF entries with counts and offsets near 2^32" },
    );
    yield make(
      "metadata",
      "jpeg-exif-64k.jpg",
      jpegWith(bases.jpg, [[0xe1, Buffer.concat([exifHeader, exifBlock({ entries: 2000, size: 65000 })])]]),
      "any",
      { note: "a 64 KB EXIF segment of 2000 entries" },
    );
    yield make(
      "metadata",
      "jpeg-2000-app-segments.jpg",
      jpegWith(
        bases.jpg,
        Array.from({ length: full ? 2000 : 200 }, (_, i) => [0xe0 + (i % 16), Buffer.alloc(1000, 0x20 + (i % 64))]),
      ),
      "hash",
      { note: "thousands of 1 KB APPn segments" },
    );
    const icc = Buffer.alloc(full ? 8 * 1024 * 1024 : 512 * 1024, 0x11);
    icc.writeUInt32BE(icc.length, 0);
    const iccChunks = [];
    const per = 65519 - 14;
    const count = Math.ceil(icc.length / per);
    for (let i = 0; i < count; i++)
      iccChunks.push([
        0xe2,
        Buffer.concat([
          Buffer.from("ICC_PROFILE\0", "latin1"),
          Buffer.from([i + 1, count]),
          icc.subarray(i * per, (i + 1) * per),
        ]),
      ]);
    yield make("metadata", `jpeg-icc-${count}-chunks.jpg`, jpegWith(bases.jpg, iccChunks), "any", {
      note: `a ${icc.length >> 10} KB bogus ICC profile in ${count} APP2 chunks`,
    });
    yield make(
      "metadata",
      "jpeg-icc-chunk-count-lies.jpg",
      jpegWith(bases.jpg, [
        [0xe2, Buffer.concat([Buffer.from("ICC_PROFILE\0", "latin1"), Buffer.from([7, 3]), icc.subarray(0, 100)])],
      ]),
      "any",
      { note: "an ICC chunk numbered 7 of 3" },
    );
    const xmpDepth = full ? 100000 : 10000;
    const xmp = Buffer.from(
      `http://ns.adobe.com/xap/1.0/\0<?xpacket begin=""?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file://${canaryFile}">]><x:xmpmeta xmlns:x="adobe:ns:meta/">${"<a>".repeat(xmpDepth / 2)}&xxe;${"</a>".repeat(xmpDepth / 2)}</x:xmpmeta><?xpacket end="w"?>`.slice(
        0,
        65000,
      ),
      "latin1",
    );
    yield make("metadata", "jpeg-xmp-deep-xxe.jpg", jpegWith(bases.jpg, [[0xe1, xmp]]), "hash", {
      note: "XMP nested deeply, with an external entity",
    });
    yield make(
      "metadata",
      "png-iccp-zlib-bomb.png",
      pngWith(png, [
        [
          "iCCP",
          Buffer.concat([
            Buffer.from("bomb\0\0"),
            deflateSync(Buffer.alloc(full ? 256 * 1024 * 1024 : 16 * 1024 * 1024), { level: 9 }),
          ]),
        ],
      ]),
      "any",
      { note: "iCCP profile deflating to hundreds of MB" },
    );
    yield make(
      "metadata",
      "png-ztxt-zlib-bomb.png",
      pngWith(png, [
        [
          "zTXt",
          Buffer.concat([
            Buffer.from("Comment\0\0"),
            deflateSync(Buffer.alloc(full ? 256 * 1024 * 1024 : 16 * 1024 * 1024, 0x61), { level: 9 }),
          ]),
        ],
      ]),
      "any",
      { note: "zTXt chunk deflating to hundreds of MB" },
    );
    yield make(
      "metadata",
      "png-many-text-chunks.png",
      pngWith(
        png,
        Array.from({ length: full ? 100000 : 5000 }, (_, i) => ["tEXt", Buffer.from(`k${i % 50}\0value ${i}`)]),
      ),
      "any",
      { note: "tens of thousands of tEXt chunks" },
    );
    yield make(
      "metadata",
      "png-exif-loop.png",
      pngWith(png, [["eXIf", exifBlock({ loop: true, hugeCount: true, entries: 16 })]]),
      "any",
      { note: "eXIf chunk with an IFD loop and huge counts" },
    );
    yield make(
      "metadata",
      "png-bad-crc-ancillary.png",
      (() => {
        const b = pngWith(png, [["tEXt", Buffer.from("Comment\0crc")]]);
        b[8 + 25 + 8 + 11] ^= 0xff; // the tEXt chunk's CRC
        return b;
      })(),
      "any",
      { note: "an ancillary chunk with a wrong CRC" },
    );
    yield make(
      "metadata",
      "tiff-ifd-loop.tif",
      tiffFile([{ width: 8, height: 8, next: "self" }], Buffer.alloc(64, 0x80)),
      "any",
      { note: "TIFF whose IFD's next pointer is itself" },
    );
    yield make(
      "metadata",
      `tiff-${full ? 5000 : 500}-pages.tif`,
      tiffFile(
        Array.from({ length: full ? 5000 : 500 }, () => ({ width: 8, height: 8 })),
        Buffer.alloc(64, 0x80),
      ),
      "any",
      { note: "thousands of IFDs (pages)" },
    );
    yield make(
      "metadata",
      "gif-10000-comments.gif",
      gifFile(16, 16, [{ w: 16, h: 16 }], {
        comments: Array.from({ length: full ? 10000 : 1000 }, (_, i) => `comment ${i} `.repeat(20)),
      }),
      "hash",
      { note: "thousands of comment extensions" },
    );
    const webpExif = (size) =>
      riffWebp([
        ["VP8X", vp8x(0x08 | 0x04, w, h)],
        ["VP8L", lossless],
        ["EXIF", exifBlock({ loop: true, size })],
        ["XMP ", xmp.subarray(29)],
      ]);
    yield make("metadata", "webp-exif-xmp.webp", webpExif(full ? 4 * 1024 * 1024 : 64 * 1024), "any", {
      note: "WebP with a looping EXIF chunk of MBs and a deep XMP",
    });
    yield make(
      "metadata",
      "webp-chunk-size-lies.webp",
      (() => {
        const b = Buffer.from(webpExif(1024));
        b.writeUInt32LE(0xfffffff0, 12 + 18 + 8 + lossless.length + (lossless.length % 2) + 4);
        return b;
      })(),
      "any",
      { note: "WebP whose EXIF chunk claims 4 GB" },
    );
  }
  yield* videoInputs({ full, want, make, bases, seed, canaryUrl });
  void raw;
}

// --- videos ---------------------------------------------------------------------------------------------

/** The committed synthetic clip every hostile video starts from (test-fixtures/videos/README.md). */
export function benignVideo() {
  return readFileSync(new URL("../videos/testsrc-64x48-2s.mp4", import.meta.url));
}

/** The ISO BMFF boxes of `buf` between start and end: { type, at, size, start (payload), end }. */
function isoBoxes(buf, start = 0, end = buf.length) {
  const out = [];
  for (let at = start; at + 8 <= end; ) {
    const size = buf.readUInt32BE(at);
    out.push({ type: buf.toString("latin1", at + 4, at + 8), at, size, start: at + 8, end: at + size });
    if (size < 8) break;
    at += size;
  }
  return out;
}

/** The box at a path of types (["moov", "trak", "mdia", ...]); stsd's entries are under ["...", "stsd", "avc1"]. */
function isoBox(buf, path) {
  let [start, end] = [0, buf.length];
  let box;
  for (const type of path) {
    box = isoBoxes(buf, start, end).find((b) => b.type === type);
    if (box === undefined) throw new Error(`no ${path.join("/")} box`);
    [start, end] = [box.start + (type === "stsd" ? 8 : 0), box.end];
  }
  return box;
}

const STBL = ["moov", "trak", "mdia", "minf", "stbl"];

/** A copy of `mp4` with `patch(copy, box)` applied to the box at `path`. */
function patched(mp4, path, patch) {
  const out = Buffer.from(mp4);
  patch(out, isoBox(out, path));
  return out;
}

const boxOf = (type, payload) => Buffer.concat([u32be(8 + payload.length), Buffer.from(type, "latin1"), payload]);

async function* videoInputs({ full, want, make, bases, seed, canaryUrl }) {
  const mp4 = benignVideo();
  const rand = prng(seed + 20);
  const mdat = isoBox(mp4, ["mdat"]);
  const moov = isoBox(mp4, ["moov"]);
  // The answers a container of these kinds may get beyond its own: the image decoder's refusal (an ISO BMFF cut
  // short comes back PHM_DECODE_TRUNCATED) on an interface that does not decode video (yet); and where FFmpeg is
  // absent, `noFfmpeg`. `expect`/`codes` are the answer of an interface that decodes video with FFmpeg present.
  const container = { videoOff: ["PHM_DECODE_UNSUPPORTED", "PHM_DECODE_TRUNCATED", "PHM_DECODE_CORRUPT"] };
  const video = (kind, name, bytes, expect, noFfmpeg, extra = {}) =>
    make(kind, name, bytes, expect, { noFfmpeg, ...extra });

  if (want("video-truncated")) {
    yield video("video-truncated", "empty.mp4", Buffer.alloc(0), "error", "PHM_DECODE_EMPTY", {
      codes: ["PHM_DECODE_EMPTY"],
      note: "0 bytes named .mp4",
    });
    // Cut inside ftyp, the moov header, mvhd, the sample tables, just before and inside mdat, and the last byte.
    const cuts = full
      ? [12, 20, 36, 100, 300, 500, 700, 889, 890, 898, 902, 1200, 1800, 2500, 3000, mp4.length - 100, mp4.length - 1]
      : [500, Math.floor((mdat.start + mdat.end) / 2), mp4.length - 1];
    for (const cut of cuts) {
      const where =
        cut < moov.at ? "ftyp" : cut < moov.end ? "moov" : cut <= mdat.start ? "between moov and mdat" : "mdat";
      // Cut before the index is whole: refused before decoding. Cut after it: the decoder keeps the frames before
      // the cut (PHM_VIDEO_TRUNCATED with them), or all of them when the cut only took the last frame's tail.
      const afterIndex = cut >= moov.end;
      yield video(
        "video-truncated",
        `cut-${cut}-of-${mp4.length}.mp4`,
        mp4.subarray(0, cut),
        afterIndex ? "any" : "error",
        afterIndex ? "PHM_VIDEO_DECODER_MISSING" : "PHM_VIDEO_TRUNCATED",
        {
          codes: ["PHM_VIDEO_TRUNCATED"],
          ...container,
          note: `the clip cut to ${cut} of ${mp4.length} bytes (in ${where})`,
        },
      );
    }
    yield video("video-truncated", "cut-8-of-mp4.mp4", mp4.subarray(0, 8), "error", "PHM_DECODE_TRUNCATED", {
      note: "the first 8 bytes of the clip (too short to sniff as a video)",
    });
    // mdat claims 64-bit 2^40 bytes: the rest of the file is missing.
    const large = Buffer.concat([
      mp4.subarray(0, mdat.at),
      u32be(1),
      Buffer.from("mdat", "latin1"),
      Buffer.from([0, 0, 1, 0, 0, 0, 0, 0]),
      mp4.subarray(mdat.start),
    ]);
    // The index is whole and every sample is there: only the mdat's size lies; the decoder may take it all.
    yield video("video-truncated", "mdat-64bit-1tib.mp4", large, "any", "PHM_VIDEO_DECODER_MISSING", {
      codes: ["PHM_VIDEO_TRUNCATED"],
      ...container,
      note: "mdat with a 64-bit size of 1 TiB; a few KB follow",
    });
  }

  if (want("video-bomb")) {
    const limit = (name, bytes, note, extra = {}) =>
      video("video-bomb", name, bytes, "error", "PHM_VIDEO_LIMIT", {
        codes: ["PHM_VIDEO_LIMIT"],
        ...container,
        note,
        ...extra,
      });
    yield limit(
      "tkhd-65535x65535.mp4",
      patched(mp4, ["moov", "trak", "tkhd"], (b, box) => {
        b.writeUInt32BE(0xffff0000, box.start + 76);
        b.writeUInt32BE(0xffff0000, box.start + 80);
      }),
      "the track header claims 65535x65535 frames (4.3 gigapixels); the stream is 64x48",
    );
    yield limit(
      "avc1-65535x65535.mp4",
      patched(mp4, [...STBL, "stsd", "avc1"], (b, box) => {
        b.writeUInt16BE(65535, box.start + 24);
        b.writeUInt16BE(65535, box.start + 26);
      }),
      "the sample entry (avc1) claims 65535x65535 frames; the H.264 parameters say 64x48",
    );
    yield limit(
      "stts-5000000-frames.mp4",
      patched(mp4, [...STBL, "stts"], (b, box) => {
        b.writeUInt32BE(5_000_000, box.start + 8);
        b.writeUInt32BE(1, box.start + 12);
      }),
      "the time-to-sample table claims 5,000,000 frames",
    );
    // stsz rewritten to one constant size for 5,000,000 samples, the bytes it no longer needs a free box.
    yield limit(
      "stsz-5000000-tiny-frames.mp4",
      patched(mp4, [...STBL, "stsz"], (b, box) => {
        const constant = Buffer.concat([u32be(0), u32be(1), u32be(5_000_000)]);
        constant.copy(b, box.start);
        const rest = box.end - (box.start + constant.length);
        b.writeUInt32BE(box.start - box.at + constant.length, box.at);
        b.writeUInt32BE(rest, box.start + constant.length);
        b.write("free", box.start + constant.length + 4, "latin1");
      }),
      "5,000,000 samples of 1 byte each (stsz)",
    );
    yield limit(
      "900000-frames-in-2-s.mp4",
      patched(mp4, [...STBL, "stts"], (b, box) => {
        b.writeUInt32BE(900_000, box.start + 8);
        b.writeUInt32BE(0, box.start + 12);
      }),
      "900,000 frames in the clip's 2 s (450,000 fps)",
    );
    yield limit(
      "mvhd-duration-49-days.mp4",
      patched(mp4, ["moov", "mvhd"], (b, box) => b.writeUInt32BE(0xfffffffe, box.start + 16)),
      "the movie header claims 2^32-2 ticks at 1000 per second (49 days)",
    );
    yield limit(
      "mdhd-duration-huge.mp4",
      patched(mp4, ["moov", "trak", "mdia", "mdhd"], (b, box) => b.writeUInt32BE(0xfffffffe, box.start + 16)),
      "the media header claims 2^32-2 ticks",
    );
    yield limit(
      "stsz-constant-4-billion.mp4",
      patched(mp4, [...STBL, "stsz"], (b, box) => {
        b.writeUInt32BE(1, box.start + 4);
        b.writeUInt32BE(0xffffffff, box.start + 8);
      }),
      "stsz claims 2^32-1 samples of a constant size",
    );
  }

  if (want("video-corrupt")) {
    yield video("video-corrupt", "valid.mp4", mp4, "hash", "PHM_VIDEO_DECODER_MISSING", {
      ...container,
      note: "the benign clip itself (2 s, 64x48, H.264)",
    });
    const flipped = (from, to, flips) => {
      const b = Buffer.from(mp4);
      for (let f = 0; f < flips; f++) b[from + Math.floor(rand() * (to - from))] ^= 1 << Math.floor(rand() * 8);
      return b;
    };
    for (let v = 0; v < (full ? 8 : 1); v++) {
      const flips = 1 + Math.floor(rand() * 16);
      yield video(
        "video-corrupt",
        `mdat-flip-${flips}-bits-${v}.mp4`,
        flipped(mdat.start, mdat.end, flips),
        "any",
        "PHM_VIDEO_DECODER_MISSING",
        { ...container, note: `${flips} bits flipped in the sample data (mdat)` },
      );
    }
    yield video(
      "video-corrupt",
      "stsz-size-zero-inside-stbl.mp4",
      patched(mp4, [...STBL, "stsz"], (b, box) => b.writeUInt32BE(0, box.at)),
      "error",
      "PHM_DECODE_CORRUPT",
      { ...container, note: 'a box of size 0 ("to the end") inside the sample table' },
    );
    yield video(
      "video-corrupt",
      "audio-only.mp4",
      patched(mp4, ["moov", "trak", "mdia", "hdlr"], (b, box) => b.write("soun", box.start + 8, "latin1")),
      "error",
      "PHM_DECODE_UNSUPPORTED",
      { ...container, note: "the only track's handler says sound: no video track" },
    );
    for (let v = 0; v < (full ? 8 : 0); v++) {
      const flips = 1 + Math.floor(rand() * 4);
      yield video(
        "video-corrupt",
        `moov-flip-${flips}-bits-${v}.mp4`,
        flipped(moov.start, moov.end, flips),
        "any",
        undefined,
        { ...container, note: `${flips} bits flipped in the movie box (moov)` },
      );
    }
    yield video(
      "video-corrupt",
      "box-of-4-bytes.mp4",
      patched(mp4, ["moov", "mvhd"], (b, box) => b.writeUInt32BE(4, box.at)),
      "error",
      "PHM_DECODE_CORRUPT",
      { ...container, note: "mvhd claims 4 bytes, less than a box header" },
    );
    yield video(
      "video-corrupt",
      "stsz-count-lies.mp4",
      patched(mp4, [...STBL, "stsz"], (b, box) => b.writeUInt32BE(4_000_000, box.start + 8)),
      "error",
      "PHM_DECODE_CORRUPT",
      { ...container, note: "stsz claims 4,000,000 entries in a 100-byte box" },
    );
    yield video(
      "video-corrupt",
      "stco-past-the-end.mp4",
      patched(mp4, [...STBL, "stco"], (b, box) => b.writeUInt32BE(0xfffff000, box.start + 8)),
      "error",
      "PHM_VIDEO_DECODER_MISSING",
      { ...container, note: "the chunk offset points 4 GB into a 4 KB file (the decoder finds no frame there)" },
    );
    yield video(
      "video-corrupt",
      "no-moov.mp4",
      Buffer.concat([mp4.subarray(0, moov.at), mp4.subarray(moov.end)]),
      "error",
      "PHM_DECODE_CORRUPT",
      { ...container, note: "ftyp and mdat, no movie box" },
    );
    // 20 udta boxes, each inside the one before, after the clip (the chunk offsets stay right).
    let nest = boxOf("free", Buffer.alloc(0));
    for (let d = 0; d < 20; d++) nest = boxOf("udta", nest);
    yield video("video-corrupt", "udta-nested-20-deep.mp4", Buffer.concat([mp4, nest]), "error", "PHM_DECODE_CORRUPT", {
      ...container,
      note: "user data boxes nested 20 deep after the clip",
    });
    if (full) {
      const freeBoxes = Buffer.alloc(200_000 * 8);
      for (let i = 0; i < 200_000; i++) {
        freeBoxes.writeUInt32BE(8, i * 8);
        freeBoxes.write("free", i * 8 + 4, "latin1");
      }
      yield video(
        "video-corrupt",
        "200000-free-boxes.mp4",
        Buffer.concat([mp4, freeBoxes]),
        "error",
        "PHM_DECODE_CORRUPT",
        { ...container, note: "the clip followed by 200,000 empty boxes" },
      );
    }
  }

  if (want("video-mislabelled")) {
    yield video("video-mislabelled", "png-as.mp4", bases.png, "hash", "hash", { note: "a PNG named .mp4" });
    yield video("video-mislabelled", "text.mp4", text(rand, 2000), "error", "PHM_DECODE_UNSUPPORTED", {
      codes: ["PHM_DECODE_UNSUPPORTED"],
      note: "plain text named .mp4",
    });
    // Matroska's EBML magic before the MP4's bytes: sniffed as Matroska, which ffprobe alone checks.
    yield video(
      "video-mislabelled",
      "mp4-behind-matroska-magic.mkv",
      Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x80, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81]), mp4]),
      "error",
      "PHM_VIDEO_DECODER_MISSING",
      { ...container, note: "an EBML header (Matroska magic), then the clip's MP4 bytes" },
    );
    yield video(
      "video-mislabelled",
      "heic-brand.mp4",
      patched(mp4, ["ftyp"], (b, box) => b.write("heic", box.start, "latin1")),
      "error",
      "PHM_DECODE_CORRUPT",
      { note: "the clip with an image brand (heic) in its ftyp: taken as a still image, which it is not" },
    );
    yield video("video-mislabelled", "jpeg-as.mov", bases.jpg, "hash", "hash", { note: "a JPEG named .mov" });
    yield video("video-mislabelled", "webp-as.m4v", bases["lossy.webp"], "hash", "hash", {
      note: "a WebP named .m4v",
    });
    yield video(
      "video-mislabelled",
      "mp4-behind-avi-magic.avi",
      Buffer.concat([Buffer.from("RIFF", "latin1"), u32le(mp4.length + 4), Buffer.from("AVI ", "latin1"), mp4]),
      "error",
      "PHM_VIDEO_DECODER_MISSING",
      { ...container, note: "a RIFF/AVI header, then the clip's MP4 bytes" },
    );
    yield video(
      "video-mislabelled",
      "hls-playlist.mp4",
      Buffer.from(`#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n${canaryUrl}/segment.ts\n#EXT-X-ENDLIST\n`),
      "error",
      "PHM_DECODE_UNSUPPORTED",
      { codes: ["PHM_DECODE_UNSUPPORTED"], note: "an HLS playlist naming the loopback canary, named .mp4" },
    );
    yield video(
      "video-mislabelled",
      "avif-brand.mp4",
      patched(mp4, ["ftyp"], (b, box) => b.write("avif", box.start, "latin1")),
      "error",
      "PHM_DECODE_CORRUPT",
      { note: "the clip with an image brand (avif) in its ftyp" },
    );
    yield video("video-mislabelled", "ftyp-only.mp4", mp4.subarray(0, moov.at), "error", "PHM_DECODE_CORRUPT", {
      ...container,
      note: "an ftyp box and nothing else",
    });
    yield video("video-mislabelled", "noise.mp4", noise(rand, 4096), "error", "PHM_DECODE_UNSUPPORTED", {
      note: "4 KB of noise named .mp4",
    });
  }

  if (want("video-endless")) {
    // The clip's ftyp and moov, then an mdat of size 0 ("to the end") in a stream that never ends: as a file, a
    // FIFO whose writer never stops (feedEndlessly); as an upload, a body that never ends (endlessBody).
    const head = Buffer.concat([
      mp4.subarray(0, mdat.at),
      u32be(0),
      Buffer.from("mdat", "latin1"),
      mp4.subarray(mdat.start),
    ]);
    yield video("video-endless", "endless.mp4", head, "error", "PHM_FILE_UNREADABLE", {
      codes: ["PHM_FILE_UNREADABLE", "PHM_FILE_TOO_LARGE", "BODY_TOO_LARGE"],
      endless: true,
      note: "a FIFO named .mp4 whose writer never stops: ftyp, moov, an mdat of size 0, endless bytes",
    });
    // The same mdat of size 0 in a file that ends: valid (the last box runs to the end of the file).
    yield video("video-endless", "mdat-to-end.mp4", head, "hash", "PHM_VIDEO_DECODER_MISSING", {
      ...container,
      note: "the clip with its mdat's size 0 (to the end of the file)",
    });
  }
}

/**
 * Feeds the FIFOs of `endless` inputs for ever: whenever a reader has one open, its head and then endless zeros are
 * written (non-blocking, at most 1 MiB per turn). Returns stop(). A reader that refuses FIFOs never sees a byte.
 */
export function feedEndlessly(inputs, paths) {
  const fifos = inputs.flatMap((input, i) =>
    input.endless ? [{ input, path: paths[i], fd: undefined, sent: 0 }] : [],
  );
  const zeros = Buffer.alloc(1024 * 1024);
  const timer = setInterval(() => {
    for (const f of fifos) {
      try {
        if (f.fd === undefined) {
          f.fd = openSync(f.path, constants.O_WRONLY | constants.O_NONBLOCK);
          f.sent = 0;
          f.opened = (f.opened ?? 0) + 1;
        }
        const chunk = f.sent < f.input.bytes.length ? f.input.bytes.subarray(f.sent) : zeros;
        f.sent += writeSync(f.fd, chunk);
      } catch (error) {
        // ENXIO: no reader yet; EAGAIN: the pipe is full; EPIPE: the reader went away (open again next turn).
        if (error.code === "EPIPE" && f.fd !== undefined) {
          closeSync(f.fd);
          f.fd = undefined;
        }
      }
    }
  }, 20);
  return {
    /** Readers that opened a FIFO (a reader that refuses FIFOs at open leaves 0 or a brief one). */
    opens: () => fifos.reduce((a, f) => a + (f.opened ?? 0), 0),
    stop() {
      clearInterval(timer);
      for (const f of fifos) if (f.fd !== undefined) closeSync(f.fd);
    },
  };
}

/** An upload body that never ends: the input's bytes, then zeros for ever (a web ReadableStream). */
export function endlessBody(input) {
  let sent = false;
  const zeros = new Uint8Array(64 * 1024);
  return new ReadableStream({
    pull(controller) {
      controller.enqueue(sent ? zeros : input.bytes);
      sent = true;
    },
  });
}

/**
 * Whether an answer honours an input's expectation: `answer` is "hash" or the error code phmatch gave. Only
 * decode and file errors count as typed answers to a bad file; a worker death (PHM_WORKER_*) or PHM_INTERNAL
 * is a failure unless the input lists it.
 */
export function meetsExpectation(input, answer, { decodesVideo = false } = {}) {
  if (answer === "hash") return input.expect !== "error";
  if (input.codes?.includes(answer)) return true;
  // A video container on an interface that does not decode video (yet) is refused as no image: typed, and right
  // there. `decodesVideo` (an interface known to decode video, FFmpeg present) holds it to its own answer.
  if (!decodesVideo && input.videoOff?.includes(answer)) return true;
  if (input.expect === "hash" || input.codes !== undefined) return false;
  return (input.kind.startsWith("video-") ? /^PHM_(DECODE|FILE|VIDEO)_/ : /^PHM_(DECODE|FILE)_/).test(answer);
}

/** The whole corpus as an array (it fits in memory: tens of MB for "full"). */
export async function hostileCorpus(options = {}) {
  const out = [];
  for await (const input of hostileInputs(options)) out.push(input);
  return out;
}

/**
 * Writes inputs into `dir` (which the caller made, e.g. with mkdtemp, and removes): one file each, by name; an
 * `endless` input becomes a FIFO there, for feedEndlessly to feed.
 */
export function writeCorpus(dir, inputs) {
  const paths = [];
  for (const input of inputs) {
    const kindDir = join(dir, input.kind);
    mkdirSync(kindDir, { recursive: true });
    const path = join(kindDir, input.name);
    // An endless input is a FIFO (feedEndlessly writes to it for ever).
    if (input.endless) execFileSync("mkfifo", [path]);
    else writeFileSync(path, input.bytes);
    paths.push(path);
  }
  return paths;
}

// A progressive JPEG with its last scan repeated `times` times before EOI: each pass walks every block again.
function jpegManyScans(jpeg, times) {
  const sos = [];
  for (let p = 2; p < jpeg.length - 1; p++) if (jpeg[p] === 0xff && jpeg[p + 1] === 0xda) sos.push(p);
  const last = sos[sos.length - 1];
  const end = jpeg.length - 2; // before EOI
  const scan = jpeg.subarray(last, end);
  return Buffer.concat([jpeg.subarray(0, end), ...Array.from({ length: times }, () => scan), jpeg.subarray(end)]);
}

function bmpFile(width, height) {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const pixels = Buffer.alloc(rowBytes * height, 0x60);
  const header = Buffer.alloc(54);
  header.write("BM", 0, "latin1");
  header.writeUInt32LE(54 + pixels.length, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(width, 18);
  header.writeInt32LE(height, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  header.writeUInt32LE(pixels.length, 34);
  return Buffer.concat([header, pixels]);
}

// What a JPEG or WebP decoder must hold for the whole image, however far it scales its output. Decoding at
// reduced size (libjpeg's 1/2-1/8 DCT scaling, libwebp's scaling) bounds the memory of the output, not of what the
// decoder keeps while it reads: measured with libvips 8.18 on 100 MP one-colour files, a baseline JPEG shrunk 1/8
// held 8 MB and a lossy WebP 13 MB, but a progressive JPEG 290 MB (4:2:0) or 580 MB (4:4:4), a lossless WebP 4
// bytes a pixel (247 MB for a 28 KB 64 MP gradient) and a lossy WebP with alpha 115 MB. Read from the header bytes
// only, in JavaScript: nothing here decodes, and a malformed header gives undefined (the caller refuses).

/**
 * The declared size and the bytes the decoder holds for the whole image whatever its scaling (0: it decodes in
 * strips).
 */
export interface DecoderMemory {
  width: number;
  height: number;
  /** Bytes held for the whole image at any scale. */
  heldBytes: number;
  /**
   * The fewest bytes a file of this kind can have for the size it declares; a shorter one declares more than it
   * holds (libjpeg would fill the rest with grey, and the hash would be of the fill).
   */
  minBytes: number;
  /** What it is, for messages: e.g. "a progressive JPEG", "a lossless WebP". */
  kind: string;
}

/**
 * The whole-image memory of a JPEG or WebP decode, from its header; undefined for another format or a header not
 * understood.
 */
export function decoderMemory(bytes: Uint8Array, format: string): DecoderMemory | undefined {
  if (format === "jpeg") return jpegMemory(bytes);
  if (format === "webp") return webpMemory(bytes);
  return undefined;
}

const u16be = (b: Uint8Array, at: number) => ((b[at] as number) << 8) | (b[at + 1] as number);
const u16le = (b: Uint8Array, at: number) => (b[at] as number) | ((b[at + 1] as number) << 8);
const u24le = (b: Uint8Array, at: number) => u16le(b, at) | ((b[at + 2] as number) << 16);
const u32le = (b: Uint8Array, at: number) => u24le(b, at) + (b[at + 3] as number) * 2 ** 24;
const ascii = (b: Uint8Array, at: number, length: number) => String.fromCharCode(...b.subarray(at, at + length));

// Frame types read here: Huffman-coded baseline and extended sequential (SOF0, SOF1) and progressive (SOF2).
// Arithmetic-coded, lossless and hierarchical frames give undefined: a Huffman code is at least one bit, which bounds
// how short a file of a given size can be (see minBytes); arithmetic coding has no such floor.
const SEQUENTIAL = new Set([0xc0, 0xc1]);
const PROGRESSIVE = new Set([0xc2]);

// JPEG (ITU T.81 B.2): the markers up to the first scan. A single scan holding every component (interleaved,
// sequential) is decoded a row of MCUs at a time; anything else (progressive, or components in separate scans)
// makes libjpeg buffer every DCT coefficient of the image, 2 bytes each, before it outputs a row.
function jpegMemory(b: Uint8Array): DecoderMemory | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let frame: { marker: number; width: number; height: number; sampling: [number, number][] } | undefined;
  for (let p = 2; p < b.length; ) {
    if (b[p] !== 0xff) return undefined;
    while (b[p] === 0xff) p++; // fill bytes
    const marker = b[p++] as number;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue; // no length
    if (marker === 0xd9 || p + 2 > b.length) return undefined;
    const length = u16be(b, p);
    if (length < 2 || p + length > b.length) return undefined;
    const at = p + 2;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (frame !== undefined || length < 8) return undefined; // a second frame: hierarchical
      const components = b[at + 5] as number;
      if (components === 0 || length < 8 + components * 3) return undefined;
      const sampling: [number, number][] = [];
      for (let i = 0; i < components; i++) {
        const hv = b[at + 6 + i * 3 + 1] as number;
        if (hv >> 4 === 0 || (hv & 15) === 0) return undefined;
        sampling.push([hv >> 4, hv & 15]);
      }
      frame = { marker, height: u16be(b, at + 1), width: u16be(b, at + 3), sampling };
    } else if (marker === 0xda) {
      // A height of 0 is given later by a DNL marker: not known from the header, so not trusted.
      if (frame === undefined || frame.width === 0 || frame.height === 0) return undefined;
      const { marker: sof, width, height, sampling } = frame;
      if (!SEQUENTIAL.has(sof) && !PROGRESSIVE.has(sof)) return undefined;
      const inFirstScan = b[at] as number;
      const progressive = PROGRESSIVE.has(sof);
      const hMax = Math.max(...sampling.map(([h]) => h));
      const vMax = Math.max(...sampling.map(([, v]) => v));
      // Every block of every component is coded at least once: sequentially by a DC code and an end-of-block code,
      // progressively by a DC code in its first DC scan; a Huffman code is at least 1 bit. (Blocks counted without
      // MCU padding, so this is a floor.)
      const coded = sampling.reduce(
        (sum, [h, v]) =>
          sum + Math.ceil(Math.ceil((width * h) / hMax) / 8) * Math.ceil(Math.ceil((height * v) / vMax) / 8),
        0,
      );
      const minBytes = Math.ceil((coded * (progressive ? 1 : 2)) / 8);
      if (!progressive && inFirstScan === sampling.length)
        return { width, height, heldBytes: 0, minBytes, kind: "a sequential JPEG" };
      // Blocks per component, rounded up to whole MCUs as libjpeg allocates them; 64 coefficients of 2 bytes.
      const blocks = sampling.reduce(
        (sum, [h, v]) => sum + Math.ceil(width / (8 * hMax)) * h * Math.ceil(height / (8 * vMax)) * v,
        0,
      );
      return {
        width,
        height,
        heldBytes: blocks * 128,
        minBytes,
        kind: progressive ? "a progressive JPEG" : "a JPEG whose components come in separate scans",
      };
    }
    p += length;
  }
  return undefined;
}

// WebP (RFC 9649): libwebp refuses a frame its data does not fill (minBytes 0: nothing to add). A lossy frame
// (VP8) is decoded a row of macroblocks at a time and scaled as it goes; a lossless
// one (VP8L) may refer back to any pixel already decoded, so libwebp keeps the whole image as 32-bit ARGB; an alpha
// plane (ALPH, beside a lossy frame) is kept whole too, and when it is itself compressed losslessly, once more.
// An animation is composed on a full canvas frame by frame: not scaled here, undefined.
function webpMemory(b: Uint8Array): DecoderMemory | undefined {
  if (b.length < 30 || ascii(b, 0, 4) !== "RIFF" || ascii(b, 8, 4) !== "WEBP") return undefined;
  const end = Math.min(b.length, 8 + u32le(b, 4));
  let canvas: { width: number; height: number } | undefined;
  let alpha = false;
  for (let p = 12; p + 8 <= end; ) {
    const type = ascii(b, p, 4);
    const size = u32le(b, p + 4);
    const at = p + 8;
    if (at + size > end) return undefined;
    if (type === "VP8X") {
      if (p !== 12 || size < 10) return undefined;
      if (((b[at] as number) & 0x02) !== 0) return undefined; // animation
      canvas = { width: u24le(b, at + 4) + 1, height: u24le(b, at + 7) + 1 };
    } else if (type === "ALPH") {
      alpha = true;
    } else if (type === "VP8 ") {
      // Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height (2 bits of upscaling each).
      if (size < 10 || b[at + 3] !== 0x9d || b[at + 4] !== 0x01 || b[at + 5] !== 0x2a) return undefined;
      const width = u16le(b, at + 6) & 0x3fff;
      const height = u16le(b, at + 8) & 0x3fff;
      if (canvas !== undefined && (canvas.width !== width || canvas.height !== height)) return undefined;
      return alpha
        ? { width, height, heldBytes: width * height * 2, minBytes: 0, kind: "a lossy WebP with alpha" }
        : { width, height, heldBytes: 0, minBytes: 0, kind: "a lossy WebP" };
    } else if (type === "VP8L") {
      // Signature 0x2f, then width - 1 and height - 1 in 14 bits each, least significant bit first.
      if (size < 5 || b[at] !== 0x2f) return undefined;
      const bits = u32le(b, at + 1);
      const width = (bits & 0x3fff) + 1;
      const height = ((bits >>> 14) & 0x3fff) + 1;
      if (canvas !== undefined && (canvas.width !== width || canvas.height !== height)) return undefined;
      return { width, height, heldBytes: width * height * 4, minBytes: 0, kind: "a lossless WebP" };
    } else if (canvas === undefined) {
      return undefined; // a simple file starts with its frame
    }
    p = at + size + (size & 1);
  }
  return undefined;
}

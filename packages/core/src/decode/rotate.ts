import type { Pixels } from "./pixels.js";
import { loadSharp } from "./sharp.js";
import { unrotatedSize } from "./trim.js";

/**
 * Longer side of the reduced copy that the extra query views (rotation hypotheses, parts) are hashed from: PDQ
 * and pHash look at 64 px anyway, and at 256 px a side each extra view costs a fraction of a millisecond.
 */
export const REDUCED_SIDE = 256;

/**
 * A copy of already-decoded (trusted) pixels at most `maxSide` px a side (libvips: about a quarter of the CPU
 * time of the same box filter in JS on a 2 MP image). Returns the pixels themselves when they are small enough.
 */
export async function reducePixels(pixels: Pixels, maxSide = REDUCED_SIDE): Promise<Pixels> {
  const scale = Math.min(1, maxSide / Math.max(pixels.width, pixels.height));
  if (scale === 1) return pixels;
  const w = Math.max(1, Math.round(pixels.width * scale));
  const h = Math.max(1, Math.round(pixels.height * scale));
  const raw = { width: pixels.width, height: pixels.height, channels: pixels.channels } as const;
  const out = await loadSharp()(pixels.data, { raw })
    .resize(w, h, { fit: "fill", kernel: "lanczos3" })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return {
    width: out.info.width,
    height: out.info.height,
    channels: out.info.channels as Pixels["channels"],
    data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length),
  };
}

/**
 * The grey (luma) of pixels, by Pillow's convert("L") (what pHash takes; PDQ's float luma differs by at most one
 * level): the extra query views are turned and cut from it, one sample a pixel instead of three. Alpha is ignored.
 */
export function greyPixels(p: Pixels): Pixels {
  if (p.channels === 1) return p;
  const n = p.width * p.height;
  const out = new Uint8Array(n);
  const src = p.data;
  const ch = p.channels;
  if (ch === 2) for (let i = 0; i < n; i++) out[i] = src[i * 2] as number;
  else
    for (let i = 0, o = 0; i < n; i++, o += ch)
      out[i] =
        ((src[o] as number) * 19595 + (src[o + 1] as number) * 38470 + (src[o + 2] as number) * 7471 + 0x8000) >> 16;
  return { width: p.width, height: p.height, channels: 1, data: out };
}

/**
 * The pixels a small rotation would have come from: grey `small` (from reducePixels and greyPixels) turned back
 * by `degrees` (the angle the query is supposed to have been turned by, clockwise positive, as sharp's rotate)
 * with bilinear sampling in JS (eight turns of a 256 px grey copy cost less than one trip through libvips), cut
 * to the centre the unturned image would fill (what lies outside the query is white). Undefined when the image is
 * too small for that angle.
 */
export function turnBack(small: Pixels, degrees: number): Pixels | undefined {
  const size = unrotatedSize(small.width, small.height, degrees);
  if (size === undefined) return undefined;
  const grey = greyPixels(small);
  const { width: W, height: H, data: src } = grey;
  const { width: w, height: h } = size;
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const out = new Uint8Array(w * h).fill(255);
  // Output pixel (x, y) around the centre is where the query holds it after the turn: rotated by +degrees.
  const cxOut = (w - 1) / 2;
  const cyOut = (h - 1) / 2;
  const cxIn = (W - 1) / 2;
  const cyIn = (H - 1) / 2;
  for (let y = 0; y < h; y++) {
    const dy = y - cyOut;
    let sx = cxIn - cxOut * cos - dy * sin;
    let sy = cyIn - cxOut * sin + dy * cos;
    for (let x = 0, o = y * w; x < w; x++, o++, sx += cos, sy += sin) {
      if (sx < 0 || sy < 0 || sx >= W - 1 || sy >= H - 1) continue;
      const x0 = sx | 0;
      const y0 = sy | 0;
      const fx = sx - x0;
      const fy = sy - y0;
      const a = y0 * W + x0;
      const p00 = src[a] as number;
      const p01 = src[a + 1] as number;
      const p10 = src[a + W] as number;
      const p11 = src[a + W + 1] as number;
      const top = p00 + (p01 - p00) * fx;
      const bottom = p10 + (p11 - p10) * fx;
      out[o] = (top + (bottom - top) * fy + 0.5) | 0;
    }
  }
  return { width: w, height: h, channels: 1, data: out };
}

import sharp from "sharp";
import type { Pixels } from "./pixels.js";
import { cropPixels, unrotatedSize } from "./trim.js";

/** Longer side of the copy rotation hypotheses are computed on (PDQ and pHash work on 64 px anyway). */
const HYPOTHESIS_SIDE = 256;

/** A copy of already-decoded (trusted) pixels at most 256 px a side, for {@link turnBack}. */
export async function reduceForHypotheses(pixels: Pixels): Promise<Pixels> {
  const scale = Math.min(1, HYPOTHESIS_SIDE / Math.max(pixels.width, pixels.height));
  if (scale === 1) return pixels;
  const w = Math.max(1, Math.round(pixels.width * scale));
  const h = Math.max(1, Math.round(pixels.height * scale));
  const raw = { width: pixels.width, height: pixels.height, channels: pixels.channels } as const;
  const out = await sharp(pixels.data, { raw }).resize(w, h, { fit: "fill", kernel: "lanczos3" }).raw().toBuffer({ resolveWithObject: true });
  return { width: out.info.width, height: out.info.height, channels: out.info.channels as Pixels["channels"], data: new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.length) };
}

/**
 * The pixels a small rotation would have come from: `small` (from reduceForHypotheses) turned back by `degrees` on
 * a white canvas, and cut to the centre the unturned image would fill. Undefined when the image is too small for
 * that angle.
 */
export async function turnBack(small: Pixels, degrees: number): Promise<Pixels | undefined> {
  const size = unrotatedSize(small.width, small.height, degrees);
  if (size === undefined) return undefined;
  const turned = await sharp(small.data, { raw: { width: small.width, height: small.height, channels: small.channels } })
    .rotate(-degrees, { background: { r: 255, g: 255, b: 255, alpha: 1 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const left = Math.max(0, Math.round((turned.info.width - size.width) / 2));
  const top = Math.max(0, Math.round((turned.info.height - size.height) / 2));
  const width = Math.min(size.width, turned.info.width - left);
  const height = Math.min(size.height, turned.info.height - top);
  const whole: Pixels = { width: turned.info.width, height: turned.info.height, channels: turned.info.channels as Pixels["channels"], data: new Uint8Array(turned.data.buffer, turned.data.byteOffset, turned.data.length) };
  return cropPixels(whole, { left, top, width, height });
}

import { bmvbhash } from "blockhash-core";
import type { Pixels } from "../decode/pixels.js";
import { registerHasher } from "./registry.js";

// blockhash through blockhash-core itself (plain JavaScript, the same code in Node and browsers): RGBA in,
// fully transparent pixels count as white. Its faults are guarded here: the grid is always even (an odd grid
// prints "NaN"), and an image smaller than the grid is first enlarged by an integer factor (nearest
// neighbour), since its fractional block weights assume blocks at least one pixel wide.
registerHasher({
  id: "blockhash",
  bits: 256,
  input: "pixels",
  defaultThreshold: 32,
  description: "blockhash (blockhash-core bmvbhash), grid 16",
});
registerHasher({
  id: "blockhash8",
  bits: 64,
  input: "pixels",
  defaultThreshold: 7,
  description: "blockhash (blockhash-core bmvbhash), grid 8",
});

/** blockhash of decoded pixels with a 16 (256-bit) or 8 (64-bit) grid. */
export function blockhash(pixels: Pixels, grid: 8 | 16 = 16): Uint8Array {
  return blockhashes(pixels, [grid])[0] as Uint8Array;
}

/** blockhash at several grids, converting the pixels to RGBA once. */
export function blockhashes(pixels: Pixels, grids: readonly (8 | 16)[]): Uint8Array[] {
  const rgba = toRgba(pixels);
  return grids.map((grid) => new Uint8Array(Buffer.from(bmvbhash(enlargeToGrid(rgba, grid), grid), "hex")));
}

interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

function toRgba(pixels: Pixels): Rgba {
  const { width, height, channels, data } = pixels;
  if (channels === 4) return { width, height, data };
  const n = width * height;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    const p = i * channels;
    const o = i * 4;
    if (channels >= 3) {
      out[o] = data[p] as number;
      out[o + 1] = data[p + 1] as number;
      out[o + 2] = data[p + 2] as number;
    } else {
      out[o] = out[o + 1] = out[o + 2] = data[p] as number;
    }
    out[o + 3] = channels === 2 ? (data[p + 1] as number) : 255;
  }
  return { width, height, data: out };
}

function enlargeToGrid(image: Rgba, grid: number): Rgba {
  const factor = Math.ceil(grid / Math.min(image.width, image.height));
  if (factor <= 1) return image;
  const width = image.width * factor;
  const height = image.height * factor;
  const data = new Uint8Array(width * height * 4);
  const src = new Uint32Array(image.data.buffer, image.data.byteOffset, image.width * image.height);
  const dst = new Uint32Array(data.buffer);
  for (let y = 0; y < height; y++) {
    const row = Math.floor(y / factor) * image.width;
    for (let x = 0; x < width; x++) dst[y * width + x] = src[row + Math.floor(x / factor)] as number;
  }
  return { width, height, data };
}

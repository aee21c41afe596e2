// Benign photo-like test images for benchmarks, generated in memory and never written to disk: noise at four
// scales, upsampled and summed, plus fine grain; JPEG q85 4:2:0 as cameras write. Deterministic per seed.
import sharp from "sharp";
import { seededRandom } from "./seeded-random.mjs";

/** A width x height photo-like JPEG (Buffer) for `seed`. */
export async function photoLikeJpeg(seed, width, height) {
  const next = seededRandom(seed);
  const rand = () => next() / 4294967296;
  const sum = new Float32Array(width * height * 3);
  for (const [cell, weight] of [
    [192, 0.45],
    [48, 0.3],
    [12, 0.17],
    [3, 0.08],
  ]) {
    const gw = Math.ceil(width / cell) + 1;
    const gh = Math.ceil(height / cell) + 1;
    const grid = Buffer.alloc(gw * gh * 3);
    for (let i = 0; i < grid.length; i++) grid[i] = Math.floor(rand() * 256);
    const up = await sharp(grid, { raw: { width: gw, height: gh, channels: 3 } })
      .resize(width, height, { kernel: "cubic", fit: "fill" })
      .raw()
      .toBuffer();
    for (let i = 0; i < sum.length; i++) sum[i] += weight * up[i];
  }
  const pixels = Buffer.alloc(sum.length);
  for (let i = 0; i < sum.length; i++) pixels[i] = Math.max(0, Math.min(255, Math.round(sum[i] + (rand() - 0.5) * 12)));
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

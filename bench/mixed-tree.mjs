// A tree of benign JPEGs of mixed sizes for the scan benchmarks (bench/scan, bench/distributed), written to a
// directory the caller creates and removes: every file a random crop (1300x1000) of one of `bases`, resized to
// 200-1600 px wide at a random aspect ratio and JPEG quality 70-94, 500 files a sub-directory.
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";

/** Writes `count` files under `dir` (d0/img0.jpg, ...), four at a time; returns their total size in bytes. */
export async function writeMixedJpegs(dir, count, bases, rand) {
  let bytes = 0;
  const write = async (i) => {
    const sub = join(dir, `d${Math.floor(i / 500)}`);
    mkdirSync(sub, { recursive: true });
    const w = 200 + (rand() % 1400);
    const h = Math.round(w * (0.6 + (rand() % 60) / 100));
    const file = join(sub, `img${i}.jpg`);
    await sharp(bases[i % bases.length])
      .extract({ left: rand() % 200, top: rand() % 150, width: 1300, height: 1000 })
      .resize(w, h, { fit: "fill" })
      .jpeg({ quality: 70 + (rand() % 25) })
      .toFile(file);
    bytes += statSync(file).size;
  };
  for (let i = 0; i < count; i += 4)
    await Promise.all([0, 1, 2, 3].filter((k) => i + k < count).map((k) => write(i + k)));
  return bytes;
}

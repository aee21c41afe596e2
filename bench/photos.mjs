// Real photographs for the benchmarks: benign JPEG wallpapers from Debian packages (the robustness corpus's
// packages, fetched once with `apt-get download`, nothing committed), colour sources with at least 1600 px on their
// long side and some detail (entropy >= 6), near-duplicates (one wallpaper at two sizes) dropped by PDQ distance,
// each scaled to about 2.1 MP and written once as a baseline JPEG of quality 90 into bench/.cache/photos-<n>/ with
// a manifest naming its source. Both phmatch and the reference read these same files.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { hammingDistance, hashImageBytes } from "@phmatch/core";
import sharp from "sharp";
import { candidates, fetchPackages } from "./robustness/corpus.mjs";

const TARGET_PIXELS = 2.1e6;
const MIN_LONG_SIDE = 1600;
const MIN_ENTROPY = 6;
const NEAR_DUPLICATE_BITS = 48;

/** Paths of `count` real photographs (JPEG, about 2.1 MP each), made once and cached. */
export async function realPhotos(count, log) {
  const dir = new URL(`./.cache/photos-${count}/`, import.meta.url).pathname;
  const manifestPath = join(dir, "manifest.json");
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    return manifest.photos.map((p) => ({ ...p, path: join(dir, p.file) }));
  }
  const root = fetchPackages(log);
  const photos = [];
  const seen = [];
  for (const source of candidates(root)) {
    if (!/\.jpe?g$/i.test(source)) continue;
    const meta = await sharp(source)
      .metadata()
      .catch(() => undefined);
    if (meta === undefined || (meta.channels ?? 0) < 3 || Math.max(meta.width, meta.height) < MIN_LONG_SIDE) continue;
    const { entropy } = await sharp(source).stats();
    if (entropy < MIN_ENTROPY) continue;
    const thumb = await sharp(source).resize(512, 512, { fit: "fill" }).png().toBuffer();
    const pdq = Buffer.from((await hashImageBytes(thumb, source, { algorithms: ["pdq"] })).hashes.pdq, "hex");
    if (seen.some((other) => hammingDistance(other, pdq) <= NEAR_DUPLICATE_BITS)) continue;
    seen.push(pdq);
    const scale = Math.min(1, Math.sqrt(TARGET_PIXELS / (meta.width * meta.height)));
    const width = Math.round(meta.width * scale);
    const height = Math.round(meta.height * scale);
    const jpeg = await sharp(source).resize(width, height).jpeg({ quality: 90 }).toBuffer();
    const file = `photo-${String(photos.length).padStart(2, "0")}.jpg`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, file), jpeg);
    photos.push({ file, source: relative(root, source), width, height, bytes: jpeg.length });
    if (photos.length === count) break;
  }
  if (photos.length < count) throw new Error(`only ${photos.length} photographs found, ${count} asked`);
  writeFileSync(manifestPath, JSON.stringify({ photos }, null, 1));
  log(`photographs: ${count} Debian wallpapers scaled to ~2.1 MP JPEGs in ${relative(process.cwd(), dir)}`);
  return photos.map((p) => ({ ...p, path: join(dir, p.file) }));
}

// How far apart a crop's PDQ and a list window's PDQ are when the window is not exactly the crop (issue 19): the
// window shifted by 0..5% of the image's side, larger or smaller by 0..5% of the side, and for a one-sided cut, a
// side-anchored window keeping a little more or less than the cut left. Measured on the tune set's known tiles only
// (the report set is never tuned on), as PNG, so the numbers are the geometry's alone. The distances say how
// densely list windows must be placed for a crop anywhere to fall within the matcher's d <= 31 of one of them.
// Usage: node bench/robustness/window-sensitivity.mjs [--known 80]
import { parseArgs } from "node:util";
import { hammingDistance, hashImageBytes } from "@phmatch/core";
import sharp from "sharp";
import { buildCorpus } from "./corpus.mjs";
import { setOf } from "./reposts-bench.mjs";
import { SIZE } from "./transforms.mjs";

sharp.cache(false);
const { values } = parseArgs({ options: { known: { type: "string" } } });
const limit = Number(values.known ?? 80);
const log = (line) => process.stderr.write(`${line}\n`);
const hexToBytes = (hex) => new Uint8Array(Buffer.from(hex, "hex"));
const STEPS = [0, 0.01, 0.02, 0.03, 0.04, 0.05];
const THRESHOLD = 31;

// PDQ, and the 256-bit pHash an augmented list also holds (its default threshold is 32).
const PHASH16_THRESHOLD = 32;
const hashesOf = async (png) => (await hashImageBytes(png, "window.png", { algorithms: ["pdq", "phash16"] })).hashes;
// A box of shares of the side, [left, top, width, height], in pixels of a SIZE x SIZE tile.
const pixels = (box) => {
  const [left, top, width, height] = box.map((v) => Math.round(v * SIZE));
  return { left, top, width: Math.min(width, SIZE - left), height: Math.min(height, SIZE - top) };
};
const cut = async (png, box) => hashesOf(await sharp(png).extract(pixels(box)).png().toBuffer());

const tiles = [];
for (const k of (await buildCorpus(log)).known.filter((t) => setOf(t.id) === "tune")) {
  if (tiles.length >= limit) break;
  const r = await hashImageBytes(k.png, k.id, { algorithms: ["pdq"] });
  if ((r.quality?.pdq ?? 0) >= 50) tiles.push(k.png); // as the list would hold them
}
log(`window sensitivity: ${tiles.length} tune-set known tiles of PDQ quality >= 50`);

// Each study: a name, the crop's box and the window's box for one step, both as shares of the side.
const centred = (side) => (1 - side) / 2;
const STUDIES = [
  ...[0.8, 0.9].map((side) => ({
    name: `crop keeping ${side * 100}% of each side, window shifted across`,
    crop: () => [centred(side), centred(side), side, side],
    window: (step) => [centred(side) + step, centred(side), side, side],
  })),
  ...[0.8, 0.9].map((side) => ({
    name: `crop keeping ${side * 100}% of each side, window shifted diagonally`,
    crop: () => [centred(side), centred(side), side, side],
    window: (step) => [centred(side) + step, centred(side) + step, side, side],
  })),
  ...[0.8, 0.9].map((side) => ({
    name: `crop keeping ${side * 100}% of each side, window larger, same centre`,
    crop: () => [centred(side), centred(side), side, side],
    window: (step) => [centred(side + step), centred(side + step), side + step, side + step],
  })),
  ...[0.8, 0.9].map((side) => ({
    name: `crop keeping ${side * 100}% of each side at the top-left corner, window larger, same corner`,
    crop: () => [0, 0, side, side],
    window: (step) => [0, 0, side + step, side + step],
  })),
  ...[0.8, 0.9].map((side) => ({
    name: `crop keeping ${side * 100}% of each side at the top-left corner, window smaller, same corner`,
    crop: () => [0, 0, side, side],
    window: (step) => [0, 0, side - step, side - step],
  })),
  {
    name: "cut 15% of the width from the left, window keeping 85% + step, right-anchored",
    crop: () => [0.15, 0, 0.85, 1],
    window: (step) => [0.15 - step, 0, 0.85 + step, 1],
  },
  {
    name: "cut 15% of the width from the left, window keeping 85% - step, right-anchored",
    crop: () => [0.15, 0, 0.85, 1],
    window: (step) => [0.15 + step, 0, 0.85 - step, 1],
  },
];

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
console.log(`\n## PDQ distance between a crop and a list window that is not exactly the crop\n`);
console.log(`${tiles.length} tune-set known tiles (${SIZE}x${SIZE}, PNG); steps are shares of the image's side.\n`);
for (const study of STUDIES) {
  console.log(`### ${study.name}\n`);
  console.log(
    `| step | PDQ p50 | p90 | p95 | max | PDQ within d <= ${THRESHOLD} | ` +
      `256-bit pHash p50 | p90 | within d <= ${PHASH16_THRESHOLD} |`,
  );
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  const crops = await Promise.all(tiles.map((png) => cut(png, study.crop())));
  for (const step of STEPS) {
    const distances = [];
    const phash = [];
    for (const [i, png] of tiles.entries()) {
      const window = await cut(png, study.window(step));
      distances.push(hammingDistance(hexToBytes(crops[i].pdq), hexToBytes(window.pdq)));
      phash.push(hammingDistance(hexToBytes(crops[i].phash16), hexToBytes(window.phash16)));
    }
    distances.sort((a, b) => a - b);
    phash.sort((a, b) => a - b);
    const share = (list, t) => `${((100 * list.filter((d) => d <= t).length) / list.length).toFixed(1)}%`;
    console.log(
      `| ${(step * 100).toFixed(0)}% | ${percentile(distances, 0.5)} | ${percentile(distances, 0.9)} | ` +
        `${percentile(distances, 0.95)} | ${distances.at(-1)} | ${share(distances, THRESHOLD)} | ` +
        `${percentile(phash, 0.5)} | ${percentile(phash, 0.9)} | ${share(phash, PHASH16_THRESHOLD)} |`,
    );
  }
  console.log();
}

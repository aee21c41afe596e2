// Provisional match thresholds for the 64-bit hashes (phash, dhash, ahash, whash, blockhash8), measured on benign
// photographs: the conformance photos in ../shared (distinct images: negatives, every pair) and mild edits of each
// (JPEG q70, half size, double size, a slight blur: positives). A threshold below the closest distinct pair and
// above the farthest mild edit keeps both; the robustness benchmark revisits this on a larger corpus.
// Usage: npm run bench:policy
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { hammingDistance, hashImageBytes, hexToBytes } from "@phmatch/core";
import sharp from "sharp";

const shared = new URL("../../../shared/conformance/", import.meta.url).pathname;
if (!existsSync(shared)) {
  console.error(`no ${shared}: this measurement needs the shared conformance photos`);
  process.exit(0);
}
// Distinct photographs only (not the bridge edits, the rotated copies or the mode variants of one photo).
const files = [
  ...readdirSync(join(shared, "pdq/upstream-data/reg-test-input/labelme-subset")).map((f) =>
    join(shared, "pdq/upstream-data/reg-test-input/labelme-subset", f),
  ),
  join(shared, "pdq/upstream-data/bridge-mods/aaa-orig.jpg"),
  join(shared, "pdq/upstream-data/reg-test-input/exif-rotn/exif-rotn-1.jpg"),
  join(shared, "pdq/upstream-data/reg-test-input/pen-and-coaster.png"),
  join(shared, "pdq/upstream-data/misc-images/c.png"),
  join(shared, "pdq/pte-resources/rgb.jpeg"),
  ...readdirSync(join(shared, "imagehash/images"))
    .filter((f) => /^(p|j|s)\d/.test(f) && f !== "p06.jpg")
    .map((f) => join(shared, "imagehash/images", f)),
];
const ALGORITHMS = ["phash", "dhash", "ahash", "whash", "blockhash8", "pdq"];
const edits = {
  jpeg70: (s) => s.jpeg({ quality: 70 }),
  half: (s, m) => s.resize(Math.round(m.width / 2)).png(),
  double: (s, m) => s.resize(Math.round(m.width * 2)).png(),
  blur: (s) => s.blur(1.2).png(),
};

const hashes = [];
const positives = Object.fromEntries(ALGORITHMS.map((a) => [a, []]));
for (const file of files) {
  const bytes = await sharp(file).png().toBuffer();
  const original = await hashImageBytes(bytes, file, { algorithms: ALGORITHMS });
  if (original.error !== undefined || (original.quality?.pdq ?? 0) < 50) continue;
  // The same picture re-encoded (the imagehash set has JPEG and PNG copies) is not a distinct pair.
  if (hashes.some((h) => distance(h.hashes.pdq, original.hashes.pdq) <= 31)) continue;
  hashes.push(original);
  const meta = await sharp(bytes).metadata();
  for (const [name, edit] of Object.entries(edits)) {
    const edited = await hashImageBytes(await edit(sharp(bytes), meta).toBuffer(), file, { algorithms: ALGORITHMS });
    for (const a of ALGORITHMS)
      positives[a].push({
        d: distance(original.hashes[a], edited.hashes[a]),
        what: `${file.split("/").pop()} ${name}`,
      });
  }
}
function distance(x, y) {
  return hammingDistance(hexToBytes(x, x.length / 2), hexToBytes(y, y.length / 2));
}
console.log(
  `\n${hashes.length} distinct photographs (quality >= 50), ${hashes.length * Object.keys(edits).length} mild ` +
    `edits, ${(hashes.length * (hashes.length - 1)) / 2} distinct pairs\n`,
);
console.log(
  "| algorithm | bits | farthest mild edit | 95th percentile edit | closest distinct pair | 1st percentile pair | " +
    "threshold between them |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|");
for (const a of ALGORITHMS) {
  const negatives = [];
  for (let i = 0; i < hashes.length; i++)
    for (let j = i + 1; j < hashes.length; j++) negatives.push(distance(hashes[i].hashes[a], hashes[j].hashes[a]));
  const pos = positives[a].map((p) => p.d).sort((x, y) => x - y);
  const far = positives[a].reduce((m, p) => (p.d > m.d ? p : m));
  const neg = negatives.sort((x, y) => x - y);
  const bits = a === "pdq" ? 256 : 64;
  const threshold = Math.floor((pos[Math.floor(pos.length * 0.95)] + neg[0]) / 2);
  console.log(
    `| ${a} | ${bits} | ${pos.at(-1)} (${far.what}) | ${pos[Math.floor(pos.length * 0.95)]} | ${neg[0]} | ` +
      `${neg[Math.floor(neg.length * 0.01)]} | ${a === "pdq" ? "31 (reference)" : threshold} |`,
  );
}

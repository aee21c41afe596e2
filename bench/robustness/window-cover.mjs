// Which list windows cover the most crops per hash (issue 19): a pool of candidate windows (square windows keeping
// 82-97% of each side on a 5x5 grid of anchors, side-anchored windows keeping 80-91% of one dimension) is hashed
// for tune-set known tiles, crops are drawn as the re-post bench's crop and cut rows draw them (but from another
// seed, so the chosen windows are not fitted to the bench's own draws), and windows are chosen greedily: each
// next window is the one that brings the most crops not yet within PDQ d <= 31 of the whole image or a chosen
// window. Prints recall per crop kind as windows are added. PNG only, whole-image query only (no query views).
// Usage: node bench/robustness/window-cover.mjs [--known 30 --draws 4 --seed 1019]
import { parseArgs } from "node:util";
import { hammingDistance, hashImageBytes } from "@phmatch/core";
import sharp from "sharp";
import { buildCorpus } from "./corpus.mjs";
import { drawFor } from "./reposts.mjs";
import { setOf } from "./reposts-bench.mjs";
import { SIZE } from "./transforms.mjs";

sharp.cache(false);
const { values } = parseArgs({
  options: {
    known: { type: "string" },
    draws: { type: "string" },
    seed: { type: "string" },
    rounds: { type: "string" },
  },
});
const limit = Number(values.known ?? 30);
const draws = Number(values.draws ?? 4);
const seed = Number(values.seed ?? 1019);
const rounds = Number(values.rounds ?? 60);
const THRESHOLD = 31;
const log = (line) => process.stderr.write(`${line}\n`);
const hexToBytes = (hex) => new Uint8Array(Buffer.from(hex, "hex"));
const pdqOf = async (png) => {
  const r = await hashImageBytes(png, "crop.png", { algorithms: ["pdq"] });
  return r.hashes.pdq === undefined ? undefined : hexToBytes(r.hashes.pdq);
};
const extract = async (png, [left, top, width, height]) =>
  pdqOf(await sharp(png).extract({ left, top, width, height }).png().toBuffer());
// As core's windowBox places a window.
const box = (scaleX, scaleY, anchorX, anchorY) => {
  const w = Math.round(SIZE * scaleX);
  const h = Math.round(SIZE * scaleY);
  return [Math.round((SIZE - w) * anchorX), Math.round((SIZE - h) * anchorY), w, h];
};

// Square windows keeping p% of each side at anchors (0 left/top .. 1 right/bottom), and side-anchored windows
// keeping p% of one dimension and all of the other.
const grid = (p, anchors) => anchors.flatMap((ax) => anchors.map((ay) => `${p} at ${ax},${ay}`));
const sides = (p) => ["left", "right", "top", "bottom"].map((side) => `${side}-${p}`);
const windowOf = (name) => {
  const side = name.match(/^(left|right|top|bottom)-(\d+)$/);
  if (side !== null) {
    const s = Number(side[2]) / 100;
    return { left: box(s, 1, 0, 0.5), right: box(s, 1, 1, 0.5), top: box(1, s, 0.5, 0), bottom: box(1, s, 0.5, 1) }[
      side[1]
    ];
  }
  const [p, ax, ay] = name
    .match(/^(\d+) at ([\d.]+),([\d.]+)$/)
    .slice(1)
    .map(Number);
  return box(p / 100, p / 100, ax, ay);
};
const THIRDS = [0, 1 / 3, 2 / 3, 1].map((a) => Number(a.toFixed(4)));
const QUARTERS = [0, 0.25, 0.5, 0.75, 1];
const HALVES = [0, 0.5, 1];
const CENTRE = [0.5];
// Structured candidate sets (each is evaluated alone); the old set is today's AUGMENT_WINDOWS less its 60% parts.
const SETS = {
  old: [...[97, 94, 90, 85, 80].flatMap((p) => grid(p, CENTRE)), ...grid(90, [0, 1])],
  "halves 97-90, sides 88-82": [
    ...[97, 94, 90].flatMap((p) => grid(p, HALVES)),
    ...[85, 80].flatMap((p) => grid(p, CENTRE)),
    ...[88, 85, 82].flatMap(sides),
  ],
  "97 halves, 94 quarters, 90 halves, sides 88-82": [
    ...grid(97, HALVES),
    ...grid(94, QUARTERS),
    ...grid(90, HALVES),
    ...[85, 80].flatMap((p) => grid(p, CENTRE)),
    ...[88, 85, 82].flatMap(sides),
  ],
  "97 halves, 94 and 90 thirds, sides 88-82": [
    ...grid(97, HALVES),
    ...grid(94, THIRDS),
    ...grid(90, THIRDS),
    ...[85, 80].flatMap((p) => grid(p, CENTRE)),
    ...[88, 85, 82].flatMap(sides),
  ],
  "97 halves, 94 quarters, 90 thirds, 85 halves, sides 88-82": [
    ...grid(97, HALVES),
    ...grid(94, QUARTERS),
    ...grid(90, THIRDS),
    ...grid(85, HALVES),
    ...grid(80, CENTRE),
    ...[88, 85, 82].flatMap(sides),
  ],
  "97 halves, 94 quarters, 90 quarters, 85 thirds, sides 88-82": [
    ...grid(97, HALVES),
    ...grid(94, QUARTERS),
    ...grid(90, QUARTERS),
    ...grid(85, THIRDS),
    ...grid(80, CENTRE),
    ...[88, 85, 82].flatMap(sides),
  ],
};
const POOL = [
  ...new Set([
    ...Object.values(SETS).flat(),
    ...[97, 94, 91, 88, 85, 82].flatMap((p) => grid(p, QUARTERS)),
    ...[91, 88, 85, 82, 80].flatMap(sides),
  ]),
].map((name) => ({ name, box: windowOf(name) }));

// Crops as the re-post rows draw them: [kind, box].
function crops(draw) {
  const out = [];
  const square = (side, left, top) => [left, top, side, side];
  const c10 = Math.round(SIZE * Math.sqrt(0.9));
  out.push(["crop 10%, random position", square(c10, draw.integer(0, SIZE - c10), draw.integer(0, SIZE - c10))]);
  const corner = draw.integer(0, 3);
  out.push(["crop 10%, random corner", square(c10, corner % 2 ? SIZE - c10 : 0, corner > 1 ? SIZE - c10 : 0)]);
  const side = Math.round(SIZE * Math.sqrt(draw.uniform(0.8, 0.95)));
  out.push(["crop 5-20%, random position", square(side, draw.integer(0, SIZE - side), draw.integer(0, SIZE - side))]);
  for (const [kind, share] of [
    ["cut 15%", 0.15],
    ["cut 10-20%", draw.uniform(0.1, 0.2)],
  ]) {
    const cut = Math.round(SIZE * share);
    const where = draw.integer(0, 3);
    out.push([
      kind,
      [
        [0, cut, SIZE, SIZE - cut],
        [0, 0, SIZE, SIZE - cut],
        [cut, 0, SIZE - cut, SIZE],
        [0, 0, SIZE - cut, SIZE],
      ][where],
    ]);
  }
  return out;
}

const tiles = [];
for (const k of (await buildCorpus(log)).known.filter((t) => setOf(t.id) === "tune")) {
  if (tiles.length >= limit) break;
  const r = await hashImageBytes(k.png, k.id, { algorithms: ["pdq"] });
  if ((r.quality?.pdq ?? 0) >= 50) tiles.push(k);
}
log(`window cover: ${tiles.length} tune-set tiles, ${POOL.length} candidate windows, ${draws} draws per crop kind`);
// covers[w] = indexes of the queries within THRESHOLD of window w; whole = those of the whole image.
const queries = [];
const covers = POOL.map(() => []);
const whole = [];
for (const [t, k] of tiles.entries()) {
  const listed = await pdqOf(k.png);
  const windows = [];
  for (const w of POOL) windows.push(await extract(k.png, w.box));
  for (let d = 0; d < draws; d++)
    for (const [kind, b] of crops(drawFor(seed, k.id, `cover ${d}`))) {
      const q = await extract(k.png, b);
      const i = queries.push(kind) - 1;
      if (q === undefined) continue;
      if (hammingDistance(q, listed) <= THRESHOLD) whole.push(i);
      windows.forEach((h, w) => {
        if (h !== undefined && hammingDistance(q, h) <= THRESHOLD) covers[w].push(i);
      });
    }
  log(`tile ${t + 1}/${tiles.length}`);
}

const kinds = [...new Set(queries)];
const recallOf = (set) =>
  kinds
    .map((kind) => {
      const all = queries.flatMap((k, i) => (k === kind ? [i] : []));
      return `${((100 * all.filter((i) => set.has(i)).length) / all.length).toFixed(0)}%`;
    })
    .join(" | ");
console.log(`\n| candidate set | windows | ${kinds.join(" | ")} |`);
console.log(`|---|---:|${kinds.map(() => "---:").join("|")}|`);
for (const [name, windows] of Object.entries(SETS)) {
  const hit = new Set(whole);
  for (const w of windows) for (const i of covers[POOL.findIndex((x) => x.name === w)]) hit.add(i);
  console.log(`| ${name} | ${windows.length} | ${recallOf(hit)} |`);
}
const covered = new Set(whole);
const recall = () =>
  kinds
    .map((kind) => {
      const all = queries.flatMap((k, i) => (k === kind ? [i] : []));
      return `${((100 * all.filter((i) => covered.has(i)).length) / all.length).toFixed(0)}%`;
    })
    .join(" | ");
console.log(`\n| windows | added | ${kinds.join(" | ")} |`);
console.log(`|---:|---|${kinds.map(() => "---:").join("|")}|`);
console.log(`| 0 | (whole image) | ${recall()} |`);
const chosen = new Set();
for (let round = 1; round <= rounds; round++) {
  let best = -1;
  let gain = 0;
  covers.forEach((c, w) => {
    if (chosen.has(w)) return;
    const g = c.filter((i) => !covered.has(i)).length;
    if (g > gain) [best, gain] = [w, g];
  });
  if (best < 0) break;
  chosen.add(best);
  for (const i of covers[best]) covered.add(i);
  console.log(`| ${round} | ${POOL[best].name} (+${gain}) | ${recall()} |`);
}

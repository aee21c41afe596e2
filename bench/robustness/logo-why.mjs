// Why opaque logos are missed (issue 19), and which region windows would catch them: for each known image of one
// set (tune by default), the logo edit of reposts.mjs with the bench's draws, hashed as the bench hashes it; for
// each miss of the augmented list, where the logo was and the best PDQ distance of each query part to the image's
// own list hashes. Then candidate window families, hashed by cropping both the original and the edited image the
// same way (an approximation of the query's reduced copy): the recall each would add, and the closest distractor
// distance per window (against every list hash of every known image, and the distractor's views against them).
//   node bench/robustness/logo-why.mjs [--seed 19] [--set tune] [--known N] [--distractors N] [--families a,b]
import { parseArgs } from "node:util";
import { HashSetBuilder, hammingDistance, hashImageBytes, Matcher, parseStore, serializeStore } from "@phmatch/core";
import sharp from "sharp";
import { buildCorpus } from "./corpus.mjs";
import { drawFor, REPOSTS } from "./reposts.mjs";
import { setOf } from "./reposts-bench.mjs";

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    set: { type: "string" },
    known: { type: "string" },
    distractors: { type: "string" },
    families: { type: "string" },
    detail: { type: "string" },
  },
});
const seed = Number(values.seed ?? 19);
const set = values.set ?? "tune";
const EDIT = "opaque logo over 10% of the area, random place";
const ALGORITHMS = ["pdq", "phash16", "md5", "sha1"];
const MAX = 31;
const MIN_QUALITY = 50;
const log = (line) => process.stderr.write(`${line}\n`);
const hexToBytes = (hex) => new Uint8Array(Buffer.from(hex, "hex"));

// Candidate families: [name, scaleX, scaleY, anchorX, anchorY], anchored as ImageWindow is (0 left/top .. 1).
const strips = (depth) => [
  [`top-${depth}`, 1, depth / 100, 0.5, 0],
  [`bottom-${depth}`, 1, depth / 100, 0.5, 1],
  [`left-${depth}`, depth / 100, 1, 0, 0.5],
  [`right-${depth}`, depth / 100, 1, 1, 0.5],
];
const corners = (depth) => [
  [`top-left-${depth}`, depth / 100, depth / 100, 0, 0],
  [`top-right-${depth}`, depth / 100, depth / 100, 1, 0],
  [`bottom-left-${depth}`, depth / 100, depth / 100, 0, 1],
  [`bottom-right-${depth}`, depth / 100, depth / 100, 1, 1],
];
// Masked views: the image with one 2/3 x 2/3 block (a 2x2 block of a 3x3 grid) painted mid-grey; a square up to
// 1/3 a side lies inside one of the four, so one masked view is clean (5/9 of the image kept).
const masks = ["top-left", "top-right", "bottom-left", "bottom-right"].map((where, i) => [
  `mask-${where}`,
  2 / 3,
  2 / 3,
  i % 2,
  i >> 1,
  "mask",
]);
const FAMILIES = {
  "masked-2x2": masks,
  "strips-34+masked-2x2": [...strips(34), ...masks],
  "strips-34": strips(34),
  "strips-40": strips(40),
  "strips-50": strips(50),
  "strips-34+50": [...strips(34), ...strips(50)],
  "corners-50": corners(50),
  "corners-66": corners(66),
};
// --families none: only the misses and the per-part distances.
const families =
  values.families === undefined ? Object.keys(FAMILIES) : values.families.split(",").filter((f) => f in FAMILIES);

const box = (width, height, [, sx, sy, ax, ay]) => {
  const w = Math.max(1, Math.round(width * sx));
  const h = Math.max(1, Math.round(height * sy));
  return { left: Math.round((width - w) * ax), top: Math.round((height - h) * ay), width: w, height: h };
};
async function windowPdq(bytes, window) {
  const { width, height } = await sharp(bytes).metadata();
  if (window[5] === "mask") {
    const b = box(width, height, window);
    const grey = await sharp({ create: { width: b.width, height: b.height, channels: 3, background: "#808080" } })
      .png()
      .toBuffer();
    const masked = await sharp(bytes)
      .composite([{ input: grey, left: b.left, top: b.top }])
      .png({ compressionLevel: 1 })
      .toBuffer();
    const r = await hashImageBytes(masked, window[0], { algorithms: ["pdq"] });
    return { name: window[0], pdq: hexToBytes(r.hashes.pdq), quality: r.quality.pdq };
  }
  const crop = await sharp(bytes)
    .extract(box(width, height, window))
    .png({ compressionLevel: 1 })
    .toBuffer();
  const r = await hashImageBytes(crop, window[0], { algorithms: ["pdq"] });
  return { name: window[0], pdq: hexToBytes(r.hashes.pdq), quality: r.quality.pdq };
}

const hashQuery = (bytes, name) =>
  hashImageBytes(bytes, name, { algorithms: ALGORITHMS, dihedral: true, trim: true, rotations: true, parts: true });
const hashListed = (bytes, name) =>
  hashImageBytes(bytes, name, { algorithms: ALGORITHMS, dihedral: true, augment: true });

const corpus = await buildCorpus(log);
const inSet = (t) => setOf(t.id) === set;
const known = [];
const listed = [];
for (const k of corpus.known.filter(inSet)) {
  if (known.length >= Number(values.known ?? Infinity)) break;
  const r = await hashListed(k.png, k.id);
  if ((r.quality?.pdq ?? 0) < MIN_QUALITY) continue;
  known.push(k);
  listed.push(r);
}
const distractors = corpus.distractor.filter(inSet).slice(0, Number(values.distractors ?? Infinity));
log(`${set} set: ${known.length} known, ${distractors.length} distractors`);

const builder = new HashSetBuilder();
builder.addList({ listId: "why", version: 1 });
listed.forEach((r, i) => {
  for (const hashes of [r.hashes, ...(r.windows ?? []).map((w) => w.hashes)])
    for (const a of ["pdq", "phash16"])
      if (hashes[a] !== undefined)
        builder.addEntry({ algorithm: a, value: hexToBytes(hashes[a]), listId: "why", entryId: String(i) });
});
const matcher = new Matcher([
  { set: parseStore(serializeStore(builder), "why"), path: "why", storeSha256: "", encrypted: false, overrides: [] },
]);
const ownPdq = listed.map((r) => [r.hashes.pdq, ...(r.windows ?? []).map((w) => w.hashes.pdq)].map(hexToBytes));
const minTo = (q, list) => Math.min(...list.map((k) => hammingDistance(q, k)));

// The edited images, as the bench makes them (PNG, and JPEG at the drawn quality).
const queries = [];
for (const [i, k] of known.entries()) {
  const out = await REPOSTS[EDIT](k.png, drawFor(seed, k.id, EDIT));
  const quality = drawFor(seed, k.id, `${EDIT} jpeg`).integer(60, 90);
  const jpeg = await sharp(out.png).jpeg({ quality }).toBuffer();
  for (const [encoding, bytes] of [
    ["png", out.png],
    ["jpeg", jpeg],
  ]) {
    const r = await hashQuery(bytes, k.id);
    const hit = matcher
      .match(r)
      .matches.some((h) => h.override === undefined && h.entryId === String(i) && h.algorithm !== "md5");
    queries.push({ i, encoding, bytes, params: out.params, record: r, hit });
  }
}
const misses = queries.filter((q) => !q.hit);
console.log(`## Logo misses, ${set} set, seed ${seed}\n`);
console.log(
  `${queries.length - misses.length}/${queries.length} found with the augmented list (PNG and JPEG); misses:\n`,
);
console.log("| image | encoding | logo | whole d (q) | parts: best d to own list hashes (quality) |");
console.log("|---|---|---|---:|---|");
for (const q of misses) {
  const r = q.record;
  const parts = (r.parts ?? [])
    .map((p) => `${p.window} ${minTo(hexToBytes(p.hashes.pdq), ownPdq[q.i])} (${p.quality.pdq})`)
    .join(", ");
  console.log(
    `| ${q.i} | ${q.encoding} | ${q.params} | ${minTo(hexToBytes(r.hashes.pdq), ownPdq[q.i])} (${r.quality.pdq}) | ` +
      `${parts || "none kept"} |`,
  );
}

// Candidate families: what each adds, and how close distractors come.
const distractorRecords = [];
for (const d of distractors) distractorRecords.push({ d, r: await hashQuery(d.png, d.id) });
// Every PDQ view of a distractor the matcher would look up (quality >= 50).
const distractorViews = distractorRecords.flatMap(({ r }) =>
  [r, r.trimmed, ...(r.rotated ?? []), ...(r.parts ?? [])]
    .filter((v) => v?.hashes?.pdq !== undefined && (v.quality?.pdq ?? 0) >= MIN_QUALITY)
    .map((v) => hexToBytes(v.hashes.pdq)),
);
const allListed = ownPdq.flat();

// The query's parts as the matcher gets them (the built pipeline, not the crops below): per part window, the
// closest PDQ distance of a distractor's part to the plain list (whole images) and to every hash of the augmented
// list, and, per listed window, the closest distance of any distractor view (quality >= 50 on both sides).
const plainPdq = listed.map((r) => hexToBytes(r.hashes.pdq));
const closestPart = new Map();
for (const { r } of distractorRecords)
  for (const part of r.parts ?? []) {
    const q = hexToBytes(part.hashes.pdq);
    const [plain, augmented] = closestPart.get(part.window) ?? [256, 256];
    closestPart.set(part.window, [Math.min(plain, minTo(q, plainPdq)), Math.min(augmented, minTo(q, allListed))]);
  }
const closestListed = new Map();
for (const r of listed)
  for (const w of r.windows ?? []) {
    if ((w.quality?.pdq ?? 0) < MIN_QUALITY) continue;
    const k = hexToBytes(w.hashes.pdq);
    closestListed.set(w.window, Math.min(closestListed.get(w.window) ?? 256, minTo(k, distractorViews)));
  }
console.log(`\n## Closest distractor distances per part, as hashed by the pipeline (${set} set)\n`);
console.log("| window | distractor part to plain list | to augmented list | listed window to any distractor view |");
console.log("|---|---:|---:|---:|");
for (const name of new Set([...closestPart.keys(), ...closestListed.keys()])) {
  const [plain, augmented] = closestPart.get(name) ?? ["", ""];
  console.log(`| ${name} | ${plain} | ${augmented} | ${closestListed.get(name) ?? ""} |`);
}
console.log(`\n## Candidate region windows (same window on both sides; PDQ d <= ${MAX}, quality >= ${MIN_QUALITY})\n`);
console.log(
  "| family | found, PNG | found, JPEG | windows kept (list / query, quality >= 50) | " +
    "closest distractor window to any list hash | closest distractor view to a listed window | " +
    "distractor pairs <= 31 |",
);
console.log("|---|---:|---:|---|---|---|---:|");
for (const name of families) {
  const windows = FAMILIES[name];
  const listWindows = [];
  for (const k of known) listWindows.push(await Promise.all(windows.map((w) => windowPdq(k.png, w))));
  const found = { png: 0, jpeg: 0 };
  const detail = [];
  let keptList = 0;
  let keptQuery = 0;
  for (const q of queries) {
    const mine = await Promise.all(windows.map((w) => windowPdq(q.bytes, w)));
    keptQuery += mine.filter((m) => m.quality >= MIN_QUALITY).length;
    const theirs = listWindows[q.i].filter((m) => m.quality >= MIN_QUALITY);
    const targets = [...theirs.map((t) => t.pdq), ...ownPdq[q.i]];
    const extra = mine.some((m) => m.quality >= MIN_QUALITY && minTo(m.pdq, targets) <= MAX);
    const viewsToWindows = [q.record.hashes, ...(q.record.parts ?? []).map((p) => p.hashes)].some(
      (h) =>
        theirs.length > 0 &&
        minTo(
          hexToBytes(h.pdq),
          theirs.map((t) => t.pdq),
        ) <= MAX,
    );
    if (q.hit || extra || viewsToWindows) found[q.encoding]++;
    else if (values.detail === name)
      detail.push(
        `| ${q.i} | ${q.encoding} | ${q.params} | ` +
          mine
            .map((m, j) => {
              const listedWindow = listWindows[q.i][j];
              return `${m.name} ${hammingDistance(m.pdq, listedWindow.pdq)} (${m.quality}/${listedWindow.quality})`;
            })
            .join(", ") +
          " |",
      );
  }
  for (const l of listWindows) keptList += l.filter((m) => m.quality >= MIN_QUALITY).length;
  const listedWindows = listWindows.flat().filter((m) => m.quality >= MIN_QUALITY);
  const everyList = [...allListed, ...listedWindows.map((m) => m.pdq)];
  let closestWindow = 256;
  let closestView = 256;
  let falsePairs = 0;
  const perWindow = new Map();
  for (const { d } of distractorRecords) {
    const mine = (await Promise.all(windows.map((w) => windowPdq(d.png, w)))).filter((m) => m.quality >= 50);
    for (const m of mine) {
      for (const k of everyList) {
        const dist = hammingDistance(m.pdq, k);
        if (dist <= MAX) falsePairs++;
        closestWindow = Math.min(closestWindow, dist);
        perWindow.set(m.name, Math.min(perWindow.get(m.name) ?? 256, dist));
      }
    }
  }
  for (const v of distractorViews)
    for (const m of listedWindows) {
      const dist = hammingDistance(v, m.pdq);
      if (dist <= MAX) falsePairs++;
      closestView = Math.min(closestView, dist);
    }
  const n = queries.length / 2;
  console.log(
    `| ${name} | ${((100 * found.png) / n).toFixed(1)}% | ${((100 * found.jpeg) / n).toFixed(1)}% | ` +
      `${keptList}/${known.length * windows.length} / ${keptQuery}/${queries.length * windows.length} | ` +
      `${closestWindow} (${[...perWindow].map(([w, d]) => `${w} ${d}`).join(", ")}) | ${closestView} | ` +
      `${falsePairs} |`,
  );
  if (detail.length > 0)
    console.log(`\nMisses of ${name}: window d (query quality / list quality)\n\n${detail.join("\n")}\n`);
}

// Robustness benchmark in the style of Thorn's `perception` benchmark: benign photographs and artwork from
// Debian's wallpaper packages (see corpus.mjs), split into known and distractor images; every known image edited
// by fixed transforms; for every hasher, recall per transform at the threshold where at most 1e-4 of all
// distractor-known pairs fall within it; then the full matcher with its default policies (a list made as
// `phmatch hashset build` makes it: PDQ with dihedral queries, and the exact digests): recall per transform, and
// its false positives over every distractor. Everything happens in memory; only the downloaded packages are
// cached in bench/.cache/robustness.
// Usage: npm run bench:robustness [-- --known 320 --distractors 320]
import { parseArgs } from "node:util";
import sharp from "sharp";
import { HashSetBuilder, Matcher, hashImageBytes, hammingDistance, parseStore, serializeStore } from "@phmatch/core";

const hexToBytes = (hex) => new Uint8Array(Buffer.from(hex, "hex"));
import { seededRandom } from "../seeded-random.mjs";
import { buildCorpus } from "./corpus.mjs";

const { values } = parseArgs({ options: { known: { type: "string" }, distractors: { type: "string" } } });
const log = (line) => process.stderr.write(`${line}\n`);
const HASHERS = ["pdq", "phash", "dhash", "ahash", "whash", "phash16", "dhash16", "blockhash"];
const FPR = 1e-4;
const SIZE = 384;

sharp.cache(false);

// Seeded Gaussian noise, sigma in 8-bit levels.
function gaussianNoise(raw, sigma, seed) {
  const next = seededRandom(seed);
  const u = () => (next() + 1) / 4294967297;
  const out = Buffer.from(raw.data);
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u()));
    const t = 2 * Math.PI * u();
    out[i] = Math.max(0, Math.min(255, Math.round(out[i] + sigma * r * Math.cos(t))));
    if (i + 1 < out.length) out[i + 1] = Math.max(0, Math.min(255, Math.round(out[i + 1] + sigma * r * Math.sin(t))));
  }
  return sharp(out, { raw: raw.info }).png().toBuffer();
}

async function raw(png) {
  return sharp(png).raw().toBuffer({ resolveWithObject: true });
}

// A logo/text badge covering 10% of the image's area, in its lower right corner (raster: the core blocks SVG).
const BADGE = Math.round(SIZE * Math.sqrt(0.1));
const badgeText = await sharp({ text: { text: '<span foreground="white" font_weight="bold">SHARE</span>', font: "sans", width: BADGE - 16, height: Math.round(BADGE / 3), rgba: true } }).png().toBuffer();
const overlay = await sharp({ create: { width: BADGE, height: BADGE, channels: 4, background: "#e8462bff" } }).composite([{ input: badgeText, gravity: "centre" }]).png().toBuffer();
const BORDER = Math.round(SIZE * 0.1);

// Fixed transforms, each from a 512x512 PNG to encoded bytes.
const TRANSFORMS = {
  "jpeg q30": (p) => sharp(p).jpeg({ quality: 30 }).toBuffer(),
  "jpeg q70": (p) => sharp(p).jpeg({ quality: 70 }).toBuffer(),
  "webp q80": (p) => sharp(p).webp({ quality: 80 }).toBuffer(),
  "png re-encode": (p) => sharp(p).png({ compressionLevel: 9 }).toBuffer(),
  "resize 25%": (p) => sharp(p).resize(SIZE / 4).png().toBuffer(),
  "resize 50%": (p) => sharp(p).resize(SIZE / 2).png().toBuffer(),
  "resize 200%": (p) => sharp(p).resize(SIZE * 2).jpeg({ quality: 90 }).toBuffer(),
  "blur sigma 2": (p) => sharp(p).blur(2).png().toBuffer(),
  "noise sigma 10": async (p, i) => gaussianNoise(await raw(p), 10, 1000 + i),
  "gamma 1.8": async (p) => {
    const r = await raw(p);
    const lut = Uint8Array.from({ length: 256 }, (_, v) => Math.round(255 * (v / 255) ** (1 / 1.8)));
    return sharp(Buffer.from(r.data.map((v) => lut[v])), { raw: r.info }).png().toBuffer();
  },
  "brightness +30%": (p) => sharp(p).modulate({ brightness: 1.3 }).png().toBuffer(),
  "contrast up": (p) => sharp(p).linear(1.3, -0.3 * 128).png().toBuffer(),
  "contrast down": (p) => sharp(p).linear(0.7, 0.3 * 128).png().toBuffer(),
  greyscale: (p) => sharp(p).greyscale().png().toBuffer(),
  "mirror (horizontal)": (p) => sharp(p).flop().png().toBuffer(),
  "rotate 90": (p) => sharp(p).rotate(90).png().toBuffer(),
  "rotate 180": (p) => sharp(p).rotate(180).png().toBuffer(),
  "rotate 270": (p) => sharp(p).rotate(270).png().toBuffer(),
  "rotate 5 degrees": (p) => sharp(p).rotate(5, { background: "#ffffff" }).png().toBuffer(),
  "crop 5% (centre)": (p) => centreCrop(p, 0.05),
  "crop 10% (centre)": (p) => centreCrop(p, 0.1),
  "crop 20% (centre)": (p) => centreCrop(p, 0.2),
  "border 10%": (p) => sharp(p).extend({ top: BORDER, bottom: BORDER, left: BORDER, right: BORDER, background: "#1c1c1c" }).png().toBuffer(),
  "pasted at 1/1.5 on white (screenshot)": async (p) => {
    const small = await sharp(p).resize(Math.round(SIZE / 1.5)).png().toBuffer();
    return sharp({ create: { width: SIZE, height: SIZE, channels: 3, background: "#ffffff" } }).composite([{ input: small, left: Math.round(SIZE * 0.08), top: Math.round(SIZE * 0.18) }]).png().toBuffer();
  },
  "logo overlay 10%": (p) => sharp(p).composite([{ input: overlay, left: SIZE - BADGE - 16, top: SIZE - BADGE - 16 }]).png().toBuffer(),
  "stretch width 120%": (p) => sharp(p).resize(Math.round(SIZE * 1.2), SIZE, { fit: "fill" }).png().toBuffer(),
};

// Keeps the centre, removing `fraction` of the area.
function centreCrop(p, fraction) {
  const side = Math.round(SIZE * Math.sqrt(1 - fraction));
  const off = Math.floor((SIZE - side) / 2);
  return sharp(p).extract({ left: off, top: off, width: side, height: side }).png().toBuffer();
}

// Every hash, with PDQ's variants, and the content inside uniform borders as an extra query (trim).
const hashOf = (bytes, name) => hashImageBytes(bytes, name, { algorithms: [...HASHERS, "md5", "sha1"], dihedral: true, trim: true });
const hashKnown = (bytes, name) => hashImageBytes(bytes, name, { algorithms: [...HASHERS, "md5", "sha1"], dihedral: true, augment: true });
const untrimmed = (record) => {
  const { trimmed: _trimmed, ...rest } = record;
  return rest;
};

const started = performance.now();
const corpus = await buildCorpus(log);
// Known images are those a list maker would list: PDQ lists leave out hashes of quality below 50 (too little
// detail to match on), so known tiles below it are left out; distractors are every tile of the other sources.
const known = [];
const knownRecords = [];
let lowQuality = 0;
for (const k of corpus.known) {
  if (known.length >= Number(values.known ?? Infinity)) break;
  const record = await hashKnown(k.png, k.id);
  if ((record.quality?.pdq ?? 0) < 50) {
    lowQuality++;
    continue;
  }
  known.push(k);
  knownRecords.push(record);
}
const distractors = corpus.distractor.slice(0, Number(values.distractors ?? corpus.distractor.length));
log(`${known.length} known images (${lowQuality} of quality < 50 left out, as a list maker would) and ${distractors.length} distractors ...`);
const distractorRecords = [];
for (const d of distractors) distractorRecords.push(await hashOf(d.png, d.id));

// Thresholds: for each hasher the largest t with at most FPR of the distractor-known pairs at distance <= t.
const bytesOf = (r, a) => (r.hashes?.[a] === undefined ? undefined : hexToBytes(r.hashes[a]));
const thresholds = {};
const pairs = known.length * distractors.length;
for (const a of HASHERS) {
  const bits = bytesOf(knownRecords[0], a).length * 8;
  const histogram = new Array(bits + 1).fill(0);
  const kb = knownRecords.map((r) => bytesOf(r, a));
  for (const d of distractorRecords) {
    const db = bytesOf(d, a);
    for (const k of kb) histogram[hammingDistance(db, k)]++;
  }
  let cumulative = 0;
  let t = -1;
  let zero = -1;
  for (let d = 0; d <= bits; d++) {
    cumulative += histogram[d];
    if (cumulative === 0) zero = d;
    if (cumulative / pairs > FPR) break;
    t = d;
  }
  thresholds[a] = { t, zero, bits };
}
log(`thresholds at FPR <= ${FPR} over ${pairs.toLocaleString("en")} pairs: ${HASHERS.map((a) => `${a} ${thresholds[a].t}`).join(", ")}`);

// The lists as `phmatch hashset build` makes them by default (pdq, md5, sha1), and with --augment (plus the
// PDQ of each sub-window as a variant of the entry); the matcher with default policies on each.
const listOf = (augment, algorithms = ["pdq", "md5", "sha1"], options = {}) => {
  const builder = new HashSetBuilder();
  builder.addList({ listId: "bench-known", version: 1 });
  knownRecords.forEach((r, i) => {
    for (const a of algorithms) builder.addEntry({ algorithm: a, value: bytesOf(r, a), listId: "bench-known", entryId: String(i) });
    if (augment) for (const w of r.windows ?? []) for (const a of algorithms.filter((x) => w.hashes[x] !== undefined)) builder.addEntry({ algorithm: a, value: hexToBytes(w.hashes[a]), listId: "bench-known", entryId: String(i), fields: { window: w.window } });
  });
  return new Matcher([{ set: parseStore(serializeStore(builder), "bench"), path: "bench", storeSha256: "", encrypted: false, overrides: [] }], options);
};
const matcher = listOf(false);
const augmentedMatcher = listOf(true);
// The same, with the 256-bit pHash stored too (its default policy phash16:d32, no quality gate).
const withPhash16 = listOf(true, ["pdq", "phash16", "md5", "sha1"]);
// ... plus the opt-in combined policy (PDQ and phash16 of one entry both within 64 bits).
const combinedPolicy = listOf(true, ["pdq", "phash16", "md5", "sha1"], { combined: { pdq: 64, phash16: 64 } });

// False positives of the matcher: every distractor against the list, without and with the trimmed query.
const falsePositives = (m, prepare) => {
  let hits = 0;
  let queries = 0;
  for (const d of distractorRecords) {
    const found = new Set(m.match(prepare(d)).matches.filter((m) => m.override === undefined).map((m) => m.entryId));
    hits += found.size;
    if (found.size > 0) queries++;
  }
  return { hits, queries };
};
const MATCHERS = {
  matcher: (r) => matcher.match(untrimmed(r)),
  "matcher + trim": (r) => matcher.match(r),
  "augmented list + trim": (r) => augmentedMatcher.match(r),
  "augmented pdq+phash16 list + trim": (r) => withPhash16.match(r),
  "... + combined 64/64 (opt-in)": (r) => combinedPolicy.match(r),
};
const fp = {
  matcher: falsePositives(matcher, untrimmed),
  "matcher + trim": falsePositives(matcher, (r) => r),
  "augmented list + trim": falsePositives(augmentedMatcher, (r) => r),
  "augmented pdq+phash16 list + trim": falsePositives(withPhash16, (r) => r),
  "... + combined 64/64 (opt-in)": falsePositives(combinedPolicy, (r) => r),
};

// Recall per transform.
const rows = [];
for (const [name, transform] of Object.entries(TRANSFORMS)) {
  const found = Object.fromEntries(HASHERS.map((a) => [a, 0]));
  let pdqDihedral = 0;
  const matcherFound = Object.fromEntries(Object.keys(MATCHERS).map((m) => [m, 0]));
  for (const [i, k] of known.entries()) {
    const edited = await hashOf(await transform(k.png, i), `${k.id} ${name}`);
    const original = knownRecords[i];
    for (const a of HASHERS) {
      const e = bytesOf(edited, a);
      if (e !== undefined && hammingDistance(e, bytesOf(original, a)) <= thresholds[a].t) found[a]++;
    }
    const variants = (edited.dihedral?.pdq ?? []).map(hexToBytes);
    if (variants.some((v) => hammingDistance(v, bytesOf(original, "pdq")) <= thresholds.pdq.t)) pdqDihedral++;
    for (const [m, match] of Object.entries(MATCHERS)) if (match(edited).matches.some((h) => h.entryId === String(i) && h.override === undefined)) matcherFound[m]++;
  }
  const pct = (n) => (100 * n) / known.length;
  rows.push({ name, ...Object.fromEntries(HASHERS.map((a) => [a, pct(found[a])])), pdqDihedral: pct(pdqDihedral), ...Object.fromEntries(Object.keys(MATCHERS).map((m) => [m, pct(matcherFound[m])])) });
  log(`${name}: ${HASHERS.map((a) => `${a} ${pct(found[a]).toFixed(0)}%`).join(", ")}, pdq+dihedral ${pct(pdqDihedral).toFixed(0)}%, ${Object.keys(MATCHERS).map((m) => `${m} ${pct(matcherFound[m]).toFixed(0)}%`).join(", ")}`);
}

const seconds = (performance.now() - started) / 1000;
console.log(`\nRobustness: ${known.length} known and ${distractors.length} distractor images (${SIZE}x${SIZE} tiles of ${corpus.sources} Debian wallpapers and artworks; ${lowQuality} known tiles of PDQ quality < 50 left out), ${pairs.toLocaleString("en")} distractor-known pairs, Node ${process.version}, ${seconds.toFixed(0)} s\n`);
console.log(`Thresholds at a false-positive rate <= ${FPR} (bits): ${HASHERS.map((a) => `${a} ${thresholds[a].t}/${thresholds[a].bits}`).join(", ")}`);
console.log(`Largest distance with no distractor-known pair at all: ${HASHERS.map((a) => `${a} ${thresholds[a].zero}`).join(", ")}\n`);
console.log(`Recall (%) per transform; each hasher at its threshold; "pdq+dih" = best of PDQ's 8 dihedral variants at the same threshold; "matcher" = the default policies (pdq:d31:q50 with dihedral queries, exact digests) on a list built as hashset build does; "+ trim" = also the query hash of the content inside uniform borders; "augmented list" = built with --augment (the PDQ of 9 sub-windows per image)`);
console.log("");
console.log(`| transform | ${HASHERS.join(" | ")} | pdq+dih | ${Object.keys(MATCHERS).join(" | ")} |`);
console.log(`|---|${HASHERS.map(() => "---:").join("|")}|---:|${Object.keys(MATCHERS).map(() => "---:").join("|")}|`);
for (const r of rows) console.log(`| ${r.name} | ${HASHERS.map((a) => r[a].toFixed(1)).join(" | ")} | ${r.pdqDihedral.toFixed(1)} | ${Object.keys(MATCHERS).map((m) => r[m].toFixed(1)).join(" | ")} |`);
for (const [name, f] of Object.entries(fp)) {
  console.log(`\n${name}: false positives ${f.hits} distractor-known pairs of ${pairs.toLocaleString("en")} (rate ${(f.hits / pairs).toExponential(1)}); ${f.queries} of ${distractors.length} distractor images matched some known image.`);
}

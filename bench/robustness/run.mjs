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
const SIZE = 512;

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

const overlay = Buffer.from(
  `<svg xmlns="http://www.w3.org/2000/svg" width="162" height="162"><rect width="162" height="162" rx="14" fill="#e8462b"/><text x="81" y="95" font-family="sans-serif" font-size="34" font-weight="bold" fill="#fff" text-anchor="middle">SHARE</text></svg>`,
);

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
  "border 10%": (p) => sharp(p).extend({ top: 51, bottom: 51, left: 51, right: 51, background: "#1c1c1c" }).png().toBuffer(),
  "pasted at 1/1.5 on white (screenshot)": async (p) => {
    const small = await sharp(p).resize(Math.round(SIZE / 1.5)).png().toBuffer();
    return sharp({ create: { width: SIZE, height: SIZE, channels: 3, background: "#ffffff" } }).composite([{ input: small, left: 40, top: 90 }]).png().toBuffer();
  },
  "logo overlay 10%": (p) => sharp(p).composite([{ input: overlay, left: SIZE - 162 - 20, top: SIZE - 162 - 20 }]).png().toBuffer(),
  "stretch width 120%": (p) => sharp(p).resize(Math.round(SIZE * 1.2), SIZE, { fit: "fill" }).png().toBuffer(),
};

// Keeps the centre, removing `fraction` of the area.
function centreCrop(p, fraction) {
  const side = Math.round(SIZE * Math.sqrt(1 - fraction));
  const off = Math.floor((SIZE - side) / 2);
  return sharp(p).extract({ left: off, top: off, width: side, height: side }).png().toBuffer();
}

const hashOf = (bytes, name) => hashImageBytes(bytes, name, { algorithms: [...HASHERS, "md5", "sha1"], dihedral: true });

const started = performance.now();
const corpus = await buildCorpus(log);
const known = corpus.known.slice(0, Number(values.known ?? corpus.known.length));
const distractors = corpus.distractor.slice(0, Number(values.distractors ?? corpus.distractor.length));
log(`hashing ${known.length} known and ${distractors.length} distractor images ...`);
const knownRecords = [];
for (const k of known) knownRecords.push(await hashOf(k.png, k.id));
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
  for (let d = 0; d <= bits; d++) {
    cumulative += histogram[d];
    if (cumulative / pairs > FPR) break;
    t = d;
  }
  thresholds[a] = { t, bits };
}
log(`thresholds at FPR <= ${FPR} over ${pairs.toLocaleString("en")} pairs: ${HASHERS.map((a) => `${a} ${thresholds[a].t}`).join(", ")}`);

// The list as `phmatch hashset build` makes it by default (pdq, md5, sha1), and the matcher with default policies.
const builder = new HashSetBuilder();
builder.addList({ listId: "bench-known", version: 1 });
knownRecords.forEach((r, i) => {
  for (const a of ["pdq", "md5", "sha1"]) builder.addEntry({ algorithm: a, value: bytesOf(r, a), listId: "bench-known", entryId: String(i) });
});
const matcher = new Matcher([{ set: parseStore(serializeStore(builder), "bench"), path: "bench", storeSha256: "", encrypted: false, overrides: [] }]);

// False positives of the matcher: every distractor against the list.
let falseHits = 0;
let falseQueries = 0;
for (const d of distractorRecords) {
  const hits = new Set(matcher.match(d).matches.map((m) => m.entryId));
  falseHits += hits.size;
  if (hits.size > 0) falseQueries++;
}

// Recall per transform.
const rows = [];
for (const [name, transform] of Object.entries(TRANSFORMS)) {
  const found = Object.fromEntries(HASHERS.map((a) => [a, 0]));
  let pdqDihedral = 0;
  let matcherFound = 0;
  for (const [i, k] of known.entries()) {
    const edited = await hashOf(await transform(k.png, i), `${k.id} ${name}`);
    const original = knownRecords[i];
    for (const a of HASHERS) {
      const e = bytesOf(edited, a);
      if (e !== undefined && hammingDistance(e, bytesOf(original, a)) <= thresholds[a].t) found[a]++;
    }
    const variants = (edited.dihedral?.pdq ?? []).map(hexToBytes);
    if (variants.some((v) => hammingDistance(v, bytesOf(original, "pdq")) <= thresholds.pdq.t)) pdqDihedral++;
    if (matcher.match(edited).matches.some((m) => m.entryId === String(i) && m.override === undefined)) matcherFound++;
  }
  const pct = (n) => (100 * n) / known.length;
  rows.push({ name, ...Object.fromEntries(HASHERS.map((a) => [a, pct(found[a])])), pdqDihedral: pct(pdqDihedral), matcher: pct(matcherFound) });
  log(`${name}: ${HASHERS.map((a) => `${a} ${pct(found[a]).toFixed(0)}%`).join(", ")}, pdq+dihedral ${pct(pdqDihedral).toFixed(0)}%, matcher ${pct(matcherFound).toFixed(0)}%`);
}

const seconds = (performance.now() - started) / 1000;
console.log(`\nRobustness: ${known.length} known and ${distractors.length} distractor images (512x512 tiles of ${corpus.sources} Debian wallpapers and artworks), ${pairs.toLocaleString("en")} distractor-known pairs, Node ${process.version}, ${seconds.toFixed(0)} s\n`);
console.log(`Thresholds at a false-positive rate <= ${FPR} (bits): ${HASHERS.map((a) => `${a} ${thresholds[a].t}/${thresholds[a].bits}`).join(", ")}\n`);
console.log(`Recall (%) per transform; each hasher at its threshold; "pdq+dih" = best of PDQ's 8 dihedral variants at the same threshold; "matcher" = the default policies (pdq:d31:q50 with dihedral queries, exact digests) on a list built as hashset build does`);
console.log("");
console.log(`| transform | ${HASHERS.join(" | ")} | pdq+dih | matcher |`);
console.log(`|---|${HASHERS.map(() => "---:").join("|")}|---:|---:|`);
for (const r of rows) console.log(`| ${r.name} | ${HASHERS.map((a) => r[a].toFixed(1)).join(" | ")} | ${r.pdqDihedral.toFixed(1)} | ${r.matcher.toFixed(1)} |`);
console.log(`\nMatcher false positives: ${falseHits} distractor-known pairs of ${pairs.toLocaleString("en")} (rate ${(falseHits / pairs).toExponential(1)}); ${falseQueries} of ${distractors.length} distractor images matched some known image.`);

// Robustness benchmark in the style of Thorn's `perception` benchmark: benign photographs and artwork from
// Debian's wallpaper packages (see corpus.mjs), split into known and distractor images; every known image edited
// by fixed transforms (transforms.mjs); for every hasher, recall per transform at the threshold where at most 1e-4
// of all distractor-known pairs fall within it; then the full matcher, with its default policies and query views
// and with each view alone, on the lists a hotline sends (PDQ and digests) and on lists built with
// `hashset build --augment`: recall per transform, and false positives over every distractor. Everything happens
// in memory; only the downloaded packages and the cut tiles are cached in bench/.cache/robustness.
// Then the re-post section (reposts-bench.mjs): edits with parameters drawn per image from --seed, on the report set.
// Usage: npm run bench:robustness [-- --known 320 --distractors 320 --seed 19]
//        npm run bench:reposts [-- --seed 19 --set tune]   (the re-post section alone)
import { parseArgs } from "node:util";
import { hammingDistance, hashImageBytes } from "@phmatch/core";
import { buildCorpus } from "./corpus.mjs";
import { hexToBytes, listMatcher } from "./lists.mjs";
import { runReposts } from "./reposts-bench.mjs";
import { SIZE, TRANSFORMS } from "./transforms.mjs";

const { values } = parseArgs({
  options: {
    known: { type: "string" },
    distractors: { type: "string" },
    seed: { type: "string" },
    set: { type: "string" },
    reposts: { type: "boolean" },
  },
});
const log = (line) => process.stderr.write(`${line}\n`);
if (values.set !== undefined && !["report", "tune"].includes(values.set)) throw new Error("--set is report or tune");
const repostOptions = {
  seed: Number(values.seed ?? 19),
  set: values.set ?? "report",
  known: values.known === undefined ? undefined : Number(values.known),
  distractors: values.distractors === undefined ? undefined : Number(values.distractors),
};
if (values.reposts) {
  await runReposts(await buildCorpus(log), repostOptions, log);
  process.exit(0);
}
const HASHERS = ["pdq", "phash", "dhash", "ahash", "whash", "phash16", "dhash16", "blockhash"];
const FPR = 1e-4;
// 256-bit pHash thresholds the matcher is measured at besides its default (the study behind that default).
const PHASH16_STUDY = [32, 40, 48, 56, 64];

// Queries as phmatch checks them by default: every hash, dihedral variants, and the query views (trimmed content,
// rotation hypotheses, parts); list images as `hashset build --augment` hashes them (sub-windows).
const hashOf = (bytes, name) =>
  hashImageBytes(bytes, name, {
    algorithms: [...HASHERS, "md5", "sha1"],
    dihedral: true,
    trim: true,
    rotations: true,
    parts: true,
  });
const hashKnown = (bytes, name) =>
  hashImageBytes(bytes, name, { algorithms: [...HASHERS, "md5", "sha1"], dihedral: true, augment: true });
// A query record with only some of its views, as a matcher with the others turned off would see it.
const VIEWS = ["trimmed", "rotated", "parts"];
const withViews = (record, keep) =>
  Object.fromEntries(Object.entries(record).filter(([k]) => !VIEWS.includes(k) || keep.includes(k)));

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
log(
  `${known.length} known images (${lowQuality} of quality < 50 left out, as a list maker would) and ` +
    `${distractors.length} distractors ...`,
);
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
  thresholds[a] = { t, zero, bits, atZero: histogram[0] };
}
log(
  `thresholds at FPR <= ${FPR} over ${pairs.toLocaleString("en")} pairs: ` +
    `${HASHERS.map((a) => `${a} ${thresholds[a].t}`).join(", ")}`,
);

// The lists: as a hotline sends them (PDQ and digests, whole images), and as `hashset build --augment` builds
// them (PDQ, 256-bit pHash and digests, plus the PDQ and pHash of each sub-window as variants of the entry).
const listOf = (augment, algorithms, options = {}) => listMatcher(knownRecords, { algorithms, augment, options });
const AUGMENTED = ["pdq", "phash16", "md5", "sha1"];
const hotline = listOf(false, ["pdq", "md5", "sha1"]);
const augmented = listOf(true, AUGMENTED);
const combined = listOf(true, AUGMENTED, { combined: { pdq: 64, phash16: 64 } });
const MATCHERS = {
  "hotline list, no views": [hotline, []],
  "hotline list, defaults": [hotline, VIEWS],
  "augmented list, no views": [augmented, []],
  "+ trim only": [augmented, ["trimmed"]],
  "+ rotations only": [augmented, ["rotated"]],
  "+ parts only": [augmented, ["parts"]],
  "augmented list, defaults": [augmented, VIEWS],
  "defaults + combined 64/64 (opt-in)": [combined, VIEWS],
};
const STUDY = Object.fromEntries(
  PHASH16_STUDY.map((t) => [t, listOf(true, AUGMENTED, { policies: { phash16: { maxDistance: t } } })]),
);
const matched = (m, record) =>
  new Set(
    m
      .match(record)
      .matches.filter((h) => h.override === undefined)
      .map((h) => h.entryId),
  );

// False positives of each matcher: every distractor against the list (pairs = distinct entries matched).
const falsePositives = (m, keep) => {
  let hits = 0;
  let queries = 0;
  for (const d of distractorRecords) {
    const found = matched(m, withViews(d, keep));
    hits += found.size;
    if (found.size > 0) queries++;
  }
  return { hits, queries };
};
const fp = Object.fromEntries(Object.entries(MATCHERS).map(([name, [m, keep]]) => [name, falsePositives(m, keep)]));
// Each false hit of the default matcher, with what made it: algorithm, query view, list window, distance.
const falseHits = distractorRecords.flatMap((d) =>
  augmented
    .match(d)
    .matches.filter((h) => h.override === undefined)
    .map(
      (h) =>
        `${d.path} ~ entry ${h.entryId}: ${h.algorithm} at ${h.distance}, query ` +
        `${h.query ?? "whole"}${h.part !== undefined ? ` ${h.part}` : ""}, list ${h.window ?? "whole"}`,
    ),
);
const studyFp = Object.fromEntries(Object.entries(STUDY).map(([t, m]) => [t, falsePositives(m, VIEWS)]));
// How close distractors come through the default matcher's every query hash and list variant, per algorithm: the
// margin a threshold keeps. Found as the smallest radius at which some distractor matches some entry.
const closest = {};
for (const a of ["pdq", "phash16"]) {
  let lo = 0;
  let hi = 160;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const probe = listOf(true, [a], { policies: { [a]: { maxDistance: mid, ...(a === "pdq" && { minQuality: 0 }) } } });
    if (distractorRecords.some((d) => matched(probe, d).size > 0)) hi = mid;
    else lo = mid + 1;
  }
  closest[a] = lo;
}

// Recall per transform.
const rows = [];
for (const [name, transform] of Object.entries(TRANSFORMS)) {
  const found = Object.fromEntries(HASHERS.map((a) => [a, 0]));
  let pdqDihedral = 0;
  const matcherFound = Object.fromEntries(Object.keys(MATCHERS).map((m) => [m, 0]));
  const studyFound = Object.fromEntries(PHASH16_STUDY.map((t) => [t, 0]));
  for (const [i, k] of known.entries()) {
    const edited = await hashOf(await transform(k.png, i), `${k.id} ${name}`);
    const original = knownRecords[i];
    for (const a of HASHERS) {
      const e = bytesOf(edited, a);
      if (e !== undefined && hammingDistance(e, bytesOf(original, a)) <= thresholds[a].t) found[a]++;
    }
    const variants = (edited.dihedral?.pdq ?? []).map(hexToBytes);
    if (variants.some((v) => hammingDistance(v, bytesOf(original, "pdq")) <= thresholds.pdq.t)) pdqDihedral++;
    for (const [m, [matcher, keep]] of Object.entries(MATCHERS))
      if (matched(matcher, withViews(edited, keep)).has(String(i))) matcherFound[m]++;
    for (const [t, matcher] of Object.entries(STUDY)) if (matched(matcher, edited).has(String(i))) studyFound[t]++;
  }
  const pct = (n) => (100 * n) / known.length;
  rows.push({
    name,
    ...Object.fromEntries(HASHERS.map((a) => [a, pct(found[a])])),
    pdqDihedral: pct(pdqDihedral),
    ...Object.fromEntries(Object.keys(MATCHERS).map((m) => [m, pct(matcherFound[m])])),
    study: Object.fromEntries(PHASH16_STUDY.map((t) => [t, pct(studyFound[t])])),
  });
  log(
    `${name}: ${Object.keys(MATCHERS)
      .map((m) => `${m} ${pct(matcherFound[m]).toFixed(1)}%`)
      .join(", ")}`,
  );
}

const seconds = (performance.now() - started) / 1000;
const rate = (n) => `${n} (${(n / pairs).toExponential(1)})`;
console.log(
  `\nRobustness: ${known.length} known and ${distractors.length} distractor images (${SIZE}x${SIZE} tiles of ` +
    `${corpus.sources} Debian wallpapers and artworks; ${lowQuality} known tiles of PDQ quality < 50 left out), ` +
    `${pairs.toLocaleString("en")} distractor-known pairs, Node ${process.version}, ${seconds.toFixed(0)} s\n`,
);
console.log(
  `Thresholds at a false-positive rate <= ${FPR} (bits): ` +
    `${HASHERS.map((a) => `${a} ${thresholds[a].t}/${thresholds[a].bits}`).join(", ")}`,
);
console.log(
  `Largest distance with no distractor-known pair at all: ` +
    `${HASHERS.map((a) => `${a} ${thresholds[a].zero}`).join(", ")}`,
);
console.log(`Distractor-known pairs at distance 0: ${HASHERS.map((a) => `${a} ${thresholds[a].atZero}`).join(", ")}`);
console.log(
  `Closest any distractor comes to any entry through the default matcher's query hashes (views, variants) and the ` +
    `augmented list's sub-windows (no quality gate): pdq ${closest.pdq}, phash16 ${closest.phash16} bits`,
);
console.log(`Default policies: ${[...augmented.policies.values()].map((p) => p.id).join(", ")}\n`);
console.log(`| transform | ${HASHERS.join(" | ")} | pdq+dih | ${Object.keys(MATCHERS).join(" | ")} |`);
console.log(
  `|---|${HASHERS.map(() => "---:").join("|")}|---:|${Object.keys(MATCHERS)
    .map(() => "---:")
    .join("|")}|`,
);
for (const r of rows)
  console.log(
    `| ${r.name} | ${HASHERS.map((a) => r[a].toFixed(1)).join(" | ")} | ${r.pdqDihedral.toFixed(1)} | ${Object.keys(
      MATCHERS,
    )
      .map((m) => r[m].toFixed(1))
      .join(" | ")} |`,
  );
console.log(
  `| **false pairs of ${pairs.toLocaleString("en")}** | ${HASHERS.map(() => "").join(" | ")} | | ${Object.keys(MATCHERS)
    .map((m) => rate(fp[m].hits))
    .join(" | ")} |`,
);
console.log(
  `\n256-bit pHash threshold study (augmented list, default views; PDQ at its default): recall per transform below ` +
    `100% at any threshold, and false pairs\n`,
);
console.log(`| transform | ${PHASH16_STUDY.map((t) => `phash16 <= ${t}`).join(" | ")} |`);
console.log(`|---|${PHASH16_STUDY.map(() => "---:").join("|")}|`);
for (const r of rows)
  if (PHASH16_STUDY.some((t) => r.study[t] < 100))
    console.log(`| ${r.name} | ${PHASH16_STUDY.map((t) => r.study[t].toFixed(1)).join(" | ")} |`);
console.log(`| **false pairs** | ${PHASH16_STUDY.map((t) => rate(studyFp[t].hits)).join(" | ")} |`);
console.log(
  `\nFalse hits of the default matcher (augmented list, default views): ${falseHits.length === 0 ? "none" : ""}`,
);
for (const line of falseHits) console.log(`- ${line}`);

await runReposts(corpus, repostOptions, log);

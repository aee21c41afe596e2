// Query-side small-angle rotation hypotheses (HashOptions.rotations, --rotations; off by default): the query turned
// back by each of ROTATION_HYPOTHESES (canvas expanded, centre kept) as extra queries. What that buys on 5-degree
// rotated copies and what it costs in false positives over every distractor, against the list hashset build makes
// (PDQ + 256-bit pHash, augmented), default policies.
// Usage: node bench/robustness/rotation-hypotheses.mjs
import sharp from "sharp";
import { HashSetBuilder, Matcher, ROTATION_HYPOTHESES, hashImageBytes, parseStore, serializeStore } from "@phmatch/core";
import { buildCorpus } from "./corpus.mjs";

const ALGORITHMS = ["pdq", "phash16"];
const log = (line) => process.stderr.write(`${line}\n`);
const hex = (h) => new Uint8Array(Buffer.from(h, "hex"));

const corpus = await buildCorpus(log);
const known = [];
for (const k of corpus.known) {
  const r = await hashImageBytes(k.png, k.id, { algorithms: ALGORITHMS, augment: true });
  if ((r.quality?.pdq ?? 0) >= 50) known.push({ ...k, record: r });
}
const builder = new HashSetBuilder();
builder.addList({ listId: "k", version: 1 });
known.forEach((k, i) => {
  for (const a of ALGORITHMS) builder.addEntry({ algorithm: a, value: hex(k.record.hashes[a]), listId: "k", entryId: String(i) });
  for (const w of k.record.windows ?? []) for (const a of ALGORITHMS) builder.addEntry({ algorithm: a, value: hex(w.hashes[a]), listId: "k", entryId: String(i), fields: { window: w.window } });
});
const matcher = new Matcher([{ set: parseStore(serializeStore(builder), "k"), path: "k", storeSha256: "", encrypted: false, overrides: [] }]);

// Entry ids a query image matches, without and with the hypotheses (the product path: HashOptions.rotations).
async function matches(bytes) {
  const record = await hashImageBytes(bytes, "q", { algorithms: ALGORITHMS, dihedral: true, trim: true, rotations: true });
  const { rotated: _rotated, ...withoutHypotheses } = record;
  const ids = (r) => new Set(matcher.match(r).matches.filter((m) => m.override === undefined).map((m) => m.entryId));
  return { direct: ids(withoutHypotheses), through: ids(record) };
}

let directHits = 0;
let hypothesisHits = 0;
for (const [i, k] of known.entries()) {
  const rotated = await sharp(k.png).rotate(5, { background: "#ffffff" }).png().toBuffer();
  const { direct, through } = await matches(rotated);
  if (direct.has(String(i))) directHits++;
  if (through.has(String(i))) hypothesisHits++;
}
let directFalse = 0;
let hypothesisFalse = 0;
for (const d of corpus.distractor) {
  const { direct, through } = await matches(d.png);
  directFalse += direct.size;
  hypothesisFalse += through.size;
}
const pairs = known.length * corpus.distractor.length;
console.log(`rotation hypotheses ${ROTATION_HYPOTHESES.join(", ")} degrees; ${known.length} known, ${corpus.distractor.length} distractors, ${pairs.toLocaleString("en")} pairs`);
console.log(`rotate 5 degrees: recall ${((100 * directHits) / known.length).toFixed(1)}% without, ${((100 * hypothesisHits) / known.length).toFixed(1)}% with the hypotheses`);
console.log(`false pairs: ${directFalse} without, ${hypothesisFalse} with (${(hypothesisFalse / pairs).toExponential(1)})`);

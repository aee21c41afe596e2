// Near-duplicate clustering at case scale, in process: N synthetic PDQ hashes, half in families of near-duplicates
// (2-40 copies of an original, each 0-12 bits from it, so within 24 of each other: one family fits one centre's
// reach of 31) and half random singletons, shuffled; all of quality 100. Times clusterImages (leader linkage over
// the index chooseIndexKind picks, multi-index hashing at this size) and reports peak RSS (VmHWM, sampled before
// and after), clusters, the largest, and how many families came out whole (a family split in two or joined to
// another counts as not whole).
// --big-family K turns the first K singletons into one more family of K near-copies (0-8 bits from its first): the
// case of a long video's frames or a burst of shots, which must cost one search, not K.
// --packed gives the hashes to clusterPacked as columns (42 bytes an image) instead of one item object per image.
// Usage: npm run bench:cluster [-- --count 1000000 --seed 22 --big-family 0 --packed]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { clusterImages, clusterPacked } from "@phmatch/core/internal";
import { seededRandom } from "../seeded-random.mjs";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "1000000" },
    seed: { type: "string", default: "22" },
    "big-family": { type: "string", default: "0" },
    packed: { type: "boolean", default: false },
  },
});
const COUNT = Number(values.count);
const BIG = Number(values["big-family"]);
const random = seededRandom(Number(values.seed));
const log = (message) => process.stderr.write(`${message}\n`);
const hwmMiB = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) / 1024;

const started = performance.now();
const data = new Uint8Array(COUNT * 32);
for (let i = 0; i < data.length; i += 4) new DataView(data.buffer).setUint32(i, random());
// Families fill the first half: copies of the family's first value with 0-12 bits flipped.
const familyOf = new Int32Array(COUNT).fill(-1);
let families = 0;
for (let i = 0; i < COUNT / 2; ) {
  const size = Math.min(2 + (random() % 39), Math.floor(COUNT / 2) - i);
  if (size < 2) break;
  for (let m = 1; m < size; m++) {
    data.copyWithin((i + m) * 32, i * 32, i * 32 + 32);
    const flips = random() % 13;
    for (let f = 0; f < flips; f++) {
      const bit = random() % 256;
      data[(i + m) * 32 + (bit >> 3)] ^= 1 << (bit & 7);
    }
  }
  for (let m = 0; m < size; m++) familyOf[i + m] = families;
  families++;
  i += size;
}
if (BIG > 1) {
  const first = Math.floor(COUNT / 2);
  for (let m = 1; m < BIG; m++) {
    data.copyWithin((first + m) * 32, first * 32, first * 32 + 32);
    const flips = random() % 9;
    for (let f = 0; f < flips; f++) {
      const bit = random() % 256;
      data[(first + m) * 32 + (bit >> 3)] ^= 1 << (bit & 7);
    }
  }
  for (let m = 0; m < BIG; m++) familyOf[first + m] = families;
  families++;
}
// Shuffle (Fisher-Yates) so families are not contiguous in input order.
const order = Uint32Array.from({ length: COUNT }, (_, i) => i);
for (let i = COUNT - 1; i > 0; i--) {
  const j = random() % (i + 1);
  [order[i], order[j]] = [order[j], order[i]];
}
let input;
if (values.packed) {
  const pdq = new Uint8Array(COUNT * 32);
  order.forEach((k, i) => {
    pdq.set(data.subarray(k * 32, k * 32 + 32), i * 32);
  });
  const none = new Uint8Array(COUNT);
  input = {
    count: COUNT,
    pdq,
    pdqQuality: new Uint8Array(COUNT).fill(100),
    phash: new Uint8Array(COUNT * 8),
    hasPhash: none,
  };
} else {
  input = Array.from(order, (k) => ({ pdq: data.subarray(k * 32, k * 32 + 32), pdqQuality: 100 }));
}
const familyAt = Int32Array.from(order, (k) => familyOf[k]);
const inputMiB = hwmMiB();
log(`generated ${COUNT} hashes (${families} families) in ${((performance.now() - started) / 1000).toFixed(1)} s`);

const t0 = performance.now();
const result = values.packed ? clusterPacked(input) : clusterImages(input);
const seconds = (performance.now() - t0) / 1000;
const peakMiB = hwmMiB();

// Families whole: a cluster holding exactly one family's members and all of them.
const familySize = new Map();
for (const f of familyAt) if (f >= 0) familySize.set(f, (familySize.get(f) ?? 0) + 1);
let whole = 0;
let strays = 0;
for (const c of result.clusters) {
  const f = familyAt[c.members[0]];
  if (f >= 0 && c.members.every((m) => familyAt[m] === f) && c.size === familySize.get(f)) whole++;
  if (c.members.some((m) => familyAt[m] !== f)) strays++;
}
const largest = result.clusters[0]?.size ?? 0;
const header = ["images", "families", "seconds", "peak RSS MiB (input alone)", "clusters", "largest", "singletons"];
header.push("families whole", "mixed clusters");
console.log(`| ${header.join(" | ")} |`);
console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
console.log(
  `| ${COUNT.toLocaleString("en")} | ${families.toLocaleString("en")} | ${seconds.toFixed(1)} | ` +
    `${peakMiB.toFixed(0)} (${inputMiB.toFixed(0)}) | ${result.clusters.length.toLocaleString("en")} | ${largest} | ` +
    `${result.singletons.toLocaleString("en")} | ${whole.toLocaleString("en")} ` +
    `(${((100 * whole) / families).toFixed(1)} %) | ${strays} |`,
);

// Hamming search side by side in one run: phmatch's flat scan, multi-index hashing (MIH) and BK-tree, and
// mnemonist's BKTree (up to 1 million), on random sets and on clustered ones (families of near-duplicates, as
// real lists hold), with planted true matches. Per configuration: build time, memory beyond the hashes, p50/p99
// latency per needle (one query hash; a dihedral PDQ image query is 8 needles), queries per second, and the
// ratio to the flat scan. Every measurement is bounded in time. One thread.
// Usage: npm run bench:match [-- --sizes 100000,1000000,10000000 --budget 2]
import { parseArgs } from "node:util";
import { BkTreeIndex, FlatIndex, MihIndex } from "@phmatch/core/internal";
import { BKTree } from "mnemonist";
import { seededRandom } from "../seeded-random.mjs";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "100000,1000000,10000000" },
    budget: { type: "string", default: "2" },
    bits: { type: "string", default: "256,64" },
  },
});
const SIZES = values.sizes.split(",").map(Number);
const BUDGET_MS = Number(values.budget) * 1000;

const prng = seededRandom;

function flipBits(bytes, offset, length, count, rand) {
  for (let k = 0; k < count; k++) {
    const bit = rand() % (length * 8);
    bytes[offset + (bit >> 3)] ^= 1 << (bit & 7);
  }
}

// n values of `bytes` bytes: random, or clustered (families of 50 around a centre, each member `spread` bits away).
function dataset(n, bytes, clustered, seed) {
  const rand = prng(seed);
  const data = new Uint8Array(n * bytes);
  const words = new Uint32Array(data.buffer);
  for (let i = 0; i < words.length; i++) words[i] = rand();
  if (clustered) {
    const spread = bytes === 32 ? 12 : 3;
    for (let i = 0; i < n; i++) {
      const centre = i - (i % 50);
      if (i !== centre) {
        data.copyWithin(i * bytes, centre * bytes, centre * bytes + bytes);
        flipBits(data, i * bytes, bytes, 1 + (rand() % spread), rand);
      }
    }
  }
  return { bytesPerValue: bytes, count: n, values: data };
}

// Needles: half planted (an entry with up to r bits flipped: a true match), half random.
function needles(set, r, count, seed) {
  const rand = prng(seed);
  const out = [];
  for (let q = 0; q < count; q++) {
    const needle = new Uint8Array(set.bytesPerValue);
    if (q % 2 === 0) {
      const i = rand() % set.count;
      needle.set(set.values.subarray(i * set.bytesPerValue, (i + 1) * set.bytesPerValue));
      flipBits(needle, 0, set.bytesPerValue, rand() % (r + 1), rand);
    } else {
      for (let b = 0; b < needle.length; b++) needle[b] = rand() & 255;
    }
    out.push(needle);
  }
  return out;
}

function measure(search, queries) {
  const times = [];
  const start = performance.now();
  let hits = 0;
  for (const q of queries) {
    const t0 = performance.now();
    hits += search(q);
    times.push(performance.now() - t0);
    if (performance.now() - start > BUDGET_MS && times.length >= 5) break;
  }
  times.sort((a, b) => a - b);
  const total = times.reduce((a, b) => a + b, 0);
  return {
    needles: times.length,
    p50: times[Math.floor(times.length * 0.5)],
    p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))],
    qps: (times.length / total) * 1000,
    hits,
  };
}

function mnemonistTree(set) {
  // mnemonist's BKTree over hex strings with a popcount distance (its documented use: any metric).
  const hex = (i) =>
    Buffer.from(set.values.subarray(i * set.bytesPerValue, (i + 1) * set.bytesPerValue)).toString("hex");
  const distance = (a, b) => {
    let d = 0;
    for (let i = 0; i < a.length; i += 8) {
      let x = (parseInt(a.slice(i, i + 8), 16) ^ parseInt(b.slice(i, i + 8), 16)) >>> 0;
      x -= (x >>> 1) & 0x55555555;
      x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
      d += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
    }
    return d;
  };
  const tree = new BKTree(distance);
  const deadline = performance.now() + BUDGET_MS * 5;
  for (let i = 0; i < set.count; i++) {
    tree.add(hex(i));
    if ((i & 1023) === 0 && performance.now() > deadline) return undefined;
  }
  return { search: (q, r) => tree.search(r, Buffer.from(q).toString("hex")).length };
}

const rows = [];
for (const bits of values.bits.split(",").map(Number)) {
  const bytes = bits / 8;
  const radii = bits === 256 ? [16, 31, 63] : [4, 8, 12];
  for (const n of SIZES) {
    for (const clustered of [false, true]) {
      const set = dataset(n, bytes, clustered, n + bits + (clustered ? 1 : 0));
      const hashBytes = set.values.length;
      const built = [];
      for (const [name, make] of [
        ["flat", () => new FlatIndex(set)],
        ...(bits === 64 && n <= 1_000_000 ? [["bktree", () => new BkTreeIndex(set)]] : []),
      ]) {
        const t0 = performance.now();
        const index = make();
        built.push({ name, index, buildMs: performance.now() - t0, overhead: index.overheadBytes });
      }
      let mn;
      if (bits === 64 && n <= 1_000_000) {
        const before = process.memoryUsage().heapUsed;
        const t0 = performance.now();
        const tree = mnemonistTree(set);
        if (tree !== undefined)
          mn = {
            name: "mnemonist BKTree",
            search: tree.search,
            buildMs: performance.now() - t0,
            overhead: process.memoryUsage().heapUsed - before,
          };
      }
      for (const r of radii) {
        const queries = needles(set, r, 400, r * 7 + n);
        const results = {};
        // MIH cuts its slices for the radius its policy searches at, as the matcher builds it.
        const t0 = performance.now();
        const mih = new MihIndex(set, { radius: r });
        const mihBuild = { name: "mih", index: mih, buildMs: performance.now() - t0, overhead: mih.overheadBytes };
        for (const b of [...built.slice(0, 1), mihBuild, ...built.slice(1)])
          results[b.name] = {
            ...measure((q) => b.index.search(q, r).length, queries),
            buildMs: b.buildMs,
            overhead: b.overhead,
          };
        if (mn !== undefined)
          results[mn.name] = {
            ...measure((q) => mn.search(q, r), queries),
            buildMs: mn.buildMs,
            overhead: mn.overhead,
          };
        const flat = results.flat;
        for (const [name, m] of Object.entries(results)) {
          rows.push({
            bits,
            n,
            data: clustered ? "clustered" : "random",
            r,
            name,
            ...m,
            ratio: flat.p50 / m.p50,
            overheadRatio: m.overhead / hashBytes,
          });
        }
        const latencies = Object.entries(results)
          .map(([k, m]) => `${k} p50 ${m.p50.toFixed(3)} ms`)
          .join(", ");
        process.stderr.write(
          `${bits}-bit n=${n} ${clustered ? "clustered" : "random"} r=${r} (mih slices ${mih.widths.join(",")}): ` +
            `${latencies}\n`,
        );
      }
    }
  }
}

console.log(
  `\nExact Hamming search, one thread, Node ${process.version}; latency per needle; "x flat" = flat scan p50 / ` +
    `this p50; memory beyond the hashes as a multiple of the raw hash bytes\n`,
);
console.log(
  "| bits | entries | data | radius | index | build s | memory x hashes | p50 ms | p99 ms | needles / s | x flat | " +
    "needles run |",
);
console.log("|---:|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.bits} | ${r.n.toLocaleString("en")} | ${r.data} | ${r.r} | ${r.name} | ${(r.buildMs / 1000).toFixed(2)} ` +
      `| ${r.overheadRatio.toFixed(2)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ` +
      `${Math.round(r.qps).toLocaleString("en")} | ${r.ratio.toFixed(1)} | ${r.needles} |`,
  );
}

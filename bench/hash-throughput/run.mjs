// Hash throughput per core, side by side in one run: phmatch PDQ (exact and fast) against the floor (sharp
// decode only) and the npm baselines (sharp-phash; blockhash-core on sharp-decoded RGBA); then every phmatch
// algorithm alone (each a full read + decode + hash, as a separate run would cost), and all of them in one pass.
// Input: ~2 MP JPEGs generated in memory (benign photo-like texture: multi-scale noise and grain), never
// written to disk. Everything runs on one thread with libvips concurrency 1, so numbers are per core.
// Usage: npm run bench [-- --images 12 --rounds 3]

import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { hashImageBytes, isFailedRecord, SUPPORTED_ALGORITHMS } from "@phmatch/core";
import { bmvbhash } from "blockhash-core";
import sharp from "sharp";
import phash from "sharp-phash";
import { photoLikeJpeg } from "../photo-like.mjs";

const { values } = parseArgs({
  options: { images: { type: "string", default: "12" }, rounds: { type: "string", default: "3" } },
});
const IMAGES = Number(values.images);
const ROUNDS = Number(values.rounds);
const WIDTH = 1728;
const HEIGHT = 1152; // 1.99 MP

sharp.concurrency(1);
sharp.cache(false);

const methods = {
  "sharp decode only (floor)": async (jpeg) => {
    await sharp(jpeg).raw().toBuffer();
  },
  "phmatch pdq exact": async (jpeg) => {
    const r = await hashImageBytes(jpeg, "bench", { mode: "exact" });
    if (isFailedRecord(r)) throw new Error(r.error.message);
  },
  "phmatch pdq exact + dihedral": async (jpeg) => {
    const r = await hashImageBytes(jpeg, "bench", { mode: "exact", dihedral: true });
    if (isFailedRecord(r)) throw new Error(r.error.message);
  },
  "phmatch pdq fast": async (jpeg) => {
    const r = await hashImageBytes(jpeg, "bench", { mode: "fast" });
    if (isFailedRecord(r)) throw new Error(r.error.message);
  },
  "sharp-phash 2.2 (npm)": async (jpeg) => {
    await phash(jpeg);
  },
  "blockhash-core 0.1 on sharp RGBA (npm)": async (jpeg) => {
    const { data, info } = await sharp(jpeg).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    bmvbhash({ width: info.width, height: info.height, data }, 16);
  },
};
const ALONE = "phmatch alone: ";
for (const id of SUPPORTED_ALGORITHMS) {
  methods[`${ALONE}${id}`] = async (jpeg) => {
    const r = await hashImageBytes(jpeg, "bench", { algorithms: [id] });
    if (isFailedRecord(r)) throw new Error(r.error.message);
  };
}
const ALL = `phmatch all ${SUPPORTED_ALGORITHMS.length} algorithms, one pass`;
methods[ALL] = async (jpeg) => {
  const r = await hashImageBytes(jpeg, "bench", { algorithms: [...SUPPORTED_ALGORITHMS] });
  if (isFailedRecord(r)) throw new Error(r.error.message);
};

// What an upload check hashes (a list of PDQ, 256-bit pHash and digests): without the extra query views, with each
// view, and with check's defaults (trim, rotation hypotheses, parts).
const QUERY = { algorithms: ["pdq", "phash16", "md5", "sha1"], dihedral: true };
const VIEW_ROWS = {
  "check query: pdq+phash16+digests, dihedral, no views": {},
  "check query + trim": { trim: true },
  "check query + rotation hypotheses": { rotations: true },
  "check query + parts": { parts: true },
  "check query + trim + rotations + parts (check's defaults)": { trim: true, rotations: true, parts: true },
};
for (const [name, views] of Object.entries(VIEW_ROWS)) {
  methods[name] = async (jpeg) => {
    const r = await hashImageBytes(jpeg, "bench", { ...QUERY, ...views });
    if (isFailedRecord(r)) throw new Error(r.error.message);
  };
}

console.error(`generating ${IMAGES} photo-like ${WIDTH}x${HEIGHT} JPEGs in memory...`);
const jpegs = [];
for (let i = 0; i < IMAGES; i++) jpegs.push(await photoLikeJpeg(1000 + i, WIDTH, HEIGHT));
const meanKb = jpegs.reduce((a, b) => a + b.length, 0) / jpegs.length / 1024;

// Warm up every method once (JIT, wasm compile, libvips init), then interleave rounds so drift hits all alike.
for (const fn of Object.values(methods)) await fn(jpegs[0]);
// CPU time (this process, libvips' threads included) beside wall time: on a shared machine it is the steadier.
const totals = Object.fromEntries(Object.keys(methods).map((k) => [k, 0]));
const cpuTotals = Object.fromEntries(Object.keys(methods).map((k) => [k, 0]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of Object.entries(methods)) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (const jpeg of jpegs) await fn(jpeg);
    const c = process.cpuUsage(c0);
    totals[name] += performance.now() - t0;
    cpuTotals[name] += (c.user + c.system) / 1000;
  }
}

const perImage = Object.fromEntries(Object.entries(totals).map(([k, ms]) => [k, ms / (IMAGES * ROUNDS)]));
const floor = perImage["sharp decode only (floor)"];
console.log(
  `\n${IMAGES} JPEGs ${WIDTH}x${HEIGHT} (${((WIDTH * HEIGHT) / 1e6).toFixed(2)} MP, mean ${meanKb.toFixed(0)} ` +
    `KiB), ${ROUNDS} rounds, one thread, ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}\n`,
);
const cpuPerImage = Object.fromEntries(Object.entries(cpuTotals).map(([k, ms]) => [k, ms / (IMAGES * ROUNDS)]));
console.log("| method | ms / image | images / s per core | time vs decode only | CPU ms / image |");
console.log("|---|---:|---:|---:|---:|");
for (const [name, ms] of Object.entries(perImage)) {
  console.log(
    `| ${name} | ${ms.toFixed(1)} | ${(1000 / ms).toFixed(1)} | ${(ms / floor).toFixed(2)}x | ` +
      `${cpuPerImage[name].toFixed(1)} |`,
  );
}
const exact = perImage["phmatch pdq exact"];
const fast = perImage["phmatch pdq fast"];
console.log(
  `\nMeta's C++ reference (context, not run here): 23-31 images/s per core at full resolution on ~2 MP JPEGs.`,
);
console.log(
  `phmatch exact: ${(1000 / exact).toFixed(1)} images/s = ${(1000 / exact / 27).toFixed(2)}x the reference's ` +
    `midpoint (target >= 1.5x; in-run target <= 3x decode-only: ${(exact / floor).toFixed(2)}x)`,
);
console.log(
  `phmatch fast:  ${(1000 / fast).toFixed(1)} images/s = ${(1000 / fast / 27).toFixed(2)}x the reference's ` +
    `midpoint (target >= 5x; in-run target <= 1x decode-only: ${(fast / floor).toFixed(2)}x)`,
);
const separately = Object.entries(perImage)
  .filter(([k]) => k.startsWith(ALONE))
  .reduce((a, [, ms]) => a + ms, 0);
console.log(
  `one pass: all ${SUPPORTED_ALGORITHMS.length} algorithms ${perImage[ALL].toFixed(1)} ms per image; the ` +
    `${SUPPORTED_ALGORITHMS.length} separate runs add up to ${separately.toFixed(1)} ms (one pass costs ` +
    `${((perImage[ALL] / separately) * 100).toFixed(0)}% of that)`,
);
const [bare, , , , withViews] = Object.keys(VIEW_ROWS).map((k) => cpuPerImage[k]);
console.log(
  `query views: check's defaults cost ${(withViews - bare).toFixed(1)} CPU ms per image over the bare query ` +
    `(${((withViews / bare - 1) * 100).toFixed(0)}% more)`,
);

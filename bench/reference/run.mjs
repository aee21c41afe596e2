// phmatch against Meta's PDQ C++ reference, in one run, on the same real photographs, one core, whole processes:
// the reference (../shared/anchors/pdq-cpp, built here with its build.sh: libjpeg-turbo decode at full resolution)
// and `phmatch hash --algorithms pdq` in exact and fast mode over the same files, once and twice over (the
// difference is a long run's cost per image, start-up aside); the stages of each (the reference's own -t
// timings; phmatch's measured in a pinned child process: read, decode, copy, luma, blur, threshold; the rest is
// start-up, IPC and output); start-up rows (one photo: `phmatch hash`, `phmatch check` against the demo list and
// against a list of 1 million PDQ hashes); the fast-vs-exact distances; what the query views cost.
// Every figure is measured here; nothing is typed in. Processes are pinned to one core with taskset when it exists.
// Usage: npm run bench [-- --photos 24 --repeat 4 --rounds 3 --startup-runs 5]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { HashSetBuilder, hammingDistance, hashImageBytes, serializeStore } from "@phmatch/core";
import { decodeImage, FAST_MODE_MIN_LONG_SIDE, hashKernel, mallocTuning } from "@phmatch/core/internal";
import sharp from "sharp";
import { realPhotos } from "../photos.mjs";
import { seededRandom } from "../seeded-random.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    "stages-child": { type: "boolean", default: false },
    photos: { type: "string", default: "24" },
    repeat: { type: "string", default: "4" },
    rounds: { type: "string", default: "3" },
    "startup-runs": { type: "string", default: "5" },
    "list-entries": { type: "string", default: "1000000" },
  },
});
const PHOTOS = Number(values.photos);
const REPEAT = Number(values.repeat);
const ROUNDS = Number(values.rounds);
const STARTUP_RUNS = Number(values["startup-runs"]);
const LIST_ENTRIES = Number(values["list-entries"]);
const log = (message) => process.stderr.write(`${message}\n`);

// The stage timings, in a child process (see below): one thread, libvips concurrency 1, a warm-up round first.
if (values["stages-child"]) {
  sharp.concurrency(1);
  sharp.cache(false);
  const kernel = hashKernel();
  const stages = { exact: {}, fast: {} };
  for (const mode of ["exact", "fast"]) {
    for (const s of ["read", "decode", "copy", "luma", "blur", "threshold"]) stages[mode][s] = [];
  }
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const path of positionals) {
      for (const mode of ["exact", "fast"]) {
        const t0 = performance.now();
        const bytes = readFileSync(path);
        const t1 = performance.now();
        const decoded = await decodeImage(bytes, mode === "fast" ? { shrinkOnLoadTo: FAST_MODE_MIN_LONG_SIDE } : {});
        const t2 = performance.now();
        const kernelStages = kernel.timePdqStages(decoded.pixels);
        if (round === 0) continue;
        stages[mode].read.push(t1 - t0);
        stages[mode].decode.push(t2 - t1);
        for (const s of ["copy", "luma", "blur", "threshold"]) stages[mode][s].push(kernelStages[s]);
      }
    }
  }
  // What check, scan and serve hash for a query (PDQ with its dihedral variants, the 256-bit pHash, MD5, SHA-1),
  // bare and with each extra view, ms per photo (read and decode included).
  const query = { algorithms: ["pdq", "phash16", "md5", "sha1"], dihedral: true };
  const views = {
    "pdq only (a plain hash)": { algorithms: ["pdq"] },
    "query, no views": query,
    "query + trim": { ...query, trim: true },
    "query + rotation hypotheses": { ...query, rotations: true },
    "query + parts": { ...query, parts: true },
    "query + trim + rotations + parts (the defaults)": { ...query, trim: true, rotations: true, parts: true },
  };
  stages.views = Object.fromEntries(Object.keys(views).map((name) => [name, 0]));
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const path of positionals) {
      const bytes = readFileSync(path);
      for (const [name, options] of Object.entries(views)) {
        const t0 = performance.now();
        const record = await hashImageBytes(bytes, path, options);
        if (record.error !== undefined) throw new Error(`${path}: ${record.error.code}`);
        if (round > 0) stages.views[name] += (performance.now() - t0) / (ROUNDS * positionals.length);
      }
    }
  }
  process.stdout.write(JSON.stringify(stages));
  process.exit(0);
}

const root = new URL("../../", import.meta.url).pathname;
const cache = new URL("../.cache/", import.meta.url).pathname;
const phmatch = join(root, "packages/cli/bin/phmatch.js");
const anchors = join(root, "../shared/anchors/pdq-cpp");

// --- the reference, built from ../shared (refuse to run without it: a comparison needs both sides) ---
if (!existsSync(join(anchors, "build.sh"))) {
  log(`npm run bench needs Meta's reference beside the project: ${anchors}/build.sh is missing`);
  process.exit(1);
}
const referenceDir = join(cache, "pdq-reference");
const reference = join(referenceDir, "pdq-anchor");
if (!existsSync(reference)) {
  log("building Meta's PDQ reference (g++, libjpeg-dev, libpng-dev) ...");
  const built = spawnSync("bash", [join(anchors, "build.sh"), referenceDir], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (built.status !== 0) {
    log("the reference did not build: apt-get install g++ libjpeg-dev libpng-dev, then run npm run bench again");
    process.exit(1);
  }
}

const pin = spawnSync("taskset", ["-c", "0", "true"]).status === 0 ? ["taskset", "-c", "0"] : [];
if (pin.length === 0) log("taskset not found: processes are not pinned to one core");

const photos = await realPhotos(PHOTOS, log);
const files = Array.from({ length: REPEAT }, () => photos.map((p) => p.path)).flat();
const megapixels = photos.reduce((sum, p) => sum + p.width * p.height, 0) / photos.length / 1e6;

/** Runs a command pinned to one core; returns wall seconds, stdout and stderr. Throws if it fails. */
function timed(command, args, { okCodes = [0] } = {}) {
  const [bin, ...rest] = [...pin, command, ...args];
  const t0 = performance.now();
  const r = spawnSync(bin, rest, { encoding: "utf8", maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  if (!okCodes.includes(r.status))
    throw new Error(`${command} ${args.slice(0, 3).join(" ")} ...: exit ${r.status}\n${r.stderr}`);
  return { seconds, stdout: r.stdout, stderr: r.stderr };
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

// --- whole processes over the same files, interleaved rounds ---
// Each also over the inputs twice: the difference is what an image costs in a long run, start-up aside.
const twice = [...files, ...files];
const hash = (mode, inputs) => () =>
  timed(process.execPath, [phmatch, "hash", "-q", "--algorithms", "pdq", "--mode", mode, ...inputs]);
const runs = {
  reference: () => timed(reference, ["-t", ...files]),
  exact: hash("exact", files),
  fast: hash("fast", files),
  reference2: () => timed(reference, twice),
  exact2: hash("exact", twice),
  fast2: hash("fast", twice),
};
log(`${files.length} inputs (${PHOTOS} photographs x ${REPEAT}), ${ROUNDS} rounds ...`);
const walls = Object.fromEntries(Object.keys(runs).map((name) => [name, []]));
const outputs = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(runs)) {
    const r = run();
    walls[name].push(r.seconds);
    outputs[name] = r;
  }
}

// Same hashes? The reference prints hash,quality,path; phmatch one JSON record per file, in input order.
const referenceHashes = outputs.reference.stdout
  .trim()
  .split("\n")
  .map((line) => line.split(",")[0]);
const recordsOf = (stdout) =>
  stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line).hashes?.pdq);
const exactHashes = recordsOf(outputs.exact.stdout);
const fastHashes = recordsOf(outputs.fast.stdout);
const identical = exactHashes.filter((h, i) => h === referenceHashes[i]).length;
const fastDistances = photos.map((_, i) =>
  hammingDistance(Buffer.from(fastHashes[i], "hex"), Buffer.from(exactHashes[i], "hex")),
);

// The reference's stages (-t: "per image: decode X ms, luma Y ms, hash core Z ms"), from the last round.
const stageOf = (name) => Number(new RegExp(`${name} ([0-9.]+) ms`).exec(outputs.reference.stderr)?.[1]);
const referenceStages = { decode: stageOf("decode"), luma: stageOf("luma"), core: stageOf("hash core") };

// --- phmatch's stages: in a process of their own, pinned, with the worker process's malloc settings ---
const stageNames = ["read", "decode", "copy", "luma", "blur", "threshold"];
const stagesRun = spawnSync(
  pin[0] ?? process.execPath,
  [
    ...pin.slice(1),
    ...(pin.length > 0 ? [process.execPath] : []),
    new URL(import.meta.url).pathname,
    "--stages-child",
    "--rounds",
    String(ROUNDS),
    ...photos.map((p) => p.path),
  ],
  { encoding: "utf8", maxBuffer: 1 << 26, env: { ...mallocTuning(totalmem() / 2), ...process.env } },
);
if (stagesRun.status !== 0) throw new Error(`stage timing failed: ${stagesRun.stderr}`);
const stages = JSON.parse(stagesRun.stdout);
const stageMs = (mode, s) => stages[mode][s].reduce((a, b) => a + b, 0) / stages[mode][s].length;

// --- start-up: one photo, whole process ---
const one = photos[0].path;
const demoList = join(root, "test-fixtures/hashsets/demo.phs");
const bigList = join(cache, `pdq-list-${LIST_ENTRIES}-40-120.phs`);
if (!existsSync(bigList)) {
  log(`writing a list of ${LIST_ENTRIES} PDQ hashes (photo hashes and jittered copies of them) ...`);
  const rand = seededRandom(LIST_ENTRIES);
  const builder = new HashSetBuilder();
  builder.addList({ listId: "bench-1m", version: 1 });
  const seeds = referenceHashes.slice(0, PHOTOS).map((h) => Buffer.from(h, "hex"));
  const value = new Uint8Array(32);
  for (let i = 0; i < LIST_ENTRIES; i++) {
    // A seed photo's hash 40-120 bits away: real-looking (clustered, not uniform), none within 31 of a photo.
    const seed = seeds[i % seeds.length];
    value.set(seed);
    const distance = 40 + (rand() % 81);
    while (hammingDistance(value, seed) < distance) {
      const bit = rand() % 256;
      value[bit >> 3] ^= 1 << (bit & 7);
    }
    builder.addEntry({ algorithm: "pdq", value, listId: "bench-1m", entryId: `E${i}`, category: String(i % 5) });
  }
  mkdirSync(cache, { recursive: true });
  writeFileSync(bigList, serializeStore(builder));
}
const startupRuns = {
  "reference, one photo": () => timed(reference, [one]),
  "node -e 0 (Node's own start-up)": () => timed(process.execPath, ["-e", "0"]),
  "phmatch --version": () => timed(process.execPath, [phmatch, "--version"]),
  "phmatch hash photo.jpg": () => timed(process.execPath, [phmatch, "hash", "-q", one]),
  "phmatch check photo.jpg --hashset demo.phs": () =>
    timed(process.execPath, [phmatch, "check", one, "--hashset", demoList], { okCodes: [0, 1] }),
  [`phmatch check photo.jpg --hashset (${LIST_ENTRIES.toLocaleString("en")} PDQ)`]: () =>
    timed(process.execPath, [phmatch, "check", one, "--hashset", bigList], { okCodes: [0, 1] }),
  "phmatch hash --isolate photo.jpg (worker process)": () =>
    timed(process.execPath, [phmatch, "hash", "-q", "--isolate", one]),
};
const startup = Object.fromEntries(Object.keys(startupRuns).map((k) => [k, []]));
for (let run = 0; run < STARTUP_RUNS; run++) {
  for (const [name, fn] of Object.entries(startupRuns)) startup[name].push(fn().seconds);
}

// --- the table ---
const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
const dirty =
  spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" }).stdout.trim()
    .length > 0;
const cpu = cpus()[0]?.model ?? "cpu";
console.log(
  `\n${files.length} inputs: ${PHOTOS} Debian photographs (${megapixels.toFixed(2)} MP average, JPEG q90) ` +
    `x ${REPEAT}; ` +
    `${pin.length > 0 ? "one core (taskset -c 0)" : "not pinned"}; median of ${ROUNDS} interleaved rounds; ${cpu}; ` +
    `Node ${process.version}; commit ${commit}${dirty ? " (uncommitted changes)" : ""}\n`,
);
const wall = Object.fromEntries(Object.entries(walls).map(([k, v]) => [k, median(v)]));
const perSecond = (name) => files.length / wall[name];
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "-");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "-");
const perImage = (name) => (wall[name] * 1000) / files.length;
const marginal = (name) => ((wall[`${name}2`] - wall[name]) * 1000) / files.length;
const inStages = (mode) => stageNames.reduce((sum, s) => sum + stageMs(mode, s), 0);
const rows = [
  ["whole process, s", f2(wall.reference), f2(wall.exact), f2(wall.fast)],
  ["images / s per core", f1(perSecond("reference")), f1(perSecond("exact")), f1(perSecond("fast"))],
  [
    "vs the reference",
    "1.00x",
    `${f2(perSecond("exact") / perSecond("reference"))}x`,
    `${f2(perSecond("fast") / perSecond("reference"))}x`,
  ],
  ["whole process, ms / image", f1(perImage("reference")), f1(perImage("exact")), f1(perImage("fast"))],
  [
    `long run: ms / image (wall of ${twice.length} inputs - wall of ${files.length}) / ${files.length}`,
    f1(marginal("reference")),
    f1(marginal("exact")),
    f1(marginal("fast")),
  ],
  [
    "long run: vs the reference",
    "1.00x",
    `${f2(marginal("reference") / marginal("exact"))}x`,
    `${f2(marginal("reference") / marginal("fast"))}x`,
  ],
  ["stage: read file, ms", "(in decode)", f2(stageMs("exact", "read")), f2(stageMs("fast", "read"))],
  ["stage: decode, ms", f2(referenceStages.decode), f2(stageMs("exact", "decode")), f2(stageMs("fast", "decode"))],
  ["stage: copy into the kernel, ms", "-", f2(stageMs("exact", "copy")), f2(stageMs("fast", "copy"))],
  ["stage: luma, ms", f2(referenceStages.luma), f2(stageMs("exact", "luma")), f2(stageMs("fast", "luma"))],
  [
    "stage: blur + decimate + DCT, ms",
    f2(referenceStages.core),
    f2(stageMs("exact", "blur")),
    f2(stageMs("fast", "blur")),
  ],
  [
    "stage: quality + threshold, ms",
    "(in the above)",
    f2(stageMs("exact", "threshold")),
    f2(stageMs("fast", "threshold")),
  ],
  [
    "long run: IPC, dispatch, output (long run minus the stages), ms / image",
    f2(marginal("reference") - referenceStages.decode - referenceStages.luma - referenceStages.core),
    f2(marginal("exact") - inStages("exact")),
    f2(marginal("fast") - inStages("fast")),
  ],
  [
    "one batch: start-up, IPC, output (whole process minus the stages), ms / image",
    f2(perImage("reference") - referenceStages.decode - referenceStages.luma - referenceStages.core),
    f2(perImage("exact") - inStages("exact")),
    f2(perImage("fast") - inStages("fast")),
  ],
];
console.log("| per core, whole process | Meta's C++ reference | phmatch exact | phmatch fast |");
console.log("|---|---:|---:|---:|");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
console.log("| **start-up, one photo, whole process** | wall s (median) | | |");
for (const [name, secs] of Object.entries(startup)) console.log(`| ${name} | ${f2(median(secs))} | | |`);
console.log("\nWhat the query views of check, scan and serve cost on these photographs (one thread, ms per photo):\n");
console.log("| what is hashed | ms / photo | vs a plain PDQ hash |");
console.log("|---|---:|---:|");
const plain = stages.views["pdq only (a plain hash)"];
for (const [name, ms] of Object.entries(stages.views)) console.log(`| ${name} | ${f1(ms)} | ${f2(ms / plain)}x |`);
console.log(
  `\nSame hashes: phmatch exact equals the reference on ${identical} of ${files.length} inputs. ` +
    `Fast vs exact, PDQ distance over the ${PHOTOS} photographs: median ${median(fastDistances)}, ` +
    `p90 ${percentile(fastDistances, 0.9)}, max ${Math.max(...fastDistances)} bits.`,
);
console.log(
  "phmatch's stages are measured in a process of their own (pinned, one thread, libvips concurrency 1, the " +
    "worker process's malloc settings, after a warm-up round); " +
    "the reference's are its own -t timings.",
);

// PDQ search at list scale, phmatch against Meta's reference in one run, on the same hashes: phmatch's MIH (one
// needle per call, and a request's needles in one call) and flat scan, beside the reference's MIH256 and its linear
// scan (pdq/cpp/index). Two lists of N hashes, searched at distance D:
// - "reference": the list and needles upstream's benchmark-query generates (uniform random hashes, and for each
//   group of 8 random needles, 8 jittered copies of one of them in the list), read from its -v output; the
//   reference's figures are benchmark-query's own (-m mih, -m linear);
// - "clustered": a photo-like list: families of near-duplicates (jittered copies, 1-16 bits from their original)
//   around shared themes (originals 40-63 bits from a theme, as photographs of alike scenes share PDQ bits), in
//   shuffled order; needles in groups of 8, half of them jittered copies of list entries (0-D bits: true
//   matches), half new hashes drawn the same way; the reference's figures come from reference-query.cpp, which
//   times its MIH256 and Flat classes on these same hashes.
// Every phmatch search is checked against the reference's match count. One thread: run it pinned to one core
// (`taskset -c 1 npm run bench:search`), the reference's processes inherit the pinning.
// Usage: npm run bench:search [-- --entries 1000000 --groups 100 --distance 31 --flat-needles 160]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FlatIndex, MihIndex } from "@phmatch/core/internal";
import { seededRandom } from "../seeded-random.mjs";

const { values } = parseArgs({
  options: {
    entries: { type: "string", default: "1000000" },
    groups: { type: "string", default: "100" },
    distance: { type: "string", default: "31" },
    "flat-needles": { type: "string", default: "160" },
  },
});
const ENTRIES = Number(values.entries);
const GROUPS = Number(values.groups);
const DISTANCE = Number(values.distance);
const FLAT_NEEDLES = Number(values["flat-needles"]);
const log = (message) => process.stderr.write(`${message}\n`);

const root = new URL("../../", import.meta.url).pathname;
const anchors = join(root, "../shared/anchors/pdq-cpp");
const referenceDir = new URL("../.cache/pdq-reference/", import.meta.url).pathname;
const benchmarkQuery = join(referenceDir, "benchmark-query");
const referenceQuery = join(referenceDir, "reference-query");

// --- the reference: upstream's benchmark-query (built by the anchor's build.sh) and our driver of its classes ---
if (!existsSync(join(anchors, "build.sh"))) {
  log(`npm run bench:search needs Meta's reference beside the project: ${anchors}/build.sh is missing`);
  process.exit(1);
}
if (!existsSync(benchmarkQuery)) {
  log("building Meta's PDQ reference (g++, libjpeg-dev, libpng-dev) ...");
  const built = spawnSync("bash", [join(anchors, "build.sh"), referenceDir], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (built.status !== 0) process.exit(1);
}
const driverSource = new URL("./reference-query.cpp", import.meta.url).pathname;
if (!existsSync(referenceQuery) || statSync(referenceQuery).mtimeMs < statSync(driverSource).mtimeMs) {
  const src = join(anchors, "src");
  const common = join(src, "pdq/cpp/common");
  const built = spawnSync(
    "g++",
    ["-std=c++11", "-O3", `-I${src}`, "-o", referenceQuery, driverSource].concat(
      ["pdqhashtypes.cpp", "pdqhamming.cpp", "pdqutils.cpp"].map((f) => join(common, f)),
    ),
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  if (built.status !== 0) process.exit(1);
}

function run(command, args) {
  const out = spawnSync(command, args, { encoding: "utf8", maxBuffer: 1 << 30 });
  if (out.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${out.stderr}`);
  return out.stdout;
}

const hexOf = (bytes, i) => Buffer.from(bytes.subarray(i * 32, i * 32 + 32)).toString("hex");
function packHex(lines) {
  const bytes = new Uint8Array(lines.length * 32);
  for (const [i, line] of lines.entries()) bytes.set(Buffer.from(line, "hex"), i * 32);
  return bytes;
}

// --- the lists ---

// benchmark-query's own list and needles (its -v output), and its linear and MIH timings.
function referenceList() {
  const common = ["-b", String(ENTRIES), "-q", String(GROUPS), "-d", String(DISTANCE)];
  log(`benchmark-query ${common.join(" ")} -m linear -v ...`);
  const linearOut = run(benchmarkQuery, [...common, "-m", "linear", "-v"]);
  const section = (title) => {
    const from = linearOut.indexOf(`${title}:\n`) + title.length + 2;
    return linearOut.slice(from, linearOut.indexOf("\n\n", from)).split("\n");
  };
  const needles = section("GENERATED QUERIES");
  const list = section("GENERATED INDEX");
  log(`benchmark-query ${common.join(" ")} -m mih ...`);
  const mihOut = run(benchmarkQuery, [...common, "-m", "mih"]);
  const figure = (out, name) => Number(new RegExp(`${name}:\\s+([0-9.]+)`).exec(out)?.[1]);
  return {
    name: "reference",
    list: packHex(list),
    needles: packHex(needles),
    reference: {
      mihBuildSeconds: Number(/MIH index build time: ([0-9.]+)/.exec(mihOut)?.[1]),
      mihSeconds: figure(mihOut, "TOTAL QUERY SECONDS"),
      mihMatches: figure(mihOut, "TOTAL MATCH COUNT"),
      linearSeconds: figure(linearOut, "TOTAL QUERY SECONDS"),
      linearMatches: figure(linearOut, "TOTAL MATCH COUNT"),
    },
  };
}

function flip(bytes, offset, count, rand) {
  for (let k = 0; k < count; k++) {
    const bit = rand() % 256;
    bytes[offset + (bit >> 3)] ^= 1 << (bit & 7);
  }
}

// The photo-like list (see the header), and its needles; the reference's figures from reference-query.
function clusteredList(dir) {
  const rand = seededRandom(ENTRIES + DISTANCE);
  const themes = new Uint8Array(2000 * 32);
  for (let i = 0; i < themes.length; i++) themes[i] = rand() & 255;
  const centre = new Uint8Array(32);
  const newOriginal = (to, offset) => {
    const t = rand() % 2000;
    to.set(themes.subarray(t * 32, t * 32 + 32), offset);
    flip(to, offset, 40 + (rand() % 24), rand);
  };
  const list = new Uint8Array(ENTRIES * 32);
  for (let i = 0; i < ENTRIES; ) {
    newOriginal(centre, 0);
    // family sizes: 1 + geometric, mean about 5, a long tail (an image shared widely, in many re-encodings)
    const size = 1 + Math.floor(-Math.log((rand() + 1) / 4294967297) * 4);
    for (let m = 0; m < size && i < ENTRIES; m++, i++) {
      list.set(centre, i * 32);
      if (m > 0) flip(list, i * 32, 1 + (rand() % 16), rand);
    }
  }
  for (let i = ENTRIES - 1; i > 0; i--) {
    const j = rand() % (i + 1);
    const t = list.slice(i * 32, i * 32 + 32);
    list.copyWithin(i * 32, j * 32, j * 32 + 32);
    list.set(t, j * 32);
  }
  const needles = new Uint8Array(GROUPS * 8 * 32);
  for (let q = 0; q < GROUPS * 8; q++) {
    if (q % 2 === 0) {
      const i = rand() % ENTRIES;
      needles.set(list.subarray(i * 32, i * 32 + 32), q * 32);
      flip(needles, q * 32, rand() % (DISTANCE + 1), rand);
    } else {
      newOriginal(needles, q * 32);
    }
  }
  const listFile = join(dir, "list.txt");
  const needlesFile = join(dir, "needles.txt");
  writeFileSync(listFile, `${Array.from({ length: ENTRIES }, (_, i) => hexOf(list, i)).join("\n")}\n`);
  writeFileSync(needlesFile, `${Array.from({ length: GROUPS * 8 }, (_, i) => hexOf(needles, i)).join("\n")}\n`);
  log(`reference-query on the clustered list (${ENTRIES} entries, ${GROUPS * 8} needles) ...`);
  const out = run(referenceQuery, [listFile, needlesFile, String(DISTANCE)]);
  const figure = (name) => Number(new RegExp(`^${name} ([0-9.]+)$`, "m").exec(out)?.[1]);
  return {
    name: "clustered",
    list,
    needles,
    reference: {
      mihBuildSeconds: figure("mih_build_seconds"),
      mihSeconds: figure("mih_query_seconds"),
      mihMatches: figure("mih_matches"),
      linearSeconds: figure("linear_query_seconds"),
      linearMatches: figure("linear_matches"),
    },
  };
}

// --- phmatch on the same hashes ---

// Mean milliseconds per needle over the first `count` needles, and the hits found. A warm-up pass first (the JIT)
// over up to `warm` needles' complements: other buckets and values, so the timed pass finds no cache warmed for it.
function timePerNeedle(search, needles, count, warm) {
  const n = Math.min(count, needles.length / 32);
  const needle = (q) => needles.subarray(q * 32, q * 32 + 32);
  for (let q = 0; q < Math.min(n, warm); q++) search(needle(q).map((byte) => byte ^ 255));
  let hits = 0;
  const t0 = performance.now();
  for (let q = 0; q < n; q++) hits += search(needle(q));
  return { ms: (performance.now() - t0) / n, hits, needles: n };
}

// Matches of a group of needles searched in one call, counted as the reference counts them (pairs of needle and
// value within the distance), from the values the call found.
function pairsOf(found, group, list) {
  let pairs = 0;
  for (const { index } of found)
    for (const q of group) {
      let d = 0;
      for (let k = 0; k < 32; k++) d += POPCOUNT8[list[index * 32 + k] ^ q[k]];
      if (d <= DISTANCE) pairs++;
    }
  return pairs;
}
const POPCOUNT8 = Uint8Array.from({ length: 256 }, (_, v) => v.toString(2).replaceAll("0", "").length);

function phmatchRows(data) {
  const packed = { bytesPerValue: 32, count: data.list.length / 32, values: data.list };
  let t0 = performance.now();
  const mih = new MihIndex(packed, { radius: DISTANCE });
  const mihBuild = (performance.now() - t0) / 1000;
  const perNeedle = timePerNeedle((q) => mih.search(q, DISTANCE).length, data.needles, Infinity, Infinity);
  const groups = Array.from({ length: data.needles.length / 256 }, (_, g) =>
    Array.from({ length: 8 }, (_, k) => data.needles.subarray((g * 8 + k) * 32, (g * 8 + k + 1) * 32)),
  );
  for (const group of groups)
    mih.searchMany(
      group.map((q) => q.map((byte) => byte ^ 255)),
      DISTANCE,
    );
  const g0 = performance.now();
  const found = groups.map((group) => mih.searchMany(group, DISTANCE));
  const groupMs = (performance.now() - g0) / (groups.length * 8);
  const groupHits = groups.reduce((sum, group, g) => sum + pairsOf(found[g], group, data.list), 0);
  const perGroup = { ms: groupMs, hits: groupHits, needles: groups.length * 8 };
  t0 = performance.now();
  const flat = new FlatIndex(packed);
  const flatBuild = (performance.now() - t0) / 1000;
  const linear = timePerNeedle((q) => flat.search(q, DISTANCE).length, data.needles, FLAT_NEEDLES, 8);
  return [
    { method: `phmatch MIH (slices ${mih.widths.length})`, build: mihBuild, ...perNeedle },
    { method: "phmatch MIH, a request's 8 needles a call", build: mihBuild, ...perGroup },
    { method: "phmatch flat scan", build: flatBuild, ...linear },
  ];
}

const dir = mkdtempSync(join(tmpdir(), "phmatch-bench-search-"));
const tables = [];
try {
  mkdirSync(referenceDir, { recursive: true });
  for (const make of [referenceList, () => clusteredList(dir)]) {
    const data = make();
    const needles = data.needles.length / 32;
    const ref = data.reference;
    log(`phmatch on the ${data.name} list ...`);
    const rows = [
      {
        method: "reference MIH256",
        build: ref.mihBuildSeconds,
        ms: (ref.mihSeconds * 1000) / needles,
        hits: ref.mihMatches,
        needles,
      },
      ...phmatchRows(data),
      {
        method: "reference linear (8 needles a pass)",
        build: 0,
        ms: (ref.linearSeconds * 1000) / needles,
        hits: ref.linearMatches,
        needles,
      },
    ];
    for (const row of rows) {
      // Exact search: every method finds what the reference's linear scan finds (on the needles it ran).
      const exact = row.needles === needles ? row.hits === ref.linearMatches : undefined;
      row.check = exact === undefined ? `${row.hits} (${row.needles} needles)` : exact ? `${row.hits}` : "MISMATCH";
      if (exact === false)
        log(`${row.method} on ${data.name}: ${row.hits} matches, the reference ${ref.linearMatches}`);
    }
    tables.push({ data: data.name, entries: data.list.length / 32, rows, referenceMs: rows[0].ms });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nPDQ search at distance ${DISTANCE}, one thread, Node ${process.version}; mean ms per needle (one 256-bit ` +
    `query); "x reference MIH" = the reference MIH's ms / this ms; matches must equal the reference linear scan's\n`,
);
console.log("| list | entries | method | build s | ms per needle | x reference MIH | matches |");
console.log("|---|---:|---|---:|---:|---:|---:|");
for (const t of tables) {
  for (const r of t.rows) {
    console.log(
      `| ${t.data} | ${t.entries.toLocaleString("en")} | ${r.method} | ${r.build.toFixed(2)} | ${r.ms.toFixed(4)} ` +
        `| ${(t.referenceMs / r.ms).toFixed(1)} | ${r.check} |`,
    );
  }
}

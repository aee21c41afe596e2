// Issue 20: the match time of a query video against a list of 10^6 frame hashes, through the Matcher as `phmatch
// match` uses it. The store: seeded synthetic listed videos (random PDQ frames of quality 90, one per second) made
// into entries by listedVideoEntries, with the 14 conformance videos' reference frames (../shared/conformance/vpdq,
// the main set) among them, built by HashSetBuilder, serialized and parsed back as a .phs store. Queries are hash
// records as `phmatch hash` prints them: copies of listed synthetic videos of 60 and of 600 frames with 0-20 bits
// flipped per frame (a re-encode), and the conformance videos as phmatch hashes them (the portable-C set, cpath/),
// each looking for its own listed video. Prints the load time (parse + Matcher, which builds the index), the index
// kind, and min/median ms of Matcher.match per query kind. One thread.
// Usage: node --max-old-space-size=8192 bench/video/matcher.mjs [--frames 1000000 --queries 20]
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  HashSetBuilder,
  listedVideoEntries,
  Matcher,
  parseStore,
  parseVpdqText,
  serializeStore,
} from "@phmatch/core/internal";
import { seededRandom } from "../seeded-random.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    frames: { type: "string", default: "1000000" },
    queries: { type: "string", default: "20" },
    conformance: { type: "string", default: join(here, "../../../shared/conformance/vpdq") },
  },
});
const TOTAL = Number(values.frames);
const QUERIES = Number(values.queries);
const next = seededRandom(2020);
const log = (line) => process.stderr.write(`${line}\n`);

/** A synthetic video's frames: random PDQ hashes of quality 90 at 1 s apart (30 fps). */
const syntheticFrames = (count) =>
  Array.from({ length: count }, (_, n) => ({
    frame: n * 30,
    timestamp: n,
    hash: { algorithm: "pdq", bytes: Uint8Array.from({ length: 32 }, () => next() & 0xff), quality: 90 },
  }));

/** A re-encoded copy: each frame with 0-20 bits flipped. */
const copyOf = (frames) =>
  frames.map((f) => {
    const bytes = Uint8Array.from(f.hash.bytes);
    const flips = next() % 21;
    for (let k = 0; k < flips; k++) {
      const bit = next() % 256;
      bytes[bit >> 3] ^= 1 << (bit & 7);
    }
    return { ...f, hash: { ...f.hash, bytes } };
  });

/** The hash record `phmatch hash` prints for a video with these frames. */
const record = (path, frames) => ({
  path,
  video: {
    algorithm: "vpdq",
    secondsPerHash: 1,
    container: "mov,mp4,m4a,3gp,3g2,mj2",
    codec: "h264",
    width: 640,
    height: 480,
    frameRate: 30,
    durationSeconds: frames.length,
    frameCount: frames.length * 30,
    frames: frames.map((f) => ({
      frame: f.frame,
      pdq: Buffer.from(f.hash.bytes).toString("hex"),
      quality: f.hash.quality,
      timestamp: f.timestamp,
    })),
  },
});

// --- the store -----------------------------------------------------------------------------------------------------
let t = performance.now();
const builder = new HashSetBuilder();
let listed = 0;
const list = (entryId, frames) => {
  for (const entry of listedVideoEntries({ listId: "bench", entryId, category: "A1" }, frames).entries) {
    if (builder.addEntry(entry)) listed++;
  }
};
const queries = { 60: [], 600: [], conformance: [] };
for (const length of [60, 600]) {
  for (let q = 0; q < QUERIES; q++) {
    const frames = syntheticFrames(length);
    list(`s${length}-${q}`, frames);
    queries[length].push({ expect: `s${length}-${q}`, record: record(`s${length}-${q}.mp4`, copyOf(frames)) });
  }
}
const names = readdirSync(join(values.conformance, "videos"))
  .filter((f) => f.endsWith(".mp4"))
  .map((f) => f.slice(0, -4))
  .sort();
for (const name of names) {
  const read = (dir) => parseVpdqText(readFileSync(join(values.conformance, dir, `${name}.vpdq.txt`), "utf8"), name);
  list(name, read(""));
  queries.conformance.push({ expect: name, record: record(`${name}.mp4`, read("cpath")) });
}
for (let v = 0; listed < TOTAL; v++) list(`f${v}`, syntheticFrames(Math.min(100, TOTAL - listed)));
const bytes = serializeStore(builder, "2026-12-05T00:00:00Z");
const buildS = (performance.now() - t) / 1000;
log(`store: ${listed} listed frames, ${bytes.length} bytes, built in ${buildS.toFixed(1)} s`);

// --- load: parse the store and build the Matcher's index, as `phmatch match` does on start ------------------------
t = performance.now();
const set = parseStore(bytes, "bench.phs");
const matcher = new Matcher([{ set, path: "bench.phs", storeSha256: "0".repeat(64), encrypted: false, overrides: [] }]);
const loadS = (performance.now() - t) / 1000;
const indexes = matcher.indexes.map((i) => `${i.algorithm} ${i.kind} (${i.size})`).join(", ");
log(`loaded in ${loadS.toFixed(1)} s: ${indexes}`);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
matcher.match(queries[60][0].record); // warm-up (JIT), not counted
const rows = [];
for (const [kind, list] of Object.entries(queries)) {
  const times = [];
  let found = 0;
  for (const q of list) {
    const t0 = performance.now();
    const result = matcher.match(q.record);
    times.push(performance.now() - t0);
    if (result.matches.some((m) => m.algorithm === "vpdq" && m.entryId === q.expect)) found++;
  }
  const frames = list.map((q) => q.record.video.frames.length);
  rows.push({ kind, frames: `${Math.min(...frames)}-${Math.max(...frames)}`, n: list.length, found, times });
}

console.log(
  `Store: ${listed} listed frames (synthetic videos of 60, 100 and 600 frames and the 14 conformance videos), ` +
    `built in ${buildS.toFixed(1)} s, ${(bytes.length / 2 ** 20).toFixed(0)} MiB; load (parse + Matcher, index ` +
    `${indexes}) ${loadS.toFixed(2)} s.`,
);
console.log("");
console.log("| query | frames | queries | found their video | min ms | median ms |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const r of rows) {
  const label = r.kind === "conformance" ? "conformance videos (cpath hashes vs main set)" : `${r.kind}-frame copy`;
  console.log(
    `| ${label} | ${r.frames} | ${r.n} | ${r.found}/${r.n} | ${Math.min(...r.times).toFixed(1)} | ` +
      `${median(r.times).toFixed(1)} |`,
  );
}

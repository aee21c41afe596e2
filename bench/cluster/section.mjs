// The cluster section of `scan --cluster` at case scale, in process: N synthetic unseen file records (half in
// families of 2-40 near-duplicates, 0-12 bits from the family's first, half random; shuffled), and after every
// 100th a known record whose PDQ is that record's with 10 bits flipped (so it touches that image's cluster, if it
// has one), written as an NDJSON report, fed to a ClusterCollector as the scan feeds it (record, line), then
// finish(): grouping, known files near clusters, and the members' paths read back from the report. Prints the
// collector's bytes per image (its columns' capacity over the images it kept: 46 bytes a row, the capacity growing
// by doubling), the seconds of add() and of finish(), peak RSS (VmHWM), clusters, the largest, and how many
// clusters touch a known file.
// Usage: npm run bench:cluster-section [-- --count 1000000 --seed 22]

import { once } from "node:events";
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ClusterCollector, defaultClusterSettings } from "@phmatch/core/internal";
import { seededRandom } from "../seeded-random.mjs";

const { values } = parseArgs({
  options: { count: { type: "string", default: "1000000" }, seed: { type: "string", default: "22" } },
});
const COUNT = Number(values.count);
const random = seededRandom(Number(values.seed));
const log = (message) => process.stderr.write(`${message}\n`);
const hwmMiB = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) / 1024;
const hex = (bytes) => Buffer.from(bytes).toString("hex");

// Hashes: families in the first half, then shuffled (Fisher-Yates on positions).
const data = new Uint8Array(COUNT * 32);
for (let i = 0; i < data.length; i += 4) new DataView(data.buffer).setUint32(i, random());
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
  i += size;
}
const order = Uint32Array.from({ length: COUNT }, (_, i) => i);
for (let i = COUNT - 1; i > 0; i--) {
  const j = random() % (i + 1);
  [order[i], order[j]] = [order[j], order[i]];
}

const work = mkdtempSync(join(tmpdir(), "phmatch-bench-section-"));
const report = join(work, "report.ndjson");
const out = createWriteStream(report);
const collector = new ClusterCollector();
const write = async (line) => {
  if (!out.write(`${line}\n`)) await once(out, "drain");
};
await write(JSON.stringify({ type: "header", cluster: defaultClusterSettings() }));
let line = 1;
let addMs = 0;
const digest = "0".repeat(64);
for (let n = 0; n < COUNT; n++) {
  const i = order[n];
  const pdq = data.subarray(i * 32, i * 32 + 32);
  const records = [
    {
      type: "file",
      path: `/evidence/case-117/DCIM/${String(n).padStart(8, "0")}.jpg`,
      status: "unseen",
      matches: [],
      hashes: { pdq: hex(pdq), phash: hex(pdq.subarray(0, 8)), sha256: digest },
      quality: { pdq: 100 },
      size: 123456,
    },
  ];
  if (n % 100 === 0) {
    const near = pdq.slice();
    near[0] ^= 0xff;
    near[1] ^= 0x03;
    records.push({
      type: "file",
      path: `/evidence/case-117/known/${n}.jpg`,
      status: "known",
      matches: [],
      hashes: { pdq: hex(near), sha256: digest },
      quality: { pdq: 100 },
    });
  }
  for (const record of records) {
    await write(JSON.stringify(record));
    const t = performance.now();
    collector.add(record, ++line);
    addMs += performance.now() - t;
  }
}
await new Promise((done) => out.end(done));
const kept = collector.size;
// The collector's columns (their capacity) over the images it kept.
const columnBytes = collector.bytes;
log(`report written: ${line} lines; peak RSS ${hwmMiB().toFixed(0)} MiB`);
const t = performance.now();
const { lines, seal } = await collector.finish({ settings: defaultClusterSettings(), report });
const finishS = (performance.now() - t) / 1000;
rmSync(work, { recursive: true, force: true });
const largest = lines[0]?.size ?? 0;
console.log(
  JSON.stringify({
    images: COUNT,
    kept,
    columnBytesPerImage: +(columnBytes / (kept.unseen + kept.known)).toFixed(1),
    addSeconds: +(addMs / 1000).toFixed(2),
    finishSeconds: +finishS.toFixed(1),
    peakRssMiB: Math.round(hwmMiB()),
    clusters: seal.clusters,
    clustered: seal.clustered,
    singletons: seal.singletons,
    largest,
    touchingKnown: lines.filter((l) => l.touchesKnown).length,
  }),
);

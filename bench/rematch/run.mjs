// Retroactive matching through the real `phmatch rematch` command: N stored PDQ records of accepted uploads against
// what a list release added (a diff of D entries: release 1 holds L - D random PDQ hashes, release 2 all L), and
// against the whole list of L entries (no --since). Every 1,000th record is a near copy (6 bits flipped) of an added
// entry and every 1,000th (offset 500) one of an entry both releases hold: the diff run must find exactly the first,
// the full run both, so the answer is checked, not only timed. Per run: wall and CPU seconds (/usr/bin/time), records
// per second, peak RSS (sampled from /proc every 100 ms, and the kernel's maximum from time). The inputs live under
// bench/.cache/rematch (gitignored); the large records file is deleted afterwards unless --keep.
// Usage: npm run bench:rematch [-- --records 10000000 --full-records 10000000 --list 1000000 --diff 10000 --keep
//   --runs diff,full]
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { HashSetBuilder, serializeStore } from "@phmatch/core";
import { treePids } from "../proc-tree.mjs";
import { seededRandom } from "../seeded-random.mjs";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "10000000" },
    "full-records": { type: "string" },
    list: { type: "string", default: "1000000" },
    diff: { type: "string", default: "10000" },
    keep: { type: "boolean", default: false },
    runs: { type: "string", default: "diff,full" },
  },
});
const RUNS = new Set(values.runs.split(","));
const N = Number(values.records);
const FULL_N = Number(values["full-records"] ?? values.records);
const L = Number(values.list);
const D = Number(values.diff);
const root = fileURLToPath(new URL("../../", import.meta.url));
const cache = join(root, "bench/.cache/rematch");
mkdirSync(cache, { recursive: true });
const bin = join(root, "packages/cli/bin/phmatch.js");

// The list's values: L random 32-byte PDQ hashes, the same every run.
function listValues() {
  const rand = seededRandom(2112);
  const data = new Uint8Array(L * 32);
  const words = new Uint32Array(data.buffer);
  for (let i = 0; i < words.length; i++) words[i] = rand();
  return data;
}

function writeStore(file, version, values, count) {
  const builder = new HashSetBuilder();
  builder.addList({ listId: "bench-hotline", version });
  for (let i = 0; i < count; i++)
    builder.addEntry({
      algorithm: "pdq",
      value: values.subarray(i * 32, (i + 1) * 32),
      listId: "bench-hotline",
      entryId: `E${i}`,
      category: "A1",
    });
  writeFileSync(file, serializeStore(builder, "2026-12-01T00:00:00.000Z"));
}

// Which records are near copies, and of which entry: offset 0 of every 1,000 an added entry, 500 a kept one.
function plantedEntry(i) {
  if (i % 1000 === 0) return L - D + ((i / 1000) % D);
  if (i % 1000 === 500) return Math.floor(i / 1000) % (L - D);
  return -1;
}

function expectedHits(n, withKept) {
  let hits = 0;
  for (let i = 0; i < n; i += 500) if (i % 1000 === 0 || withKept) hits++;
  return hits;
}

async function writeRecords(file, n, values) {
  const rand = seededRandom(1221);
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  const hash = Buffer.alloc(32);
  const words = new Uint32Array(hash.buffer, hash.byteOffset, 8);
  let batch = "";
  for (let i = 0; i < n; i++) {
    const planted = plantedEntry(i);
    if (planted >= 0) {
      hash.set(values.subarray(planted * 32, (planted + 1) * 32));
      for (let k = 0; k < 6; k++) {
        const bit = rand() % 256;
        hash[bit >> 3] ^= 1 << (bit & 7);
      }
    } else {
      for (let w = 0; w < 8; w++) words[w] = rand();
    }
    const day = String(1 + (i % 28)).padStart(2, "0");
    batch +=
      `{"hashes":{"pdq":"${hash.toString("hex")}"},"quality":{"pdq":90},"contentId":"upload-${i}",` +
      `"uploadedAt":"2026-11-${day}T12:00:00Z"}\n`;
    if (batch.length > 1 << 20) {
      if (!out.write(batch)) await once(out, "drain");
      batch = "";
    }
  }
  out.end(batch);
  await once(out, "finish");
}

function rss(pids) {
  let kib = 0;
  for (const pid of pids) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) kib += Number(m[1]);
    } catch {}
  }
  return kib;
}

// One `phmatch rematch` run under /usr/bin/time: its hits are read and checked, its memory sampled.
async function run(label, args, n, expected) {
  const child = spawn("/usr/bin/time", ["-f", "%e %U %S %M", process.execPath, bin, "rematch", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let peakKiB = 0;
  const sampler = setInterval(() => {
    peakKiB = Math.max(peakKiB, rss(treePids(child.pid)));
  }, 100);
  let hits = 0;
  let wrong = 0;
  const lines = createInterface({ input: child.stdout });
  lines.on("line", (line) => {
    const hit = JSON.parse(line);
    const i = Number(hit.contentId.slice("upload-".length));
    const entry = plantedEntry(i);
    const fromDiff = entry >= L - D;
    if (entry < 0 || (!fromDiff && args.includes("--since")) || hit.retroactive !== true) wrong++;
    else if (hit.matches[0]?.entryId !== `E${entry}`) wrong++;
    hits++;
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const [code] = await once(child, "close");
  clearInterval(sampler);
  const timeLine = stderr.trim().split("\n").at(-1);
  const [wall, user, sys, maxKiB] = timeLine.split(" ").map(Number);
  const summary = JSON.parse(stderr.split("\n").find((l) => l.startsWith('{"summary"')) ?? "{}");
  if (code !== 0 || summary.read !== n || hits !== expected || wrong > 0)
    throw new Error(
      `${label}: exit ${code}, read ${summary.read}/${n}, hits ${hits}/${expected}, wrong ${wrong}\n${stderr}`,
    );
  return { label, n, wall, cpu: user + sys, perSecond: n / wall, peakMiB: peakKiB / 1024, maxMiB: maxKiB / 1024, hits };
}

const started = Date.now();
const values0 = listValues();
const oldStore = join(cache, `old-${L}-${D}.phs`);
const newStore = join(cache, `new-${L}.phs`);
if (!existsSync(oldStore)) writeStore(oldStore, 1, values0, L - D);
if (!existsSync(newStore)) writeStore(newStore, 2, values0, L);
const recordsFile = (n) => join(cache, `records-${n}-${L}-${D}.ndjson`);
const sizes = new Set([...(RUNS.has("diff") ? [N] : []), ...(RUNS.has("full") ? [FULL_N] : [])]);
for (const n of sizes) {
  if (!existsSync(recordsFile(n))) {
    process.stderr.write(`writing ${n} records...\n`);
    await writeRecords(recordsFile(n), n, values0);
  }
}
process.stderr.write(`inputs ready in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
const header =
  "| run | records | wall s | CPU s | records/s | peak RSS MiB (sampled / max) | hits (all checked) |\n" +
  "|---|---:|---:|---:|---:|---:|---:|";
const row = (r) =>
  `| ${r.label} | ${r.n.toLocaleString("en")} | ${r.wall.toFixed(1)} | ${r.cpu.toFixed(1)} | ` +
  `${Math.round(r.perSecond).toLocaleString("en")} | ${r.peakMiB.toFixed(0)} / ${r.maxMiB.toFixed(0)} | ` +
  `${r.hits.toLocaleString("en")} |`;
const rows = [];
// Each row is printed (stderr) as soon as it is measured: a long second run cannot lose the first.
if (RUNS.has("diff")) {
  rows.push(
    await run(
      `${N.toLocaleString("en")} records vs ${D.toLocaleString("en")}-entry diff (--since)`,
      ["--records", recordsFile(N), "--hashset", newStore, "--since", oldStore],
      N,
      expectedHits(N, false),
    ),
  );
  process.stderr.write(`${row(rows.at(-1))}\n`);
}
if (RUNS.has("full")) {
  rows.push(
    await run(
      `${FULL_N.toLocaleString("en")} records vs full ${L.toLocaleString("en")}-entry list`,
      ["--records", recordsFile(FULL_N), "--hashset", newStore],
      FULL_N,
      expectedHits(FULL_N, true),
    ),
  );
  process.stderr.write(`${row(rows.at(-1))}\n`);
}
const bytes = Math.max(...[...sizes].map((n) => statSync(recordsFile(n)).size));
if (!values.keep) for (const n of sizes) rmSync(recordsFile(n), { force: true });
console.log(
  `\n${cpus().length} CPUs (${cpus()[0]?.model}), node ${process.version}; ` +
    `records file ${(bytes / 2 ** 30).toFixed(2)} GiB\n`,
);
console.log(header);
for (const r of rows) console.log(row(r));

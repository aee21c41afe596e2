// Loading .phs stores of generated PDQ entries: entries per second and memory per entry, for 1 and 10 million
// entries (targets: >= 1 million entries/s, < 100 bytes per PDQ entry beyond its 32 hash bytes). Each load runs
// in a fresh process so its memory is its own; entries carry a list entry id and a category, as real lists do.
// Usage: npm run bench:hashset [-- --sizes 1000000,10000000]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { HashSetBuilder, serializeStore } from "@phmatch/core";
import { seededRandom } from "../seeded-random.mjs";

const { values } = parseArgs({
  options: { sizes: { type: "string", default: "1000000,10000000" }, child: { type: "string" } },
});

if (values.child !== undefined) {
  // Child: load one store, touch every value once (as an index build would), report time and memory.
  const { loadHashSet } = await import("@phmatch/core");
  const before = process.memoryUsage();
  const t0 = performance.now();
  const { set } = await loadHashSet(values.child);
  const loadMs = performance.now() - t0;
  const packed = set.packed("pdq");
  let xor = 0;
  for (let i = 0; i < packed.values.length; i += 32) xor ^= packed.values[i];
  const after = process.memoryUsage();
  const grown = after.rss - before.rss;
  console.log(
    JSON.stringify({
      entries: set.size,
      loadMs,
      rssGrowth: grown,
      arrayBuffers: after.arrayBuffers - before.arrayBuffers,
      heap: after.heapUsed - before.heapUsed,
      xor,
    }),
  );
  process.exit(0);
}

const prng = seededRandom;

const dir = mkdtempSync(join(tmpdir(), "phmatch-bench-"));
const rows = [];
try {
  for (const n of values.sizes.split(",").map(Number)) {
    const rand = prng(n);
    const builder = new HashSetBuilder();
    builder.addList({ listId: "bench", version: 1 });
    const value = new Uint8Array(32);
    const words = new Uint32Array(value.buffer);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      for (let w = 0; w < 8; w++) words[w] = rand();
      builder.addEntry({ algorithm: "pdq", value, listId: "bench", entryId: `E${i}`, category: String(i % 5) });
    }
    const file = join(dir, `pdq-${n}.phs`);
    writeFileSync(file, serializeStore(builder));
    const buildMs = performance.now() - t0;
    const out = execFileSync(process.execPath, [new URL(import.meta.url).pathname, "--child", file], {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    });
    const r = JSON.parse(out);
    rows.push({ n, fileBytes: statSync(file).size, buildMs, ...r });
    rmSync(file);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\n.phs load, PDQ entries with entry id and category, Node ${process.version}\n`);
console.log(
  "| entries | file MiB | build + write s | load s | entries / s | RSS growth, bytes / entry | beyond the 32 hash " +
    "bytes |",
);
console.log("|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  const perEntry = r.rssGrowth / r.entries;
  console.log(
    `| ${r.entries.toLocaleString("en")} | ${(r.fileBytes / 2 ** 20).toFixed(0)} | ` +
      `${(r.buildMs / 1000).toFixed(1)} | ${(r.loadMs / 1000).toFixed(2)} | ` +
      `${Math.round(r.entries / (r.loadMs / 1000)).toLocaleString("en")} | ${perEntry.toFixed(1)} | ` +
      `${(perEntry - 32).toFixed(1)} |`,
  );
}

// Ignorable digest stores (issue 22): build time within a RAM budget, bytes per entry on disk and in RAM, and exact
// lookups per second from memory and from the file, for 10^6 and 10^7 SHA-1 digests. Each size runs in a fresh
// process so its peak RSS is its own. Half the lookups are listed digests, half are not.
// Usage: node bench/ignorable/run.mjs [--sizes 1000000,10000000] [--budget-mib 64] [--algorithm sha1]
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "1000000,10000000" },
    "budget-mib": { type: "string", default: "64" },
    algorithm: { type: "string", default: "sha1" },
    child: { type: "string" },
  },
});

// Digests of a counter: cheap, uniformly spread, and reproducible without keeping them.
const digestOf = (algorithm, i) => createHash(algorithm).update(`bench file ${i}`).digest();

if (values.child !== undefined) {
  const { buildDigestStore, openDigestStore } = await import("@phmatch/core/internal");
  const count = Number(values.child);
  const algorithm = values.algorithm;
  const dir = mkdtempSync(join(tmpdir(), "phmatch-bench-ignorable-"));
  try {
    const output = join(dir, "bench.phd");
    function* digests() {
      // Every tenth digest given twice, and in hash order (not sorted): the builder sorts and deduplicates.
      for (let i = 0; i < count; i++) {
        yield digestOf(algorithm, i);
        if (i % 10 === 0) yield digestOf(algorithm, i);
      }
    }
    const t0 = performance.now();
    const built = await buildDigestStore(
      { algorithm, output, source: "bench", ramBudgetBytes: Number(values["budget-mib"]) * 1024 * 1024, tempDir: dir },
      digests(),
    );
    const buildS = (performance.now() - t0) / 1000;
    const size = statSync(output).size;
    const lookups = 200_000;
    const probes = Array.from({ length: lookups }, (_, k) =>
      k % 2 === 0 ? digestOf(algorithm, (k * 7919) % count) : digestOf(algorithm, count + k),
    );
    const rows = {};
    for (const [name, maxMemoryBytes] of [
      ["memory", undefined],
      ["file", 0],
    ]) {
      const o0 = performance.now();
      const set = await openDigestStore(output, { maxMemoryBytes });
      const openS = (performance.now() - o0) / 1000;
      let hits = 0;
      const l0 = performance.now();
      for (const probe of probes) if (set.has(probe)) hits++;
      const lookupS = (performance.now() - l0) / 1000;
      if (hits !== lookups / 2) throw new Error(`expected ${lookups / 2} hits, got ${hits}`);
      rows[name] = { openS, lookupsPerS: lookups / lookupS, ramBytesPerEntry: set.memoryBytes / built.count };
      await set.close();
    }
    console.log(
      JSON.stringify({
        count: built.count,
        runs: built.runs,
        buildS,
        diskBytesPerEntry: size / built.count,
        rows,
        peakRssMiB: process.resourceUsage().maxRSS / 1024,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  const script = new URL(import.meta.url).pathname;
  console.log(
    `Ignorable digest store, ${values.algorithm}, RAM budget ${values["budget-mib"]} MiB, ` +
      "200 000 lookups (half listed)\n",
  );
  console.log(
    "| digests | runs | build s | disk B/entry | open+verify s (mem) | lookups/s mem | RAM B/entry mem | " +
      "lookups/s file | RAM B/entry file | peak RSS MiB |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const size of values.sizes.split(",").map(Number)) {
    const out = execFileSync(
      process.execPath,
      [script, "--child", String(size), "--budget-mib", values["budget-mib"], "--algorithm", values.algorithm],
      { encoding: "utf8", maxBuffer: 1 << 20 },
    );
    const r = JSON.parse(out.trim().split("\n").at(-1));
    const f = (n, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
    console.log(
      `| ${f(r.count)} | ${r.runs} | ${f(r.buildS, 1)} | ${f(r.diskBytesPerEntry, 2)} | ` +
        `${f(r.rows.memory.openS, 2)} | ${f(r.rows.memory.lookupsPerS)} | ${f(r.rows.memory.ramBytesPerEntry, 2)} | ` +
        `${f(r.rows.file.lookupsPerS)} | ` +
        `${f(r.rows.file.ramBytesPerEntry, 2)} | ${f(r.peakRssMiB)} |`,
    );
  }
}

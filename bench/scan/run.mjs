// Scan throughput: files per second over a generated tree of benign photo-like JPEGs of mixed sizes (written to a
// temporary directory, deleted afterwards), with 1 and 2 workers, side by side with `phmatch hash` alone on the
// same files. The difference is the scan's own work: the SHA-256 read that finds identical files, matching, and
// writing the report, which is also its resume journal; and the scan without its extra query views (trim,
// rotation hypotheses, parts), which are on by default. Each command runs once, cold to warm in this order.
// Usage: npm run bench:scan [-- --files 10000]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { writeMixedJpegs } from "../mixed-tree.mjs";
import { seededRandom } from "../seeded-random.mjs";

const { values } = parseArgs({ options: { files: { type: "string", default: "10000" } } });
const FILES = Number(values.files);
const cli = new URL("../../packages/cli/bin/phmatch.js", import.meta.url).pathname;
const demo = new URL("../../test-fixtures/hashsets/demo.phs", import.meta.url).pathname;
const rand = seededRandom(2026);

// A few photo-like bases (noise at several scales), then every file a random crop and size of one of them.
async function base(seed) {
  const r = seededRandom(seed);
  const w = 1600,
    h = 1200;
  const sum = new Float32Array(w * h * 3);
  for (const [cell, weight] of [
    [160, 0.5],
    [40, 0.3],
    [10, 0.2],
  ]) {
    const gw = Math.ceil(w / cell) + 1,
      gh = Math.ceil(h / cell) + 1;
    const grid = Buffer.alloc(gw * gh * 3);
    for (let i = 0; i < grid.length; i++) grid[i] = r() & 255;
    const up = await sharp(grid, { raw: { width: gw, height: gh, channels: 3 } })
      .resize(w, h, { kernel: "cubic", fit: "fill" })
      .raw()
      .toBuffer();
    for (let i = 0; i < sum.length; i++) sum[i] += weight * up[i];
  }
  return sharp(Buffer.from(sum.map((v) => Math.max(0, Math.min(255, Math.round(v))))), {
    raw: { width: w, height: h, channels: 3 },
  })
    .png()
    .toBuffer();
}

const dir = mkdtempSync(join(tmpdir(), "phmatch-bench-scan-"));
try {
  const bases = [];
  for (let i = 0; i < 8; i++) bases.push(await base(100 + i));
  console.error(`writing ${FILES} benign JPEGs of mixed sizes to ${dir} ...`);
  const bytes = await writeMixedJpegs(dir, FILES, bases, rand);

  const run = (label, args) => {
    const t0 = performance.now();
    execFileSync(process.execPath, [cli, ...args], { stdio: ["ignore", "ignore", "inherit"], maxBuffer: 1 << 30 });
    const s = (performance.now() - t0) / 1000;
    return { label, seconds: s, rate: FILES / s };
  };
  const rows = [];
  for (const jobs of ["1", "2"]) {
    rows.push(
      run(`phmatch hash -a pdq,phash,dhash,md5,sha1,sha256 --dihedral, ${jobs} worker(s)`, [
        "hash",
        "-q",
        "--dihedral",
        "-a",
        "pdq,phash,dhash,md5,sha1,sha256",
        "-j",
        jobs,
        dir,
      ]),
    );
    const report = join(tmpdir(), `phmatch-bench-scan-${process.pid}-${jobs}.ndjson`);
    rows.push(
      run(`phmatch scan (same algorithms), report with checksum, ${jobs} worker(s)`, [
        "scan",
        "-q",
        "-j",
        jobs,
        "--hashset",
        demo,
        "-o",
        report,
        dir,
      ]),
    );
    rmSync(report, { force: true });
    rmSync(`${report}.sha256`, { force: true });
    // The extra query views (trimmed content, rotation hypotheses, parts) are on by default: their cost.
    rows.push(
      run(`phmatch scan --no-trim --no-rotations --no-parts, ${jobs} worker(s)`, [
        "scan",
        "-q",
        "-j",
        jobs,
        "--no-trim",
        "--no-rotations",
        "--no-parts",
        "--hashset",
        demo,
        "-o",
        report,
        dir,
      ]),
    );
    rmSync(report, { force: true });
    rmSync(`${report}.sha256`, { force: true });
  }
  console.log(
    `\n${FILES} benign JPEGs, ${(bytes / FILES / 1024).toFixed(0)} KiB mean, 200-1600 px wide, Node ` +
      `${process.version}, ${rows.length} runs\n`,
  );
  console.log("| command | seconds | files / s | vs hash |");
  console.log("|---|---:|---:|---:|");
  rows.forEach((r, i) => {
    const hash = rows[i - (i % 3)];
    const sign = r.seconds >= hash.seconds ? "+" : "";
    const change = i % 3 === 0 ? "" : `${sign}${((r.seconds / hash.seconds - 1) * 100).toFixed(0)}% time`;
    console.log(`| ${r.label} | ${r.seconds.toFixed(1)} | ${r.rate.toFixed(1)} | ${change} |`);
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Scale: does a scan's memory stay bounded as the case grows? Two parts, each in its own process, the resident set
// sampled over time:
// (b) synthetic, in process: --records digest-only file records (seeded random SHA-256s, one in --dup-every a copy
//     of an earlier one) through the real first-copies map (SpillFirstCopies, the scan's default), ScanTally and
//     the NDJSON report writer to a file; then the same with MemoryFirstCopies (the map of before) at
//     --memory-records, for contrast. Peak RSS from /proc (VmHWM) and the slope of sampled RSS over distinct files.
// (a) tree: the real `phmatch scan --algorithms sha256 -q -o <report>` over 1, 2 and 4 million (--counts, in
//     millions) tiny distinct files under --dir (written once by bench/scale/tree.mjs, reused: parts s0..s3 of
//     1,000,000 files, 1,000 a folder), the process tree's RSS sampled every --sample s (bench/proc-tree.mjs); the
//     slope of peak RSS over files between runs is the bytes a distinct file costs. The tree is removed at the end
//     unless --keep.
// Markdown tables on stdout, progress on stderr.
// Usage: node bench/scale/run.mjs [--parts synthetic,tree] [--records 10000000] [--memory-records 2000000]
//   [--counts 1,2,4] [--dir DIR] [--keep] [--sample 5]
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { treeCpuSeconds, treeUsage } from "../proc-tree.mjs";
import { seededRandom } from "../seeded-random.mjs";
import { ensurePart, partPath } from "./tree.mjs";

const { values } = parseArgs({
  options: {
    parts: { type: "string", default: "synthetic,tree" },
    records: { type: "string", default: "10000000" },
    "memory-records": { type: "string", default: "2000000" },
    "dup-every": { type: "string", default: "20" },
    counts: { type: "string", default: "1,2,4" },
    // files per part (a short check of the script: --per-part 2000)
    "per-part": { type: "string", default: "1000000" },
    dir: { type: "string", default: join(tmpdir(), "phmatch-scale-tree") },
    keep: { type: "boolean", default: false },
    sample: { type: "string", default: "5" },
    // internal: run one synthetic case in this process and print its result as JSON
    child: { type: "string" },
  },
});
const PER_PART = Number(values["per-part"]);
const SAMPLE_S = Number(values.sample);
const cli = new URL("../../packages/cli/bin/phmatch.js", import.meta.url).pathname;
const log = (line) => process.stderr.write(`${line}\n`);
const mib = (bytes) => (bytes / 2 ** 20).toFixed(0);
const fmt = (n, digits = 0) =>
  n === null || Number.isNaN(n)
    ? "n/a"
    : n.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });

function procStatus(field) {
  const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
  return m === null ? NaN : Number(m[1]) * 1024;
}

// Least-squares slope of y over x.
function slope(xs, ys) {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return den === 0 ? NaN : xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / den;
}

// ---- (b) synthetic, one case per child process ----
async function syntheticChild(kind, records, dupEvery) {
  const { createReportWriter, ScanTally } = await import("@phmatch/core");
  const { duplicateRecord, MemoryFirstCopies, SpillFirstCopies } = await import("@phmatch/core/internal");
  const work = mkdtempSync(join(tmpdir(), "phmatch-scale-synthetic-"));
  const out = createWriteStream(join(work, "report.ndjson"));
  const writer = createReportWriter(out, "ndjson");
  const firsts = kind === "spill" ? new SpillFirstCopies() : new MemoryFirstCopies();
  const tally = new ScanTally();
  const random = seededRandom(22);
  const digestOf = (i) => {
    const h = createHash("sha256");
    h.update(`synthetic ${i}`);
    return h.digest("hex");
  };
  await writer.begin({ type: "header", schema: "urn:phmatch:schema:scan-report:3", note: "synthetic scale run" });
  globalThis.gc?.();
  const baseline = process.memoryUsage().rss;
  const samples = [];
  const started = process.hrtime.bigint();
  const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
  const timer = setInterval(
    () => samples.push({ t: seconds(), records: done, distinct: firsts.size, rss: process.memoryUsage().rss }),
    1000,
  );
  let done = 0;
  for (let i = 0; i < records; i++) {
    // One in dupEvery a copy of an earlier file (a random one), the rest new contents.
    const copy = i > 0 && random() % dupEvery === 0;
    const digest = digestOf(copy ? random() % i : i);
    const folder = String(Math.floor(i / 1000) % 1000).padStart(4, "0");
    const path = `/case/s${Math.floor(i / 1e6)}/d${folder}/f${String(i % 1000).padStart(3, "0")}.jpg`;
    const first = firsts.get(digest);
    let record;
    if (first !== undefined) {
      record = duplicateRecord(first, path);
    } else {
      record = { type: "file", path, status: "unseen", matches: [], hashes: { sha256: digest } };
      firsts.set(digest, record);
    }
    record.size = 1000 + (i % 5000);
    tally.add(record);
    await writer.record(record);
    done++;
  }
  clearInterval(timer);
  const wall = seconds();
  samples.push({ t: wall, records: done, distinct: firsts.size, rss: process.memoryUsage().rss });
  const distinct = firsts.size;
  await writer.end(tally.finish());
  await new Promise((done) => out.end(done));
  const reportBytes = statSync(join(work, "report.ndjson")).size;
  firsts.close();
  rmSync(work, { recursive: true, force: true });
  const half = samples.filter((s) => s.distinct >= distinct / 2);
  const result = {
    kind,
    records,
    distinct,
    duplicates: tally.summary.duplicates,
    wall,
    cpu: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
    baseline,
    peak: procStatus("VmHWM"),
    slope: slope(
      half.map((s) => s.distinct),
      half.map((s) => s.rss),
    ),
    reportBytes,
    samples: samples.filter(
      (_, i) => i % Math.max(1, Math.floor(samples.length / 10)) === 0 || i === samples.length - 1,
    ),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function runSynthetic(kind, records) {
  log(`synthetic ${kind}: ${fmt(records)} records`);
  const child = spawn(
    process.execPath,
    [
      "--expose-gc",
      new URL(import.meta.url).pathname,
      "--child",
      kind,
      "--records",
      String(records),
      "--dup-every",
      values["dup-every"],
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let text = "";
  child.stdout.on("data", (d) => (text += d));
  const code = await new Promise((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`synthetic ${kind} exited ${code}`);
  const result = JSON.parse(text.trim().split("\n").pop());
  for (const s of result.samples)
    log(`  ${s.t.toFixed(0)} s: ${fmt(s.records)} records, ${fmt(s.distinct)} distinct, RSS ${mib(s.rss)} MiB`);
  return result;
}

// ---- (a) the real scan over the tree ----
async function scanTree(parts, work, list) {
  const files = parts * PER_PART;
  const report = join(work, `report-${parts}.ndjson`);
  rmSync(report, { force: true });
  const inputs = Array.from({ length: parts }, (_, k) => partPath(values.dir, k));
  log(`scan: ${fmt(files)} files (${inputs.join(" ")})`);
  const child = spawn(
    process.execPath,
    [
      cli,
      "scan",
      "--algorithms",
      "sha256",
      "-q",
      "-o",
      report,
      "--hashset",
      list,
      "--state-dir",
      join(work, "state"),
      ...inputs,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  child.stdout.resume();
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const started = Date.now();
  const samples = [];
  let peak = 0;
  let cpu = 0;
  const sample = () => {
    if (child.exitCode !== null) return;
    const usage = treeUsage(child.pid);
    cpu = Math.max(cpu, treeCpuSeconds(child.pid));
    let bytes = 0;
    try {
      bytes = statSync(report).size;
    } catch {}
    peak = Math.max(peak, usage.rss);
    samples.push({ t: (Date.now() - started) / 1000, rss: usage.rss, processes: usage.processes, bytes });
    const s = samples.at(-1);
    if (samples.length % 12 === 1)
      log(`  ${s.t.toFixed(0)} s: RSS ${mib(s.rss)} MiB (${s.processes} processes), report ${mib(s.bytes)} MiB`);
  };
  const timer = setInterval(sample, SAMPLE_S * 1000);
  const code = await exited;
  clearInterval(timer);
  const seconds = (Date.now() - started) / 1000;
  // Records in the report: lines minus header and summary.
  const lines = Number(execFileSync("wc", ["-l", report], { encoding: "utf8" }).trim().split(/\s+/)[0]) - 2;
  const reportBytes = statSync(report).size;
  rmSync(report, { force: true });
  // Records written at each sample, from the report's size (its lines are of one length, give or take a digit), and
  // the slope of RSS over them in the run's second half: what each further distinct file costs within one run.
  for (const s of samples) s.records = Math.round((s.bytes * lines) / reportBytes);
  const half = samples.filter((s) => s.records >= lines / 2);
  const withinSlope = slope(
    half.map((s) => s.records),
    half.map((s) => s.rss),
  );
  log(`  exit ${code}: ${fmt(lines)} records in ${seconds.toFixed(0)} s, peak RSS ${mib(peak)} MiB`);
  return { parts, files, code, seconds, lines, peak, cpu, reportBytes, samples, withinSlope };
}

// ---- main ----
if (values.child !== undefined) {
  await syntheticChild(values.child, Number(values.records), Number(values["dup-every"]));
} else {
  const which = values.parts.split(",");
  const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(" ");
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, Node ${process.version}`;
  const header = `commit ${commit}, ${machine}, load at start ${load()}`;
  log(header);
  const print = (line) => process.stdout.write(`${line}\n`);
  print(`\n${header}\n`);
  if (which.includes("synthetic")) {
    const rows = [
      await runSynthetic("spill", Number(values.records)),
      await runSynthetic("memory", Number(values["memory-records"])),
    ];
    print(
      "| first copies | records | distinct | wall s | records/s | peak RSS MiB | baseline RSS MiB | " +
        "(peak − baseline) / distinct, B | RSS slope over 2nd half, B/distinct | report MiB |",
    );
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for (const r of rows)
      print(
        `| ${r.kind === "spill" ? "SpillFirstCopies (default)" : "MemoryFirstCopies (before)"} | ` +
          `${fmt(r.records)} | ${fmt(r.distinct)} | ` +
          `${r.wall.toFixed(0)} | ${fmt(r.records / r.wall)} | ${mib(r.peak)} | ${mib(r.baseline)} | ` +
          `${fmt((r.peak - r.baseline) / r.distinct, 1)} | ${fmt(r.slope, 1)} | ${mib(r.reportBytes)} |`,
      );
    print("\nRSS over time (sampled each second; every tenth sample shown):\n");
    print("| first copies | s | records | distinct | RSS MiB |");
    print("|---|--:|--:|--:|--:|");
    for (const r of rows)
      for (const s of r.samples)
        print(`| ${r.kind} | ${s.t.toFixed(0)} | ${fmt(s.records)} | ${fmt(s.distinct)} | ${mib(s.rss)} |`);
    print(`\nload at end of synthetic: ${load()}`);
  }
  if (which.includes("tree")) {
    const counts = values.counts.split(",").map(Number);
    mkdirSync(values.dir, { recursive: true, mode: 0o700 });
    const work = mkdtempSync(join(tmpdir(), "phmatch-scale-work-"));
    // A one-entry SHA-256 list (the scan needs a list its algorithms can match): one file of part 0 is known.
    const list = join(work, "list.phs");
    writeFileSync(join(work, "list.txt"), `${createHash("sha256").update("part 0 file 5\n").digest("hex")}\n`);
    execFileSync(
      process.execPath,
      [
        cli,
        "hashset",
        "import",
        join(work, "list.txt"),
        "--format",
        "text",
        "--algorithm",
        "sha256",
        "--list-id",
        "scale-bench",
        "--category",
        "A",
        "-o",
        list,
      ],
      { stdio: "ignore" },
    );
    // Each run's row is printed as it ends (a run cut short by the clock leaves the ones before it).
    print(
      "| files | exit | records | wall s | files/s | CPU s (sampled) | peak RSS MiB (tree, sampled) | " +
        "RSS slope over the run's 2nd half, B/file | report MiB | load at end |",
    );
    print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    const rows = [];
    for (const count of counts) {
      for (let k = 0; k < count; k++) {
        const t = Date.now();
        if (ensurePart(values.dir, k, PER_PART, log)) log(`  s${k} written in ${(Date.now() - t) / 1000} s`);
      }
      const r = { ...(await scanTree(count, work, list)), load: load() };
      rows.push(r);
      print(
        `| ${fmt(r.files)} | ${r.code} | ${fmt(r.lines)} | ${r.seconds.toFixed(0)} | ${fmt(r.lines / r.seconds)} | ` +
          `${r.cpu.toFixed(0)} | ${mib(r.peak)} | ${fmt(r.withinSlope, 1)} | ${mib(r.reportBytes)} | ${r.load} |`,
      );
      log(`  samples: ${JSON.stringify(r.samples.map((x) => [Math.round(x.t), x.rss, x.processes, x.bytes]))}`);
    }
    if (rows.length >= 2) {
      const perFile = slope(
        rows.map((r) => r.files),
        rows.map((r) => r.peak),
      );
      print(
        `\nSlope of peak RSS over files (least squares, ${rows.length} runs): ${fmt(perFile, 1)} bytes ` +
          "per distinct file",
      );
    }
    print("\nRSS over time:\n");
    print("| files | s | records written | RSS MiB | processes | report MiB |");
    print("|--:|--:|--:|--:|--:|--:|");
    for (const r of rows) {
      const step = Math.max(1, Math.floor(r.samples.length / 8));
      for (const [i, s] of r.samples.entries())
        if (i % step === 0 || i === r.samples.length - 1)
          print(
            `| ${fmt(r.files)} | ${s.t.toFixed(0)} | ${fmt(s.records)} | ${mib(s.rss)} | ${s.processes} | ` +
              `${mib(s.bytes)} |`,
          );
    }
    rmSync(work, { recursive: true, force: true });
    if (!values.keep) {
      log(`removing ${values.dir}`);
      rmSync(values.dir, { recursive: true, force: true });
    }
  }
}

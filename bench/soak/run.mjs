// Soak: does anything grow that should not? Two phases, each sampled every --sample seconds for the resident set
// (RSS, summed over the process and its worker processes, from /proc) and open file handles (entries of
// /proc/<pid>/fd, summed likewise):
// 1. `phmatch serve` (demo list, no auth, loopback) under steady load for --minutes: autocannon at a fixed
//    --rate, cycling /v1/check uploads of benign synthetic images generated in memory (photo-like JPEGs and
//    PNGs, 64 to 1,024 px, one cut short so the error path runs too, two that match the list) and /v1/match
//    records (one matching, one not); per window the p50/p99 latency of the answers, their count and non-2xx.
// 2. `phmatch scan` over a tree of --files generated benign images (64-256 px gradients with shapes, JPEG, PNG
//    and WebP, a few KB each), written to a temporary directory under the OS tmp and deleted afterwards; per
//    window the files reported and the rate.
// Then a markdown table per phase and the verdicts: RSS and handles plateau when the last third's maximum is
// within 10% (handles: 10% or 8) of the middle third's; p99 drift is the last third's median window p99 over
// the middle third's.
// Usage: node bench/soak/run.mjs [-- --minutes 30 --files 100000 --sample 10 --scan-sample 10 --rate 40
//   --connections 8]
//   (a short run: --minutes 3 --files 5000 --scan-sample 2)
import { execFileSync, spawn } from "node:child_process";
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import sharp from "sharp";
import { photoLikeJpeg } from "../photo-like.mjs";
import { treeUsage } from "../proc-tree.mjs";
import { seededRandom } from "../seeded-random.mjs";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    files: { type: "string", default: "100000" },
    sample: { type: "string", default: "10" },
    "scan-sample": { type: "string" },
    rate: { type: "string", default: "40" },
    connections: { type: "string", default: "8" },
  },
});
const MINUTES = Number(values.minutes);
const FILES = Number(values.files);
const SAMPLE_S = Number(values.sample);
const SCAN_SAMPLE_S = Number(values["scan-sample"] ?? values.sample);
const RATE = Number(values.rate);
const CONNECTIONS = Number(values.connections);
const cli = new URL("../../packages/cli/bin/phmatch.js", import.meta.url).pathname;
const demo = new URL("../../test-fixtures/hashsets/demo.phs", import.meta.url).pathname;
const fixture = (name) => new URL(`../../test-fixtures/images/${name}`, import.meta.url).pathname;

const log = (line) => process.stderr.write(`${line}\n`);
const mib = (bytes) => (bytes / 2 ** 20).toFixed(0);
const clock = (s) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`;
const quantile = (sorted, q) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const median = (xs) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

// Last-third maximum against middle-third maximum; `slack` in absolute units for small counts (handles). The
// last third's slope (least squares, per minute) says whether it still climbs within the tolerance.
function plateau(samples, times, slack = 0) {
  const third = Math.floor(samples.length / 3);
  if (third < 1) return { verdict: "n/a (fewer than 3 samples)" };
  const middle = Math.max(...samples.slice(third, 2 * third));
  const lastSamples = samples.slice(samples.length - third);
  const last = Math.max(...lastSamples);
  const ts = times.slice(times.length - third).map((t) => t / 60);
  const mt = ts.reduce((a, b) => a + b, 0) / ts.length;
  const ms = lastSamples.reduce((a, b) => a + b, 0) / lastSamples.length;
  const den = ts.reduce((a, t) => a + (t - mt) ** 2, 0);
  const slope = den === 0 ? 0 : ts.reduce((a, t, i) => a + (t - mt) * (lastSamples[i] - ms), 0) / den;
  return { middle, last, slope, verdict: last <= Math.max(middle * 1.1, middle + slack) ? "yes" : "no" };
}
function drift(p99s) {
  const third = Math.floor(p99s.length / 3);
  if (third < 1) return { verdict: "n/a" };
  const middle = median(p99s.slice(third, 2 * third));
  const last = median(p99s.slice(p99s.length - third));
  return { middle, last, ratio: last / middle };
}

function startServer(stateDir) {
  const args = [
    cli,
    "serve",
    "--hashset",
    demo,
    "--port",
    "0",
    "--no-auth",
    "--no-watch",
    "--state-dir",
    stateDir,
    "--max-concurrent",
    String(Math.max(CONNECTIONS, 4)),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, PHMATCH_TRUSTED_KEYS: undefined, PHMATCH_TOKENS: "" },
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const ready = new Promise((resolve, reject) => {
    createInterface({ input: child.stderr }).on("line", (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m !== null) resolve(m[1]);
      else log(`  [server] ${line}`);
    });
    void exited.then(() => reject(new Error("phmatch serve exited before listening")));
  });
  return { child, exited, ready };
}

// The uploads and records the load cycles through: benign, synthetic, generated here and kept in memory.
async function requestMix() {
  const rand = seededRandom(4242);
  const uploads = [];
  const sizes = [64, 128, 256, 480, 640, 800, 1024];
  for (let i = 0; i < 10; i++) {
    const w = sizes[rand() % sizes.length];
    const h = Math.max(64, Math.round(w * (0.6 + (rand() % 60) / 100)));
    const jpeg = await photoLikeJpeg(5000 + i, w, h);
    uploads.push(
      i % 3 === 2
        ? { type: "image/png", body: await sharp(jpeg).png().toBuffer() }
        : { type: "image/jpeg", body: jpeg },
    );
  }
  const cut = await photoLikeJpeg(5100, 640, 480);
  uploads.push({ type: "image/jpeg", body: cut.subarray(0, cut.length >> 1) }); // answered 422: the error path
  for (const name of ["shapes.png", "texture.jpg"])
    uploads.push({
      type: name.endsWith(".png") ? "image/png" : "image/jpeg",
      body: await sharp(fixture(name)).toBuffer(),
    });
  const record = (file) => {
    const r = JSON.parse(
      execFileSync(process.execPath, [cli, "hash", "--dihedral", "-a", "pdq", file], { encoding: "utf8" }).trim(),
    );
    delete r.path;
    return JSON.stringify(r);
  };
  const matching = record(fixture("shapes-rotate90.png"));
  const other = record(fixture("texture-grey.png"));
  const requests = [];
  uploads.forEach((u, i) => {
    requests.push({ method: "POST", path: "/v1/check", headers: { "content-type": u.type }, body: u.body });
    requests.push({
      method: "POST",
      path: "/v1/match",
      headers: { "content-type": "application/json" },
      body: i % 2 === 0 ? matching : other,
    });
  });
  return { requests, uploads: uploads.length };
}

async function soakServe(dir) {
  const server = startServer(join(dir, "state"));
  try {
    const base = await server.ready;
    const { requests, uploads } = await requestMix();
    log(
      `serve: ${base}, ${MINUTES} min at ${RATE} req/s over ${CONNECTIONS} connections, ${uploads} uploads and ` +
        `${requests.length - uploads} records in the cycle`,
    );
    let window = [];
    let non2xx = 0;
    const statuses = {};
    const rows = [];
    const started = Date.now();
    const sample = () => {
      const usage = treeUsage(server.child.pid);
      const sorted = window.sort((a, b) => a - b);
      const row = {
        t: (Date.now() - started) / 1000,
        rss: usage.rss,
        fds: usage.fds,
        processes: usage.processes,
        n: sorted.length,
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        non2xx,
      };
      rows.push(row);
      log(
        `  ${clock(row.t)} RSS ${mib(row.rss)} MiB, ${row.fds} handles, ${row.processes} processes, ${row.n} ` +
          `answers, p50 ${row.p50} ms, p99 ${row.p99} ms, non-2xx ${row.non2xx}`,
      );
      window = [];
      non2xx = 0;
    };
    rows.push({ t: 0, ...treeUsage(server.child.pid), n: 0, p50: NaN, p99: NaN, non2xx: 0 });
    const timer = setInterval(sample, SAMPLE_S * 1000);
    const instance = autocannon({
      url: base,
      requests,
      connections: CONNECTIONS,
      overallRate: RATE,
      duration: MINUTES * 60,
    });
    instance.on("response", (_client, status, _bytes, ms) => {
      window.push(Math.round(ms));
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status >= 300 && status !== 422) non2xx++; // 422: the cut-short upload, as meant
    });
    const result = await instance;
    clearInterval(timer); // the windows cut short at the end would skew the drift: left out
    return { rows, statuses, total: result.requests.total, errors: result.errors, timeouts: result.timeouts };
  } finally {
    server.child.kill("SIGTERM");
    await server.exited;
  }
}

// A benign small image, unique per index: a two-colour gradient with a few rectangles.
async function smallImage(i) {
  const rand = seededRandom(900_000 + i);
  const w = 64 + (rand() % 193);
  const h = 64 + (rand() % 193);
  const px = Buffer.alloc(w * h * 3);
  const a = [rand() & 255, rand() & 255, rand() & 255];
  const b = [rand() & 255, rand() & 255, rand() & 255];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const t = (x + y) / (w + h);
      for (let c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = a[c] * (1 - t) + b[c] * t;
    }
  }
  for (let r = 0; r < 3; r++) {
    const x0 = rand() % w,
      y0 = rand() % h,
      rw = 8 + (rand() % (w >> 1)),
      rh = 8 + (rand() % (h >> 1));
    const col = [rand() & 255, rand() & 255, rand() & 255];
    for (let y = y0; y < Math.min(h, y0 + rh); y++)
      for (let x = x0; x < Math.min(w, x0 + rw); x++) for (let c = 0; c < 3; c++) px[(y * w + x) * 3 + c] = col[c];
  }
  const image = sharp(px, { raw: { width: w, height: h, channels: 3 } });
  const kind = i % 8;
  if (kind < 5) return { ext: "jpg", bytes: await image.jpeg({ quality: 80 }).toBuffer() };
  if (kind < 7) return { ext: "png", bytes: await image.png().toBuffer() };
  return { ext: "webp", bytes: await image.webp({ quality: 80 }).toBuffer() };
}

// Newlines written to `file` since `state.offset` (the report grows one line per file).
function newLines(file, state) {
  let fd;
  try {
    fd = openSync(file, "r");
  } catch {
    return 0;
  }
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(1 << 20);
    let lines = 0;
    while (state.offset < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - state.offset), state.offset);
      if (n <= 0) break;
      for (let k = 0; k < n; k++) if (buf[k] === 10) lines++;
      state.offset += n;
    }
    return lines;
  } finally {
    closeSync(fd);
  }
}

async function soakScan(dir) {
  const tree = join(dir, "tree");
  log(`scan: writing ${FILES.toLocaleString("en")} benign images (64-256 px) to ${tree} ...`);
  let bytes = 0;
  let next = 0;
  const writer = async () => {
    for (let i = next++; i < FILES; i = next++) {
      const sub = join(tree, `d${Math.floor(i / 1000)}`);
      if (i % 1000 === 0) mkdirSync(sub, { recursive: true });
      const { ext, bytes: b } = await smallImage(i);
      writeFileSync(join(sub, `img${i}.${ext}`), b);
      bytes += b.length;
    }
  };
  mkdirSync(join(tree, "d0"), { recursive: true });
  for (let d = 1000; d < FILES; d += 1000) mkdirSync(join(tree, `d${Math.floor(d / 1000)}`), { recursive: true });
  await Promise.all(Array.from({ length: 4 }, writer));
  log(`  ${(bytes / 2 ** 20).toFixed(1)} MiB written, ${(bytes / FILES / 1024).toFixed(1)} KiB per file`);
  const report = join(dir, "report.ndjson");
  const child = spawn(
    process.execPath,
    [cli, "scan", tree, "--hashset", demo, "-o", report, "-q", "--state-dir", join(dir, "state-scan")],
    { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, PHMATCH_TRUSTED_KEYS: undefined } },
  );
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  const rows = [];
  const started = Date.now();
  const state = { offset: 0 };
  let done = 0;
  const sample = () => {
    const usage = treeUsage(child.pid);
    const lines = newLines(report, state);
    done += lines;
    const row = {
      t: (Date.now() - started) / 1000,
      rss: usage.rss,
      fds: usage.fds,
      processes: usage.processes,
      done,
      rate: lines / SCAN_SAMPLE_S,
    };
    rows.push(row);
    log(
      `  ${clock(row.t)} RSS ${mib(row.rss)} MiB, ${row.fds} handles, ${row.processes} processes, ` +
        `${done.toLocaleString("en")} lines, ${row.rate.toFixed(0)} files/s`,
    );
  };
  const timer = setInterval(() => {
    if (child.exitCode === null) sample();
  }, SCAN_SAMPLE_S * 1000);
  const code = await exited;
  clearInterval(timer);
  const seconds = (Date.now() - started) / 1000;
  done += newLines(report, state);
  return { rows, code, seconds, lines: done, bytes };
}

const loadAtStart = loadavg()
  .map((l) => l.toFixed(1))
  .join(" ");
const commandArgs = process.argv.length > 2 ? ` ${process.argv.slice(2).join(" ")}` : "";
const commandLine = `node ${relative(process.cwd(), process.argv[1])}${commandArgs}`;
const dir = mkdtempSync(join(tmpdir(), "phmatch-bench-soak-"));
let serve;
let scan;
try {
  serve = await soakServe(dir);
  scan = await soakScan(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nphmatch soak, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "cpu"}; load generator ` +
    `and server share them), command: ${commandLine}`,
);
console.log(
  `load average at the start ${loadAtStart}, at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} (other work on the machine shows here)`,
);
console.log(
  `\n### serve: ${MINUTES} min at ${RATE} req/s, ${CONNECTIONS} connections (RSS and handles of the server and its ` +
    `worker processes)\n`,
);
console.log("| time | RSS MiB | handles | processes | answers | p50 ms | p99 ms | non-2xx |");
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const r of serve.rows)
  console.log(
    `| ${clock(r.t)} | ${mib(r.rss)} | ${r.fds} | ${r.processes} | ${r.n} | ${Number.isNaN(r.p50) ? "-" : r.p50} | ` +
      `${Number.isNaN(r.p99) ? "-" : r.p99} | ${r.non2xx} |`,
  );
const measured = serve.rows.slice(1);
const rssP = plateau(
  measured.map((r) => r.rss),
  measured.map((r) => r.t),
);
const fdP = plateau(
  measured.map((r) => r.fds),
  measured.map((r) => r.t),
  8,
);
const p99 = drift(measured.filter((r) => r.n > 0).map((r) => r.p99));
console.log(
  `\n${serve.total.toLocaleString("en")} answers (${Object.entries(serve.statuses)
    .map(([s, n]) => `${s}: ${n.toLocaleString("en")}`)
    .join(", ")}), connection errors ${serve.errors}, timeouts ${serve.timeouts}`,
);
const rssDetail = (p) =>
  p.middle === undefined
    ? ""
    : ` (middle third max ${mib(p.middle)} MiB, last third max ${mib(p.last)} MiB, ` +
      `last third slope ${(p.slope / 2 ** 20).toFixed(1)} MiB/min)`;
const handlesDetail = (p) =>
  p.middle === undefined ? "" : ` (middle third max ${p.middle}, last third max ${p.last})`;
console.log(`RSS plateau: ${rssP.verdict}${rssDetail(rssP)}`);
console.log(`handles plateau: ${fdP.verdict}${handlesDetail(fdP)}`);
console.log(
  `p99 drift: ${
    p99.ratio === undefined
      ? "n/a"
      : `${p99.ratio.toFixed(2)}x (median window p99, middle third ${p99.middle} ms, last third ${p99.last} ms)`
  }`,
);

console.log(
  `\n### scan: ${scan.lines.toLocaleString("en")} report lines for ${FILES.toLocaleString("en")} files ` +
    `(${(scan.bytes / 2 ** 20).toFixed(0)} MiB, scan with its default options) in ${scan.seconds.toFixed(0)} s, ` +
    `exit ${scan.code} (RSS and handles of phmatch scan and its worker processes)\n`,
);
console.log("| time | RSS MiB | handles | processes | files reported | files/s |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const r of scan.rows)
  console.log(
    `| ${clock(r.t)} | ${mib(r.rss)} | ${r.fds} | ${r.processes} | ${r.done.toLocaleString("en")} | ` +
      `${r.rate.toFixed(0)} |`,
  );
const sRss = plateau(
  scan.rows.map((r) => r.rss),
  scan.rows.map((r) => r.t),
);
const sFd = plateau(
  scan.rows.map((r) => r.fds),
  scan.rows.map((r) => r.t),
  8,
);
const rates = scan.rows.map((r) => r.rate);
const third = Math.floor(rates.length / 3);
console.log(`\nRSS plateau: ${sRss.verdict}${rssDetail(sRss)}`);
console.log(`handles plateau: ${sFd.verdict}${handlesDetail(sFd)}`);
if (third >= 1)
  console.log(
    `rate drift: middle third median ${median(rates.slice(third, 2 * third)).toFixed(0)} files/s, last third ` +
      `${median(rates.slice(rates.length - third)).toFixed(0)} files/s`,
  );

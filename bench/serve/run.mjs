// Load test of the upload gate (`phmatch serve`, started as a child process on 127.0.0.1 without auth): requests
// per second, p50/p99 latency, non-2xx answers and the server's RSS (its worker process included) for POST
// /v1/match (a PDQ hash record with its 8 dihedral variants) against the demo list and a generated
// 1,000,000-entry PDQ list, and POST /v1/check (the image as the raw body) against the 1M list with ~0.5, 2 and
// 12 MP JPEGs; then the same images hashed in this process, one at a time on one thread ("hashing alone"), and
// the gate's /v1/check rate as a multiple of that;
// then 100,000 /v1/match requests on a fresh server with its RSS sampled every second (does it plateau?).
// Images are benign photo-like textures generated in memory, never written to disk; the 1M list is written to a
// temporary directory and deleted afterwards. autocannon runs in this process: client and server share the CPUs.
// Usage: npm run bench:serve [-- --duration 60 --connections 32 --rounds 3 --amount 100000]
//   (--connections applies to every configuration; without it /v1/match uses 32 and /v1/check 8)
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { HashSetBuilder, hashImageBytes, isFailedRecord, serializeStore } from "@phmatch/core";
import autocannon from "autocannon";
import sharp from "sharp";
import { photoLikeJpeg } from "../photo-like.mjs";
import { seededRandom } from "../seeded-random.mjs";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "60" },
    connections: { type: "string" },
    rounds: { type: "string", default: "3" },
    amount: { type: "string", default: "100000" },
    entries: { type: "string", default: "1000000" },
  },
});
const DURATION = Number(values.duration);
const MATCH_CONNECTIONS = Number(values.connections ?? 32);
const CHECK_CONNECTIONS = Number(values.connections ?? 8);
const ROUNDS = Number(values.rounds);
const AMOUNT = Number(values.amount);
const ENTRIES = Number(values.entries);
const MAX_BYTES = 67108864;
const cli = new URL("../../packages/cli/bin/phmatch.js", import.meta.url).pathname;
const demo = new URL("../../test-fixtures/hashsets/demo.phs", import.meta.url).pathname;
const shapes = new URL("../../test-fixtures/images/shapes.png", import.meta.url).pathname;
const SIZES = [
  { label: "0.5 MP", width: 864, height: 576 },
  { label: "2 MP", width: 1728, height: 1152 },
  { label: "12 MP", width: 4240, height: 2832 },
];
// A list of only PDQ entries: the gate computes PDQ alone (with its dihedral variants) for each upload.
const GATE_ALGORITHMS = ["pdq"];

const log = (line) => process.stderr.write(`${line}\n`);
const mib = (bytes) => (bytes / 2 ** 20).toFixed(0);

// The server's resident set with its worker process's, from /proc (bytes): uploads are hashed in a child.
function rssOf(pid) {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no VmRSS for pid ${pid}`);
  let rss = Number(m[1]) * 1024;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) !== pid) continue;
      const child = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${entry}/status`, "utf8"));
      if (child !== null) rss += Number(child[1]) * 1024;
    } catch {
      // exited meanwhile
    }
  }
  return rss;
}

// Starts `phmatch serve` on a free loopback port; resolves when it prints its address.
function startServer(hashset, stateDir) {
  const args = [
    cli,
    "serve",
    "--hashset",
    hashset,
    "--port",
    "0",
    "--no-auth",
    "--no-watch",
    "--state-dir",
    stateDir,
    "--max-concurrent",
    "64",
    "--max-bytes",
    String(MAX_BYTES),
  ];
  const env = { ...process.env, PHMATCH_TRUSTED_KEYS: undefined, PHMATCH_TOKENS: "" };
  delete env.PHMATCH_LIST_KEY;
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], env });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("phmatch serve did not start within 180 s")), 180_000);
    createInterface({ input: child.stderr }).on("line", (line) => {
      log(`  [server] ${line}`);
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`phmatch serve exited before listening (code ${code}, signal ${signal})`));
    });
  });
  return { child, exited, ready };
}

async function stopServer(server) {
  if (server === undefined || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill("SIGTERM");
  const timer = setTimeout(() => server.child.kill("SIGKILL"), 10_000);
  await server.exited;
  clearTimeout(timer);
}

// One request first (a sanity check and a warm-up): it must answer 200 with a decision.
async function probe(url, headers, body) {
  const res = await fetch(url, { method: "POST", headers, body });
  const json = await res.json();
  if (res.status !== 200 || typeof json.decision !== "string" || json.decision === "error") {
    throw new Error(`probe ${url}: ${res.status} ${JSON.stringify(json)}`);
  }
  return json.decision;
}

async function load(server, url, headers, body, connections, extra = {}) {
  const started = rssOf(server.child.pid);
  const result = await autocannon({
    url,
    method: "POST",
    headers,
    body,
    connections,
    ...(extra.amount === undefined ? { duration: DURATION } : {}),
    ...extra,
  });
  const ended = rssOf(server.child.pid);
  return { result, rssStart: started, rssEnd: ended };
}

const commandArgs = process.argv.length > 2 ? ` ${process.argv.slice(2).join(" ")}` : "";
const commandLine = `node ${relative(process.cwd(), process.argv[1])}${commandArgs}`;
const dir = mkdtempSync(join(tmpdir(), "phmatch-bench-serve-"));
let server;
const rows = [];
const alone = [];
let rssRun;
try {
  // The request record /v1/match gets: what `phmatch hash --dihedral -a pdq` prints for a fixture image.
  const record = JSON.parse(
    execFileSync(process.execPath, [cli, "hash", "--dihedral", "-a", "pdq", shapes], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim(),
  );
  delete record.path;
  const matchBody = JSON.stringify(record);
  const jsonHeaders = { "content-type": "application/json" };
  const jpegHeaders = { "content-type": "image/jpeg" };

  log(`building a ${ENTRIES.toLocaleString("en")}-entry PDQ list in ${dir} ...`);
  const big = join(dir, `pdq-${ENTRIES}.phs`);
  {
    const rand = seededRandom(ENTRIES);
    const builder = new HashSetBuilder();
    builder.addList({ listId: "bench", version: 1 });
    const value = new Uint8Array(32);
    const words = new Uint32Array(value.buffer);
    for (let i = 0; i < ENTRIES; i++) {
      for (let w = 0; w < 8; w++) words[w] = rand();
      builder.addEntry({ algorithm: "pdq", value, listId: "bench", entryId: `E${i}`, category: String(i % 5) });
    }
    writeFileSync(big, serializeStore(builder));
  }
  const bigLabel = `${(ENTRIES / 1e6).toLocaleString("en")}M PDQ`;

  log("generating photo-like JPEGs in memory ...");
  const images = [];
  for (const [i, size] of SIZES.entries()) {
    const jpeg = await photoLikeJpeg(3000 + i, size.width, size.height);
    images.push({ ...size, jpeg });
    log(`  ${size.label}: ${size.width}x${size.height}, ${(jpeg.length / 1024).toFixed(0)} KiB`);
  }

  const run = async (route, list, image, connections, url, headers, body) => {
    const decision = await probe(url, headers, body);
    log(
      `${route} against ${list}${image === "-" ? "" : `, ${image}`}: ${connections} connections, ${DURATION} s ` +
        `(probe: ${decision}) ...`,
    );
    const { result, rssStart, rssEnd } = await load(server, url, headers, body, connections);
    const row = {
      route,
      list,
      image,
      connections,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      rssStart,
      rssEnd,
      total: result.requests.total,
    };
    log(
      `  ${row.rps.toFixed(1)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ${row.total} requests, non-2xx ` +
        `${row.non2xx}, errors ${row.errors}, timeouts ${row.timeouts}`,
    );
    rows.push(row);
    return row;
  };

  // (1) /v1/match against the demo list.
  log(`starting phmatch serve with ${relative(process.cwd(), demo)} ...`);
  server = startServer(demo, join(dir, "state-demo"));
  let base = await server.ready;
  await run("/v1/match", "demo.phs", "-", MATCH_CONNECTIONS, `${base}/v1/match`, jsonHeaders, matchBody);
  await stopServer(server);

  // (2) /v1/match and (3-5) /v1/check against the 1M list.
  log(`starting phmatch serve with the ${bigLabel} list ...`);
  server = startServer(big, join(dir, "state-big"));
  base = await server.ready;
  await run("/v1/match", bigLabel, "-", MATCH_CONNECTIONS, `${base}/v1/match`, jsonHeaders, matchBody);
  const checkRows = [];
  for (const image of images) {
    checkRows.push(
      await run(
        "/v1/check",
        bigLabel,
        `${image.label} (${image.width}x${image.height})`,
        CHECK_CONNECTIONS,
        `${base}/v1/check`,
        jpegHeaders,
        image.jpeg,
      ),
    );
  }
  await stopServer(server);

  // Hashing alone: the gate's work per upload, in this process, one image at a time, libvips on one thread.
  log(`hashing alone (${GATE_ALGORITHMS.join(",")} + dihedral), ${ROUNDS} rounds per size, one thread ...`);
  sharp.concurrency(1);
  const hashOptions = { algorithms: GATE_ALGORITHMS, dihedral: true, maxFileBytes: MAX_BYTES };
  for (const [i, image] of images.entries()) {
    const once = async () => {
      const r = await hashImageBytes(image.jpeg, "x", hashOptions);
      if (isFailedRecord(r)) throw new Error(r.error.message);
    };
    await once(); // warm-up
    const perRound = Math.max(1, Math.round(8 / ((image.width * image.height) / 1e6))); // ~8 MP of work per round
    const t0 = performance.now();
    for (let r = 0; r < ROUNDS; r++) for (let k = 0; k < perRound; k++) await once();
    const ms = (performance.now() - t0) / (ROUNDS * perRound);
    alone.push({ image, ms, rate: 1000 / ms, gate: checkRows[i].rps, n: ROUNDS * perRound });
    log(`  ${image.label}: ${ms.toFixed(1)} ms per image over ${ROUNDS * perRound} images`);
  }

  // RSS over time: a fixed number of /v1/match requests on a fresh server, its RSS sampled every second.
  log(`starting phmatch serve with the ${bigLabel} list for the RSS run ...`);
  server = startServer(big, join(dir, "state-rss"));
  base = await server.ready;
  {
    const pid = server.child.pid;
    const start = rssOf(pid);
    const decision = await probe(`${base}/v1/match`, jsonHeaders, matchBody);
    log(
      `/v1/match against ${bigLabel}: ${AMOUNT.toLocaleString("en")} requests, ${MATCH_CONNECTIONS} connections, ` +
        `RSS sampled every second (probe: ${decision}) ...`,
    );
    const samples = [];
    const timer = setInterval(() => samples.push(rssOf(pid)), 1000);
    let result;
    try {
      ({ result } = await load(server, `${base}/v1/match`, jsonHeaders, matchBody, MATCH_CONNECTIONS, {
        amount: AMOUNT,
      }));
    } finally {
      clearInterval(timer);
    }
    const end = rssOf(pid);
    const third = Math.floor(samples.length / 3);
    const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
    let plateau = "n/a (fewer than 3 samples)";
    let firstMean, lastMean;
    if (third >= 1) {
      firstMean = mean(samples.slice(0, third));
      const last = samples.slice(samples.length - third);
      lastMean = mean(last);
      plateau = last.every((s) => Math.abs(s - firstMean) <= 0.1 * firstMean) ? "yes" : "no";
    }
    rssRun = {
      start,
      max: Math.max(start, end, ...samples),
      end,
      samples: samples.length,
      firstMean,
      lastMean,
      plateau,
      result,
    };
    log(
      `  ${result.requests.total} requests in ${result.duration.toFixed(1)} s, non-2xx ${result.non2xx}, errors ` +
        `${result.errors}; RSS ${mib(start)} -> max ${mib(rssRun.max)} -> ${mib(end)} MiB, plateau ${plateau}`,
    );
  }
  await stopServer(server);
} finally {
  await stopServer(server);
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nphmatch serve load test, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "cpu"}; ` +
    `autocannon and the server share them), command: ${commandLine}\n`,
);
console.log(
  "| route | list | image | connections | requests/s | p50 ms | p99 ms | non-2xx | RSS start MiB | RSS end MiB |",
);
console.log("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.route} | ${r.list} | ${r.image} | ${r.connections} | ${r.rps.toFixed(1)} | ${r.p50} | ${r.p99} | ` +
      `${r.non2xx} | ${mib(r.rssStart)} | ${mib(r.rssEnd)} |`,
  );
}
const errors = rows.reduce((a, r) => a + r.errors, 0);
const timeouts = rows.reduce((a, r) => a + r.timeouts, 0);
console.log(
  `\nconnection errors ${errors}, timeouts ${timeouts} (all configurations); ${DURATION} s each; server with ` +
    `--max-concurrent 64 --max-bytes ${MAX_BYTES}`,
);

console.log(
  `\nhashing alone: hashImageBytes(${GATE_ALGORITHMS.join(",")}, dihedral) in the bench process, sequential, one ` +
    `thread (libvips concurrency 1), ${ROUNDS} rounds\n`,
);
console.log(
  "| image | JPEG KiB | ms / image | images/s (one thread) | gate /v1/check requests/s | gate / hashing alone |",
);
console.log("|---|---:|---:|---:|---:|---:|");
for (const a of alone) {
  console.log(
    `| ${a.image.label} (${a.image.width}x${a.image.height}) | ${(a.image.jpeg.length / 1024).toFixed(0)} | ` +
      `${a.ms.toFixed(1)} | ${a.rate.toFixed(1)} | ${a.gate.toFixed(1)} | ${(a.gate / a.rate).toFixed(2)}x |`,
  );
}

const rr = rssRun.result;
console.log(
  `\nRSS over time, /v1/match against the ${(ENTRIES / 1e6).toLocaleString("en")}M PDQ list: ` +
    `${rr.requests.total.toLocaleString("en")} requests in ${rr.duration.toFixed(1)} s ` +
    `(${(rr.requests.total / rr.duration).toFixed(0)} req/s, non-2xx ${rr.non2xx}, errors ${rr.errors}), ` +
    `${rssRun.samples} samples: start ${mib(rssRun.start)} MiB, max ${mib(rssRun.max)} MiB, end ` +
    `${mib(rssRun.end)} MiB` +
    (rssRun.firstMean === undefined
      ? ""
      : `; first third mean ${mib(rssRun.firstMean)} MiB, last third mean ${mib(rssRun.lastMean)} MiB`) +
    `; plateau (every last-third sample within 10% of the first-third mean): ${rssRun.plateau}`,
);

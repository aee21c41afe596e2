// The gate under abuse: a healthy client (autocannon, POST /v1/check of a 0.5 MP photo-like JPEG with its own
// token, from 127.0.0.1) measured without and then with each abusive client running beside it: idle sockets and
// slowloris headers (from one address, where the per-address cap holds, and from eight), huge headers, bodies
// stopped half way or dribbled, disconnects mid-body, JSON to /v1/check, an oversized multipart part, floods
// of well-formed uploads with an unlimited and with a rate-limited token, video frame lists by hash to /v1/match
// against a rate-limited decision token (issue 20), and pixel bombs (one-colour 100 MP PNG,
// JPEG and WebP, and a 50 MP PNG just under the limit, 12 a minute; also run against the gate at 7fb58cb for a
// second table). The healthy client's token is its own. Each abuser runs in its own process
// (bench/abuse/abuser.mjs) from 127.0.0.2..9; the server's RSS and open file handles (its worker processes
// included) are sampled every 500 ms. Prints a markdown table: the healthy p50/p99 side by side, what the abuser
// was answered, and what the server held. The server runs with its defaults except --max-bytes 8 MiB (so the
// oversized part stays small) and tokens; images are generated in memory; the temp dir (tokens, state) is removed.
// Then the oracle rows (bench/abuse/oracle-rows.mjs): a client that sees only yes/no reading list entries back
// through /v1/match, against the gate at 7fb58cb (built under bench/.cache/) and now, with the healthy client
// (its own token, from 127.0.0.1) beside each.
// Usage: node bench/abuse/run.mjs [-- --duration 15 --settle 3 --connections 2
//   --only stalled-body,flood,pixel-bomb,oracle --oracle-entries 200000 --oracle-wait 600]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { photoLikeJpeg } from "../photo-like.mjs";
import { treeCpuSeconds, treeUsage } from "../proc-tree.mjs";
import { gateAtCommit } from "./gate-at-commit.mjs";
import { BEFORE, oracleRows } from "./oracle-rows.mjs";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "15" },
    settle: { type: "string", default: "3" },
    connections: { type: "string", default: "2" },
    only: { type: "string" },
    "oracle-entries": { type: "string", default: "200000" },
    "oracle-wait": { type: "string", default: "600" },
  },
});
const DURATION = Number(values.duration);
const SETTLE_MS = Number(values.settle) * 1000;
const CONNECTIONS = Number(values.connections);
const MAX_BYTES = 8 * 1024 * 1024;
const cli = new URL("../../packages/cli/bin/phmatch.js", import.meta.url).pathname;
const abuserScript = new URL("./abuser.mjs", import.meta.url).pathname;
const demo = new URL("../../test-fixtures/hashsets/demo.phs", import.meta.url).pathname;
// The healthy client has a token of its own: no abuser shares its name, so no abuser spends its rate.
const HEALTHY = "bench-healthy-token-0123456789";
const FULL = "bench-backend-token-0123456789";
const LIMITED = "bench-app-token-0123456789abc";
// A decision token that may send pdq by hash (so video frames), at 600 lookups a minute.
const VIDEO = "bench-video-token-0123456789ab";
const one = ["127.0.0.2"];
const eight = ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8", "127.0.0.9"];
const ABUSES = [
  { kind: "idle", label: "1,000 idle connections, one address", count: 1000, from: one },
  { kind: "idle", label: "2,000 idle connections, 8 addresses", count: 2000, from: eight },
  {
    kind: "headers-dribble",
    label: "slowloris: 2,000 connections sending a header byte a second, 8 addresses",
    count: 2000,
    from: eight,
  },
  { kind: "huge-headers", label: "20 KiB headers, 4 loops", count: 4, from: one },
  { kind: "stalled-body", label: "16 bodies stopped after 8 bytes", count: 16, from: one },
  // Behind one proxy (both from 127.0.0.1), told apart by the X-Forwarded-For the gate trusts from it: the one
  // row run with a setting, --trusted-proxies 127.0.0.1; the healthy client is 192.0.2.10 behind it.
  {
    kind: "stalled-body",
    label: "16 bodies stopped after 8 bytes, another client behind the healthy client's proxy (--trusted-proxies)",
    count: 16,
    from: ["127.0.0.1"],
    forwardedFor: "192.0.2.66",
    proxied: true,
  },
  { kind: "dribbled-body", label: "16 bodies at 100 B/s", count: 16, from: one },
  { kind: "disconnect", label: "disconnect mid-body, 4 loops", count: 4, from: one },
  { kind: "wrong-type", label: "1 MB of JSON to /v1/check, 4 loops", count: 4, from: one },
  { kind: "multipart-oversized", label: "multipart part 1 MiB over --max-bytes, 2 loops", count: 2, from: one },
  { kind: "flood", label: "upload flood, 32 connections, unlimited token", count: 32, from: one, token: FULL },
  { kind: "flood", label: "upload flood, 32 connections, token at 600/min", count: 32, from: one, token: LIMITED },
  // Issue 20: a video's frames by hash, the longest list a request may carry, against a decision token whose rate
  // counts each frame: what the rate lets through is the "frames looked up" of the abuser's tally.
  {
    kind: "video-frames",
    label: "video frames by hash: 3,600-frame lists to /v1/match, 4 connections, decision token (pdq) at 600/min",
    count: 4,
    from: one,
    token: VIDEO,
  },
  // The pixel bombs of issue 16: one colour, many pixels, few bytes; 2 connections taking turns, 12 a minute.
  // The healthy client runs 30 s beside each (six of the abuser's uploads), and the same rows run against the
  // gate at BEFORE too (a second table).
  {
    kind: "pixel-bomb",
    image: "png",
    label: "pixel bomb: 10000x10000 one-colour PNG (100 MP), 2 connections, 12/min",
    count: 2,
    everyMs: 10_000,
    from: one,
    seconds: 30,
  },
  {
    kind: "pixel-bomb",
    image: "jpeg",
    label: "pixel bomb: 10000x10000 one-colour JPEG (100 MP), 2 connections, 12/min",
    count: 2,
    everyMs: 10_000,
    from: one,
    seconds: 30,
  },
  {
    kind: "pixel-bomb",
    image: "webp",
    label: "pixel bomb: 10000x10000 one-colour lossy WebP (100 MP), 2 connections, 12/min",
    count: 2,
    everyMs: 10_000,
    from: one,
    seconds: 30,
  },
  {
    kind: "pixel-bomb",
    image: "png-50mp",
    label: "7071x7071 one-colour PNG (50 MP, just under the limit: hashed at full size), 2 connections, 12/min",
    count: 2,
    everyMs: 10_000,
    from: one,
    seconds: 30,
  },
].filter((a) => values.only === undefined || values.only.split(",").includes(a.kind));

const log = (line) => process.stderr.write(`${line}\n`);
const mib = (bytes) => (bytes / 2 ** 20).toFixed(0);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function startServer(dir, bin = cli, extraArgs = []) {
  const tokens = join(dir, "tokens.json");
  writeFileSync(
    tokens,
    JSON.stringify({
      tokens: [
        { name: "healthy", token: HEALTHY, detail: "full" },
        { name: "backend", token: FULL, detail: "full" },
        { name: "app", token: LIMITED, detail: "decision", ratePerMinute: 600 },
        { name: "video", token: VIDEO, detail: "decision", matchAlgorithms: ["pdq"], ratePerMinute: 600 },
      ],
    }),
  );
  const args = [
    bin,
    "serve",
    "--hashset",
    demo,
    "--port",
    "0",
    "--tokens",
    tokens,
    "--no-watch",
    "--state-dir",
    join(dir, "state"),
    "--max-bytes",
    String(MAX_BYTES),
    ...extraArgs,
  ];
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !["PHMATCH_TRUSTED_KEYS", "PHMATCH_TOKENS", "PHMATCH_LIST_KEY"].includes(name),
    ),
  );
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], env });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const ready = new Promise((resolve, reject) => {
    createInterface({ input: child.stderr }).on("line", (line) => {
      if (!/listening on/.test(line)) log(`  [server] ${line}`);
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m !== null) resolve(m[1]);
    });
    void exited.then(() => reject(new Error("phmatch serve exited before listening")));
  });
  return { child, exited, ready };
}

function startAbuser(abuse, port) {
  const args = [
    abuserScript,
    "--kind",
    abuse.kind,
    "--port",
    String(port),
    "--token",
    abuse.token ?? FULL,
    "--count",
    String(abuse.count),
    "--from",
    abuse.from.join(","),
    "--max-bytes",
    String(MAX_BYTES),
  ];
  if (abuse.image !== undefined) args.push("--image", abuse.image, "--every-ms", String(abuse.everyMs));
  if (abuse.forwardedFor !== undefined) args.push("--forwarded-for", abuse.forwardedFor);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit", "ipc"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const ready = new Promise((resolve) => child.once("message", resolve));
  const cpu = () => treeCpuSeconds(child.pid);
  const stop = async () => {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    return JSON.parse(out.trim() || "{}");
  };
  return { ready, stop, cpu };
}

async function inFlight(base) {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${FULL}` } })).text();
  return Number(/^phmatch_requests_in_flight (\d+)/m.exec(text)?.[1] ?? -1);
}

// The healthy client for DURATION seconds, the server's RSS and handles sampled meanwhile; CPU use of the server
// (and of the abuser, if any) over the run, as % of one core.
async function healthy(base, pid, body, abuser, duration = DURATION, extraHeaders = {}) {
  const samples = [];
  const cpu0 = treeCpuSeconds(pid);
  const abuser0 = abuser?.cpu();
  const timer = setInterval(() => samples.push(treeUsage(pid)), 500);
  try {
    const r = await autocannon({
      url: `${base}/v1/check`,
      method: "POST",
      headers: { authorization: `Bearer ${HEALTHY}`, "content-type": "image/jpeg", ...extraHeaders },
      body,
      connections: CONNECTIONS,
      duration,
    });
    return {
      serverCpu: ((treeCpuSeconds(pid) - cpu0) * 100) / r.duration,
      abuserCpu: abuser === undefined ? undefined : ((abuser.cpu() - abuser0) * 100) / r.duration,
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      total: r.requests.total,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      fdsMax: Math.max(...samples.map((s) => s.fds)),
      rssMax: Math.max(...samples.map((s) => s.rss)),
    };
  } finally {
    clearInterval(timer);
  }
}

const summary = (tally) =>
  Object.entries(tally)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} x${n.toLocaleString("en")}`)
    .join(", ") || "-";

const loadAtStart = loadavg()
  .map((l) => l.toFixed(1))
  .join(" ");
const commandArgs = process.argv.length > 2 ? ` ${process.argv.slice(2).join(" ")}` : "";
const commandLine = `node ${relative(process.cwd(), process.argv[1])}${commandArgs}`;
// Each abuse beside the healthy client, on one gate built from `bin` (with `proxied`: behind a trusted proxy, the
// healthy client named by X-Forwarded-For); the rows.
async function measure(bin, abuses, proxied = false) {
  if (abuses.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), "phmatch-bench-abuse-"));
  const server = startServer(dir, bin, proxied ? ["--trusted-proxies", "127.0.0.1"] : []);
  const healthyHeaders = proxied ? { "x-forwarded-for": "192.0.2.10" } : {};
  const rows = [];
  try {
    const base = await server.ready;
    const port = Number(new URL(base).port);
    const pid = server.child.pid;
    const jpeg = await photoLikeJpeg(3000, 864, 576);
    const probe = await fetch(`${base}/v1/check`, {
      method: "POST",
      headers: { authorization: `Bearer ${HEALTHY}`, "content-type": "image/jpeg" },
      body: jpeg,
    });
    if (probe.status !== 200) throw new Error(`probe: ${probe.status} ${await probe.text()}`);
    log(
      `gate at ${base}; healthy client: ${CONNECTIONS} connections, ${DURATION} s per run, ` +
        `${(jpeg.length / 1024).toFixed(0)} KiB JPEG`,
    );
    for (const abuse of abuses) {
      const seconds = abuse.seconds ?? DURATION;
      log(`${abuse.label}: without ...`);
      const without = await healthy(base, pid, jpeg, undefined, seconds, healthyHeaders);
      log(
        `  ${without.rps.toFixed(1)} req/s, p50 ${without.p50} ms, p99 ${without.p99} ms, non-2xx ` +
          `${without.non2xx}; with ...`,
      );
      const abuser = startAbuser(abuse, port);
      await abuser.ready;
      await sleep(SETTLE_MS);
      const withAbuse = await healthy(base, pid, jpeg, abuser, seconds, healthyHeaders);
      const tally = await abuser.stop();
      log(
        `  ${withAbuse.rps.toFixed(1)} req/s, p50 ${withAbuse.p50} ms, p99 ${withAbuse.p99} ms, non-2xx ` +
          `${withAbuse.non2xx}, fds max ${withAbuse.fdsMax}; abuser: ${summary(tally)}`,
      );
      rows.push({ abuse, without, withAbuse, tally });
      // Back to rest before the next: nothing in flight, the abuser's sockets closed.
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && ((await inFlight(base)) !== 0 || treeUsage(pid).fds > without.fdsMax + 8))
        await sleep(250);
    }
  } finally {
    server.child.kill("SIGTERM");
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

const TABLE_HEAD = [
  "| abuse | the abuser got | req/s without | p50 ms without | p99 ms without | req/s with | p50 ms with | p99 ms " +
    "with | p99 with / without | healthy non-2xx with | server CPU % without / with | abuser CPU % | server " +
    "handles max | server RSS max MiB |",
  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
];
// CPU is summed over the server's live process tree: a worker process killed during the run takes its CPU time
// with it (shown "-"). Requests that got no answer within autocannon's 10 s show beside the non-2xx.
const cpu = (x) => (x < 0 ? "-" : x.toFixed(0));
const tableRow = ({ abuse, without: a, withAbuse: b, tally }) =>
  `| ${abuse.label} | ${summary(tally)} | ${a.rps.toFixed(1)} | ${a.p50} | ${a.p99} | ${b.rps.toFixed(1)} | ` +
  `${b.p50} | ${b.p99} | ${(b.p99 / a.p99).toFixed(2)}x | ` +
  `${b.non2xx}${b.errors > 0 ? ` (+${b.errors} unanswered)` : ""} | ${cpu(a.serverCpu)} / ${cpu(b.serverCpu)} ` +
  `| ${b.abuserCpu.toFixed(0)} | ${b.fdsMax} | ${mib(b.rssMax)} |`;

const rows = [
  ...(await measure(
    cli,
    ABUSES.filter((a) => a.proxied !== true),
  )),
  ...(await measure(
    cli,
    ABUSES.filter((a) => a.proxied === true),
    true,
  )),
];
const bombs = ABUSES.filter((a) => a.kind === "pixel-bomb");
const before = bombs.length === 0 ? [] : await measure(gateAtCommit(BEFORE, log), bombs);

console.log(
  `\nphmatch serve under abuse, Node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? "cpu"}; the ` +
    `healthy client, the abuser and the server share them), command: ${commandLine}`,
);
console.log(
  `load average at the start ${loadAtStart}, at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")} (other work on the machine shows here)`,
);
console.log(
  `healthy: POST /v1/check, 0.5 MP JPEG, ${CONNECTIONS} connections, ${DURATION} s per run; the gate with its ` +
    `defaults (--max-concurrent ${Math.max(2, cpus().length * 2)}, --request-timeout-ms 60000, ` +
    `--max-connections-per-ip 256) and --max-bytes ${MAX_BYTES}\n`,
);
for (const line of [...TABLE_HEAD, ...rows.map(tableRow)]) console.log(line);
if (before.length > 0) {
  console.log(`\nThe pixel bombs against the gate at ${BEFORE} (the same defaults, tokens and addresses):\n`);
  for (const line of [...TABLE_HEAD, ...before.map(tableRow)]) console.log(line);
}
const errors = [...rows, ...before].reduce((n, r) => n + r.without.errors + r.withAbuse.errors, 0);
console.log(`\nhealthy client connection errors and timeouts, all runs: ${errors}`);

if (values.only === undefined || values.only.split(",").includes("oracle")) {
  const jpeg = await photoLikeJpeg(3000, 864, 576);
  const lines = await oracleRows({
    entries: Number(values["oracle-entries"]),
    settleMs: SETTLE_MS,
    waitMs: Number(values["oracle-wait"]) * 1000,
    healthy: (base, pid, abuser, seconds) => healthy(base, pid, jpeg, abuser, seconds),
    healthyToken: HEALTHY,
    log,
  });
  console.log(
    `\nThe yes/no oracle: a client that sees only match / no_match reads list entries back through POST /v1/match, ` +
      `against the gate at ${BEFORE} and at this commit; healthy client beside each: POST /v1/check, 0.5 MP ` +
      `JPEG, ${CONNECTIONS} connections, ${DURATION} s, its own full token, from 127.0.0.1; attacker from ` +
      `127.0.0.2\n`,
  );
  for (const line of lines) console.log(line);
}

// Distributed scan throughput: files per second of a scan on BullMQ/Redis with 1 and 2 workers on this machine,
// side by side with a local scan on the same cores, and what the queue costs per file: wall-clock overhead
// against the local scan, Redis commands, bytes sent to Redis and Redis CPU time per file (from INFO, before and
// after). Benign photo-like JPEGs of mixed sizes are written to a temporary directory and deleted afterwards;
// redis-server (Debian's) runs on a free loopback port with no persistence. A distributed run is timed from the
// coordinator's start to the collector's end (walk, enqueue, hash, match, collect, checksum), all in parallel as
// in production. The four runs are repeated --rounds times, interleaved, and each row keeps its fastest round
// (the machine is shared: the fastest round is the one least disturbed by other work).
// Usage: npm run bench:distributed [-- --files 1000 --batch-size 64 --rounds 3]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import { writeMixedJpegs } from "../mixed-tree.mjs";
import { photoLikeJpeg } from "../photo-like.mjs";
import { seededRandom } from "../seeded-random.mjs";

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "1000" },
    "batch-size": { type: "string", default: "64" },
    rounds: { type: "string", default: "3" },
  },
});
const FILES = Number(values.files);
const BATCH = values["batch-size"];
const ROUNDS = Number(values.rounds);
const cli = new URL("../../packages/cli/bin/phmatch.js", import.meta.url).pathname;
const demo = new URL("../../test-fixtures/hashsets/demo.phs", import.meta.url).pathname;
const rand = seededRandom(2027);

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const waitForPort = async (port) => {
  for (;;) {
    const open = await new Promise((resolve) => {
      const c = createConnection({ host: "127.0.0.1", port }, () => {
        c.end();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
};
const run = (args) =>
  new Promise((resolve, reject) => {
    // One rollback state folder for the whole run: the coordinator and workers are a deployment and need one.
    const child = spawn(process.execPath, [cli, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PHMATCH_STATE_DIR: join(dir, "state") },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("exit", (code) =>
      code === 0 || code === 2 ? resolve(out) : reject(new Error(`phmatch ${args.join(" ")} exited ${code}: ${err}`)),
    );
  });

const dir = mkdtempSync(join(tmpdir(), "phmatch-bench-distributed-"));
const tree = join(dir, "tree");
let redisServer;
// Interrupted: stop Redis and remove the generated files (the finally below does not run on a signal).
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    redisServer?.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}
try {
  const bases = [];
  for (let i = 0; i < 8; i++) bases.push(await photoLikeJpeg(300 + i, 1600, 1200));
  console.error(`writing ${FILES} benign JPEGs of mixed sizes to ${tree} ...`);
  const bytes = await writeMixedJpegs(tree, FILES, bases, rand);

  const port = await freePort();
  redisServer = spawn(
    "/usr/bin/redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir],
    { stdio: "ignore" },
  );
  await waitForPort(port);
  const redis = new Redis({ host: "127.0.0.1", port });
  const info = async () => {
    const text = await redis.info();
    const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, "m").exec(text)?.[1] ?? 0);
    return {
      commands: field("total_commands_processed"),
      netIn: field("total_net_input_bytes"),
      cpu: field("used_cpu_sys") + field("used_cpu_user"),
      peak: field("used_memory_peak"),
    };
  };

  const rows = new Map();
  const keep = (key, row) => {
    const best = rows.get(key);
    if (best === undefined || row.seconds < best.seconds) rows.set(key, row);
  };
  let n = 0;
  const local = async (jobs) => {
    const report = join(dir, `local-${jobs}-${n++}.ndjson`);
    const t0 = performance.now();
    await run(["scan", tree, "--hashset", demo, "-q", "-j", String(jobs), "-o", report]);
    const seconds = (performance.now() - t0) / 1000;
    keep(`local${jobs}`, { label: `local \`phmatch scan -j ${jobs}\``, seconds, report });
  };
  const distributed = async (workers, db, localKey) => {
    const localRun = rows.get(localKey);
    const queue = `redis://127.0.0.1:${port}/${db}`;
    const report = join(dir, `distributed-${workers}-${n++}.ndjson`);
    await redis.select(db);
    await redis.flushdb();
    await redis.config("RESETSTAT");
    const before = await info();
    const t0 = performance.now();
    const done = Promise.all([
      run(["scan", tree, "--hashset", demo, "--queue", queue, "--enqueue", "--batch-size", BATCH, "-q"]),
      ...Array.from({ length: workers }, (_, n) =>
        run(["worker", "--queue", queue, "--hashset", demo, "-j", "1", "--name", `w${n + 1}`]),
      ),
      run(["report", "collect", "--queue", queue, "--out", report, "-q"]),
    ]);
    const outputs = await done;
    const collected = JSON.parse(outputs.at(-1));
    const seconds = (performance.now() - t0) / 1000;
    const after = await info();
    const same =
      readFileSync(report, "utf8")
        .split("\n")
        .filter((l) => l.startsWith('{"type":"file"'))
        .join("\n") ===
      readFileSync(localRun.report, "utf8")
        .split("\n")
        .filter((l) => l.startsWith('{"type":"file"'))
        .join("\n");
    keep(`distributed${workers}`, {
      label: `distributed, ${workers} \`phmatch worker -j 1\` + coordinator + collector`,
      seconds,
      localKey,
      same,
      commands: (after.commands - before.commands) / FILES,
      netIn: (after.netIn - before.netIn) / FILES,
      cpuMs: ((after.cpu - before.cpu) * 1000) / FILES,
      peak: after.peak,
      collectorMs: collected.distributed.collectorCpuMs / FILES,
    });
  };
  for (let round = 0; round < ROUNDS; round++) {
    console.error(`round ${round + 1} of ${ROUNDS} ...`);
    await local(1);
    await distributed(1, 1, "local1");
    await local(2);
    await distributed(2, 2, "local2");
  }
  redis.disconnect();

  console.log(
    `\n${FILES} benign JPEGs, ${(bytes / FILES / 1024).toFixed(0)} KiB mean, 200-1600 px wide, batches of ` +
      `${BATCH}, fastest of ${ROUNDS} rounds, Node ${process.version}, Debian's redis-server on loopback\n`,
  );
  console.log(
    "| run | seconds | files / s | overhead vs local, ms / file | report = local | Redis commands / file | bytes " +
      "to Redis / file | Redis CPU, ms / file | collector CPU, ms / file |",
  );
  console.log("|---|---:|---:|---:|:---:|---:|---:|---:|---:|");
  for (const key of ["local1", "distributed1", "local2", "distributed2"]) {
    const r = rows.get(key);
    const vs = r.localKey === undefined ? undefined : rows.get(r.localKey).seconds;
    const overhead = vs === undefined ? "" : (((r.seconds - vs) * 1000) / FILES).toFixed(2);
    const cells =
      vs === undefined
        ? ["", "", "", "", ""]
        : [
            r.same ? "yes" : "NO",
            r.commands.toFixed(2),
            r.netIn.toFixed(0),
            r.cpuMs.toFixed(3),
            r.collectorMs.toFixed(3),
          ];
    console.log(
      `| ${r.label} | ${r.seconds.toFixed(1)} | ${(FILES / r.seconds).toFixed(1)} | ${overhead} | ` +
        `${cells.join(" | ")} |`,
    );
  }
  const peak = Math.max(...[...rows.values()].filter((r) => r.peak !== undefined).map((r) => r.peak));
  console.log(
    `\nRedis peak memory ${(peak / 1024 / 1024).toFixed(1)} MiB (the queued batches, at most --max-queued, and the ` +
      `records the collector has not yet written and deleted).`,
  );
} finally {
  redisServer?.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}

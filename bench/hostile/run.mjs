// The hostile-input corpus (test-fixtures/hostile/generate.mjs: truncations, bit flips, bombs, thousands of frames,
// SVG with external references, polyglots, mislabelled files, hostile metadata) through every interface a user
// has: `phmatch hash` one file per run, `phmatch hash` and `phmatch scan` over the whole corpus in one run,
// `phmatch check` one file per run, and the upload gate's POST /v1/check one request per input (`phmatch serve`
// on 127.0.0.1, a benign request after each hostile one). Prints markdown tables: inputs per kind, outcomes per
// interface (hashes, typed errors, crashes, answers that break the input's expectation), worst time and worst
// peak RSS per input, and errors by code. A crash is a signal, an exit code outside the command's documented
// ones, a missing or unreadable record, PHM_INTERNAL, a run killed at the hard limit, or a gate that stops
// answering. A loopback HTTP canary and a canary FIFO are named by every SVG/XML input: any fetch or open of
// them is reported (it must be 0).
// Peak RSS per run is the largest process of the run's tree (getrusage maxrss via GNU time, package `time`);
// for the gate it is the server's VmHWM, reset before each request (/proc/PID/clear_refs).
// The corpus is written to a fresh temporary directory and removed afterwards. Inputs are benign by construction.
// The video kinds (VIDEO_KINDS: cut, bomb, corrupt and mislabelled MP4s, a FIFO named .mp4 that never ends) run
// with whatever FFmpeg the machine has; an interface that does not decode video answers them as no image.
// Usage: node bench/hostile/run.mjs [--size full|fast] [--interfaces hash,batch,scan,check,serve] [--kinds a,b]
//        [--file-timeout 30] [--memory-limit 2048]
import { execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import {
  endlessBody,
  feedEndlessly,
  HOSTILE_KINDS,
  hostileCorpus,
  meetsExpectation,
  VIDEO_KINDS,
  writeCorpus,
} from "../../test-fixtures/hostile/generate.mjs";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "full" },
    interfaces: { type: "string", default: "hash,batch,scan,check,serve" },
    kinds: { type: "string" },
    "file-timeout": { type: "string", default: "30" },
    "memory-limit": { type: "string", default: "2048" },
  },
});
const INTERFACES = values.interfaces.split(",");
const FILE_TIMEOUT = Number(values["file-timeout"]);
const MEMORY_LIMIT = Number(values["memory-limit"]);
// A run past this is killed and counted as a crash (hang): the supervised pool kills at FILE_TIMEOUT and retries
// once, so a correct run ends well before.
const HARD_LIMIT_MS = (2 * FILE_TIMEOUT + 60) * 1000;
const cli = new URL("../../packages/cli/bin/phmatch.js", import.meta.url).pathname;
const demo = new URL("../../test-fixtures/hashsets/demo.phs", import.meta.url).pathname;
const benign = new URL("../../test-fixtures/images/shapes.png", import.meta.url).pathname;
const TIME = "/usr/bin/time";
if (!existsSync(TIME)) throw new Error("GNU time is needed for peak RSS: apt-get install time");
const log = (line) => process.stderr.write(`${line}\n`);

// --- canaries: nothing may fetch the URL or open the file the SVG and XML inputs reference --------------
const canaryHits = { http: 0, file: 0 };
const canary = createServer((req, res) => {
  canaryHits.http++;
  log(`CANARY: ${req.method} ${req.url}`);
  res.writeHead(404).end();
});
canary.listen(0, "127.0.0.1");
await new Promise((resolve) => canary.once("listening", resolve));
const work = mkdtempSync(join(tmpdir(), "phmatch-hostile-"));
// Interrupted, the run still removes what it wrote.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    rmSync(work, { recursive: true, force: true });
    process.exit(130);
  });
}
const fifo = join(work, "canary.fifo");
execFileSync("mkfifo", [fifo]);
// Opening a FIFO for writing without blocking succeeds only while some process has it open for reading.
const fifoWatch = setInterval(() => {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    canaryHits.file++;
    log("CANARY: the canary FIFO was opened for reading");
  } catch {
    // ENXIO: no reader, as it must be
  }
}, 20);

const kinds = values.kinds?.split(",") ?? [...HOSTILE_KINDS, ...VIDEO_KINDS];
const t0 = Date.now();
const corpus = await hostileCorpus({
  size: values.size,
  kinds,
  canary: { url: `http://127.0.0.1:${canary.address().port}/canary`, file: fifo },
});
const corpusDir = join(work, "corpus");
const paths = writeCorpus(corpusDir, corpus);
// The endless inputs are FIFOs whose writer never stops while a reader has them open (the gate gets them as an
// upload body that never ends).
const feeder = feedEndlessly(corpus, paths);
const inputs = corpus.map((input, i) => ({ ...input, path: paths[i], key: `${input.kind}/${input.name}` }));
log(
  `${inputs.length} inputs (${(inputs.reduce((a, i) => a + i.bytes.length, 0) / 2 ** 20).toFixed(1)} MiB) ` +
    `generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
);

// One process run: wall time, exit, peak RSS (KiB) of the largest process in its tree.
function run(args, { stdin } = {}) {
  const rssFile = join(work, "rss");
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(TIME, ["-f", "%M", "-o", rssFile, process.execPath, cli, ...args], {
      stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: { ...process.env, PHMATCH_TRUSTED_KEYS: undefined, PHMATCH_STATE_DIR: join(work, "state") },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    if (stdin !== undefined) child.stdin.end(stdin);
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, HARD_LIMIT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      let rssKiB = NaN;
      try {
        const text = readFileSync(rssFile, "utf8");
        rssKiB = Number(/(\d+)\s*$/.exec(text.trim())?.[1]);
        // GNU time reports a child killed by a signal as "Command terminated by signal N".
        const sig = /terminated by signal (\d+)/.exec(text);
        if (sig !== null) signal = `signal ${sig[1]}`;
        const status = /exited with non-zero status (\d+)/.exec(text);
        if (status !== null) code = Number(status[1]);
      } catch {
        // time was killed with the run
      }
      resolve({ code, signal, killed, ms, rssKiB, stdout, stderr });
    });
  });
}

// Outcome of one input on one interface: "hash", a PHM_* code, or a crash reason.
function outcome(kind, value) {
  return { kind, value };
}
const crash = (why) => outcome("crash", why);

// Did the answer honour the input's expectation (typed error / hash / either)?
const meets = (input, result) => result.kind !== "crash" && meetsExpectation(input, result.value);

function recordOutcome(record) {
  if (record === undefined) return crash("no record");
  const code = record.error?.code;
  if (code === "PHM_INTERNAL") return crash("PHM_INTERNAL");
  // The supervisor recovered, but a worker process died (twice) on this input: a native crash, counted as one.
  if (code === "PHM_WORKER_CRASHED") return crash("PHM_WORKER_CRASHED");
  if (code !== undefined) return outcome("error", code);
  return outcome("hash", "hash");
}

const parseLines = (text) =>
  text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return { unparsable: l.slice(0, 80) };
      }
    });

// --- interfaces ------------------------------------------------------------------------------------------
const results = {}; // interface -> [{ input, outcome, ms, rssKiB }]
const baselines = {}; // interface -> { ms, rssKiB } for one benign image
const notes = {};

const hashArgs = [
  "hash",
  "-q",
  "-j",
  "1",
  "--file-timeout",
  String(FILE_TIMEOUT),
  "--memory-limit",
  String(MEMORY_LIMIT),
];

async function perFileHash() {
  const base = await run([...hashArgs, benign]);
  baselines["hash, one file per run"] = { ms: base.ms, rssKiB: base.rssKiB };
  const out = [];
  for (const [i, input] of inputs.entries()) {
    const r = await run([...hashArgs, input.path]);
    let result;
    if (r.killed) result = crash(`hang (killed after ${HARD_LIMIT_MS / 1000} s)`);
    else if (r.signal !== null && r.signal !== undefined) result = crash(`signal ${r.signal}`);
    else if (r.code !== 0 && r.code !== 2) result = crash(`exit ${r.code}`);
    else result = recordOutcome(parseLines(r.stdout).find((l) => l.path !== undefined));
    out.push({ input, outcome: result, ms: r.ms, rssKiB: r.rssKiB });
    if (i % 50 === 0) log(`hash: ${i + 1}/${inputs.length}`);
  }
  results["hash, one file per run"] = out;
}

async function perFileCheck() {
  const args = (path) => ["check", "--json", "--hashset", demo, path];
  const base = await run(args(benign));
  baselines["check, one file per run"] = { ms: base.ms, rssKiB: base.rssKiB };
  const out = [];
  for (const [i, input] of inputs.entries()) {
    const r = await run(args(input.path));
    let result;
    if (r.killed) result = crash(`hang (killed after ${HARD_LIMIT_MS / 1000} s)`);
    else if (r.signal !== null && r.signal !== undefined) result = crash(`signal ${r.signal}`);
    else if (![0, 1, 2].includes(r.code)) result = crash(`exit ${r.code}`);
    else if (/PHM_INTERNAL/.test(r.stderr)) result = crash("PHM_INTERNAL");
    else {
      const answer = parseLines(r.stdout)[0];
      if (answer === undefined || answer.status === undefined)
        result = crash(`no result (stderr: ${r.stderr.trim().slice(0, 120)})`);
      else if (answer.error?.code === "PHM_INTERNAL") result = crash("PHM_INTERNAL");
      else result = answer.error !== undefined ? outcome("error", answer.error.code) : outcome("hash", "hash");
    }
    out.push({ input, outcome: result, ms: r.ms, rssKiB: r.rssKiB });
    if (i % 50 === 0) log(`check: ${i + 1}/${inputs.length}`);
  }
  results["check, one file per run"] = out;
}

// One run over the whole corpus: every input must have its record (the run goes on after each bad file). The
// time per input is the gap between consecutive records (one job, in order): an upper bound on each file's own.
async function batch(label, args, recordsOf) {
  const start = process.hrtime.bigint();
  const arrivals = [];
  const rssFile = join(work, "rss-batch");
  const child = spawn(TIME, ["-f", "%M", "-o", rssFile, process.execPath, cli, ...args, benign, corpusDir], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, PHMATCH_TRUSTED_KEYS: undefined, PHMATCH_STATE_DIR: join(work, "state") },
  });
  let buffered = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    buffered += d;
    let nl;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      arrivals.push({ line: buffered.slice(0, nl), at: Number(process.hrtime.bigint() - start) / 1e6 });
      buffered = buffered.slice(nl + 1);
    }
  });
  child.stderr.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), HARD_LIMIT_MS * 4 + inputs.length * 5000);
  const [code, signal] = await new Promise((resolve) => child.on("close", (c, s) => resolve([c, s])));
  clearTimeout(timer);
  const total = Number(process.hrtime.bigint() - start) / 1e6;
  const rssText = existsSync(rssFile) ? readFileSync(rssFile, "utf8") : "";
  const rssKiB = Number(/(\d+)\s*$/.exec(rssText.trim())?.[1]);
  const sig = /terminated by signal (\d+)/.exec(rssText);
  const exit = Number(/exited with non-zero status (\d+)/.exec(rssText)?.[1] ?? code);
  const records = recordsOf(arrivals.map((a) => ({ ...parseLines(a.line)[0], at: a.at })));
  const byPath = new Map(records.map((r) => [r.path, r]));
  // The benign image goes first: its record's time is the start-up, so the first hostile input's gap is its own.
  baselines[label] = { ms: byPath.get(benign)?.at ?? NaN, rssKiB: NaN };
  const runCrashed = sig !== null || signal !== null || ![0, 2].includes(exit);
  // Records arrive in walk order (one job): each one's time is the gap since the record before it.
  const gap = new Map();
  const ordered = records.filter((r) => Number.isFinite(r.at)).sort((a, b) => a.at - b.at);
  for (const [i, r] of ordered.entries()) gap.set(r.path, i === 0 ? NaN : r.at - (ordered[i - 1]?.at ?? 0));
  const out = inputs.map((input) => {
    const record = byPath.get(input.path);
    return {
      input,
      outcome:
        runCrashed && record === undefined
          ? crash(`run died (${sig?.[0] ?? signal ?? `exit ${exit}`})`)
          : recordOutcome(record),
      ms: gap.get(input.path) ?? NaN,
      rssKiB: NaN,
    };
  });
  const missing = inputs.filter((input) => !byPath.has(input.path)).length;
  if (missing > 0) log(`${label}: ${missing} inputs without a record`);
  results[label] = out;
  notes[label] =
    `one run, ${(total / 1000).toFixed(1)} s in all, exit ${exit}${sig ? `, ${sig[0]}` : ""}, peak RSS ` +
    `${(rssKiB / 1024).toFixed(0)} MiB (whole run)`;
  if (stderr.includes("PHM_INTERNAL")) notes[label] += "; PHM_INTERNAL on stderr";
}

async function serve() {
  const child = spawn(
    process.execPath,
    [
      cli,
      "serve",
      "--port",
      "0",
      "--no-auth",
      "--hashset",
      demo,
      "--threads",
      "1",
      "--max-bytes",
      String(64 * 1024 * 1024),
      "--timeout-ms",
      String(FILE_TIMEOUT * 1000),
      "--state-dir",
      join(work, "state-serve"),
    ],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, PHMATCH_TRUSTED_KEYS: undefined },
    },
  );
  let err = "";
  child.stderr.on("data", (d) => (err += d));
  const deadline = Date.now() + 30_000;
  while (!/listening on (\S+)/.test(err)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`gate did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /listening on (\S+)/.exec(err)[1];
  const pid = child.pid;
  // The gate hashes in child processes (a supervised pool): its peak is the largest VmHWM in its process tree.
  const tree = (root) => {
    const pids = [root];
    for (let i = 0; i < pids.length; i++) {
      try {
        for (const task of readdirSync(`/proc/${pids[i]}/task`))
          pids.push(
            ...readFileSync(`/proc/${pids[i]}/task/${task}/children`, "utf8")
              .trim()
              .split(/\s+/)
              .filter(Boolean)
              .map(Number),
          );
      } catch {
        // the process ended meanwhile
      }
    }
    return pids;
  };
  const hwmOf = (p) => {
    try {
      return Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  const hwm = () => Math.max(...tree(pid).map(hwmOf));
  const resetHwm = () => {
    for (const p of tree(pid)) {
      try {
        writeFileSync(`/proc/${p}/clear_refs`, "5");
      } catch {
        // the process ended meanwhile
      }
    }
  };
  const post = async (body) => {
    const start = process.hrtime.bigint();
    try {
      const r = await fetch(`${url}/v1/check`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body,
        duplex: "half",
        signal: AbortSignal.timeout(HARD_LIMIT_MS),
      });
      const json = await r.json().catch(() => undefined);
      return { status: r.status, json, ms: Number(process.hrtime.bigint() - start) / 1e6 };
    } catch (error) {
      return {
        status: 0,
        error: String(error?.cause?.code ?? error?.name ?? error),
        ms: Number(process.hrtime.bigint() - start) / 1e6,
      };
    }
  };
  const benignBytes = readFileSync(benign);
  const warm = await post(benignBytes);
  resetHwm();
  const base = await post(benignBytes);
  baselines["serve POST /v1/check, one request each"] = { ms: base.ms, rssKiB: hwm() };
  if (warm.json?.decision !== "match")
    throw new Error(`gate answered the benign image with ${JSON.stringify(warm.json)}`);
  const out = [];
  let nextFailed = 0;
  for (const [i, input] of inputs.entries()) {
    if (child.exitCode !== null) {
      out.push({ input, outcome: crash("server gone"), ms: NaN, rssKiB: NaN });
      continue;
    }
    resetHwm();
    const r = await post(input.endless ? endlessBody(input) : input.bytes);
    const rssKiB = child.exitCode === null ? hwm() : NaN;
    let result;
    if (r.status === 0) result = crash(`no answer (${r.error})`);
    else if (r.json === undefined) result = crash(`HTTP ${r.status} without a JSON body`);
    else if (r.status >= 500 && r.json.reason_code !== "TIMEOUT" && r.json.reason_code !== "SATURATED")
      result = crash(`HTTP ${r.status} ${r.json.reason_code}`);
    else if (r.json.reason_code === "PHM_INTERNAL" || r.json.reason_code === "PHM_WORKER_CRASHED")
      result = crash(r.json.reason_code);
    else if (r.json.decision === "error") result = outcome("error", r.json.error?.code ?? r.json.reason_code);
    else result = outcome("hash", "hash");
    // The next request is answered: a benign upload right after must still match.
    const next = child.exitCode === null ? await post(benignBytes) : { json: undefined };
    if (next.json?.decision !== "match") {
      nextFailed++;
      if (result.kind !== "crash") result = crash(`next request not answered (${next.status ?? "server gone"})`);
    }
    out.push({ input, outcome: result, ms: r.ms, rssKiB });
    if (i % 100 === 0) log(`serve: ${i + 1}/${inputs.length}`);
  }
  results["serve POST /v1/check, one request each"] = out;
  notes["serve POST /v1/check, one request each"] =
    `benign request after each hostile one: ${inputs.length - nextFailed} of ${inputs.length} answered \`match\`; ` +
    `server ${child.exitCode === null ? "still up" : `exited (${child.exitCode ?? child.signalCode})`}`;
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("close", resolve));
}

if (INTERFACES.includes("hash")) await perFileHash();
if (INTERFACES.includes("batch"))
  await batch("hash, whole corpus in one run", [...hashArgs], (records) => records.filter((r) => r.path !== undefined));
if (INTERFACES.includes("scan"))
  await batch("scan, whole corpus in one run", ["scan", "-q", "-j", "1", "--hashset", demo], (records) =>
    records.filter((r) => r.type === "file"),
  );
if (INTERFACES.includes("check")) await perFileCheck();
if (INTERFACES.includes("serve")) await serve();
// Self-test: the canaries do see a fetch and an open (so their zeros above mean something).
const before = { ...canaryHits };
await fetch(`http://127.0.0.1:${canary.address().port}/canary/self-test`);
const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
await new Promise((r) => setTimeout(r, 200));
closeSync(reader);
const selfTest =
  canaryHits.http > before.http && canaryHits.file > before.file ? "both seen" : "NOT SEEN: the canaries are broken";
Object.assign(canaryHits, before);
clearInterval(fifoWatch);
feeder.stop();
canary.close();

// --- tables ----------------------------------------------------------------------------------------------
const fmtMs = (ms) =>
  Number.isFinite(ms) ? (ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`) : "n/a";
const fmtRss = (kib) => (Number.isFinite(kib) ? `${Math.round(kib / 1024)} MiB` : "n/a");
const labels = Object.keys(results);
const SHORT = {
  "hash, one file per run": "hash",
  "hash, whole corpus in one run": "hash batch",
  "scan, whole corpus in one run": "scan",
  "check, one file per run": "check",
  "serve POST /v1/check, one request each": "/v1/check",
};
const worst = (rows, key) =>
  rows.filter((r) => Number.isFinite(r[key])).reduce((a, b) => (a === undefined || b[key] > a[key] ? b : a), undefined);
const short = (input) => `${input.kind}/${input.name}`;

const out = [];
out.push(
  `Corpus: ${inputs.length} inputs (size ${values.size}), per-file timeout ${FILE_TIMEOUT} s, pool memory limit ` +
    `${MEMORY_LIMIT} MiB (hash), hard limit ${HARD_LIMIT_MS / 1000} s per run.`,
  "",
);
out.push(`| kind | inputs | ${labels.map((l) => SHORT[l]).join(" | ")} |`);
out.push(`| --- | ---: | ${labels.map(() => "---").join(" | ")} |`);
for (const kind of kinds) {
  const n = inputs.filter((i) => i.kind === kind).length;
  if (n === 0) continue;
  const cells = labels.map((l) => {
    const rows = results[l].filter((r) => r.input.kind === kind);
    const hashed = rows.filter((r) => r.outcome.kind === "hash").length;
    const errors = rows.filter((r) => r.outcome.kind === "error").length;
    const crashes = rows.filter((r) => r.outcome.kind === "crash").length;
    return `${hashed} hash / ${errors} err / ${crashes} crash`;
  });
  out.push(`| ${kind} | ${n} | ${cells.join(" | ")} |`);
}
out.push(
  "",
  "| interface | inputs | hash | typed error | crashes | expectation missed | worst time (input) | worst peak RSS " +
    "(input) | benign image (time, RSS) |",
  "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
);
for (const label of labels) {
  const rows = results[label];
  const t = worst(rows, "ms");
  const m = worst(rows, "rssKiB");
  const b = baselines[label];
  out.push(
    `| ${label} | ${rows.length} | ${rows.filter((r) => r.outcome.kind === "hash").length} | ` +
      `${rows.filter((r) => r.outcome.kind === "error").length} | ` +
      `${rows.filter((r) => r.outcome.kind === "crash").length} | ` +
      `${rows.filter((r) => !meets(r.input, r.outcome)).length} | ` +
      `${t ? `${fmtMs(t.ms)} (${short(t.input)})` : "n/a"} | ` +
      `${m ? `${fmtRss(m.rssKiB)} (${short(m.input)})` : "see note"} | ` +
      `${b ? `${fmtMs(b.ms)}, ${fmtRss(b.rssKiB)}` : "n/a"} |`,
  );
}
const codes = [
  ...new Set(labels.flatMap((l) => results[l].filter((r) => r.outcome.kind === "error").map((r) => r.outcome.value))),
].sort();
out.push(
  "",
  `| error code | ${labels.map((l) => SHORT[l]).join(" | ")} |`,
  `| --- | ${labels.map(() => "---:").join(" | ")} |`,
);
for (const code of codes)
  out.push(`| ${code} | ${labels.map((l) => results[l].filter((r) => r.outcome.value === code).length).join(" | ")} |`);
out.push("");
for (const label of labels) if (notes[label]) out.push(`- ${label}: ${notes[label]}`);
out.push(
  `- canaries: ${canaryHits.http} HTTP requests to the loopback canary, ${canaryHits.file} opens of the canary ` +
    `FIFO (both must be 0); self-test fetch and open afterwards: ${selfTest}`,
);
const crashes = labels.flatMap((l) =>
  results[l].filter((r) => r.outcome.kind === "crash").map((r) => `${l}: ${short(r.input)}: ${r.outcome.value}`),
);
const missed = labels.flatMap((l) =>
  results[l]
    .filter((r) => r.outcome.kind !== "crash" && !meets(r.input, r.outcome))
    .map(
      (r) =>
        `${l}: ${short(r.input)}: expected ` +
        `${r.input.expect}${r.input.codes ? ` (${r.input.codes.join("|")})` : ""}, got ${r.outcome.value}`,
    ),
);
if (crashes.length > 0) out.push("", "Crashes:", ...crashes.map((c) => `- ${c}`));
if (missed.length > 0)
  out.push("", "Expectations missed (typed, but not the answer the input calls for):", ...missed.map((c) => `- ${c}`));
const slow = labels.flatMap((l) =>
  results[l]
    .filter((r) => r.ms > 5000)
    .map(
      (r) =>
        `${l}: ${short(r.input)} ${fmtMs(r.ms)}${Number.isFinite(r.rssKiB) ? `, ${fmtRss(r.rssKiB)}` : ""}, ` +
        `${r.outcome.value}`,
    ),
);
if (slow.length > 0) out.push("", "Inputs over 5 s:", ...slow.map((c) => `- ${c}`));
console.log(out.join("\n"));
rmSync(work, { recursive: true, force: true });
void relative;
process.exitCode = crashes.length > 0 || canaryHits.http + canaryHits.file > 0 ? 1 : 0;

// The oracle rows of bench/abuse: how many requests (and hashes, the units a token's rate counts) a client that
// sees only yes/no needs to read one entry of a list back through POST /v1/match, against the gate as it was
// at BEFORE (built beside this checkout, see gate-at-commit.mjs) and as it is now, in the same run, with the same
// list and the same attack (bench/abuse/oracle.mjs, in its own process from 127.0.0.2). The list is generated
// in a temp dir: `entries` random 64-bit pHash values and 64 random PDQ values (uniform values: lists of real
// images cluster, which only makes random search easier); the PDQ attacker starts from a value 16 bits from a
// listed one, as a matching image would give. Every recovered value is checked against the list. The healthy
// client (its own full token, from 127.0.0.1) runs beside each attack.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { HashSetBuilder, serializeStore } from "@phmatch/core";
import { treeCpuSeconds } from "../proc-tree.mjs";
import { seededRandom } from "../seeded-random.mjs";
import { gateAtCommit } from "./gate-at-commit.mjs";

/** The commit the oracle is measured at "before": the main branch when issue 16 was opened. */
export const BEFORE = "7fb58cb";

const oracleScript = new URL("./oracle.mjs", import.meta.url).pathname;
const currentCli = new URL("../../packages/cli/bin/phmatch.js", import.meta.url).pathname;
const DECISION = "bench-decision-token-0123456789";
const GRANTED = "bench-granted-token-0123456789";
const PDQ_TARGETS = 64;
const NEAR_BITS = 16;
// A granted decision token needs a rate; this one is high so the run measures the units an entry costs, not the
// waiting: the table turns units into time at a realistic rate.
const GRANTED_RATE = 6_000_000;
export const REALISTIC_RATE = 600;
// How many hashes fit in one 64 KiB /v1/match body before the fix: 64 hex + 3 per PDQ, 16 + 3 per pHash.
const FIT = { pdq: 960, phash: 3400 };

const hexOfWords = (words) => [...words].map((w) => w.toString(16).padStart(8, "0")).join("");

// The list and the attacker's starting points.
function makeList(dir, entries) {
  const rand = seededRandom(1600 + entries);
  const builder = new HashSetBuilder();
  builder.addList({ listId: "oracle-bench", version: 1 });
  const phash = new Set();
  const words2 = new Uint32Array(2);
  for (let i = 0; i < entries; i++) {
    words2[0] = rand();
    words2[1] = rand();
    phash.add(hexOfWords(words2));
    builder.addEntry({
      algorithm: "phash",
      value: new Uint8Array(Buffer.from(hexOfWords(words2), "hex")),
      listId: "oracle-bench",
      entryId: `P${i}`,
      category: "A1",
    });
  }
  const pdq = [];
  const targets = [];
  const words8 = new Uint32Array(8);
  for (let i = 0; i < PDQ_TARGETS; i++) {
    for (let w = 0; w < 8; w++) words8[w] = rand();
    const value = Buffer.from(hexOfWords(words8), "hex");
    pdq.push(value.toString("hex"));
    builder.addEntry({
      algorithm: "pdq",
      value: new Uint8Array(value),
      listId: "oracle-bench",
      entryId: `Q${i}`,
      category: "A1",
    });
    const near = Buffer.from(value);
    const flipped = new Set();
    while (flipped.size < NEAR_BITS) flipped.add(rand() % 256);
    for (const bit of flipped) near[bit >> 3] ^= 0x80 >> (bit & 7);
    targets.push(near.toString("hex"));
  }
  const list = join(dir, "oracle.phs");
  writeFileSync(list, serializeStore(builder));
  const targetsFile = join(dir, "near.json");
  writeFileSync(targetsFile, JSON.stringify(targets));
  return { list, targetsFile, phash, pdq: new Set(pdq) };
}

function startGate(bin, list, tokens, dir, log) {
  const args = [
    bin,
    "serve",
    "--hashset",
    list,
    "--port",
    "0",
    "--tokens",
    tokens,
    "--no-watch",
    "--state-dir",
    join(dir, `state-${Math.random().toString(36).slice(2)}`),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: Object.fromEntries(
      Object.entries(process.env).filter(
        ([name]) => !["PHMATCH_TRUSTED_KEYS", "PHMATCH_STATE_DIR", "PHMATCH_LIST_KEY", "PHMATCH_TOKENS"].includes(name),
      ),
    ),
  });
  let stderr = "";
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = new Promise((resolve, reject) => {
    createInterface({ input: child.stderr }).on("line", (line) => {
      stderr += `${line}\n`;
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m !== null) resolve(m[1]);
      else log(`  [gate] ${line}`);
    });
    void exited.then((code) =>
      reject(Object.assign(new Error(`phmatch serve exited with ${code} before listening`), { code, stderr })),
    );
  });
  return { child, exited, ready, stderr: () => stderr };
}

function startAttacker(row, port, targetsFile) {
  const args = [
    oracleScript,
    "--attack",
    row.attack,
    "--port",
    String(port),
    "--token",
    row.token,
    "--per-request",
    String(row.perRequest),
    "--pad",
    String(row.pad ?? 0),
    "--from",
    "127.0.0.2",
  ];
  if (row.attack === "pdq") args.push("--targets", targetsFile);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit", "ipc"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  let entries = 0;
  let finished = false;
  let wake = () => undefined;
  child.on("message", (m) => {
    if (m === "entry") entries++;
    if (m === "refused" || m === "done") finished = true;
    wake();
  });
  const ready = new Promise((resolve) => child.once("message", resolve));
  const cpu = () => treeCpuSeconds(child.pid);
  // Resolves once `n` entries are recovered, the attack was refused or ended, or `ms` have passed.
  const until = async (n, ms) => {
    const deadline = Date.now() + ms;
    while (entries < n && !finished && Date.now() < deadline)
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, 1000);
      });
  };
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
    return JSON.parse(out.trim() || '{"error":"the attacker exited without a result"}');
  };
  return { ready: Promise.race([ready, exited]), until, stop, cpu };
}

const ROWS = [
  {
    gate: "before",
    attack: "pdq",
    token: DECISION,
    perRequest: FIT.pdq,
    label: "PDQ entry from a near match",
    tokenLabel: "decision",
  },
  {
    gate: "before",
    attack: "pdq",
    token: DECISION,
    perRequest: 1,
    label: "PDQ entry from a near match",
    tokenLabel: "decision",
  },
  {
    gate: "before",
    attack: "phash",
    token: DECISION,
    perRequest: FIT.phash,
    label: "pHash entry by random search",
    tokenLabel: "decision",
  },
  {
    gate: "now",
    attack: "pdq",
    token: DECISION,
    perRequest: 1,
    label: "PDQ entry from a near match",
    tokenLabel: "decision, no grant",
  },
  {
    gate: "now",
    attack: "pdq",
    token: GRANTED,
    perRequest: 1,
    label: "PDQ entry from a near match",
    tokenLabel: 'decision, "matchAlgorithms":["pdq"]',
  },
  {
    gate: "now",
    attack: "pdq",
    token: GRANTED,
    perRequest: 8,
    pad: 8,
    label: "PDQ entry from a near match",
    tokenLabel: 'decision, "matchAlgorithms":["pdq"]',
  },
  {
    gate: "now",
    attack: "phash",
    token: GRANTED,
    perRequest: 8,
    pad: 8,
    label: "pHash entry by random search",
    tokenLabel: 'decision, "matchAlgorithms":["pdq"]',
  },
];

/**
 * Runs the oracle rows. `healthy(base, pid, abuser, seconds)` measures the healthy client against a gate (with the
 * abuser running, if given) with `healthyToken`, a full token of its own. Returns the markdown lines of the table
 * and its notes.
 */
export async function oracleRows({ entries, settleMs, waitMs, healthy, healthyToken, log }) {
  const dir = mkdtempSync(join(tmpdir(), "phmatch-bench-oracle-"));
  const lines = [];
  try {
    log(
      `oracle: a list of ${entries.toLocaleString("en")} random pHash and ${PDQ_TARGETS} random PDQ values in ` +
        `${dir} ...`,
    );
    const made = makeList(dir, entries);
    const before = gateAtCommit(BEFORE, log);
    const tokens = join(dir, "tokens.json");
    writeFileSync(
      tokens,
      JSON.stringify({
        tokens: [
          { name: "healthy", token: healthyToken, detail: "full" },
          { name: "attacker", token: DECISION, detail: "decision" },
          // The gate before the fix reads no "matchAlgorithms": there this is a plain decision token.
          {
            name: "attacker-granted",
            token: GRANTED,
            detail: "decision",
            matchAlgorithms: ["pdq"],
            ratePerMinute: GRANTED_RATE,
          },
        ],
      }),
    );
    const results = [];
    for (const [gateName, bin] of [
      ["before", before],
      ["now", currentCli],
    ]) {
      const gate = startGate(bin, made.list, tokens, dir, log);
      try {
        const base = await gate.ready;
        const port = Number(new URL(base).port);
        log(`oracle: gate ${gateName === "before" ? BEFORE : "now"} at ${base}; healthy client alone ...`);
        await healthy(base, gate.child.pid, undefined, 3); // warm-up (worker pool, JIT), not measured
        const without = await healthy(base, gate.child.pid);
        for (const row of ROWS.filter((r) => r.gate === gateName)) {
          log(`oracle: ${row.label}, ${row.perRequest} per request, ${row.tokenLabel}, gate ${gateName} ...`);
          const attacker = startAttacker(row, port, made.targetsFile);
          await attacker.ready;
          await new Promise((resolve) => setTimeout(resolve, settleMs));
          const withAttack = await healthy(base, gate.child.pid, attacker);
          await attacker.until(1, waitMs);
          const outcome = await attacker.stop();
          const truth = row.attack === "pdq" ? made.pdq : made.phash;
          const exact = (outcome.entries ?? []).filter((e) => truth.has(e.hex)).length;
          log(
            `  recovered ${outcome.entries?.length ?? 0} (${exact} exact), refused: ` +
              `${outcome.refused?.reason ?? "no"}, healthy non-2xx ${withAttack.non2xx}`,
          );
          results.push({ row, without, withAttack, outcome, exact });
        }
      } finally {
        gate.child.kill("SIGTERM");
        await gate.exited;
      }
    }
    // A token file granting a decision token a 64-bit algorithm: the gate now refuses to start.
    const bad = join(dir, "tokens-phash.json");
    writeFileSync(
      bad,
      JSON.stringify({
        tokens: [
          {
            name: "attacker",
            token: DECISION,
            detail: "decision",
            matchAlgorithms: ["phash"],
            ratePerMinute: REALISTIC_RATE,
          },
        ],
      }),
    );
    const refusedStart = startGate(currentCli, made.list, bad, dir, () => undefined);
    refusedStart.ready.catch(() => undefined);
    const startCode = await refusedStart.exited;
    const startMessage = (refusedStart.stderr().trim().split("\n").pop() ?? "")
      .replace(bad, "tokens.json")
      .replace(/: random 64-bit.*/, "");

    lines.push(
      "| attack | gate | attacker's token | hashes per request | the gate answered | entries recovered (exact) | " +
        "requests per entry | hashes per entry (rate units now) | s per entry | healthy req/s without / with | " +
        "healthy p99 ms without / with | healthy non-2xx with |",
      "|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    );
    for (const { row, without, withAttack, outcome, exact } of results) {
      const done = outcome.entries ?? [];
      const mean = (key) =>
        done.length === 0
          ? "-"
          : (done.reduce((n, e) => n + e[key], 0) / done.length).toLocaleString("en", {
              maximumFractionDigits: key === "seconds" ? 2 : 0,
            });
      const answered =
        outcome.refused !== undefined
          ? `${outcome.refused.reason} (x${outcome.refused.answers.toLocaleString("en")})`
          : outcome.error !== undefined
            ? `error: ${outcome.error}`
            : "match / no_match";
      const partial =
        done.length === 0 && outcome.refused === undefined && outcome.inProgress !== undefined
          ? ` (none within the run: ${outcome.inProgress.requests} requests so far)`
          : "";
      lines.push(
        `| ${row.label} | ${row.gate === "before" ? BEFORE : "this commit"} | ${row.tokenLabel} | ` +
          `${row.perRequest}${row.pad ? " (padded to 8)" : ""} | ${answered} | ${done.length} ` +
          `(${exact})${partial} | ${mean("requests")} | ${mean("hashes")} | ${mean("seconds")} | ` +
          `${without.rps.toFixed(1)} / ${withAttack.rps.toFixed(1)} | ${without.p99} / ${withAttack.p99} | ` +
          `${withAttack.non2xx} |`,
      );
    }
    lines.push(
      `| pHash entry by random search | this commit | decision, "matchAlgorithms":["phash"] | - | the gate does ` +
        `not start: exit ${startCode}, ${startMessage.replace(/\|/g, "\\|")} | - | - | - | - | - | - | - |`,
    );
    const granted =
      results.find(
        (r) => r.row.gate === "now" && r.row.token === GRANTED && r.row.attack === "pdq" && r.row.perRequest === 1,
      )?.outcome.entries ?? [];
    const units = granted.length === 0 ? undefined : granted.reduce((n, e) => n + e.hashes, 0) / granted.length;
    lines.push(
      "",
      `List: ${entries.toLocaleString("en")} uniform random pHash values and ${PDQ_TARGETS} PDQ values; the PDQ ` +
        `attacker starts ${NEAR_BITS} bits from a listed value. Requests and hashes per entry are means over the ` +
        `entries recovered while the healthy client ran (and up to ${waitMs / 1000} s more for the first).`,
      `Bound now: a decision token reaches /v1/match only with "matchAlgorithms", never for 64-bit algorithms, and ` +
        `every hash counts against its ratePerMinute. Recovering a PDQ entry from a near match needs at least ` +
        `133 yes/no answers (log2 of the ${"2^132.8"} values within 31 bits), each a request of at least one ` +
        `unit;` +
        (units === undefined
          ? ""
          : ` the attack above spent ${units.toFixed(0)} units per entry, so a token at ${REALISTIC_RATE}/min ` +
            `recovers at most ${(REALISTIC_RATE / 133).toFixed(1)} entries a minute ` +
            `(${(REALISTIC_RATE / units).toFixed(1)} by this attack), each only from an image that already ` +
            `matches.`),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

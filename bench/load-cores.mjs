#!/usr/bin/env node
// The named load under which `npm test` must stay green (issue 17): one busy loop per core, in worker threads,
// until stopped (Ctrl-C, SIGTERM) or for --seconds N. Run it in one terminal and `npm test` in another:
//   npm run load:cores            # every core busy until Ctrl-C
//   npm run load:cores -- --seconds 600 --cores 2
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`load-cores: --${name} takes a positive integer, got ${String(args[at + 1])}`);
    process.exit(64);
  }
  return value;
};
const cores = option("cores", availableParallelism());
const seconds = option("seconds", undefined);

// Each loop does integer work the JIT cannot drop (its result is kept), never sleeping, never allocating.
const loop = `
let x = 1;
for (;;) { for (let i = 0; i < 1e7; i++) x = (x * 1103515245 + 12345) | 0; globalThis.kept = x; }
`;
const workers = Array.from({ length: cores }, () => new Worker(loop, { eval: true }));
const until = seconds === undefined ? "until stopped (Ctrl-C)" : `for ${seconds} s`;
console.log(`load-cores: ${cores} busy loop(s), one per core (pid ${process.pid}), ${until}`);

const stop = (why) => {
  console.log(`load-cores: stopping (${why})`);
  for (const w of workers) void w.terminate();
};
process.once("SIGINT", () => stop("SIGINT"));
process.once("SIGTERM", () => stop("SIGTERM"));
if (seconds !== undefined) setTimeout(() => stop(`${seconds} s elapsed`), seconds * 1000);

// `phmatch` in the test's own process: `run(argv)` of the built CLI with its stdout and stderr captured, and the
// environment, working directory and stdin set for the one call and restored after it. A spawned `phmatch` costs a
// Node start-up, the module graph and a worker process per call; this costs the command alone (the pool's worker
// process is still started by the command, and closed by it). What needs a real process (signals, a broken pipe,
// `serve` on a port, a killed worker) keeps spawning `bin.js`, see `spawnCli`.
import { spawnSync } from "node:child_process";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { run } from "@phmatch/cli";
import { projectRoot } from "../../../../test/support/conformance.js";
import { childPids } from "../../../../test/support/worker-faults.js";

/** The built `phmatch` binary, for the tests that need a real process. */
export const bin = fileURLToPath(new URL("../../bin/phmatch.js", import.meta.url));

/** What a command did: its exit code and everything it wrote (UTF-8 decoded), as `spawnSync` reports it. */
export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Working directory for the call; the project root by default. */
  cwd?: string;
  /** The whole environment for the call (as `spawnSync`'s `env`); `process.env` unchanged by default. */
  env?: NodeJS.ProcessEnv;
  /** What the command reads from stdin; empty by default (as a spawned command with nothing piped in). */
  input?: string | Buffer;
}

/** Thrown when a command left a process of its own running (its hash pool's worker, say): it must close it. */
export class ProcessLeftRunning extends Error {
  constructor(
    readonly args: string[],
    readonly pids: number[],
  ) {
    super(`phmatch ${args.join(" ")} returned with its child process(es) ${pids.join(", ")} still running`);
  }
}

/** Thrown when a command calls `process.exit` in-process: such a command must be tested spawned. */
export class ProcessExitInTest extends Error {
  constructor(readonly code: number | string | null | undefined) {
    super(`phmatch called process.exit(${String(code)}) in-process; spawn it instead (spawnCli)`);
  }
}

// One call at a time: the calls share process.env, the working directory and the standard streams.
let queue: Promise<unknown> = Promise.resolve();

/** Runs `phmatch ...args` in this process. Calls made concurrently run one after the other. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const call = queue.then(() => runNow(args, options));
  queue = call.catch(() => undefined);
  return call;
}

async function runNow(args: string[], options: CliOptions): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const restore = [
    capture(process.stdout, out),
    capture(process.stderr, err),
    replaceStdin(options.input),
    replaceEnv(options.env),
    replaceCwd(options.cwd ?? projectRoot),
    forbidExit(),
  ];
  const before = new Set(childPids(process.pid));
  let status: number;
  try {
    status = await run([process.execPath, bin, ...args]);
  } finally {
    for (const undo of restore.reverse()) undo();
  }
  // A command returns once its work is done, its worker process closed: one left running would keep a CLI alive.
  const left = childPids(process.pid).filter((pid) => !before.has(pid));
  if (left.length > 0) throw new ProcessLeftRunning(args, left);
  return { status, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

/** Runs the built binary in its own process, for what needs one; the same result shape as {@link runCli}. */
export function spawnCli(args: string[], options: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? projectRoot,
    env: options.env ?? process.env,
    input: options.input ?? "",
    encoding: "utf8",
    maxBuffer: 1 << 26,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

type Undo = () => void;

// The captured stream is not a terminal (nor is a spawned command's pipe): the output is the same wherever tests run.
function capture(stream: NodeJS.WriteStream, chunks: Buffer[]): Undo {
  const own = Object.getOwnPropertyDescriptor(stream, "write");
  const ownTty = Object.getOwnPropertyDescriptor(stream, "isTTY");
  Object.defineProperty(stream, "isTTY", { value: false, configurable: true, writable: true });
  const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const done = typeof encoding === "function" ? encoding : callback;
    const text = typeof encoding === "string" ? (encoding as BufferEncoding) : "utf8";
    if (typeof chunk === "string") chunks.push(Buffer.from(chunk, text));
    else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
    if (typeof done === "function") process.nextTick(done as () => void);
    return true;
  };
  Object.defineProperty(stream, "write", { value: write, configurable: true, writable: true });
  return () => {
    if (own !== undefined) Object.defineProperty(stream, "write", own);
    else delete (stream as { write?: unknown }).write;
    if (ownTty !== undefined) Object.defineProperty(stream, "isTTY", ownTty);
    else delete (stream as { isTTY?: boolean }).isTTY;
  };
}

function replaceStdin(input: string | Buffer | undefined): Undo {
  const own = Object.getOwnPropertyDescriptor(process, "stdin");
  const stdin = Readable.from(input === undefined || input.length === 0 ? [] : [Buffer.from(input)]);
  Object.defineProperty(process, "stdin", { value: stdin, configurable: true, enumerable: true, writable: false });
  return () => {
    if (own !== undefined) Object.defineProperty(process, "stdin", own);
  };
}

// process.env is changed in place (not replaced): it is the real environment, which os.homedir() also reads.
function replaceEnv(env: NodeJS.ProcessEnv | undefined): Undo {
  if (env === undefined) return () => undefined;
  const saved = { ...process.env };
  const assign = (to: NodeJS.ProcessEnv): void => {
    for (const name of Object.keys(process.env)) if (!(name in to)) delete process.env[name];
    for (const [name, value] of Object.entries(to)) if (value !== undefined) process.env[name] = value;
  };
  assign(env);
  return () => assign(saved);
}

function replaceCwd(cwd: string): Undo {
  const saved = process.cwd();
  process.chdir(cwd);
  return () => process.chdir(saved);
}

function forbidExit(): Undo {
  const exit = process.exit;
  process.exit = ((code?: number | string | null) => {
    throw new ProcessExitInTest(code);
  }) as typeof process.exit;
  return () => {
    process.exit = exit;
  };
}

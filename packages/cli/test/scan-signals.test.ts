// A scan stopped by SIGINT (Ctrl-C) or SIGTERM finishes the record it is writing, says on stderr how many records
// are in which file and the exact command that finishes the report, and exits 130 or 143; that command then
// completes the report as an uninterrupted run writes it. A scan whose reader goes away, or that is killed outright,
// ends quietly: no EPIPE stack trace from it or from its worker process.
// Signals are sent at points in the work (records in the report, the worker process running), never after a delay.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures, projectRoot } from "../../../test/support/conformance.js";

const bin = fileURLToPath(new URL("../bin/phmatch.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "phmatch-signals-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tree = join(work, "tree");
for (let i = 0; i < 4; i++) cpSync(fixtures("images"), join(tree, `set${i}`), { recursive: true });
cpSync(fixtures("bad"), join(tree, "bad"), { recursive: true });
const env: NodeJS.ProcessEnv = { ...process.env, PHMATCH_STATE_DIR: join(work, "state") };
delete env.PHMATCH_TRUSTED_KEYS;
delete env.PHMATCH_LIST_KEY;
const scanArgs = (out?: string) => [
  "scan",
  tree,
  "--hashset",
  fixtures("hashsets/demo.phs"),
  "-q",
  "-j",
  "1",
  ...(out === undefined ? [] : ["-o", out]),
];

interface Run {
  child: ChildProcess;
  stderr: string;
  stdout: string;
  /** Exit of the scan; `closed` waits for its stderr to close, i.e. also for the worker process that shares it. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  closed: Promise<void>;
}

function start(args: string[]): Run {
  const child = spawn(process.execPath, [bin, ...args], { cwd: projectRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  const run: Run = {
    child,
    stderr: "",
    stdout: "",
    exit: new Promise((done) => child.once("exit", (code, signal) => done({ code, signal }))),
    closed: new Promise((done) => child.stderr?.once("close", () => done())),
  };
  child.stderr?.on("data", (chunk: Buffer) => (run.stderr += chunk.toString()));
  child.stdout?.on("data", (chunk: Buffer) => (run.stdout += chunk.toString()));
  return run;
}

// Resolves once `ready()` holds, checked every 5 ms (a point in the work, not a time).
function until(ready: () => boolean): Promise<void> {
  return new Promise((done) => {
    const poll = setInterval(() => {
      if (ready()) {
        clearInterval(poll);
        done();
      }
    }, 5);
  });
}

const fileRecords = (report: string) =>
  existsSync(report) ? (readFileSync(report, "utf8").match(/"type":"file"/g) ?? []).length : 0;

// The worker process of a scan (its only child), from /proc.
function childOf(pid: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return children === "" ? undefined : Number(children.split(" ")[0]);
  } catch {
    return undefined;
  }
}

// No stack trace, no EPIPE, no "Error:" from either process.
const quiet = (stderr: string) => expect(stderr).not.toMatch(/EPIPE|Error|\n\s+at |node:internal/);

// A report's lines without what differs between runs: the start time (header), the end time and the access-time
// account (summary).
const comparable = (report: string) =>
  readFileSync(report, "utf8")
    .trimEnd()
    .split("\n")
    .slice(1)
    .map((l) => l.replace(/"finishedAt":"[^"]*"/, "").replace(/,"atimes":\{.*\}\}$/, "}"));

describe("scan stopped by a signal", () => {
  const reference = join(work, "reference.ndjson");
  spawnSync(process.execPath, [bin, ...scanArgs(reference)], { cwd: projectRoot, env });
  const total = readdirSync(tree, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;

  it.each([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "%s: finishes the record in progress, says what was written and how to --resume, exits %i",
    async (signal, code) => {
      const out = join(work, `${signal}.ndjson`);
      const run = start(scanArgs(out));
      await until(() => fileRecords(out) >= 2);
      run.child.kill(signal);
      expect(await run.exit).toEqual({ code, signal: null });
      await run.closed;
      const text = readFileSync(out, "utf8");
      // Whole lines only: the header and the records written, each complete; no summary.
      expect(text.endsWith("\n")).toBe(true);
      const lines = text
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string });
      const records = lines.filter((l) => l.type === "file").length;
      expect(records).toBeGreaterThanOrEqual(2);
      expect(records).toBeLessThan(total);
      expect(lines.map((l) => l.type)).toEqual(["header", ...Array<string>(records).fill("file")]);
      expect(existsSync(`${out}.sha256`)).toBe(false); // an unfinished report is not sealed
      expect(run.stderr).toContain(
        `phmatch scan: ${signal}: stopped after the record in progress: ${records} records are in ${out}`,
      );
      quiet(run.stderr);
      // The command it gives finishes the report: the same as an uninterrupted run's.
      const command = /finish it with:\n {2}phmatch (.*)\n/.exec(run.stderr)?.[1];
      expect(command).toBe([...scanArgs(out), "--resume"].join(" "));
      const resumed = spawnSync(process.execPath, [bin, ...(command as string).split(" ")], {
        cwd: projectRoot,
        env,
        encoding: "utf8",
      });
      expect(resumed.status, resumed.stderr).toBe(2); // the bad fixtures are errors, as in the reference
      expect(comparable(out)).toEqual(comparable(reference));
    },
  );

  it("a report on standard output: says how many records were written and that it cannot be resumed", async () => {
    const run = start(scanArgs());
    await until(() => (run.stdout.match(/"type":"file"/g) ?? []).length >= 1);
    run.child.kill("SIGINT");
    expect(await run.exit).toEqual({ code: 130, signal: null });
    await run.closed;
    const records = (run.stdout.match(/"type":"file"/g) ?? []).length;
    expect(run.stdout.endsWith("\n")).toBe(true);
    expect(run.stderr).toContain(
      `${records} records are in standard output, with no summary yet; ` +
        "a report on standard output cannot be resumed: run the scan again with -o FILE",
    );
    quiet(run.stderr);
  });
});

describe("scan that loses its reader or is killed", () => {
  it("ends quietly when the pipe it writes to closes (as `phmatch scan ... | head -1` does)", async () => {
    const run = start(scanArgs());
    await until(() => run.stdout.includes("\n"));
    run.child.stdout?.destroy();
    const exit = await run.exit;
    await run.closed; // the worker process too has ended: it shares this stderr
    expect(exit.signal).toBeNull();
    quiet(run.stderr);
  });

  it("goes on to the end of its report when the reader of its progress lines goes away", async () => {
    const out = join(work, "no-stderr.ndjson");
    const child = spawn(process.execPath, [bin, ...scanArgs(out).filter((a) => a !== "-q")], {
      cwd: projectRoot,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once("exit", (code, signal) => done({ code, signal })),
    );
    child.stderr?.once("data", () => child.stderr?.destroy()); // the first progress line, then the pipe is closed
    expect(await exit).toEqual({ code: 2, signal: null }); // as the reference: the bad fixtures are errors
    expect(comparable(out)).toEqual(comparable(join(work, "reference.ndjson")));
    expect(existsSync(`${out}.sha256`)).toBe(true);
  });

  it("killed outright, its worker process ends quietly, with no EPIPE stack trace", async () => {
    const out = join(work, "killed.ndjson");
    const run = start(scanArgs(out));
    let worker: number | undefined;
    await until(() => (worker = childOf(run.child.pid as number)) !== undefined && fileRecords(out) >= 1);
    // Freeze the worker, kill the scan, and let the worker go on once its memory report (every 100 ms) is overdue:
    // that message then meets a closed channel before the worker has read that the scan is gone. (The wait sets up
    // that condition; any longer wait sets it up as well.)
    process.kill(worker as number, "SIGSTOP");
    run.child.kill("SIGKILL");
    expect(await run.exit).toEqual({ code: null, signal: "SIGKILL" });
    const killed = Date.now();
    await until(() => Date.now() - killed >= 300);
    process.kill(worker as number, "SIGCONT");
    await run.closed;
    quiet(run.stderr);
  });
});

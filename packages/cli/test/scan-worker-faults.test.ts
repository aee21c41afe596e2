// `phmatch scan` while its worker processes are killed (SIGKILL, and SIGSEGV as a decoder crash would raise) at
// random moments: the scan finishes, and every file is reported exactly once, with the hashes and result an
// undisturbed scan gives it, or with PHM_WORKER_CRASHED if it was in flight at two deaths in a row.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scanReportSchema } from "@phmatch/core";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, projectRoot } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { childPids, prng, sleep, writeSyntheticImages } from "../../../test/support/worker-faults.js";
import { bin, runCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-scan-faults-"));
const tree = join(work, "tree");
const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state") });
const FILES = 120;
const KILLS = 6;
const SEED = 20260117;
afterAll(() => rmSync(work, { recursive: true, force: true }));

type Line = Record<string, unknown> & { type: string; path: string };
const fileLines = (report: string) =>
  readFileSync(report, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.type === "file");
const lineCount = (report: string) => (existsSync(report) ? readFileSync(report, "utf8").split("\n").length - 1 : 0);

describe("phmatch scan with its worker processes killed", () => {
  let paths: string[];
  let clean: Map<string, Line>;
  beforeAll(async () => {
    mkdirSync(tree);
    paths = await writeSyntheticImages(tree, FILES, SEED);
    const report = join(work, "clean.ndjson");
    const run = await runCli(
      ["scan", tree, "--hashset", fixtures("hashsets/demo.phs"), "-o", report, "-j", "2", "-q"],
      { env },
    );
    expect(run.status, run.stderr).toBe(0);
    clean = new Map(fileLines(report).map((l) => [l.path, l]));
  }, 120_000);

  it("reports every file exactly once, as an undisturbed scan does, across SIGKILL and SIGSEGV", async () => {
    const report = join(work, "killed.ndjson");
    const scan = spawn(
      process.execPath,
      [bin, "scan", tree, "--hashset", fixtures("hashsets/demo.phs"), "-o", report, "-j", "2", "-q"],
      { cwd: projectRoot, env, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    scan.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = once(scan, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    let done = false;
    void exited.then(() => (done = true));

    const rand = prng(SEED);
    const killed: { pid: number; signal: NodeJS.Signals }[] = [];
    const seen = new Set<number>();
    while (!done && killed.length < KILLS) {
      const worker = childPids(scan.pid as number).find((pid) => !seen.has(pid));
      if (worker === undefined) {
        await sleep(10);
        continue;
      }
      seen.add(worker);
      // Kill a worker that is hashing (the report has grown since it appeared), at a random moment after that.
      const lines = lineCount(report);
      while (!done && lineCount(report) <= lines) await sleep(10);
      await sleep(Math.floor(rand() * 250));
      if (done) break;
      const signal: NodeJS.Signals = killed.length % 2 === 0 ? "SIGKILL" : "SIGSEGV";
      try {
        process.kill(worker, signal);
        killed.push({ pid: worker, signal });
      } catch {
        // Already gone.
      }
    }
    const [code] = await exited;

    expect(killed.length, `seed ${SEED}: the scan ended after ${killed.length} kills; make it longer`).toBe(KILLS);
    expect([0, 2], stderr).toContain(code);
    const lines = fileLines(report);
    // Exactly once each: as many lines as files, and every file among them.
    expect(lines).toHaveLength(FILES);
    expect(lines.map((l) => l.path).sort()).toEqual(paths.slice().sort());
    const validate = new Ajv2020({ strict: true }).compile(scanReportSchema());
    let crashed = 0;
    for (const line of lines) {
      expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
      const undisturbed = clean.get(line.path);
      if (line.status === "error") {
        // In flight at a death and again, alone, at the next one: named with its code, its digest still there.
        expect(line.error, line.path).toMatchObject({ code: "PHM_WORKER_CRASHED" });
        expect((line.hashes as Record<string, string>).sha256).toBe(
          (undisturbed!.hashes as Record<string, string>).sha256,
        );
        crashed++;
      } else {
        expect(line, line.path).toEqual(undisturbed);
      }
    }
    const summary = JSON.parse(readFileSync(report, "utf8").trim().split("\n").pop() as string) as Record<
      string,
      number
    >;
    expect(summary).toMatchObject({ type: "summary", files: FILES, error: crashed });
    expect(code).toBe(crashed > 0 ? 2 : 0);
    console.log(
      `scan with ${KILLS} worker kills: ${crashed} of ${FILES} files killed twice (PHM_WORKER_CRASHED), ` +
        "the rest as undisturbed",
    );
  }, 120_000);
});

// `phmatch check` and `phmatch hash` of one small image decode it in their own process (no worker process to
// start: an upload pipeline runs check once per upload); --isolate, --memory-limit, more jobs, stdin and
// anything fitsInProcess refuses use the supervised worker process. Which route ran is seen by a worker process
// that cannot start (NODE_OPTIONS requiring a missing module, which the forked worker inherits): the in-process
// route answers as usual, the worker route ends in an error.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { runCli } from "./support/run-cli.js";

const demo = fixtures("hashsets/demo.phs");
const state = fileURLToPath(new URL("../../../node_modules/.cache/phmatch-test-state", import.meta.url));
const env = cleanEnv({ PHMATCH_STATE_DIR: state });
const noWorker = cleanEnv({ PHMATCH_STATE_DIR: state, NODE_OPTIONS: "--require /nonexistent/phmatch-no-worker.cjs" });
const image = fixtures("images/texture.jpg");

describe("one small image is decoded in the command's own process", () => {
  it("check answers the same either way, and without a worker process when the file fits", async () => {
    const isolated = await runCli(["check", image, "--hashset", demo, "--json", "--isolate"], { env });
    const here = await runCli(["check", image, "--hashset", demo, "--json"], { env });
    expect(isolated.status).toBe(1);
    expect(here.status).toBe(1);
    expect(JSON.parse(here.stdout)).toEqual(JSON.parse(isolated.stdout));
    const alone = await runCli(["check", image, "--hashset", demo], { env: noWorker });
    expect(alone.status).toBe(1);
    expect(alone.stdout).toContain("known: matches list phmatch-demo");
  });

  it.each([["--isolate"], ["--memory-limit", "512"]])("check %s uses the worker process", async (...flags) => {
    const r = await runCli(["check", image, "--hashset", demo, ...flags], { env: noWorker });
    expect(r.status).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/PHM_WORKER_/);
  });

  it("hash prints the same record either way; more than one file, --isolate or --jobs 2 use the worker", async () => {
    const isolated = await runCli(["hash", "-a", "pdq,md5", "--dihedral", "--isolate", image], { env });
    const here = await runCli(["hash", "-a", "pdq,md5", "--dihedral", image], { env: noWorker });
    expect(here.status).toBe(0);
    expect(JSON.parse(here.stdout)).toEqual(JSON.parse(isolated.stdout));
    for (const args of [
      ["--isolate", image],
      ["--jobs", "2", image],
      [image, fixtures("images/shapes.png")],
    ]) {
      const r = await runCli(["hash", ...args], { env: noWorker });
      expect(r.status, args.join(" ")).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/PHM_WORKER_/);
    }
  });
});

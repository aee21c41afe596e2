// `phmatch check` as an upload pipeline uses it: exit 0 no match, 1 match, 2 error (like grep), stdin, --json;
// and every command's --help shows an example.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { matchResultSchema } from "@phmatch/core";
import { Ajv2020 } from "ajv/dist/2020.js";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { syntheticImage } from "../../../test/support/worker-faults.js";
import { runCli, spawnCli } from "./support/run-cli.js";

const demo = fixtures("hashsets/demo.phs");
const env = cleanEnv({
  PHMATCH_STATE_DIR: fileURLToPath(new URL("../../../node_modules/.cache/phmatch-test-state", import.meta.url)),
});
const run = (args: string[], input?: Buffer) => runCli(args, { env, ...(input !== undefined && { input }) });

describe("phmatch check", () => {
  it.each([
    ["images/shapes.png", 1, "known: matches list phmatch-demo v1, category demo-A"],
    ["images/shapes-rotate90.png", 1, "rotate90"],
    ["images/shapes-mirror.png", 1, "known"],
    ["images/texture-grey.png", 0, "unseen"],
    ["images/tiny-4x4.png", 0, "low_quality"],
    ["bad/truncated.jpg", 2, "error (PHM_DECODE_TRUNCATED)"],
    ["bad/does-not-exist.jpg", 2, "error (PHM_FILE_NOT_FOUND)"],
  ])("%s exits %i", async (file, code, text) => {
    const r = await run(["check", fixtures(file), "--hashset", demo]);
    expect(r.status).toBe(code);
    expect(r.stdout).toContain(text);
  });

  it("reads the file from stdin, in memory", async () => {
    const r = await run(["check", "-", "--hashset", demo], readFileSync(fixtures("images/texture.jpg")));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^-: known/);
  });

  it("--json prints the full result, valid against the schema", async () => {
    const r = await run(["check", fixtures("images/shapes-small.jpg"), "--hashset", demo, "--json"]);
    const result = JSON.parse(r.stdout) as { status: string; matches: { algorithm: string; policy: string }[] };
    expect(new Ajv2020({ strict: true }).compile(matchResultSchema())(result)).toBe(true);
    expect(result.status).toBe("known");
    expect(result.matches[0]).toMatchObject({ algorithm: "pdq", policy: "pdq:d31:q50@1" });
  });

  it(
    "decodes in a worker process with a memory limit: an image that takes it over is exit 2, " + "PHM_WORKER_MEMORY",
    async () => {
      // A valid 8000x6000 PNG (about 2 MB, 144 MB of pixels): within the pixel limit, far over a 150 MiB worker.
      const big = await sharp(await syntheticImage(7, 800, 600, "png", false))
        .resize(8000, 6000, { kernel: "nearest" })
        .png()
        .toBuffer();
      const over = await run(["check", "-", "--hashset", demo, "--memory-limit", "150"], big);
      expect(over.status).toBe(2);
      expect(over.stdout).toContain("error (PHM_WORKER_MEMORY)");
      const within = await run(["check", "-", "--hashset", demo], big);
      expect(within.status).toBe(0);
      expect(within.stdout).toMatch(/^-: (unseen|low_quality)/);
    },
  );

  it("exits 2 on every error: a missing list, a missing option, an untrusted list", async () => {
    expect((await run(["check", fixtures("images/shapes.png"), "--hashset", "/nonexistent.phs"])).status).toBe(2);
    expect((await run(["check", fixtures("images/shapes.png")])).status).toBe(2);
    const pub =
      "-----BEGIN PUBLIC KEY-----\n" +
      "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n" +
      "-----END PUBLIC KEY-----\n";
    expect(
      (
        await runCli(["check", fixtures("images/shapes.png"), "--hashset", demo], {
          env: { ...env, PHMATCH_TRUSTED_KEYS: pub },
        })
      ).status,
    ).toBe(2);
  });
});

describe("--help of every command shows an example", () => {
  it.each([
    ["hash"],
    ["match"],
    ["check"],
    ["scan"],
    ["report"],
    ["report", "verify"],
    ["hashset"],
    ["feedback"],
    ["lists"],
    ...["import", "build", "info", "verify", "sign", "keygen", "diff", "export", "merge", "override"].map((c) => [
      "hashset",
      c,
    ]),
  ])("phmatch %s %s --help", async (...command) => {
    const r = await run([...command.filter((c) => c !== undefined), "--help"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Examples?:\n {2}phmatch /);
  });
});

// The built binary as a user starts it: the exit code of a real process (the in-process runs above share one).
describe("phmatch check, spawned", () => {
  it("exits 1 on a match, 0 on no match, 2 on an error", () => {
    expect(spawnCli(["check", fixtures("images/shapes.png"), "--hashset", demo], { env }).status).toBe(1);
    expect(spawnCli(["check", fixtures("images/texture-grey.png"), "--hashset", demo], { env }).status).toBe(0);
    expect(spawnCli(["check", "--no-such-option"], { env }).status).toBe(2);
  });

  it("phmatch --version prints the package version", () => {
    const r = spawnCli(["--version"]);
    expect(r.status).toBe(0);
    const cliPackage = readFileSync(new URL("../package.json", import.meta.url), "utf8");
    const { version } = JSON.parse(cliPackage) as { version: string };
    expect(r.stdout).toBe(`${version}\n`);
  });
});

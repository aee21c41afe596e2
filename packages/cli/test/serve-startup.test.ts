// `phmatch serve` whose lists cannot be used at start-up: it prints the error and exits with the code `scan` gives
// for the same list (3 for a list that fails verification), instead of staying alive, not listening.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSigningKeys } from "@phmatch/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { writeSignedList } from "../../../test/support/signed-list.js";
import { runCli } from "./support/run-cli.js";

const bin = fileURLToPath(new URL("../bin/phmatch.js", import.meta.url));
const root = mkdtempSync(join(tmpdir(), "phmatch-serve-startup-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const keys = generateSigningKeys();
const trustedKeys = join(root, "trusted.pub");
const good = join(root, "hotline.phs");
const flipped = join(root, "flipped.phs");
// The environment without the variables that would add keys, tokens or a list key of the machine's own.
const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => !["PHMATCH_TRUSTED_KEYS", "PHMATCH_TOKENS", "PHMATCH_LIST_KEY"].includes(name),
  ),
);

beforeAll(async () => {
  writeFileSync(trustedKeys, keys.publicKeyPem);
  await writeSignedList(good, 1, ["shapes.png"], keys.privateKeyPem);
  const bytes = readFileSync(good);
  bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] as number) ^ 0x01;
  writeFileSync(flipped, bytes);
  writeFileSync(`${flipped}.sig`, readFileSync(`${good}.sig`));
});

// Runs serve; resolves with its exit code and stderr, or with "running" if it is still up after `safetyMs` (then
// killed).
async function serve(list: string): Promise<{ code: number | "running"; stderr: string }> {
  const child = spawn(
    process.execPath,
    [
      bin,
      "serve",
      "--hashset",
      list,
      "--trusted-keys",
      trustedKeys,
      "--no-auth",
      "--port",
      "0",
      "--no-watch",
      "--state-dir",
      join(root, "state"),
    ],
    { env, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, "exit").then(([code]) => code as number);
  let timer: NodeJS.Timeout | undefined;
  const safety = new Promise<"running">((resolve) => (timer = setTimeout(() => resolve("running"), 30_000)));
  const code = await Promise.race([exited, safety]);
  clearTimeout(timer);
  if (code === "running") {
    child.kill("SIGKILL");
    await exited;
  }
  return { code, stderr };
}

const scan = (list: string) =>
  runCli(
    [
      "scan",
      fixtures("images/shapes.png"),
      "--hashset",
      list,
      "--trusted-keys",
      trustedKeys,
      "--state-dir",
      join(root, "state-scan"),
    ],
    { env },
  );

describe("phmatch serve with lists it cannot use at start-up", () => {
  it("exits 3 with the error for a list with one byte flipped, as scan does", async () => {
    const scanned = await scan(flipped);
    expect(scanned.status).toBe(3);
    const served = await serve(flipped);
    expect(served.code).toBe(3);
    const code = /phmatch: (PHM_[A-Z_]+):/.exec(served.stderr)?.[1];
    expect(code).toMatch(/^PHM_HASHSET_/);
    expect(scanned.stderr).toContain(code);
    expect(served.stderr).not.toMatch(/listening on/);
  }, 60_000);

  it("exits with scan's code for a list that does not exist", async () => {
    const missing = join(root, "missing.phs");
    const scanned = await scan(missing);
    expect(scanned.status).not.toBe(0);
    const served = await serve(missing);
    expect(served.code).toBe(scanned.status);
    expect(served.stderr).toMatch(/phmatch: PHM_[A-Z_]+: .*missing\.phs/);
  }, 60_000);

  it("starts with the same list unflipped", async () => {
    const child = spawn(
      process.execPath,
      [
        bin,
        "serve",
        "--hashset",
        good,
        "--trusted-keys",
        trustedKeys,
        "--no-auth",
        "--port",
        "0",
        "--no-watch",
        "--state-dir",
        join(root, "state"),
      ],
      { env, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    while (!/listening on/.test(stderr) && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toMatch(/listening on http/);
    child.kill("SIGTERM");
    expect((await once(child, "exit"))[0]).toBe(0);
  }, 60_000);
});

// run(argv) in one process, many times: each run answers with its own command's exit code (the outcome carries it,
// nothing is kept between runs), and `check` maps every error, usage errors included, to 2 because the command
// declares it. Core's messages name API options (`strict`); the CLI prints them as its flags (--strict).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EXIT_CODES, run } from "@phmatch/cli";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { PHMATCH_TRUST_VARIABLES } from "../../../test/support/env.js";

const demo = fixtures("hashsets/demo.phs");
let dir: string;
let stderr: string[];
const at = (name: string) => join(dir, name);
const phmatch = (...args: string[]) => run(["node", "phmatch", ...args]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "phmatch-exit-"));
  // One record match cannot read (exit 2), and one it can (exit 0).
  writeFileSync(at("bad.ndjson"), "not a record\n");
  writeFileSync(
    at("good.ndjson"),
    JSON.stringify({ path: "a.jpg", hashes: { md5: "d41d8cd98f00b204e9800998ecf8427e" } }) + "\n",
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  for (const name of PHMATCH_TRUST_VARIABLES) vi.stubEnv(name, undefined);
  vi.stubEnv("PHMATCH_STATE_DIR", at("state"));
  // The commands print; what they print is covered by their own tests.
  vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  stderr = [];
  vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
    stderr.push(String(chunk));
    return true;
  });
  return () => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  };
});

describe("run(argv) in one process", () => {
  it("returns each command's own exit code, run after run", async () => {
    expect(await phmatch("match", "--hashset", demo, at("bad.ndjson"))).toBe(EXIT_CODES.INPUT_FAILED);
    expect(await phmatch("match", "--hashset", demo, at("good.ndjson"))).toBe(EXIT_CODES.OK);
    expect(await phmatch("match", "--hashset", demo, at("bad.ndjson"))).toBe(EXIT_CODES.INPUT_FAILED);
    expect(await phmatch("--version")).toBe(EXIT_CODES.OK);
    expect(await phmatch("match", "--no-such-option")).toBe(EXIT_CODES.USAGE);
    expect(await phmatch("match", "--hashset", at("missing.phs"), at("good.ndjson"))).toBe(EXIT_CODES.INPUT_FAILED);
    expect(await phmatch("match", "--hashset", demo, at("good.ndjson"))).toBe(EXIT_CODES.OK);
  });

  it("keeps runs that overlap apart", async () => {
    const codes = await Promise.all([
      phmatch("match", "--hashset", demo, at("bad.ndjson")),
      phmatch("match", "--hashset", demo, at("good.ndjson")),
      phmatch("check"),
      phmatch("match", "--no-such-option"),
    ]);
    expect(codes).toEqual([EXIT_CODES.INPUT_FAILED, EXIT_CODES.OK, 2, EXIT_CODES.USAGE]);
  });

  it("maps check's usage errors to 2, as the command declares, and its --help to 0", async () => {
    expect(await phmatch("check")).toBe(2);
    expect(await phmatch("check", "--no-such-option", "x.jpg")).toBe(2);
    expect(await phmatch("check", "x.jpg", "--hashset")).toBe(2);
    expect(await phmatch("check", "--help")).toBe(EXIT_CODES.OK);
    // The same usage error in another command is still 64: check's mapping stayed with check.
    expect(await phmatch("match", "--hashset")).toBe(EXIT_CODES.USAGE);
  });
});

describe("core's messages as the CLI prints them", () => {
  it("gives the flag where core names the API option", async () => {
    const list = fixtures("hashsets/pytx/signals.txt");
    const args = ["hashset", "import", list, "--list-id", "te", "--strict", "-o", at("strict.phs")];
    expect(await phmatch(...args)).toBe(EXIT_CODES.INPUT_FAILED);
    const printed = stderr.join("");
    expect(printed).toMatch(/phmatch: PHM_HASHSET_PARSE: .*signals\.txt:3: .*/);
    expect(printed).toContain("(--strict makes any invalid line fatal)");
    expect(printed).not.toContain("`strict`");
  });

  it("gives the flag in the problems of an import, and the command where core names the API function", async () => {
    const list = at("plain.txt");
    writeFileSync(list, "d41d8cd98f00b204e9800998ecf8427f\n");
    expect(await phmatch("hashset", "import", list, "--list-id", "p", "-o", at("plain.phs"))).not.toBe(0);
    const printed = stderr.join("");
    expect(printed).toContain("needs --algorithm (which hash these values are)");
    expect(printed).not.toContain("`algorithm`");
    stderr.length = 0;
    expect(await phmatch("match", "--hashset", list, at("good.ndjson"))).toBe(EXIT_CODES.VERIFICATION_FAILED);
    expect(stderr.join("")).toContain("import it into a store first (phmatch hashset import <file> --list-id");
  });
});

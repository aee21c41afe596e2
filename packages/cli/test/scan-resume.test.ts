// kill -9 a scan at several points, resume it (killing the resume too), and the report equals an uninterrupted
// run's: every file exactly once, in the same order, with the same summary.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures, projectRoot } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { bin, runCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-resume-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tree = join(work, "tree");
for (let i = 0; i < 4; i++) cpSync(fixtures("images"), join(tree, `set${i}`), { recursive: true });
cpSync(fixtures("bad"), join(tree, "bad"), { recursive: true });
const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state") });
const args = (out: string, resume: boolean) => [
  "scan",
  tree,
  "--hashset",
  fixtures("hashsets/demo.phs"),
  "-o",
  out,
  "-q",
  "-j",
  "1",
  ...(resume ? ["--resume"] : []),
];

// Runs the scan and kills it with SIGKILL once its report holds `lines` file records (a point in the work, not
// in time, so the test does not depend on the machine's speed); resolves when the process has ended.
function runAndKill(out: string, resume: boolean, lines: number): Promise<void> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args(out, resume)], { cwd: projectRoot, env, stdio: "ignore" });
    const poll = setInterval(() => {
      let reported = 0;
      try {
        reported = (readFileSync(out, "utf8").match(/"type":"file"/g) ?? []).length;
      } catch {
        // not created yet
      }
      if (reported >= lines) child.kill("SIGKILL");
    }, 5);
    child.on("exit", () => {
      clearInterval(poll);
      done();
    });
  });
}

// The summary's access-time account is each run's own (a resumed run finds the directories the first one read).
const withoutTimes = (report: string) =>
  readFileSync(report, "utf8")
    .trim()
    .split("\n")
    .slice(1) // the header carries the start time of its own run
    .map((l) => l.replace(/"finishedAt":"[^"]*"/, "").replace(/,"atimes":\{.*\}\}$/, "}"));

const partials: number[] = [];

// The uninterrupted run every resumed report must equal (in-process; the runs that are killed are processes).
const reference = join(work, "reference.ndjson");
await runCli(args(reference, false), { env });

describe("scan --resume after kill -9", () => {
  const expected = withoutTimes(reference);

  it("has a reference run with every file", () => {
    expect(expected.filter((l) => l.includes('"type":"file"'))).toHaveLength(
      4 * readdirSync(fixtures("images")).length + readdirSync(fixtures("bad")).length,
    );
  });

  it.each([
    [[1]],
    [[10, 30]],
    [[5, 20, 50]],
    [[1 + Math.floor(Math.random() * 60), 1 + Math.floor(Math.random() * 60)]],
  ])("killed once the report held %j file records, then resumed: equal to the uninterrupted report", async (kills) => {
    const out = join(work, `killed-${kills.join("-")}.ndjson`);
    let resume = false;
    for (const lines of kills) {
      await runAndKill(out, resume, lines);
      resume = true;
    }
    let reported = 0;
    try {
      reported = readFileSync(out, "utf8")
        .split("\n")
        .filter((l) => l.includes('"type":"file"')).length;
    } catch {
      // killed before the report was created
    }
    partials.push(reported);
    const final = await runCli(args(out, true), { env });
    expect(final.status).toBe(2); // the bad files are errors, as in the reference run
    expect(withoutTimes(out)).toEqual(expected);
    expect(readFileSync(`${out}.sha256`, "utf8")).toMatch(/^[0-9a-f]{64} {2}killed-/);
  });

  it(
    "resumed right after the originals (set0) were reported: " + "the later copies are still duplicates of them",
    async () => {
      const out = join(work, "cut-after-set0.ndjson");
      const lines = readFileSync(reference, "utf8").split("\n");
      // header + the 15 files of bad/ and set0/ in walk order (bad/ sorts first), then a torn line
      const cut = lines.findIndex((l) => l.includes("/set1/"));
      writeFileSync(out, lines.slice(0, cut).join("\n") + "\n" + (lines[cut] ?? "").slice(0, 25));
      await runCli(args(out, true), { env });
      expect(withoutTimes(out)).toEqual(expected);
      expect(expected.filter((l) => l.includes('"duplicateOf"')).length).toBeGreaterThan(40);
    },
  );

  it("interrupted at least one scan mid-way (some files reported, not all)", () => {
    const total = expected.filter((l) => l.includes('"type":"file"')).length;
    expect(
      partials.some((n) => n > 0 && n < total),
      `files reported when killed: ${partials.join(", ")} of ${total}`,
    ).toBe(true);
  });
});

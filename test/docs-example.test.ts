// The README's library example is real code: run as it is written, from the project root, against the built
// packages and the benign fixtures, it matches the rotated copy of a listed fixture image.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { projectRoot } from "./support/conformance.js";

const readme = readFileSync(join(projectRoot, "README.md"), "utf8");

describe("README.md library example", () => {
  it("runs as written and finds the listed image", async () => {
    const section = readme.slice(readme.indexOf("\n## The library\n"));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code, "README.md has a ```ts block under '## The library'").toBeDefined();
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", code ?? ""], {
      cwd: projectRoot,
    });
    const [hashLine, decisionLine] = stdout.trim().split("\n");
    expect(hashLine).toMatch(/^[0-9a-f]{64} \d+$/);
    expect(decisionLine).toMatch(/^match \[.*phmatch-demo v1/);
  });
});

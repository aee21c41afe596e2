// The packages as npm would publish them: publint (strict) finds no problem, and each entry point imports.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { projectRoot } from "./support/conformance.js";

const packages = ["wasm-bindings", "core", "cli"];

describe("packaging", () => {
  it.each(packages)("publint --strict finds nothing in packages/%s", async (name) => {
    const pkgDir = join(projectRoot, "packages", name);
    const { messages } = await publint({ pkgDir, strict: true });
    const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as Record<string, unknown>;
    expect(messages.map((m) => formatMessage(m, pkg))).toEqual([]);
  });

  it.each(["@phmatch/wasm", "@phmatch/core", "@phmatch/cli"])("%s imports in a plain node process", (name) => {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", `const m = await import("${name}"); console.log(Object.keys(m).length)`], {
      cwd: projectRoot,
      encoding: "utf8",
    });
    expect(Number(out.trim())).toBeGreaterThan(1);
  });
});

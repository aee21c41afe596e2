// The packages as npm would publish them: publint (strict) finds no problem, and each entry point imports.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { describe, expect, it } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
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

  it("@phmatch/wasm uses no Node built-ins (it runs in browsers and edge runtimes), and says how small it is", () => {
    const dir = join(projectRoot, "packages", "wasm-bindings");
    const files = readdirSync(join(dir, "dist")).filter((f) => f.endsWith(".js"));
    expect(files).toEqual(expect.arrayContaining(["index.js", "record.js", "inline.js", "hamming.js"]));
    for (const f of files) {
      const text = readFileSync(join(dir, "dist", f), "utf8");
      expect(text, f).not.toMatch(/from\s+["'](node:|fs|path|url|crypto|os|module)["']|require\(/);
    }
    // The browser payload: the module graph a page loads plus the kernel, gzipped (reported in the package README).
    const gz = (bytes: Buffer) => gzipSync(bytes, { level: 9 }).length;
    const jsBytes = ["index.js", "record.js", "hamming.js", "orientation.js"].map((f) => readFileSync(join(dir, "dist", f)));
    const total = gz(Buffer.concat(jsBytes)) + gz(readFileSync(join(dir, "build", "phmatch.wasm")));
    expect(total).toBeLessThan(40 * 1024);
  });
});

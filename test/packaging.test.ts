// The packages as npm would publish them: publint (strict) finds no problem, and each entry point imports.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { publint } from "publint";
import { formatMessage } from "publint/utils";
import { describe, expect, it } from "vitest";
import { projectRoot } from "./support/conformance.js";

const packages = ["wasm-bindings", "core", "cli"];

let packed: Map<string, string[]> | undefined;
/** The files `npm pack` would put in a workspace package's tarball (nothing is written; one npm run for all). */
function packedFiles(name: string): string[] {
  if (packed === undefined) {
    const args = ["pack", "--dry-run", "--json", "--ignore-scripts", "--logs-max=0"];
    args.push(...packages.flatMap((p) => ["-w", `packages/${p}`]));
    const out = execFileSync("npm", args, { cwd: projectRoot, encoding: "utf8" });
    const tarballs = JSON.parse(out) as { name: string; files: { path: string }[] }[];
    packed = new Map(tarballs.map((t) => [t.name, t.files.map((f) => f.path)]));
  }
  return packed.get(name) ?? [];
}

describe("packaging", () => {
  it.each(packages)("publint --strict finds nothing in packages/%s", async (name) => {
    const pkgDir = join(projectRoot, "packages", name);
    const { messages } = await publint({ pkgDir, strict: true });
    const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as Record<string, unknown>;
    expect(messages.map((m) => formatMessage(m, pkg))).toEqual([]);
  });

  it.each(["@phmatch/wasm", "@phmatch/core", "@phmatch/cli"])("%s imports in a plain node process", (name) => {
    const out = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", `const m = await import("${name}"); console.log(Object.keys(m).length)`],
      {
        cwd: projectRoot,
        encoding: "utf8",
      },
    );
    expect(Number(out.trim())).toBeGreaterThan(1);
  });

  // npm links a package's bins as it installs it, before any build: a bin must be a committed file, not one in
  // dist/. And npm links into the root's node_modules/.bin the bins of the root's own dependencies only.
  it("phmatch's bin is a committed executable that the packed @phmatch/cli carries, and the root depends on it", () => {
    const readJson = (path: string) => JSON.parse(readFileSync(join(projectRoot, path), "utf8")) as unknown;
    const cli = readJson("packages/cli/package.json") as { bin: Record<string, string> };
    const bin = cli.bin.phmatch!.replace(/^\.\//, "");
    expect(bin.startsWith("dist/")).toBe(false);
    const git = ["ls-files", "--stage", `packages/cli/${bin}`];
    expect(execFileSync("git", git, { cwd: projectRoot, encoding: "utf8" })).toMatch(/^100755 /);
    const root = readJson("package.json") as { devDependencies: Record<string, string> };
    expect(root.devDependencies["@phmatch/cli"]).toBeDefined();
    expect(packedFiles("@phmatch/cli")).toEqual(
      expect.arrayContaining([bin, "dist/bundle/phmatch.js", "dist/bundle/pool-host.js", "dist/bundle/hash-worker.js"]),
    );
  });

  const names = ["@phmatch/wasm", "@phmatch/core", "@phmatch/cli"];
  it.each(names)("the packed %s carries each file its exports name", (name) => {
    const manifest = readFileSync(join(projectRoot, "node_modules", name, "package.json"), "utf8");
    const pkg = JSON.parse(manifest) as { exports: Record<string, string | Record<string, string>> };
    const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === "string" ? [t] : Object.values(t)));
    expect(packedFiles(name)).toEqual(expect.arrayContaining(targets.map((t) => t.replace(/^\.\//, ""))));
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
    const jsBytes = ["index.js", "record.js", "hamming.js", "orientation.js"].map((f) =>
      readFileSync(join(dir, "dist", f)),
    );
    const total = gz(Buffer.concat(jsBytes)) + gz(readFileSync(join(dir, "build", "phmatch.wasm")));
    expect(total).toBeLessThan(40 * 1024);
  });
});

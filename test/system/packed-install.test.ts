// System test (npm and its cache, as after `npm ci`): the three packages as npm would publish them install into an
// empty project, offline, and work there the way docs/library.md says: `npm pack` of @phmatch/wasm, @phmatch/core
// and @phmatch/cli, then `npm install` of the three tarballs. The project gets a lockfile made from the workspace's
// own (the same dependency versions, fetched from npm's cache), so nothing is asked of the registry; install scripts
// are not run (the packages have none).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, projectRoot } from "../support/conformance.js";

const workspaces = ["wasm-bindings", "core", "cli"];

interface Packed {
  name: string;
  filename: string;
}

const readJson = (path: string) => JSON.parse(readFileSync(join(projectRoot, path), "utf8")) as Record<string, unknown>;

interface LockEntry {
  dev?: boolean;
  [key: string]: unknown;
}

describe("the packed packages, installed offline into an empty project", () => {
  let dir: string;
  let project: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "phmatch-packed-"));
    project = join(dir, "project");
    const args = ["pack", "--json", "--ignore-scripts", "--logs-max=0", "--pack-destination", dir];
    args.push(...workspaces.flatMap((w) => ["-w", `packages/${w}`]));
    const packed = JSON.parse(execFileSync("npm", args, { cwd: projectRoot, encoding: "utf8" })) as Packed[];
    const lock = readJson("package-lock.json") as { packages: Record<string, LockEntry> };
    const dependencies: Record<string, string> = {};
    const packages: Record<string, unknown> = { "": { name: "project", dependencies } };
    for (const w of workspaces) {
      const manifest = readJson(`packages/${w}/package.json`);
      const tarball = join(dir, packed.find((p) => p.name === manifest.name)!.filename);
      const integrity = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
      dependencies[manifest.name as string] = `file:${tarball}`;
      packages[`node_modules/${manifest.name as string}`] = {
        version: manifest.version,
        resolved: `file:${tarball}`,
        integrity,
        dependencies: manifest.dependencies,
        ...(manifest.bin !== undefined && { bin: manifest.bin }),
      };
    }
    // The workspace's resolved third-party dependencies (those the packages need are among the non-dev ones).
    for (const [key, entry] of Object.entries(lock.packages)) {
      const thirdParty = key.startsWith("node_modules/") && !key.startsWith("node_modules/@phmatch/");
      if (thirdParty && entry.dev !== true) packages[key] = entry;
    }
    mkdirSync(project);
    const pkg = { name: "project", private: true, type: "module", dependencies };
    writeFileSync(join(project, "package.json"), JSON.stringify(pkg, null, 2));
    const projectLock = { name: "project", lockfileVersion: 3, requires: true, packages };
    writeFileSync(join(project, "package-lock.json"), JSON.stringify(projectLock));
    const install = ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", "--logs-max=0"];
    execFileSync("npm", install, { cwd: project, stdio: "pipe" });
  });

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("links a phmatch that runs: --version, and a hash of a fixture", () => {
    const phmatch = join(project, "node_modules", ".bin", "phmatch");
    const { version } = readJson("packages/cli/package.json");
    expect(execFileSync(phmatch, ["--version"], { cwd: project, encoding: "utf8" }).trim()).toBe(version);
    const line = execFileSync(phmatch, ["hash", fixtures("images/flat.png")], { cwd: project, encoding: "utf8" });
    expect(JSON.parse(line) as unknown).toMatchObject({ hashes: { pdq: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });

  it("imports @phmatch/core (with @phmatch/wasm beneath it) and hashes with it", () => {
    const script = [
      `import { hashFile, PHMATCH_VERSION } from "@phmatch/core";`,
      `const record = await hashFile(${JSON.stringify(fixtures("images/flat.png"))});`,
      `const from = import.meta.resolve("@phmatch/core");`,
      `console.log(JSON.stringify({ version: PHMATCH_VERSION, pdq: record.hashes?.pdq, from }));`,
    ].join("\n");
    const node = ["--input-type=module", "-e", script];
    const out = execFileSync(process.execPath, node, { cwd: project, encoding: "utf8" });
    expect(JSON.parse(out) as unknown).toEqual({
      version: expect.any(String),
      pdq: expect.stringMatching(/^[0-9a-f]{64}$/),
      from: pathToFileURL(join(project, "node_modules/@phmatch/core/dist/index.js")).href,
    });
  });
});

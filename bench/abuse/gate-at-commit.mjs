// `phmatch` as it was at an earlier commit, built beside this checkout so a benchmark can run the same attack
// against the gate before and after a change in one run. The commit's files are unpacked with `git archive`
// (no worktree or other git metadata is touched) under bench/.cache/gate-<commit>/ (gitignored); this
// checkout's node_modules are linked in, except the workspace packages, which are linked to the commit's own;
// then built as `npm run build` does (asc, tsc -b, the inlined kernel). Built once, reused by later runs.
import { execFileSync, execSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";

const root = realpathSync(new URL("../..", import.meta.url).pathname);

/** The path of `packages/cli/dist/bin.js` built at `commit` (a hex commit id); builds it on first use. */
export function gateAtCommit(commit, log = () => undefined) {
  if (!/^[0-9a-f]{7,40}$/.test(commit)) throw new Error(`not a commit id: ${commit}`);
  const full = execFileSync("git", ["rev-parse", "--verify", `${commit}^{commit}`], {
    cwd: root,
    encoding: "utf8",
  }).trim();
  const dir = join(root, "bench", ".cache", `gate-${full.slice(0, 12)}`);
  const bin = join(dir, "packages", "cli", "dist", "bin.js");
  if (existsSync(bin)) return bin;
  log(`building phmatch at ${full.slice(0, 12)} in ${dir} ...`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execSync(`git archive --format=tar ${full} | tar -x -C ${JSON.stringify(dir)}`, {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const modules = join(dir, "node_modules");
  mkdirSync(modules);
  for (const name of readdirSync(join(root, "node_modules"))) {
    if (name === "@phmatch" || name === ".bin" || name.startsWith(".")) continue;
    symlinkSync(realpathSync(join(root, "node_modules", name)), join(modules, name));
  }
  mkdirSync(join(modules, "@phmatch"));
  for (const [name, path] of Object.entries({
    core: "packages/core",
    cli: "packages/cli",
    wasm: "packages/wasm-bindings",
    bench: "bench",
  }))
    symlinkSync(join(dir, path), join(modules, "@phmatch", name));
  const asc = join(root, "node_modules", "assemblyscript", "bin", "asc.js");
  const wasm = join(dir, "packages", "wasm-bindings");
  for (const [entry, target] of [
    ["assembly/index.ts", "release"],
    ["assembly/hamming.ts", "hamming"],
  ]) {
    execFileSync(process.execPath, [asc, entry, "--config", "asconfig.json", "--target", target], {
      cwd: wasm,
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
  execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-b"], {
    cwd: dir,
    stdio: ["ignore", "inherit", "inherit"],
  });
  execFileSync(process.execPath, ["packages/wasm-bindings/scripts/inline-wasm.mjs"], {
    cwd: dir,
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (!existsSync(bin)) throw new Error(`the build at ${full} left no ${bin}`);
  return bin;
}

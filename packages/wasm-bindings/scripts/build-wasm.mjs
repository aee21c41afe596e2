// Builds the WebAssembly kernels with AssemblyScript, unless the build beside them came from the same inputs.
// `npm test` builds the workspace first; compiling the kernels again cost 7-8 s of CPU each time (20 s of wall
// time on a busy 2-core machine) for the same bytes. The stamp (build/inputs.json) names the SHA-256 of every
// input (assembly/*.ts, asconfig.json, the compiler's version) and of every output; any difference, or an output
// missing or altered, builds again. `--force` always builds.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const stampFile = join(root, "build", "inputs.json");
const TARGETS = [
  { entry: "assembly/index.ts", target: "release", outputs: ["build/phmatch.wasm", "build/phmatch.wat"] },
  { entry: "assembly/hamming.ts", target: "hamming", outputs: ["build/hamming.wasm", "build/hamming.wat"] },
];

const sha256 = (file) =>
  createHash("sha256")
    .update(readFileSync(join(root, file)))
    .digest("hex");
const ascPackage = createRequire(join(root, "package.json")).resolve("assemblyscript/package.json");
const inputs = Object.fromEntries([
  ...readdirSync(join(root, "assembly"))
    .filter((name) => name.endsWith(".ts"))
    .sort()
    .map((name) => [`assembly/${name}`, sha256(`assembly/${name}`)]),
  ["asconfig.json", sha256("asconfig.json")],
  ["assemblyscript", JSON.parse(readFileSync(ascPackage, "utf8")).version],
]);
const outputsOf = () =>
  Object.fromEntries(
    TARGETS.flatMap((t) => t.outputs).map((file) => [file, existsSync(join(root, file)) && sha256(file)]),
  );

const stamp = existsSync(stampFile) ? JSON.parse(readFileSync(stampFile, "utf8")) : undefined;
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
if (
  !process.argv.includes("--force") &&
  stamp !== undefined &&
  same(stamp.inputs, inputs) &&
  same(stamp.outputs, outputsOf())
) {
  process.stdout.write("wasm kernels: up to date (build/inputs.json), not rebuilt\n");
} else {
  for (const { entry, target } of TARGETS) {
    const asc = join(dirname(ascPackage), "bin", "asc.js");
    const run = spawnSync(process.execPath, [asc, entry, "--config", "asconfig.json", "--target", target], {
      cwd: root,
      stdio: "inherit",
    });
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
  writeFileSync(stampFile, `${JSON.stringify({ inputs, outputs: outputsOf() }, null, 2)}\n`);
}

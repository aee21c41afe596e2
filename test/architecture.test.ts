// The house's import rules (.dependency-cruiser.cjs) hold on the sources: the flow wasm -> core -> cli, one command
// never importing another, no cycles, decode below the hashers. A second test plants one violation of each rule in a
// fixture tree, so a rule that can no longer fail (a path that stopped matching after a move) is caught too.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cruise, type ICruiseOptions, type IViolation } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const SOURCES = ["packages/wasm-bindings/src", "packages/core/src", "packages/cli/src"];
/** A violation without the cycle's path: the key of KNOWN_VIOLATIONS. */
const key = (line: string) => line.replace(/ \(cycle: .*\)$/, "");

const CMD = "packages/cli/src/commands";
const CORE = "packages/core/src";
const WASM = "packages/wasm-bindings/src";

// Violations accepted while being fixed, each "rule: from -> to" exactly as the test prints it, with its reason and
// issue; none now (issue 17 ended the last six). An entry that no longer occurs fails the test.
const KNOWN_VIOLATIONS = new Set<string>([]);

/** One line per violation; a cycle also shows its whole path. */
function describeViolation(v: IViolation): string {
  const line = `${v.rule.name}: ${v.from} -> ${v.to}`;
  return v.cycle ? `${line} (cycle: ${[v.from, ...v.cycle.map((c) => c.name)].join(" -> ")})` : line;
}

async function violations(files: string[], baseDir: string): Promise<IViolation[]> {
  const options: ICruiseOptions = { ...(await extractDepcruiseOptions(join(root, ".dependency-cruiser.cjs"))) };
  options.baseDir = baseDir;
  const tsConfig = extractTSConfig(join(root, "tsconfig.base.json"));
  const result = await cruise(files, options, undefined, { tsConfig });
  if (typeof result.output === "string") throw new Error("dependency-cruiser gave text, not a cruise result");
  return result.output.summary.violations;
}

describe("the house's import rules", () => {
  it("hold on packages/*/src (apart from the known violations being fixed)", async () => {
    const found = (await violations(SOURCES, root)).map(describeViolation);
    const unexpected = found.filter((line) => !KNOWN_VIOLATIONS.has(key(line)));
    const gone = [...KNOWN_VIOLATIONS].filter((known) => !found.some((line) => key(line) === known));
    expect(unexpected, `import rules broken (.dependency-cruiser.cjs):\n  ${unexpected.join("\n  ")}\n`).toEqual([]);
    const fixed = `fixed, remove from KNOWN_VIOLATIONS in test/architecture.test.ts:\n  ${gone.join("\n  ")}\n`;
    expect(gone, fixed).toEqual([]);
  });

  describe("catch each kind of violation in a fixture tree", () => {
    const tree = mkdtempSync(join(tmpdir(), "phmatch-architecture-"));
    afterAll(() => rmSync(tree, { recursive: true, force: true }));
    const files: Record<string, string> = {
      // a command importing a command, and the shared modules and group it may import
      "packages/cli/src/commands/report.ts": `import "./scan.js"; import "./hashset/options.js";`,
      "packages/cli/src/commands/scan.ts": `import "./hashset/write-store.js"; export {};`,
      "packages/cli/src/commands/hashset/index.ts": `import "./info.js"; import "../check.js";`,
      "packages/cli/src/commands/hashset/info.ts": `import "./options.js"; import "./verify.js";`,
      "packages/cli/src/commands/hashset/verify.ts": `export {};`,
      "packages/cli/src/commands/hashset/options.ts": `export {};`,
      "packages/cli/src/commands/hashset/write-store.ts": `import "./options.js"; export {};`,
      "packages/cli/src/commands/check.ts": `import "./hashset/index.js"; export {};`,
      "packages/cli/src/program.ts": `import "./commands/hashset/index.js"; import "./commands/scan.js";`,
      // core reaching up into the CLI, decode into the hashers and the pipeline, an index into the hash set
      "packages/core/src/check/check.ts": `import "../../../cli/src/program.js";`,
      "packages/core/src/decode/read-file.ts": `import "../hashers/digests.js";\nimport "../pipeline/file-path.js";`,
      "packages/core/src/hashers/digests.ts": `export {};`,
      "packages/core/src/pipeline/file-path.ts": `export {};`,
      "packages/core/src/index/exact-index.ts": `import type {} from "../hashset/packed-values.js";`,
      "packages/core/src/hashset/packed-values.ts": `export {};`,
      // a src file importing a test helper, and one importing a benchmark
      "packages/core/src/scan/scan.ts": `import "../../test/support/corpus.js";\nimport "../../../../bench/scan/b.js";`,
      "packages/core/test/support/corpus.ts": `export {};`,
      "bench/scan/b.ts": `export {};`,
      // wasm importing core, and a cycle
      "packages/wasm-bindings/src/index.ts": `import "./record.js";\nimport "../../core/src/hashers/digests.js";`,
      "packages/wasm-bindings/src/record.ts": `import type {} from "./index.js";`,
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(tree, dirname(path)), { recursive: true });
      writeFileSync(join(tree, path), `${text}\n`);
    }

    it("reports exactly the planted violations", async () => {
      const found = (await violations(["packages"], tree)).map((v) => key(describeViolation(v))).sort();
      expect(found).toEqual(
        [
          `no-command-imports-command: ${CMD}/report.ts -> ${CMD}/scan.ts`,
          `no-command-imports-command: ${CMD}/hashset/info.ts -> ${CMD}/hashset/verify.ts`,
          `hashset-group-imports-only-its-subcommands: ${CMD}/hashset/index.ts -> ${CMD}/check.ts`,
          `no-command-imports-hashset-group: ${CMD}/check.ts -> ${CMD}/hashset/index.ts`,
          `no-circular: ${CMD}/check.ts -> ${CMD}/hashset/index.ts`,
          `core-not-cli: ${CORE}/check/check.ts -> packages/cli/src/program.ts`,
          `decode-not-hashers-or-pipeline: ${CORE}/decode/read-file.ts -> ${CORE}/hashers/digests.ts`,
          `decode-not-hashers-or-pipeline: ${CORE}/decode/read-file.ts -> ${CORE}/pipeline/file-path.ts`,
          `index-not-hashset: ${CORE}/index/exact-index.ts -> ${CORE}/hashset/packed-values.ts`,
          `src-not-test: ${CORE}/scan/scan.ts -> packages/core/test/support/corpus.ts`,
          `packages-not-bench: ${CORE}/scan/scan.ts -> bench/scan/b.ts`,
          `wasm-not-core-or-cli: ${WASM}/index.ts -> ${CORE}/hashers/digests.ts`,
          `no-circular: ${WASM}/index.ts -> ${WASM}/record.ts`,
        ].sort(),
      );
    });
  });
});

// @phmatch/core's public entry is a pinned list: adding or removing a name is a conscious change made here (and in
// test/public-api.test-d.ts and docs/library.md). Every name it exports, value or type, carries a doc comment.
// What the CLI, benchmarks and tests need beyond it comes from @phmatch/core/internal, a superset with no promise.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { projectRoot } from "./support/conformance.js";

// In pipeline order, as packages/core/src/index.ts and docs/library.md list them.
const PUBLIC_RUNTIME_NAMES = [
  // Errors and version
  "PhmatchError",
  "ERROR_CODES",
  "PHMATCH_VERSION",
  // Decode
  "decodeImage",
  "DEFAULT_MAX_PIXELS",
  // Hash
  "hashFile",
  "hashImageBytes",
  "hashPixels",
  "SUPPORTED_ALGORITHMS",
  "DEFAULT_ALGORITHMS",
  "hasherSpec",
  "isFailedRecord",
  "hashRecordSchema",
  "bytesToHex",
  "hexToBytes",
  "hammingDistance",
  "SupervisedHashPool",
  "HashPool",
  // Lists
  "loadHashSet",
  "RollbackState",
  "parseStore",
  "HashSetBuilder",
  "importHashSet",
  "HASH_SET_FORMATS",
  "parseHashValue",
  "serializeStore",
  "signStore",
  "verifyStore",
  "generateSigningKeys",
  "parseTrustedKeys",
  "parseListKey",
  // Index
  "chooseIndexKind",
  "buildIndex",
  // Match
  "Matcher",
  "defaultPolicy",
  "makePolicy",
  "matchResultSchema",
  // Check
  "createChecker",
  "checkerFor",
  "decide",
  // Scan
  "scanFiles",
  "ScanTally",
  "scanReportSchema",
  "walkInputs",
  // Report
  "createReportWriter",
  "writeReportIntegrity",
  "verifyReport",
  // Audit
  "AuditLog",
  "verifyAuditLog",
];

describe("@phmatch/core public entry", () => {
  it("exports exactly the pinned runtime names, at most about 50", async () => {
    const core = (await import("@phmatch/core")) as Record<string, unknown>;
    expect(Object.keys(core).sort()).toEqual([...PUBLIC_RUNTIME_NAMES].sort());
    expect(PUBLIC_RUNTIME_NAMES.length).toBeLessThanOrEqual(50);
  });

  it("@phmatch/core/internal exports every public name, bound to the same value", async () => {
    const core = (await import("@phmatch/core")) as Record<string, unknown>;
    const internal = (await import("@phmatch/core/internal")) as Record<string, unknown>;
    for (const name of PUBLIC_RUNTIME_NAMES) expect(internal[name], name).toBe(core[name]);
    expect(Object.keys(internal).length).toBeGreaterThan(PUBLIC_RUNTIME_NAMES.length);
  });

  it("documents every name it exports, values and types (TSDoc in the built declarations)", () => {
    const entry = join(projectRoot, "packages/core/dist/index.d.ts");
    const program = ts.createProgram([entry], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      noEmit: true,
    });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(entry);
    expect(source, "build first").toBeDefined();
    const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(source!)!);
    const undocumented = exported
      .filter((symbol) => {
        const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
        return ts.displayPartsToString(target.getDocumentationComment(checker)).trim() === "";
      })
      .map((symbol) => symbol.getName());
    expect(undocumented).toEqual([]);
    // The runtime names are among them (the rest are types).
    expect(exported.map((s) => s.getName())).toEqual(expect.arrayContaining(PUBLIC_RUNTIME_NAMES));
  });

  it("docs/library.md's example runs from the checkout and prints what the page says it prints", () => {
    const page = readFileSync(join(projectRoot, "docs/library.md"), "utf8");
    const example = /## Example\n[\s\S]*?```js\n([\s\S]*?)```[\s\S]*?```text\n([\s\S]*?)```/.exec(page);
    expect(example, "an ## Example section with a js block, then a text block").not.toBeNull();
    const [, code, printed] = example!;
    const node = ["--input-type=module", "-e", code!];
    const out = execFileSync(process.execPath, node, { cwd: projectRoot, encoding: "utf8" });
    const lines = (text: string) =>
      text
        .trim()
        .split("\n")
        .map((line) => line.trimEnd());
    expect(lines(out)).toEqual(lines(printed!));
    expect(code!.split("\n").length).toBeLessThanOrEqual(12);
  });
});

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * `../shared/conformance` beside the project root. Absent on a plain clone: the conformance suites then skip, saying
 * so, unless PHMATCH_REQUIRE_SHARED=1 (set by .ci/run): then a missing folder fails every test file that imports this
 * module (the conformance suites, and the tests that take their fixtures from here).
 */
export const conformanceDir = fileURLToPath(new URL("../../../shared/conformance/", import.meta.url));
export const hasConformance = existsSync(conformanceDir);
const where = `${conformanceDir} (../shared/conformance beside the project root)`;
export const skipReason = `conformance vectors not found at ${where}: skipping`;

if (!hasConformance) {
  if (process.env.PHMATCH_REQUIRE_SHARED === "1") {
    throw new Error(
      `PHMATCH_REQUIRE_SHARED=1 and the conformance vectors are not found at ${where}: ` +
        "put the shared folder beside the clone, or unset PHMATCH_REQUIRE_SHARED to let the conformance suites skip",
    );
  }
  console.warn(skipReason);
}

/** Rows of a tab-separated file with a header line, as objects keyed by the header. */
export function readTsv(path: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(path, "utf8").trimEnd().split("\n");
  const columns = (header ?? "").split("\t");
  return lines.map((line) => Object.fromEntries(line.split("\t").map((cell, i) => [columns[i] ?? String(i), cell])));
}

/** Reads a `.f32hex` dump: one float32 bit pattern per line, 8 hex digits. */
export function readF32Hex(path: string): Float32Array {
  const words = readFileSync(path, "utf8")
    .trim()
    .split(/\s+/)
    .map((w) => parseInt(w, 16));
  return new Float32Array(new Uint32Array(words).buffer);
}

/** Project root and fixtures. */
export const projectRoot = fileURLToPath(new URL("../../", import.meta.url));
export const fixtures = (name: string): string =>
  fileURLToPath(new URL(`../../test-fixtures/${name}`, import.meta.url));

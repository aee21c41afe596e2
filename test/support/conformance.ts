import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** `../shared/conformance` beside the project root (absent on a plain clone: tests then skip, saying so). */
export const conformanceDir = fileURLToPath(new URL("../../../shared/conformance/", import.meta.url));
export const hasConformance = existsSync(conformanceDir);
export const skipReason = `conformance vectors not found at ${conformanceDir} (../shared/conformance beside the project root): skipping`;

if (!hasConformance) console.warn(skipReason);

/** Rows of a tab-separated file with a header line, as objects keyed by the header. */
export function readTsv(path: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(path, "utf8").trimEnd().split("\n");
  const columns = (header ?? "").split("\t");
  return lines.map((line) => Object.fromEntries(line.split("\t").map((cell, i) => [columns[i] ?? String(i), cell])));
}

/** Reads a `.f32hex` dump: one float32 bit pattern per line, 8 hex digits. */
export function readF32Hex(path: string): Float32Array {
  const words = readFileSync(path, "utf8").trim().split(/\s+/).map((w) => parseInt(w, 16));
  return new Float32Array(new Uint32Array(words).buffer);
}

/** Project root and fixtures. */
export const projectRoot = fileURLToPath(new URL("../../", import.meta.url));
export const fixtures = (name: string): string => fileURLToPath(new URL(`../../test-fixtures/${name}`, import.meta.url));

// No source line over 120 characters (issue 17). Biome's formatter wraps code at 120 but leaves long strings and
// comments as they are, so this check covers what it cannot break. Usage: node scripts/check-line-length.mjs [max]
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const max = Number(process.argv[2] ?? 120);
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
// Built, installed or generated output beside the sources.
const SKIP = new Set(["node_modules", "dist", "build", "results", ".cache"]);

/** Source files under `dir`, recursively, in a stable order. */
function* sources(dir) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if (error.code === "ENOENT") return;
    throw error;
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && !SKIP.has(entry.name)) yield* sources(path);
    else if (entry.isFile() && SOURCE.test(entry.name)) yield path;
  }
}

const packages = readdirSync(join(root, "packages")).flatMap((name) => [
  `packages/${name}/src`,
  `packages/${name}/test`,
]);
let over = 0;
for (const dir of [...packages, "bench", "test", "scripts"]) {
  for (const path of sources(join(root, dir))) {
    readFileSync(path, "utf8")
      .split("\n")
      .forEach((line, i) => {
        // Characters, not UTF-16 units: "é" or "→" is one character wide.
        const length = [...line.replace(/\r$/, "")].length;
        if (length <= max) return;
        over++;
        console.log(`${relative(root, path)}:${i + 1}: ${length} characters`);
      });
  }
}
if (over > 0) {
  console.error(`${over} line(s) over ${max} characters: wrap them (Biome does not break long strings or comments)`);
  process.exit(1);
}

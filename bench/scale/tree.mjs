// The scale benchmark's tree: `parts` subdirectories s0, s1, ... of `perPart` tiny distinct files each, 1,000 per
// folder (s0/d0000/f000 ...). Each part is written once and marked done by a file beside the parts (not in the
// scanned tree), so a later run reuses it; a part cut off mid-way is written again from its start.
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const PER_FOLDER = 1000;

/** Path of part `k` under `dir`. */
export function partPath(dir, k) {
  return join(dir, `s${k}`);
}

/**
 * Writes part `k` (unless done before) and returns whether it was written now. Contents are distinct and tiny
 * ("part k file i\n"), so every file is a distinct SHA-256 and the scan's duplicate map holds one entry per file.
 */
export function ensurePart(dir, k, perPart, log = () => {}) {
  const done = join(dir, `.done-s${k}-${perPart}`);
  if (existsSync(done)) return false;
  const part = partPath(dir, k);
  rmSync(part, { recursive: true, force: true });
  const started = Date.now();
  for (let folder = 0; folder * PER_FOLDER < perPart; folder++) {
    const sub = join(part, `d${String(folder).padStart(4, "0")}`);
    mkdirSync(sub, { recursive: true });
    const end = Math.min(PER_FOLDER, perPart - folder * PER_FOLDER);
    for (let i = 0; i < end; i++) {
      writeFileSync(join(sub, `f${String(i).padStart(3, "0")}`), `part ${k} file ${folder * PER_FOLDER + i}\n`);
    }
    if (folder % 100 === 99)
      log(`  s${k}: ${((folder + 1) * PER_FOLDER).toLocaleString("en")} files, ${(Date.now() - started) / 1000} s`);
  }
  writeFileSync(done, `${new Date().toISOString()}\n`);
  return true;
}

// Run alone: `node bench/scale/tree.mjs DIR PARTS PER_PART` writes the parts (to start the tree early).
if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, parts, perPart] = process.argv.slice(2);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (let k = 0; k < Number(parts); k++) {
    const t = Date.now();
    const wrote = ensurePart(dir, k, Number(perPart), (line) => process.stderr.write(`${line}\n`));
    process.stderr.write(`s${k}: ${wrote ? "written" : "reused"} in ${(Date.now() - t) / 1000} s\n`);
  }
}

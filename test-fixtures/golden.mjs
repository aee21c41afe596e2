// Writes test-fixtures/golden-hashes.tsv: every computable algorithm's hex for every benign fixture image, as
// phmatch computes them now. Tests assert these values exactly (regressions show as diffs). They are checked
// independently elsewhere: PDQ against Meta's reference vectors, the imagehash family against imagehash 4.3.2's
// outputs, blockhash against a separate implementation of its median rule in the tests, digests against
// node:crypto. Run after a deliberate change: npm run build && node test-fixtures/golden.mjs
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { hashFile, isFailedRecord, SUPPORTED_ALGORITHMS } from "@phmatch/core";

const dir = new URL("images/", import.meta.url);
const algorithms = [...SUPPORTED_ALGORITHMS];
const rows = [["file", ...algorithms, "pdq_quality"].join("\t")];
for (const name of readdirSync(dir).sort()) {
  const record = await hashFile(new URL(name, dir).pathname, { algorithms });
  if (isFailedRecord(record)) throw new Error(`${name}: ${record.error.code}`);
  rows.push([name, ...algorithms.map((id) => record.hashes?.[id] ?? ""), String(record.quality?.pdq ?? "")].join("\t"));
}
writeFileSync(new URL("golden-hashes.tsv", import.meta.url), rows.join("\n") + "\n");
console.log(`wrote ${rows.length - 1} rows x ${algorithms.length} algorithms to test-fixtures/golden-hashes.tsv`);

// The demo hash set npm start matches against: three benign fixtures, as a hotline would list them.
import { execFileSync } from "node:child_process";

const cli = new URL("../packages/cli/dist/bin.js", import.meta.url).pathname;
const images = ["shapes.png", "texture.jpg"].map((f) => `test-fixtures/images/${f}`);
rmSync(new URL("hashsets/demo.phs", import.meta.url), { force: true });
execFileSync(
  process.execPath,
  [
    cli,
    "hashset",
    "build",
    ...images,
    "--list-id",
    "phmatch-demo",
    "--list-name",
    "benign demo list",
    "--category",
    "demo-A",
    "-a",
    "pdq,phash,dhash,md5,sha1",
    "-o",
    "test-fixtures/hashsets/demo.phs",
  ],
  { cwd: new URL("..", import.meta.url).pathname, stdio: "inherit" },
);

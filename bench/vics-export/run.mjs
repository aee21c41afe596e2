// `phmatch report vics` (issue 22): records per second and peak RSS of the VICS export of synthetic finished v3
// reports (every tenth file known, half the files in clusters of two, a sealed cluster section and a .sha256), so
// the slope of peak RSS over report size shows the export is bounded. Each size runs in a fresh process so its peak
// RSS is its own.
// Usage: node bench/vics-export/run.mjs [--sizes 100000,400000]
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { sizes: { type: "string", default: "100000,400000" }, child: { type: "string" } },
});

async function writeReport(path, files) {
  const out = createWriteStream(path);
  const hash = createHash("sha256");
  const line = async (text) => {
    hash.update(`${text}\n`);
    if (!out.write(`${text}\n`)) await once(out, "drain");
  };
  await line(
    JSON.stringify({
      type: "header",
      schema: "urn:phmatch:schema:scan-report:3",
      tool: "phmatch",
      version: "bench",
      startedAt: "2026-12-05T00:00:00.000Z",
      inputs: ["/case"],
      algorithms: ["md5", "sha1", "sha256"],
      policies: [],
      lists: [],
    }),
  );
  const times = {
    modified: "2001-02-03T04:05:06.123456789Z",
    changed: "2026-12-05T14:00:00.000000001Z",
    accessed: "2020-01-02T03:04:05.500000000Z",
  };
  for (let i = 0; i < files; i++) {
    const hex = i.toString(16);
    const known = i % 10 === 0;
    await line(
      JSON.stringify({
        type: "file",
        path: `/case/dir${i % 1000}/file${i}.jpg`,
        size: 1000 + i,
        hashes: { md5: hex.padStart(32, "0"), sha1: hex.padStart(40, "0"), sha256: hex.padStart(64, "0") },
        status: known ? "known" : "unseen",
        matches: known
          ? [{ list: "bench", listVersion: 1, category: "1", algorithm: "md5", distance: 0, policy: "md5@1" }]
          : [],
        times,
      }),
    );
  }
  const section = createHash("sha256");
  let clusters = 0;
  for (let first = 3; first + 1 <= files + 1; first += 4) {
    const text = JSON.stringify({
      type: "cluster",
      id: ++clusters,
      size: 2,
      algorithm: "pdq",
      centre: { line: first, path: "-" },
      members: [
        { line: first, path: "-" },
        { line: first + 1, path: "-" },
      ],
      touchesKnown: false,
    });
    section.update(`${text}\n`);
    await line(text);
  }
  await line(
    JSON.stringify({
      type: "clusters",
      linkage: "leader",
      clusters,
      clustered: clusters * 2,
      singletons: 0,
      unclustered: 0,
      sha256: section.digest("hex"),
    }),
  );
  await line(JSON.stringify({ type: "summary", finishedAt: "2026-12-05T00:01:00.000Z", files }));
  out.end();
  await once(out, "finish");
  writeFileSync(`${path}.sha256`, `${hash.digest("hex")}  report.ndjson\n`);
}

if (values.child !== undefined) {
  const { exportVics } = await import("@phmatch/core/internal");
  const files = Number(values.child);
  const dir = mkdtempSync(join(tmpdir(), "phmatch-bench-vics-"));
  try {
    const report = join(dir, "report.ndjson");
    await writeReport(report, files);
    const out = createWriteStream(join(dir, "out.json"));
    const start = process.hrtime.bigint();
    const result = await exportVics(report, out);
    out.end();
    await once(out, "finish");
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const row = {
      files,
      reportMiB: statSync(report).size / 2 ** 20,
      seconds,
      clustered: result.clustered,
      verified: result.verified,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
    };
    process.stdout.write(`${JSON.stringify(row)}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  const rows = values.sizes
    .split(",")
    .map((size) =>
      JSON.parse(
        execFileSync(process.execPath, [new URL(import.meta.url).pathname, "--child", size], { encoding: "utf8" }),
      ),
    );
  console.log("| files | report MiB | seconds | files/s | clustered | verified | peak RSS MiB |");
  console.log("|---:|---:|---:|---:|---:|:---:|---:|");
  for (const r of rows) {
    console.log(
      `| ${r.files} | ${r.reportMiB.toFixed(0)} | ${r.seconds.toFixed(1)} | ${Math.round(r.files / r.seconds)} | ` +
        `${r.clustered} | ${r.verified ? "yes" : "no"} | ${r.maxRssMiB.toFixed(0)} |`,
    );
  }
  if (rows.length > 1) {
    const [a, b] = [rows[0], rows.at(-1)];
    const slope = ((b.maxRssMiB - a.maxRssMiB) * 2 ** 20) / (b.files - a.files);
    console.log(`\npeak RSS slope: ${slope.toFixed(1)} bytes per file (${a.files} -> ${b.files} files)`);
  }
}

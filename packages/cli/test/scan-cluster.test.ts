// `phmatch scan --cluster` (issue 22): a tree with a family of edits of one benign picture, two unrelated pictures and
// a copy of the picture that a list names by MD5 (known, its PDQ not listed, so the edits stay unseen) gives one
// cluster of the family that touches the known file; the section validates, its lines point at the right records,
// a scan stopped mid-section resumes to the same report, report verify catches an edited cluster line, and the
// distributed collector's records give the same section.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadHashSet, Matcher, type ScanFileRecord, SupervisedHashPool, scanReportSchema } from "@phmatch/core";
import {
  buildHashOptions,
  ClusterCollector,
  createEntryScanner,
  defaultClusterSettings,
  MemoryFirstCopies,
  type ScanClusterLine,
  walkEntries,
} from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { collectedLine } from "../dist/queue/collector.js";
import { runCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-scan-cluster-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tree = join(work, "evidence");
const list = join(work, "md5.phs");
const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state") });
const run = (args: string[]) => runCli(args, { env });
const scanArgs = (out: string, ...more: string[]) => [
  "scan",
  tree,
  "--hashset",
  list,
  "-q",
  "-j",
  "1",
  "-o",
  out,
  ...more,
];
const family = ["a-base.png", "b-small.jpg", "c-crop.png", "d-q40.jpg"].map((n) => join(tree, n));
const knownFile = join(tree, "e-known.jpg");

// Benign pictures only: the texture fixture, its edits, and smoothed noise.
async function makeTree(): Promise<void> {
  mkdirSync(tree, { recursive: true });
  const texture = fixtures("images/texture.jpg");
  const { width = 0, height = 0 } = await sharp(texture).metadata();
  await sharp(texture).png().toFile(join(tree, "a-base.png"));
  await sharp(texture)
    .resize(Math.round(width * 0.6))
    .jpeg({ quality: 70 })
    .toFile(join(tree, "b-small.jpg"));
  await sharp(texture)
    .extract({ left: 4, top: 4, width: width - 8, height: height - 8 })
    .png()
    .toFile(join(tree, "c-crop.png"));
  await sharp(texture).jpeg({ quality: 40 }).toFile(join(tree, "d-q40.jpg"));
  copyFileSync(texture, knownFile);
  let seed = 7;
  for (const name of ["f-other.png", "g-other.png"]) {
    const pixels = Buffer.alloc(64 * 64 * 3);
    for (let i = 0; i < pixels.length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      pixels[i] = seed >>> 24;
    }
    await sharp(pixels, { raw: { width: 64, height: 64, channels: 3 } })
      .resize(256, 256, { kernel: "cubic" })
      .png()
      .toFile(join(tree, name));
  }
  // The list names the picture by MD5 only: its copy is known, its edits are not (no PDQ entry to match them).
  const md5 = createHash("md5").update(readFileSync(texture)).digest("hex");
  writeFileSync(join(work, "md5.txt"), `${md5}\n`);
  const imported = await run([
    "hashset",
    "import",
    join(work, "md5.txt"),
    "--format",
    "text",
    "--algorithm",
    "md5",
    "--list-id",
    "test-md5",
    "--category",
    "demo",
    "-o",
    list,
  ]);
  expect(imported.status, imported.stderr).toBe(0);
}

const reference = join(work, "reference.ndjson");
const lines = (report: string) => readFileSync(report, "utf8").trimEnd().split("\n");
const parsed = (report: string) => lines(report).map((l) => JSON.parse(l) as Record<string, unknown>);
const section = (report: string) => lines(report).filter((l) => /^\{"type":"clusters?"/.test(l));

beforeAll(async () => {
  await makeTree();
  const result = await run(scanArgs(reference, "--cluster"));
  expect(result.status, result.stderr).toBe(0);
}, 120_000);

describe("phmatch scan --cluster", () => {
  it("groups the family into one cluster touching the known copy; the two others stay alone", () => {
    const all = parsed(reference);
    const header = all[0] as { cluster?: unknown; algorithms: string[] };
    expect(header.cluster).toEqual(defaultClusterSettings());
    expect(header.algorithms).toEqual(expect.arrayContaining(["pdq", "phash"]));
    const clusters = all.filter((l) => l.type === "cluster") as unknown as ScanClusterLine[];
    expect(clusters).toHaveLength(1);
    const [cluster] = clusters as [ScanClusterLine];
    expect(cluster.members.map((m) => m.path)).toEqual(family);
    expect(cluster.touchesKnown).toBe(true);
    expect(cluster.known?.map((m) => m.path)).toEqual([knownFile]);
    // Every line named is the record of that path, and the statuses are what the test set up.
    for (const member of [...cluster.members, ...(cluster.known ?? [])]) {
      const record = all[member.line - 1] as unknown as ScanFileRecord;
      expect(record.type).toBe("file");
      expect(record.path).toBe(member.path);
      expect(record.status).toBe(member.path === knownFile ? "known" : "unseen");
    }
    expect(all.at(-2)).toMatchObject({ type: "clusters", clusters: 1, clustered: 4, singletons: 2, unclustered: 0 });
    expect(all.at(-1)?.type).toBe("summary");
  });

  it("writes lines that validate against the v3 schema, and report verify checks the section", async () => {
    const validate = new Ajv2020({ strict: true, allErrors: true }).compile(scanReportSchema());
    for (const line of parsed(reference)) expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
    const verified = await run(["report", "verify", reference]);
    expect(verified.status, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/cluster section OK \(1 clusters\)/);
  });

  it("exports every file to VICS with the cluster id the scan's own section gives it (report vics)", async () => {
    const vics = join(work, "reference.vics.json");
    const exported = await run(["report", "vics", reference, "-o", vics]);
    expect(exported.status, exported.stderr).toBe(0);
    const media = (JSON.parse(readFileSync(vics, "utf8")) as { value: Record<string, unknown>[] }).value;
    const files = parsed(reference).filter((l) => l.type === "file");
    expect(media).toHaveLength(files.length);
    const byPath = new Map(media.map((m) => [m.RelativeFilePath, JSON.stringify(m)]));
    for (const path of family) expect(byPath.get(path)).toMatch(/"@phmatch.cluster":1[,}]/);
    for (const path of [knownFile, join(tree, "f-other.png"), join(tree, "g-other.png")])
      expect(byPath.get(path)).not.toMatch(/"@phmatch.cluster":1[,}]/);
  });

  it("catches a cluster line edited after the scan, even with the report's .sha256 rewritten (exit 3)", async () => {
    const edited = join(work, "edited.ndjson");
    const text = lines(reference).map((l) =>
      l.startsWith('{"type":"cluster"') ? l.replace('"touchesKnown":true', '"touchesKnown":false') : l,
    );
    expect(text).not.toEqual(lines(reference));
    writeFileSync(edited, `${text.join("\n")}\n`);
    const sha256 = createHash("sha256").update(readFileSync(edited)).digest("hex");
    writeFileSync(`${edited}.sha256`, `${sha256}  edited.ndjson\n`);
    const verified = await run(["report", "verify", edited]);
    expect(verified.status).toBe(3);
    expect(verified.stderr).toMatch(/PHM_REPORT_ALTERED|cluster section/);
  });

  it("refuses --cluster without -o FILE or with another format than NDJSON (PHM_USAGE)", async () => {
    const noOut = await run(["scan", tree, "--hashset", list, "-q", "--cluster"]);
    expect(noOut.status).toBe(64);
    expect(noOut.stderr).toMatch(/--cluster needs -o FILE/);
    const csv = await run(scanArgs(join(work, "r.csv"), "--cluster", "--format", "csv"));
    expect(csv.status).toBe(64);
    expect(csv.stderr).toMatch(/--cluster needs --format ndjson/);
  });

  it("resumes a scan stopped mid-section (or before it) to the same report", async () => {
    const withoutSummary = (report: string) => lines(report).slice(0, -1);
    const records = lines(reference).filter((l) => l.startsWith('{"type":"file"')).length;
    // Cut after the first cluster line (the seal and summary not written), after the records, and mid-records.
    for (const keep of [records + 2, records + 1, 4]) {
      const partial = join(work, `partial-${keep}.ndjson`);
      writeFileSync(partial, `${lines(reference).slice(0, keep).join("\n")}\n`);
      const resumed = await run(scanArgs(partial, "--cluster", "--resume"));
      expect(resumed.status, resumed.stderr).toBe(0);
      expect(withoutSummary(partial)).toEqual(withoutSummary(reference));
      expect(section(partial)).toHaveLength(2);
    }
  });

  it("refuses to resume with another cluster setting than the report's", async () => {
    const partial = join(work, "partial-other.ndjson");
    writeFileSync(partial, `${lines(reference).slice(0, 4).join("\n")}\n`);
    // Without --cluster, with or without the algorithms it adds.
    for (const more of [[], ["-a", "pdq,phash,md5"]]) {
      const resumed = await run(scanArgs(partial, "--resume", ...more));
      expect(resumed.status).toBe(64);
      expect(resumed.stderr).toMatch(/same --cluster setting/);
    }
  });
});

describe("the distributed collector's records", () => {
  it("give the same cluster section as the local scan", async () => {
    const algorithms = (parsed(reference)[0] as { algorithms: string[] }).algorithms;
    const pool = new SupervisedHashPool({ jobs: 1, hashOptions: buildHashOptions({ algorithms }) });
    try {
      const matcher = new Matcher([await loadHashSet(list)]);
      // Two workers, entries dealt in turn, records through JSON as through Redis; then the collector's lines.
      const workers = [createEntryScanner(pool, matcher), createEntryScanner(pool, matcher)];
      const firsts = new MemoryFirstCopies();
      const collected = join(work, "collected.ndjson");
      const clusters = new ClusterCollector();
      const out = [lines(reference)[0] as string];
      let turn = 0;
      for await (const entry of walkEntries([tree], { followSymlinks: false })) {
        const record = await (workers[turn++ % 2] as (typeof workers)[0])(entry);
        delete record.duplicateOf;
        const line = collectedLine(JSON.parse(JSON.stringify(record)) as ScanFileRecord, firsts);
        out.push(JSON.stringify(line));
        clusters.add(line, out.length);
      }
      writeFileSync(collected, `${out.join("\n")}\n`);
      const { lines: clusterLines, seal } = await clusters.finish({
        settings: defaultClusterSettings(),
        report: collected,
      });
      expect([...clusterLines, seal].map((l) => JSON.stringify(l))).toEqual(section(reference));
    } finally {
      await pool.close();
    }
  });
});

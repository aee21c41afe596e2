// `phmatch scan` over a tree of benign fixtures and hostile inputs: it completes, every file is accounted for
// with its status or error, lines validate against the report schema, the summary agrees with them, the report
// has its SHA-256 beside it, and the scanned tree is left exactly as it was.
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scanReportSchema } from "@phmatch/core";
import { Ajv2020 } from "ajv/dist/2020.js";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { syntheticImage } from "../../../test/support/worker-faults.js";
import { runCli, spawnCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-scan-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tree = join(work, "evidence");
cpSync(fixtures("images"), join(tree, "images"), { recursive: true });
cpSync(fixtures("bad"), join(tree, "bad"), { recursive: true });
const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state") });
const validate = new Ajv2020({ strict: true }).compile(scanReportSchema());
const run = (args: string[]) => runCli(args, { env });

function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => join(e.parentPath, e.name))
    .sort()
    .map((p) => {
      const s = statSync(p, { bigint: true });
      return `${p} ${s.size} ${s.mtimeNs} ${s.ctimeNs} ${s.mode}`;
    });
}

describe("phmatch scan", () => {
  const before = snapshot(tree);
  const report = join(work, "report.ndjson");
  // The scan smoke test: the built binary in its own process, as a user starts it (the rest run in-process).
  const result = spawnCli(
    [
      "scan",
      tree,
      "--hashset",
      fixtures("hashsets/demo.phs"),
      "--case",
      "TEST-1",
      "--examiner",
      "unit test",
      "-o",
      report,
      "-j",
      "2",
    ],
    { env },
  );
  const lines = readFileSync(report, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

  it("completes over corrupt, empty, non-image and oversized files, exit 2 because some failed", () => {
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("phmatch scan done");
  });

  it("writes a header, one valid line per file, and a summary that agrees with them", () => {
    for (const line of lines) expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
    const [header, ...rest] = lines;
    const summary = rest.pop() as Record<string, number>;
    expect(header).toMatchObject({ type: "header", case: "TEST-1", examiner: "unit test", tool: "phmatch" });
    expect((header!.lists as { storeSha256: string }[])[0]?.storeSha256).toBe(
      createHash("sha256")
        .update(readFileSync(fixtures("hashsets/demo.phs")))
        .digest("hex"),
    );
    const files = readdirSync(tree, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    expect(rest).toHaveLength(files);
    expect(summary.files).toBe(files);
    for (const status of ["known", "unseen", "low_quality", "error"])
      expect(summary[status]).toBe(rest.filter((r) => r.status === status).length);
  });

  it(
    "accounts for every file: SHA-256 always, errors with their codes, " + "known files with their list and category",
    () => {
      const byName = Object.fromEntries(lines.slice(1, -1).map((r) => [String(r.path).split("/").pop() ?? "", r]));
      for (const r of Object.values(byName))
        expect((r.hashes as Record<string, string>).sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(byName["empty.jpg"]).toMatchObject({ status: "error", error: { code: "PHM_DECODE_EMPTY" } });
      expect(byName["bomb.png"]).toMatchObject({ status: "error", error: { code: "PHM_DECODE_TOO_MANY_PIXELS" } });
      expect(byName["not-an-image.jpg"]).toMatchObject({ status: "error", error: { code: "PHM_DECODE_UNSUPPORTED" } });
      expect(byName["shapes-rotate90.png"]).toMatchObject({
        status: "known",
        matches: [{ list: "phmatch-demo", category: "demo-A", variant: "rotate90" }],
      });
      expect(byName["texture-grey.png"]).toMatchObject({ status: "unseen" });
    },
  );

  it("prints the summary as JSON on stdout when the report goes to a file", () => {
    expect(JSON.parse(result.stdout)).toEqual(lines.at(-1));
  });

  it("puts the report's SHA-256 beside it", () => {
    const digest = createHash("sha256").update(readFileSync(report)).digest("hex");
    expect(readFileSync(`${report}.sha256`, "utf8")).toBe(`${digest}  report.ndjson\n`);
  });

  it("leaves the scanned tree exactly as it was: names, sizes, modes, mtimes, ctimes", () => {
    expect(snapshot(tree)).toEqual(before);
  });

  it("refuses to write its report inside the scanned tree", async () => {
    const r = await run(["scan", tree, "--hashset", fixtures("hashsets/demo.phs"), "-o", join(tree, "report.ndjson")]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("never writes to the scanned tree");
    expect(snapshot(tree)).toEqual(before);
  });

  it("signs the report with --sign; report verify checks checksum and signature, exit 3 once altered", async () => {
    const keys = join(work, "keys");
    await run(["hashset", "keygen", "--private", `${keys}.pem`, "--public", `${keys}.pub`]);
    const signed = join(work, "signed.ndjson");
    expect(
      (
        await run([
          "scan",
          join(tree, "images"),
          "--hashset",
          fixtures("hashsets/demo.phs"),
          "-o",
          signed,
          "-q",
          "--sign",
          `${keys}.pem`,
        ])
      ).status,
    ).toBe(0);
    expect(await run(["report", "verify", signed, "--trusted-keys", `${keys}.pub`])).toMatchObject({
      status: 0,
      stdout: expect.stringContaining("signed by key"),
    });
    writeFileSync(signed, readFileSync(signed, "utf8").replace('"status":"unseen"', '"status":"known"'));
    expect(await run(["report", "verify", signed, "--trusted-keys", `${keys}.pub`])).toMatchObject({
      status: 3,
      stderr: expect.stringContaining("PHM_REPORT_ALTERED"),
    });
  });

  it("appends each file's decision to a signed audit log with --audit-log; audit verify checks it", async () => {
    const keys = join(work, "audit-keys");
    await run(["hashset", "keygen", "--private", `${keys}.pem`, "--public", `${keys}.pub`]);
    const log = join(work, "audit.ndjson");
    const scanned = await run([
      "scan",
      join(tree, "images"),
      "--hashset",
      fixtures("hashsets/demo.phs"),
      "-q",
      "--audit-log",
      log,
      "--audit-key",
      `${keys}.pem`,
    ]);
    expect(scanned.status).toBe(0);
    const records = readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const decisions = records.filter((r) => r.type === "decision");
    expect(decisions.length).toBe(readdirSync(join(tree, "images")).length);
    expect(
      decisions.filter((r) => r.decision === "match").every((r) => r.hashes !== undefined && r.source === "scan"),
    ).toBe(true);
    expect(decisions.filter((r) => r.decision !== "match").every((r) => r.hashes === undefined)).toBe(true);
    expect(await run(["audit", "verify", log, "--trusted-keys", `${keys}.pub`])).toMatchObject({
      status: 0,
      stdout: expect.stringContaining("closed"),
    });
    writeFileSync(log, readFileSync(log, "utf8").replace('"decision":"match"', '"decision":"no_match"'));
    expect(await run(["audit", "verify", log, "--trusted-keys", `${keys}.pub`])).toMatchObject({
      status: 3,
      stderr: expect.stringContaining("PHM_AUDIT_ALTERED"),
    });
    expect(
      (
        await run([
          "scan",
          tree,
          "--hashset",
          fixtures("hashsets/demo.phs"),
          "-q",
          "--audit-log",
          join(tree, "audit.ndjson"),
        ])
      ).status,
    ).toBe(64);
  });

  it("writes the known files as Project VIC VICS JSON that VICS readers import", async () => {
    const vics = join(work, "known.json");
    writeFileSync(
      vics,
      (await run(["scan", join(tree, "images"), "--hashset", fixtures("hashsets/demo.phs"), "--format", "vics", "-q"]))
        .stdout,
    );
    const media = (JSON.parse(readFileSync(vics, "utf8")) as { value: { MD5: string; SHA1: string; Tags: string }[] })
      .value;
    const known = lines.filter((l) => l.type === "file" && l.status === "known" && String(l.path).includes("/images/"));
    expect(media).toHaveLength(known.length);
    expect(media.every((m) => /^[0-9A-F]{32}$/.test(m.MD5) && m.Tags.includes("phmatch-demo@1:demo-A"))).toBe(true);
    const imported = await run([
      "hashset",
      "import",
      vics,
      "--list-id",
      "from-scan",
      "-o",
      join(work, "from-scan.phs"),
      "--report",
      join(work, "from-scan.json"),
    ]);
    expect(imported.status).toBe(0);
    expect(JSON.parse(readFileSync(join(work, "from-scan.json"), "utf8"))).toMatchObject({
      format: "vics",
      invalid: 0,
    });
  });

  it("writes CSV file records", async () => {
    const r = await run([
      "scan",
      join(tree, "images"),
      "--hashset",
      fixtures("hashsets/demo.phs"),
      "--format",
      "csv",
      "-q",
    ]);
    const [head, ...rows] = r.stdout.trim().split("\n");
    expect(head).toBe(
      "path,size,sha256,status,lists,categories,best_algorithm,best_distance,error," +
        "path_bytes_base64,link_target,link_target_bytes_base64,duplicate_of,duplicate_of_bytes_base64," +
        "modified,changed,accessed,born,ignorable",
    );
    expect(rows).toHaveLength(readdirSync(join(tree, "images")).length);
    const ns = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z";
    expect(rows.find((row) => row.includes("shapes.png,"))).toMatch(
      new RegExp(`,known,phmatch-demo@1,demo-A,(pdq|phash|dhash|md5|sha1),0,,,,,,(,${ns}){3},(${ns})?,$`),
    );
  });

  it("reports a file that takes the worker over --memory-limit as PHM_WORKER_MEMORY, and scans the rest", async () => {
    const dir = join(work, "heavy");
    mkdirSync(dir);
    // A valid 8000x6000 PNG (about 2 MB, 144 MB of pixels): within the pixel limit, far over a 150 MiB worker.
    writeFileSync(
      join(dir, "a-big.png"),
      await sharp(await syntheticImage(7, 800, 600, "png", false))
        .resize(8000, 6000, { kernel: "nearest" })
        .png()
        .toBuffer(),
    );
    cpSync(fixtures("images/shapes.png"), join(dir, "b-shapes.png"));
    const out = join(work, "heavy.ndjson");
    const r = await run([
      "scan",
      dir,
      "--hashset",
      fixtures("hashsets/demo.phs"),
      "-o",
      out,
      "-q",
      "-j",
      "1",
      "--memory-limit",
      "150",
    ]);
    expect(r.status).toBe(2);
    const files = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.type === "file");
    expect(
      files.map((f) => [
        String(f.path).slice(dir.length + 1),
        f.status,
        (f.error as { code?: string } | undefined)?.code,
      ]),
    ).toEqual([
      ["a-big.png", "error", "PHM_WORKER_MEMORY"],
      ["b-shapes.png", "known", undefined],
    ]);
  });
});

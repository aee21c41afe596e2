// `phmatch report vics` on a real scan's report: every file a Media with its status, written to --out only when
// whole; an existing --out is never overwritten, an altered report leaves no file behind.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { runCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-report-vics-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state") });
const run = (args: string[]) => runCli(args, { env });
const tree = join(work, "evidence");
const report = join(work, "case.ndjson");

beforeAll(async () => {
  mkdirSync(tree);
  for (const name of ["shapes.png", "flat.png", "texture.jpg"])
    copyFileSync(fixtures(`images/${name}`), join(tree, name));
  copyFileSync(fixtures("images/texture.jpg"), join(tree, "z-texture.jpg"));
  symlinkSync("shapes.png", join(tree, "link.png"));
  const scanned = await run(["scan", tree, "--hashset", fixtures("hashsets/demo.phs"), "-o", report, "-q"]);
  expect(scanned.status).toBe(0);
});

describe("phmatch report vics", () => {
  it("exports every file of the report, with its status, into --out", async () => {
    const out = join(work, "case.vics.json");
    const exported = await run(["report", "vics", report, "-o", out]);
    expect(exported.status).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ verified: true, links: 1 });
    const doc = JSON.parse(readFileSync(out, "utf8")) as { value: Record<string, unknown>[] };
    const status = Object.fromEntries(doc.value.map((m) => [String(m.RelativeFilePath).slice(tree.length + 1), m]));
    expect(Object.keys(status).sort()).toEqual(["flat.png", "shapes.png", "texture.jpg", "z-texture.jpg"]);
    expect(status["shapes.png"]).toMatchObject({
      "@phmatch.status": "known",
      Tags: expect.stringContaining("phmatch-demo@1:demo-A"),
    });
    expect(status["flat.png"]?.["@phmatch.status"]).toBe("low_quality");
    expect(status["z-texture.jpg"]?.["@phmatch.status"]).toBe("duplicate");
    expect(status["texture.jpg"]?.MD5).toBe(status["z-texture.jpg"]?.MD5);
    // Never over an existing file.
    const again = await run(["report", "vics", report, "-o", out]);
    expect(again.status).toBe(64);
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(doc);
  });

  it("refuses an altered report (exit 3) and leaves no --out behind", async () => {
    const altered = join(work, "altered.ndjson");
    copyFileSync(report, altered);
    copyFileSync(`${report}.sha256`, `${altered}.sha256`);
    writeFileSync(altered, readFileSync(altered, "utf8").replace('"status":"known"', '"status":"unseen"'));
    const out = join(work, "altered.vics.json");
    const refused = await run(["report", "vics", altered, "-o", out]);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain("PHM_REPORT_ALTERED");
    expect(existsSync(out)).toBe(false);
  });
});

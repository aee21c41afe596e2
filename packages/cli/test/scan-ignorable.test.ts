// `phmatch scan --ignorable` (issue 22): the report's header names each list with the SHA-256 of its bytes, a listed
// file is a record of status `ignorable` naming the list (CSV: its own column), the summary counts it, the lines
// validate against the schema; a file a list of known material holds is known even when an ignorable list holds it
// too (SECURITY.md); --resume refuses other ignorable lists than the report's.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ScanFileRecord, scanReportSchema } from "@phmatch/core";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { runCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-scan-ignorable-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tree = join(work, "evidence");
mkdirSync(tree);
writeFileSync(join(tree, "kernel32.dll"), "known-good system file\n");
copyFileSync(fixtures("images/texture.jpg"), join(tree, "texture.jpg")); // listed by demo.phs (MD5 and PDQ)
const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");
const list = join(work, "known-good.txt");
// The ignorable list also holds the SHA-256 of the listed picture: a poisoned or careless known-good list.
writeFileSync(list, `${sha256(join(tree, "kernel32.dll"))}\n${sha256(join(tree, "texture.jpg"))}\n`);
const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state") });
const run = (args: string[]) => runCli(args, { env });
const scanArgs = (out: string, ...more: string[]) => [
  "scan",
  tree,
  "--hashset",
  fixtures("hashsets/demo.phs"),
  "--ignorable",
  list,
  "-o",
  out,
  "-q",
  "-j",
  "1",
  ...more,
];
const lines = (path: string) =>
  readFileSync(path, "utf8")
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("phmatch scan --ignorable", () => {
  it("reports a listed file ignorable, names the list in the header and counts it; the lines validate", async () => {
    const out = join(work, "report.ndjson");
    const result = await run(scanArgs(out));
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const [header, ...rest] = lines(out);
    expect(header?.ignorable).toEqual([
      {
        name: "known-good.txt",
        file: list,
        kind: "list",
        algorithm: "sha256",
        count: 2,
        sha256: sha256(list),
        source: "known-good.txt",
      },
    ]);
    const records = rest.filter((l) => l.type === "file") as unknown as ScanFileRecord[];
    const byName = new Map(records.map((r) => [r.path.slice(tree.length + 1), r]));
    expect(byName.get("kernel32.dll")).toMatchObject({
      status: "ignorable",
      ignorable: [{ list: "known-good.txt", algorithm: "sha256" }],
      hashes: { sha256: sha256(join(tree, "kernel32.dll")) },
    });
    // Known first: on demo.phs by its MD5, so never set aside, whatever the ignorable list says.
    expect(byName.get("texture.jpg")).toMatchObject({ status: "known" });
    expect(byName.get("texture.jpg")?.ignorable).toBeUndefined();
    const summary = rest.at(-1) as Record<string, unknown>;
    expect(summary).toMatchObject({ type: "summary", files: 2, ignorable: 1, known: 1 });
    expect(summary.ignorableLists).toEqual({ "known-good.txt": 1 });
    const validate = new Ajv2020({ strict: true }).compile(scanReportSchema());
    for (const line of [header, ...rest]) expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
  });

  it("writes the list names in the CSV's last column, ignorable", async () => {
    const out = join(work, "report.csv");
    expect((await run(scanArgs(out, "-f", "csv"))).status).toBe(0);
    const [columns, ...rows] = readFileSync(out, "utf8").trimEnd().split("\n");
    expect(columns?.split(",").at(-1)).toBe("ignorable");
    const row = rows.find((r) => r.includes("kernel32.dll"))?.split(",");
    expect(row?.[3]).toBe("ignorable");
    expect(row?.at(-1)).toBe("known-good.txt");
    expect(
      rows
        .find((r) => r.includes("texture.jpg"))
        ?.split(",")
        .at(-1),
    ).toBe("");
  });

  it("--resume refuses other ignorable lists (another content under the same name, or none)", async () => {
    const out = join(work, "resumed.ndjson");
    expect((await run(scanArgs(out))).status).toBe(0);
    // Cut the report after its first record: an interrupted scan.
    const [header, first] = readFileSync(out, "utf8").split("\n");
    writeFileSync(out, `${header}\n${first}\n`);
    const other = join(work, "other");
    mkdirSync(other);
    writeFileSync(join(other, "known-good.txt"), `${sha256(join(tree, "kernel32.dll"))}\n`);
    const changed = await run(scanArgs(out, "--resume").map((a) => (a === list ? join(other, "known-good.txt") : a)));
    expect(changed.status).not.toBe(0);
    expect(changed.stderr).toMatch(/--resume must set files aside with the same --ignorable lists/);
    const none = await run(scanArgs(out, "--resume").filter((a) => a !== "--ignorable" && a !== list));
    expect(none.stderr).toMatch(/--resume must set files aside with the same --ignorable lists/);
    const same = await run(scanArgs(out, "--resume"));
    expect(same.status).toBe(0);
    expect(lines(out).at(-1)).toMatchObject({ type: "summary", files: 2, ignorable: 1 });
  });
});

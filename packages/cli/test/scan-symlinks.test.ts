// Symbolic links in a scanned tree: every link is a record of its own (every entry is accounted for), with its
// target exactly as readlink gives it (non-UTF-8 bytes too), never followed or hashed, a dangling one too. With
// --follow-symlinks each target (device and inode) is followed once: a later link to it names the path it was
// reported under, so links that double at every level cost one walk, and loops end.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scanReportSchema } from "@phmatch/core";
import { unescapeReportPath } from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { runCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-links-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env: NodeJS.ProcessEnv = { ...process.env, PHMATCH_STATE_DIR: join(work, "state") };
delete env.PHMATCH_TRUSTED_KEYS;
delete env.PHMATCH_LIST_KEY;
const validate = new Ajv2020({ strict: true }).compile(scanReportSchema());

type Line = Record<string, unknown> & { type: string; path: string; status?: string };

async function scan(
  tree: string,
  out: string,
  extra: string[] = [],
): Promise<{ status: number | null; stderr: string; lines: Line[] }> {
  const r = await runCli(
    ["scan", tree, "--hashset", fixtures("hashsets/demo.phs"), "-o", out, "-q", "-j", "1", ...extra],
    { env },
  );
  const lines = readFileSync(out, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);
  for (const line of lines) expect(validate(line), JSON.stringify(validate.errors)).toBe(true);
  return { status: r.status, stderr: r.stderr, lines };
}

// A tree with one image, links of every kind to it and around it, and a link target that is not UTF-8.
const tree = join(work, "tree");
mkdirSync(join(tree, "photos"), { recursive: true });
copyFileSync(fixtures("images/shapes.png"), join(tree, "photos", "shapes.png"));
symlinkSync("photos/shapes.png", join(tree, "a-link-to-file.png"));
symlinkSync("photos", join(tree, "b-link-to-dir"));
symlinkSync("nowhere.png", join(tree, "c-dangling.png"));
symlinkSync(".", join(tree, "d-loop"));
const oddTarget = Buffer.from([0x2e, 0x2e, 0x2f, 0x78, 0xff, 0x2e, 0x70, 0x6e, 0x67]); // "../x\xff.png"
symlinkSync(oddTarget, Buffer.from(`${tree}/e-odd-target`));

// Scanned once, before the tests that read its report.
const recorded = await scan(tree, join(work, "recorded.ndjson"));

describe("scan records symbolic links", () => {
  const { status, lines } = recorded;
  const records = lines.filter((l) => l.type === "file");
  const byName = new Map(records.map((r) => [r.path.slice(tree.length + 1), r]));

  it(
    "each link is a record with its target as readlink gives it, status symlink, " + "never hashed and with no size",
    () => {
      expect(status).toBe(0);
      expect([...byName.keys()]).toEqual([
        "a-link-to-file.png",
        "b-link-to-dir",
        "c-dangling.png",
        "d-loop",
        "e-odd-target",
        "photos/shapes.png",
      ]);
      expect(byName.get("a-link-to-file.png")).toMatchObject({
        status: "symlink",
        linkTarget: "photos/shapes.png",
        matches: [],
      });
      expect(byName.get("b-link-to-dir")).toMatchObject({ status: "symlink", linkTarget: "photos" });
      expect(byName.get("c-dangling.png")).toMatchObject({ status: "symlink", linkTarget: "nowhere.png" });
      expect(byName.get("d-loop")).toMatchObject({ status: "symlink", linkTarget: "." });
      for (const link of records.filter((r) => r.status === "symlink")) {
        expect(link.hashes).toBeUndefined();
        expect(link.size).toBeUndefined();
        expect(link.notes).toEqual([expect.stringContaining("not followed")]);
      }
      // The image itself once, hashed, and known: the link to it did not make it a second file.
      expect(byName.get("photos/shapes.png")).toMatchObject({
        status: "known",
        size: readFileSync(fixtures("images/shapes.png")).length,
      });
    },
  );

  it("a target that is not UTF-8 is escaped, with its exact bytes beside it", () => {
    const odd = byName.get("e-odd-target");
    expect(odd).toMatchObject({
      status: "symlink",
      linkTarget: "../x%FF.png",
      linkTargetBytes: oddTarget.toString("base64"),
    });
    expect(unescapeReportPath(odd?.linkTarget as string)).toEqual(oddTarget);
  });

  it("the summary counts the links and the header says they were recorded, not followed", () => {
    const summary = lines.at(-1) as Line & Record<string, number>;
    expect(summary).toMatchObject({ type: "summary", files: 6, symlink: 5, known: 1, duplicates: 0 });
    expect(lines[0]).toMatchObject({ type: "header", walk: { symlinks: "recorded" } });
  });

  it("the CSV report carries each link's target", async () => {
    const r = await runCli(
      ["scan", tree, "--hashset", fixtures("hashsets/demo.phs"), "--format", "csv", "-q", "-j", "1"],
      { env },
    );
    const [head, ...rows] = r.stdout.trim().split("\n");
    const columns = (head as string).split(",");
    const cell = (row: string | undefined, name: string) => (row as string).split(",")[columns.indexOf(name)];
    const dangling = rows.find((row) => row.startsWith(`${tree}/c-dangling.png,`));
    expect([cell(dangling, "status"), cell(dangling, "link_target"), cell(dangling, "sha256")]).toEqual([
      "symlink",
      "nowhere.png",
      "",
    ]);
  });
});

describe("scan --follow-symlinks follows each target once", () => {
  it("a link to a file is hashed through once; links to what was already reported name it; loops end", async () => {
    const { status, lines } = await scan(tree, join(work, "followed.ndjson"), ["--follow-symlinks"]);
    expect(status).toBe(0);
    const records = lines.filter((l) => l.type === "file");
    const rel = (p: unknown) => (typeof p === "string" ? p.slice(tree.length + 1) : p);
    expect(records.map((r) => [rel(r.path), r.status, rel(r.duplicateOf)])).toEqual([
      ["a-link-to-file.png", "known", undefined], // followed: the file it leads to, hashed
      ["b-link-to-dir", "symlink", undefined], // followed into photos, which it reaches first
      ["b-link-to-dir/shapes.png", "known", "a-link-to-file.png"], // the same bytes: a copy, by SHA-256
      ["c-dangling.png", "symlink", undefined],
      ["d-loop", "symlink", ""], // the tree itself, being walked
      ["e-odd-target", "symlink", undefined],
      ["photos/shapes.png", "known", "a-link-to-file.png"], // a real directory is walked under its own path too
    ]);
    expect(records[0]).toMatchObject({
      linkTarget: "photos/shapes.png",
      size: readFileSync(fixtures("images/shapes.png")).length,
    });
    expect(records[1]?.notes).toEqual([expect.stringContaining("followed")]);
    expect(lines[0]).toMatchObject({ type: "header", walk: { symlinks: "followed" } });
  });

  it("12 levels of doubled links to one file: 25 records, not 4,096", async () => {
    const doubled = join(work, "doubled");
    for (let i = 0; i <= 12; i++)
      mkdirSync(join(doubled, "root", `l${String(i).padStart(2, "0")}`), { recursive: true });
    copyFileSync(fixtures("images/texture.jpg"), join(doubled, "root", "l12", "texture.jpg"));
    for (let i = 0; i < 12; i++)
      for (const name of ["x", "y"])
        symlinkSync(
          `../l${String(i + 1).padStart(2, "0")}`,
          join(doubled, "root", `l${String(i).padStart(2, "0")}`, name),
        );
    const { status, lines } = await scan(join(doubled, "root", "l00"), join(work, "doubled.ndjson"), [
      "--follow-symlinks",
    ]);
    expect(status).toBe(0);
    const records = lines.filter((l) => l.type === "file");
    expect(records).toHaveLength(25);
    expect(records.filter((r) => r.status !== "symlink").map((r) => r.path)).toEqual([
      join(doubled, "root", "l00", ..."x/".repeat(12).split("/").filter(Boolean), "texture.jpg"),
    ]);
    const repeats = records.filter((r) => r.duplicateOf !== undefined);
    expect(repeats).toHaveLength(12);
    expect(
      repeats.every(
        (r) => r.status === "symlink" && r.path.endsWith("/y") && r.duplicateOf === `${r.path.slice(0, -1)}x`,
      ),
    ).toBe(true);
  });
});

// `phmatch hashset build/import/export/info` and the commands that use lists, as a user runs them: degenerate
// values never listed, stores that match nothing neither written nor used, the store's record of what an import
// read, took and refused (in info and in scan report headers), exports without withdrawn entries, typed errors
// for missing files and for a list given where a store belongs, and build entry ids relative to the build root.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scanReportSchema } from "@phmatch/core";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { type CliResult, runCli } from "./support/run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "phmatch-cli-lists-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env: NodeJS.ProcessEnv = { ...process.env, PHMATCH_STATE_DIR: join(dir, "state") };
delete env.PHMATCH_TRUSTED_KEYS;
delete env.PHMATCH_LIST_KEY;

async function phmatch(args: string[]) {
  const r = await runCli(args, { env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const out = (name: string) => join(dir, name);
const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const sha256 = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");
const EMPTY_MD5 = md5("");
const EMPTY_SHA1 = createHash("sha1").update("").digest("hex");
type Line = {
  type: string;
  algorithm?: string;
  hash?: string;
  id?: string;
  fields?: { extra?: Record<string, string> };
};
const exported = async (store: string) =>
  (await phmatch(["hashset", "export", store])).stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);

// A tree to build from: an image in a subdirectory, a flat image, an empty file, and a name that is not UTF-8.
const known = out("known");
mkdirSync(join(known, "sub"), { recursive: true });
writeFileSync(join(known, "sub", "shapes.png"), readFileSync(fixtures("images/shapes.png")));
writeFileSync(join(known, "flat.png"), readFileSync(fixtures("images/flat.png")));
writeFileSync(join(known, "empty.jpg"), "");
const oddName = Buffer.from([0x74, 0x65, 0x78, 0xff, 0x2e, 0x6a, 0x70, 0x67]); // "tex\xff.jpg"
writeFileSync(Buffer.concat([Buffer.from(`${known}/`), oddName]), readFileSync(fixtures("images/texture.jpg")));

describe("hashset build", () => {
  let build: { code: CliResult["status"]; stderr: string };
  let lines: Line[];
  beforeAll(async () => {
    build = await phmatch(["hashset", "build", known, "--list-id", "unit", "-o", out("known.phs")]);
    lines = (await exported(out("known.phs"))).filter((l) => l.type === "entry");
  });

  it(
    "never lists an empty file's digests, nor a featureless image's perceptual hashes, " + "and says so (item 12)",
    async () => {
      expect(build.code).toBe(2); // the empty file is an input that failed
      const values = lines.map((l) => l.hash);
      expect(values).not.toContain(EMPTY_MD5);
      expect(values).not.toContain(EMPTY_SHA1);
      expect(lines.filter((l) => l.id === "empty.jpg")).toEqual([]);
      // flat.png keeps its exact digests, not its perceptual hashes (PDQ quality below 50).
      expect(
        lines
          .filter((l) => l.id === "flat.png")
          .map((l) => l.algorithm)
          .sort(),
      ).toEqual(["md5", "sha1"]);
      expect(
        lines
          .filter((l) => l.id === "sub/shapes.png")
          .map((l) => l.algorithm)
          .sort(),
      ).toEqual(["md5", "pdq", "phash16", "sha1"]);
      expect(build.stderr).toContain("1 featureless (PDQ quality below 50): their perceptual hashes left out");
      expect(build.stderr).toContain("2 degenerate values left out");
      expect((await phmatch(["hashset", "info", out("known.phs")])).stdout).toMatch(
        /build into unit .*: read 4, took 10 entries .*refused failed-files 1, degenerate 2, low-quality 2/,
      );
    },
  );

  it("gates perceptual hashes on PDQ quality even when PDQ itself is not stored (item 12)", async () => {
    const r = await phmatch([
      "hashset",
      "build",
      join(known, "flat.png"),
      join(known, "sub", "shapes.png"),
      "-a",
      "phash16",
      "--list-id",
      "p",
      "-o",
      out("phash-only.phs"),
    ]);
    expect(r.code).toBe(0);
    expect(
      (await exported(out("phash-only.phs"))).filter((l) => l.type === "entry").map((l) => [l.algorithm, l.id]),
    ).toEqual([["phash16", "sub/shapes.png"]]);
  });

  it(
    "makes entry ids relative to the build root, POSIX, never absolute; " +
      "a non-UTF-8 name keeps its bytes (item 21)",
    async () => {
      const ids = [...new Set(lines.map((l) => l.id))].sort();
      expect(ids).toEqual(["flat.png", "sub/shapes.png", "tex\uFFFD.jpg"]);
      for (const id of ids) expect(id?.startsWith("/")).toBe(false);
      expect(
        lines
          .filter((l) => l.id === "tex\uFFFD.jpg")
          .every((l) => l.fields?.extra?.pathBytes === oddName.toString("base64")),
      ).toBe(true);
      // --root keeps more of the path; a root that does not hold the inputs is refused.
      expect(
        (
          await phmatch([
            "hashset",
            "build",
            join(known, "sub"),
            "--root",
            dir,
            "-a",
            "md5",
            "--list-id",
            "r",
            "-o",
            out("root.phs"),
          ])
        ).code,
      ).toBe(0);
      expect((await exported(out("root.phs"))).find((l) => l.type === "entry")?.id).toBe("known/sub/shapes.png");
      const outside = await phmatch([
        "hashset",
        "build",
        known,
        "--root",
        join(known, "sub"),
        "--list-id",
        "r",
        "-o",
        out("outside.phs"),
      ]);
      expect([outside.code, outside.stderr]).toEqual([64, expect.stringContaining("is not inside --root")]);
    },
  );

  it("writes no store when nothing was taken (item 13)", async () => {
    const r = await phmatch([
      "hashset",
      "build",
      join(known, "empty.jpg"),
      "--list-id",
      "e",
      "-o",
      out("empty-build.phs"),
    ]);
    expect([r.code, r.stderr]).toEqual([3, expect.stringContaining("PHM_HASHSET_EMPTY")]);
    expect(existsSync(out("empty-build.phs"))).toBe(false);
  });
});

describe("hashset import", () => {
  const values = ["a", "b", "c"].map(md5);
  writeFileSync(out("md5.txt"), values.join("\n") + "\n");

  it(
    "refuses to write a store of nothing and says why; --allow-empty writes it; " +
      "the report is written either way (item 13)",
    async () => {
      const r = await phmatch([
        "hashset",
        "import",
        out("md5.txt"),
        "--list-id",
        "m",
        "-o",
        out("none.phs"),
        "--report",
        out("none.json"),
      ]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("PHM_HASHSET_EMPTY: no entry was taken from");
      expect(r.stderr).toContain("refused: invalid 3");
      expect(r.stderr).toContain("the values are 32 hex digits: md5?");
      expect(existsSync(out("none.phs"))).toBe(false);
      expect((JSON.parse(readFileSync(out("none.json"), "utf8")) as { invalid: number }).invalid).toBe(3);
      const allowed = await phmatch([
        "hashset",
        "import",
        out("md5.txt"),
        "--list-id",
        "m",
        "--allow-empty",
        "-o",
        out("none.phs"),
      ]);
      expect([allowed.code, existsSync(out("none.phs"))]).toEqual([2, true]);
    },
  );

  it("reports degenerate values apart and does not fail for them (item 12)", async () => {
    writeFileSync(out("with-empty.txt"), `${EMPTY_MD5}\n${values[0]}\n`);
    const r = await phmatch([
      "hashset",
      "import",
      out("with-empty.txt"),
      "--algorithm",
      "md5",
      "--list-id",
      "m",
      "-o",
      out("m.phs"),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("degenerate (refused) 1");
    expect(r.stderr).toContain("with-empty.txt:1: md5 value refused, never listed: the md5 of empty input");
    expect((await exported(out("m.phs"))).filter((l) => l.type === "entry").map((l) => l.hash)).toEqual([values[0]]);
  });

  it(
    "records what it read, took and refused and how the input ended; " +
      "info and scan report headers show it (item 14)",
    async () => {
      const text = `algorithm,hash,category\nmd5,${values[0]},A1\nmd5,nothex,A1\nmd5,${values[1]},B`; // cut off mid-row
      writeFileSync(out("cut.csv"), text);
      const r = await phmatch(["hashset", "import", out("cut.csv"), "--list-id", "cut", "-o", out("cut.phs")]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("input unterminated at line 4");
      const info = (await phmatch(["hashset", "info", out("cut.phs")])).stdout;
      expect(info).toContain(
        `import of ${out("cut.csv")} (csv, ${text.length} bytes, sha256 ${sha256(text)}; input unterminated)`,
      );
      expect(info).toContain("read 3, took 2 entries and 0 withdrawals, duplicate 0, refused invalid 1");
      expect(info).toContain("was not read whole (input unterminated)");
      const json = JSON.parse((await phmatch(["hashset", "info", "--json", out("cut.phs")])).stdout) as {
        provenance: { input: { ending: string } }[];
      };
      expect(json.provenance[0]?.input.ending).toBe("unterminated");
      // A scan names the list's provenance in its header, valid against the report schema.
      const evidence = out("evidence");
      mkdirSync(evidence);
      writeFileSync(join(evidence, "note.txt"), "b");
      const scan = await phmatch(["scan", evidence, "--hashset", out("cut.phs"), "-q", "-o", out("cut-scan.ndjson")]);
      expect(scan.code).toBe(0);
      const header = JSON.parse(readFileSync(out("cut-scan.ndjson"), "utf8").split("\n")[0] as string) as {
        lists: { provenance: { input: { ending: string; sha256: string }; refused: object }[] }[];
      };
      expect(header.lists[0]?.provenance[0]).toMatchObject({
        input: { ending: "unterminated", sha256: sha256(text) },
        refused: { invalid: 1 },
      });
      const validate = new Ajv2020({ strict: true }).compile(scanReportSchema());
      expect(validate(header), JSON.stringify(validate.errors)).toBe(true);
    },
  );

  it(
    "a missing list file is PHM_FILE_NOT_FOUND, exit 2; an output in a missing directory too, " +
      "never an internal error (item 21)",
    async () => {
      const missing = await phmatch([
        "hashset",
        "import",
        out("nonexistent.csv"),
        "--list-id",
        "x",
        "-o",
        out("x.phs"),
      ]);
      expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining("PHM_FILE_NOT_FOUND")]);
      expect(missing.stderr).not.toContain("internal error");
      const badOut = await phmatch([
        "hashset",
        "import",
        out("md5.txt"),
        "--algorithm",
        "md5",
        "--list-id",
        "x",
        "-o",
        join(dir, "no-dir", "x.phs"),
      ]);
      expect([badOut.code, badOut.stderr]).toEqual([
        2,
        expect.stringContaining(`PHM_FILE_NOT_FOUND: ${join(dir, "no-dir", "x.phs")}`),
      ]);
      expect(badOut.stderr).not.toContain("internal error");
    },
  );
});

describe("commands that match against lists", () => {
  it("scan and check refuse a list that holds nothing they compute, before reading any file (item 13)", async () => {
    writeFileSync(out("img-only.txt"), "x");
    const scan = await phmatch([
      "scan",
      out("img-only.txt"),
      "--hashset",
      out("none.phs"),
      "-q",
      "-o",
      out("none-scan.ndjson"),
    ]);
    expect([scan.code, scan.stderr]).toEqual([3, expect.stringContaining("PHM_HASHSET_EMPTY")]);
    expect(existsSync(out("none-scan.ndjson"))).toBe(false);
    // A list of MD5 values scanned for PDQ only: nothing it holds is computed.
    const pdqOnly = await phmatch([
      "scan",
      out("img-only.txt"),
      "--hashset",
      out("m.phs"),
      "-a",
      "pdq",
      "-q",
      "-o",
      out("pdq-scan.ndjson"),
    ]);
    expect([pdqOnly.code, pdqOnly.stderr]).toEqual([
      3,
      expect.stringContaining("hold no entry that could match the algorithms computed (pdq, sha256)"),
    ]);
    const check = await phmatch(["check", fixtures("images/shapes.png"), "--hashset", out("none.phs")]);
    expect([check.code, check.stderr]).toEqual([2, expect.stringContaining("PHM_HASHSET_EMPTY")]);
  });

  it("a list given as --hashset that was never imported says what it is and to import it first (item 21)", async () => {
    writeFileSync(out("list.csv"), `md5,category\n${md5("a")},A\n`);
    const r = await phmatch(["scan", out("img-only.txt"), "--hashset", out("list.csv"), "-q"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("looks like a csv hash list");
    expect(r.stderr).toContain("phmatch hashset import");
    expect(r.stderr).not.toContain("wrong magic");
  });
});

describe("hashset export (item 15)", () => {
  it("writes no withdrawn entry in any format, and says how many it left out", async () => {
    const [keep, gone] = [md5("keep"), md5("gone")];
    const lines = [
      { type: "entry", algorithm: "md5", hash: keep, list: "w", id: "k" },
      { type: "entry", algorithm: "md5", hash: gone, list: "w", id: "g" },
      { type: "withdrawal", algorithm: "md5", hash: gone, list: "w" },
    ];
    writeFileSync(out("w.ndjson"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
    expect((await phmatch(["hashset", "import", out("w.ndjson"), "--list-id", "w", "-o", out("w.phs")])).code).toBe(0);
    const csv = await phmatch(["hashset", "export", out("w.phs"), "--format", "csv"]);
    expect(csv.stdout.trim().split("\n")).toEqual(["algorithm,hash,list,id,category", `md5,${keep},w,k,`]);
    expect(csv.stderr).toContain("exported 1 entries; left out 1 withdrawn entries");
    const nd = await phmatch(["hashset", "export", out("w.phs")]);
    const ndLines = nd.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Line);
    expect(ndLines.filter((l) => l.type === "entry").map((l) => l.hash)).toEqual([keep]);
    expect(ndLines.filter((l) => l.type === "withdrawal").map((l) => l.hash)).toEqual([gone]);
    expect(nd.stderr).toContain("left out 1 withdrawn entries; their withdrawals are exported");
  });
});

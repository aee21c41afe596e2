// File names that are not valid UTF-8 (common on seized media) survive into records byte for byte, stay distinct
// even when their readable forms collide, are hashed (found by their exact bytes), and resume correctly. Every
// scan report format (NDJSON, CSV, VICS) writes them escaped one way (%XX for bytes outside UTF-8, %25 for %),
// with their bytes beside them, and says so itself.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PATH_ESCAPE, unescapeReportPath } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures, readTsv } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { runCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-names-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tree = join(work, "tree");
mkdirSync(tree);
// Two names whose readable forms collide: "fo\uFFFD.jpg" for both.
const names = [
  Buffer.from([0x66, 0x6f, 0xff, 0x2e, 0x6a, 0x70, 0x67]),
  Buffer.from([0x66, 0x6f, 0xfe, 0x2e, 0x6a, 0x70, 0x67]),
];
for (const name of names)
  writeFileSync(Buffer.concat([Buffer.from(tree + "/"), name]), readFileSync(fixtures("images/texture.jpg")));
writeFileSync(join(tree, "plain.png"), readFileSync(fixtures("images/shapes.png")));
const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state") });
const texturePdq = readTsv(fixtures("golden-hashes.tsv")).find((r) => r.file === "texture.jpg")?.pdq;

describe("non-UTF-8 file names", () => {
  it("phmatch hash keeps them byte for byte (pathBytes) and hashes the files", async () => {
    const r = await runCli(["hash", tree], { env });
    expect(r.status).toBe(0);
    const records = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { path: string; pathBytes?: string; hashes: { pdq: string } });
    const odd = records.filter((x) => x.pathBytes !== undefined);
    expect(odd.map((x) => Buffer.from(x.pathBytes as string, "base64"))).toEqual(
      names.map((n) => Buffer.concat([Buffer.from(tree + "/"), n])).sort(Buffer.compare),
    );
    for (const x of odd) {
      expect(x.path).toBe(`${tree}/fo\uFFFD.jpg`);
      expect(x.hashes.pdq).toBe(texturePdq);
    }
    expect(records.find((x) => x.path.endsWith("plain.png"))?.pathBytes).toBeUndefined();
  });

  it("scan reports each once, with size and bytes, and --resume tells the colliding names apart", async () => {
    const args = (out: string, resume: boolean) => [
      "scan",
      tree,
      "--hashset",
      fixtures("hashsets/demo.phs"),
      "-o",
      out,
      "-q",
      "-j",
      "1",
      ...(resume ? ["--resume"] : []),
    ];
    const full = join(work, "full.ndjson");
    await runCli(args(full, false), { env });
    const files = (report: string) =>
      readFileSync(report, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.type === "file");
    const expected = files(full);
    expect(expected.filter((f) => f.pathBytes !== undefined)).toHaveLength(2);
    expect(
      expected.every(
        (f) =>
          f.size ===
          readFileSync(fixtures(String(f.path).endsWith("plain.png") ? "images/shapes.png" : "images/texture.jpg"))
            .length,
      ),
    ).toBe(true);
    // Simulate a kill right after the first odd name: keep the header and the first file line, then resume.
    const partial = join(work, "partial.ndjson");
    const lines = readFileSync(full, "utf8").split("\n");
    writeFileSync(partial, lines.slice(0, 2).join("\n") + "\n" + lines[2]?.slice(0, 10));
    await runCli(args(partial, true), { env });
    expect(files(partial)).toEqual(expected);
  });

  describe("escaped alike in NDJSON, CSV and VICS reports, each saying how", () => {
    // Known images: two names that print alike as "a\uFFFD.png" (bytes 0xFF, 0xFE), a name with a plain % in a
    // name that is not UTF-8, and (another image) a UTF-8 name that reads like the first one's escape.
    const dir = join(work, "escape");
    mkdirSync(dir);
    const odd = [
      Buffer.from("a\xff.png", "latin1"),
      Buffer.from("a\xfe.png", "latin1"),
      Buffer.from("b%\xe9.png", "latin1"),
    ];
    const plain = "a%FF.png";
    for (const name of odd)
      writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), name]), readFileSync(fixtures("images/shapes.png")));
    writeFileSync(join(dir, plain), readFileSync(fixtures("images/texture.jpg")));
    const full = (name: Buffer) => Buffer.concat([Buffer.from(`${dir}/`), name]);
    const scan = (format: string) =>
      runCli(["scan", dir, "--hashset", fixtures("hashsets/demo.phs"), "--format", format, "-q", "-j", "1"], { env });
    // A report's (path, bytes) pairs: the bytes a reader recovers by the rule the report states.
    const recovered = (pairs: [string, string | undefined][]) =>
      pairs.map(([path, bytes]) =>
        bytes === undefined || bytes === "" ? Buffer.from(path) : unescapeReportPath(path),
      );
    const expected = [...odd.map(full), Buffer.from(`${dir}/${plain}`)].sort(Buffer.compare);

    it("NDJSON: escaped paths that differ, the exact bytes beside them, the rule in the header", async () => {
      const lines = (await scan("ndjson")).stdout
        .trim()
        .split("\n")
        .map(
          (l) =>
            JSON.parse(l) as {
              type: string;
              path: string;
              pathBytes?: string;
              duplicateOf?: string;
              duplicateOfBytes?: string;
              walk?: { paths: string };
            },
        );
      expect(lines[0]?.walk?.paths).toBe(PATH_ESCAPE);
      const files = lines.filter((l) => l.type === "file");
      expect(files.map((f) => f.path.slice(dir.length + 1))).toEqual([
        "a%FF.png",
        "a%FE.png",
        "a%FF.png",
        "b%25%E9.png",
      ]);
      expect(files.map((f) => f.pathBytes === undefined)).toEqual([true, false, false, false]);
      expect(recovered(files.map((f) => [f.path, f.pathBytes]))).toEqual(expected);
      for (const f of files.filter((x) => x.pathBytes !== undefined))
        expect(unescapeReportPath(f.path)).toEqual(Buffer.from(f.pathBytes as string, "base64"));
      // A copy's duplicateOf names the first copy as unambiguously.
      expect(files[2]).toMatchObject({ duplicateOf: files[1]?.path, duplicateOfBytes: files[1]?.pathBytes });
    });

    it("CSV: the same escaped path, and its bytes in path_bytes_base64", async () => {
      const [head, ...rows] = (await scan("csv")).stdout.trim().split("\n");
      const columns = (head as string).split(",");
      expect(columns.slice(0, 1).concat(columns.filter((c) => c.endsWith("_base64")))).toEqual([
        "path",
        "path_bytes_base64",
        "link_target_bytes_base64",
        "duplicate_of_bytes_base64",
      ]);
      const pairs = rows
        .map((row) => row.split(","))
        .map((cells) => [cells[0], cells[columns.indexOf("path_bytes_base64")]] as [string, string]);
      expect(new Set(pairs.map(([p, b]) => `${p} ${b}`)).size).toBe(4);
      expect(pairs.map(([p]) => p.slice(dir.length + 1))).toEqual(["a%FF.png", "a%FE.png", "a%FF.png", "b%25%E9.png"]);
      expect(recovered(pairs)).toEqual(expected);
    });

    it("VICS: the same escaped RelativeFilePath, its bytes in an annotation, the rule at the root", async () => {
      const vics = JSON.parse((await scan("vics")).stdout) as {
        "@phmatch.pathEscape": string;
        value: Record<string, string>[];
      };
      expect(vics["@phmatch.pathEscape"]).toBe(PATH_ESCAPE);
      expect(vics.value.map((m) => m.FileName)).toEqual(["a%FF.png", "a%FE.png", "a%FF.png", "b%25%E9.png"]);
      expect(
        recovered(vics.value.map((m) => [m.RelativeFilePath as string, m["RelativeFilePath@phmatch.pathBytes"]])),
      ).toEqual(expected);
    });
  });
});

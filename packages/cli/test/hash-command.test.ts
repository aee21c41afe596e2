// `phmatch hash` as a user runs it: the built binary, its output, its exit codes.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { hashRecordSchema } from "@phmatch/core";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { conformanceDir, fixtures, hasConformance, readTsv, skipReason } from "../../../test/support/conformance.js";
import { type CliOptions, type CliResult, runCli, spawnCli } from "./support/run-cli.js";

const validate = new Ajv2020({ strict: true }).compile(hashRecordSchema());

async function phmatch(args: string[], options: CliOptions = {}) {
  return withLines(await runCli(args, options));
}

function withLines(result: CliResult) {
  const lines = result.stdout.split("\n").filter((l) => l.length > 0);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, lines };
}

describe("phmatch hash", () => {
  it("prints one valid NDJSON record per image of a directory and exits 0", async () => {
    const { code, lines, stderr } = await phmatch(["hash", "test-fixtures/images"]);
    const names = readdirSync(fixtures("images")).sort();
    expect(code).toBe(0);
    expect(lines).toHaveLength(names.length);
    const records = lines.map((l) => JSON.parse(l) as { path: string; hashes: { pdq: string }; dihedral?: unknown });
    expect(records.map((r) => r.path)).toEqual(names.map((n) => `test-fixtures/images/${n}`));
    for (const record of records) {
      expect(validate(record)).toBe(true);
      expect(record.hashes.pdq).toMatch(/^[0-9a-f]{64}$/);
      expect(record.dihedral).toBeUndefined();
    }
    expect(stderr).toContain(`${names.length} of ${names.length} files hashed`);
  });

  it(
    "adds the 8 dihedral variants with --dihedral; a rotated copy's hash is its original's rotate90 variant, " +
      "near enough to match",
    async () => {
      const { lines } = await phmatch([
        "hash",
        "--dihedral",
        "test-fixtures/images/shapes.png",
        "test-fixtures/images/shapes-rotate90.png",
      ]);
      const [original, rotated] = lines.map(
        (l) => JSON.parse(l) as { hashes: { pdq: string }; dihedral: { pdq: string[] } },
      );
      expect(original?.dihedral.pdq).toHaveLength(8);
      const bits = (a: string, b: string) =>
        [...Buffer.from(a, "hex")].reduce(
          (n, x, i) => n + (x ^ (Buffer.from(b, "hex")[i] as number)).toString(2).replaceAll("0", "").length,
          0,
        );
      // rotate90 of the DCT is a counter-clockwise turn; sharp's rotate(90) is clockwise, i.e. rotate270.
      expect(bits(original?.dihedral.pdq[3] as string, rotated?.hashes.pdq as string)).toBeLessThanOrEqual(31);
      expect(bits(original?.hashes.pdq as string, rotated?.hashes.pdq as string)).toBeGreaterThan(31);
    },
  );

  it("goes on after bad files, reports each with its code, and exits 2", async () => {
    const { code, lines, stderr } = await phmatch([
      "hash",
      "test-fixtures/bad/truncated.jpg",
      "test-fixtures/images/texture.jpg",
      "test-fixtures/bad/empty.jpg",
      "test-fixtures/bad/vector.svg",
      "test-fixtures/images/shapes.png",
    ]);
    expect(code).toBe(2);
    const records = lines.map((l) => JSON.parse(l) as { error?: { code: string }; hashes?: unknown });
    expect(records.map((r) => r.error?.code ?? "ok")).toEqual([
      "PHM_DECODE_TRUNCATED",
      "ok",
      "PHM_DECODE_EMPTY",
      "PHM_DECODE_VECTOR",
      "ok",
    ]);
    expect(stderr).toMatch(/2 of 5 files hashed, 3 failed/);
  });

  // Spawned: libheif writes to the process's file descriptor 1, which an in-process run would not see.
  it("keeps stdout to records only, even when a decoder library logs (libheif on a truncated HEIC)", () => {
    const { code, stdout } = withLines(
      spawnCli(["hash", "test-fixtures/bad/truncated.heic", "test-fixtures/images/shapes.heic"]),
    );
    expect(code).toBe(2);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(validate(JSON.parse(line))).toBe(true);
  });

  it("reads paths from stdin with --paths-from -", async () => {
    const { code, lines } = await phmatch(["hash", "--paths-from", "-"], {
      input: "test-fixtures/images/texture.jpg\ntest-fixtures/images/shapes.png\n",
    });
    expect(code).toBe(0);
    expect(lines.map((l) => (JSON.parse(l) as { path: string }).path)).toEqual([
      "test-fixtures/images/texture.jpg",
      "test-fixtures/images/shapes.png",
    ]);
  });

  it(
    "computes every algorithm with --algorithms all, in one record per file, " + "digests even for a non-image",
    async () => {
      const { code, lines } = await phmatch([
        "hash",
        "--algorithms",
        "all",
        "test-fixtures/images/texture.jpg",
        "test-fixtures/bad/not-an-image.jpg",
      ]);
      expect(code).toBe(2);
      const [image, text] = lines.map(
        (l) => JSON.parse(l) as { hashes: Record<string, string>; error?: { code: string } },
      );
      expect(Object.keys(image?.hashes ?? {})).toEqual([
        "pdq",
        "phash",
        "dhash",
        "ahash",
        "whash",
        "phash16",
        "dhash16",
        "ahash16",
        "whash16",
        "blockhash",
        "blockhash8",
        "md5",
        "sha1",
        "sha256",
      ]);
      expect(Object.keys(text?.hashes ?? {})).toEqual(["md5", "sha1", "sha256"]);
      expect(text?.error?.code).toBe("PHM_DECODE_UNSUPPORTED");
      for (const line of lines) expect(validate(JSON.parse(line))).toBe(true);
    },
  );

  it("prints one TSV column per algorithm", async () => {
    const { lines } = await phmatch(["hash", "-f", "tsv", "-a", "pdq,phash,md5", "test-fixtures/images/texture.jpg"]);
    expect(lines[0]).toBe("path\tpdq_quality\tpdq\tphash\tmd5\terror");
    expect(lines[1]?.split("\t")).toHaveLength(6);
  });

  it.each([
    [["hash", "--algorithms", "photodna", "x.jpg"], /photodna cannot be computed/],
    [["hash", "--bogus", "x.jpg"], /unknown option/],
    [["hash", "--algorithms", "md6", "x.jpg"], /unknown algorithm "md6"/],
    [["hash", "--mode", "quick", "x.jpg"], /Allowed choices are exact, fast/],
    [["hash"], /no input/],
    [["hash", "--jobs", "0", "x.jpg"], /positive integer/],
  ])("exits 64 on a usage error: %j", async (args, message) => {
    const { code, stderr, stdout } = await phmatch(args);
    expect(code).toBe(64);
    expect(stderr).toMatch(message);
    expect(stdout).toBe("");
  });

  it("prints the version and help with exit 0", async () => {
    expect((await phmatch(["--version"])).code).toBe(0);
    const help = await phmatch(["hash", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--dihedral");
  });
});

describe.skipIf(!hasConformance)(
  `phmatch hash --dihedral --format tsv reproduces the reference TSV (${hasConformance ? "" : skipReason})`,
  () => {
    it("row for row, CMYK.jpg (decoder-dependent) aside", async () => {
      const dir = join(conformanceDir, "pdq");
      const reference = readFileSync(join(dir, "pdq-dihedral-fullres.tsv"), "utf8").trimEnd().split("\n").slice(1);
      const files = readTsv(join(dir, "pdq-dihedral-fullres.tsv")).map((r) => r.file as string);
      const { code, lines } = await phmatch(["hash", "--dihedral", "--format", "tsv", "--paths-from", "-"], {
        cwd: dir,
        input: files.join("\n"),
      });
      expect(code).toBe(0);
      expect(lines[0]).toBe(
        "path\tpdq_quality\tpdq_original\tpdq_rotate90\tpdq_rotate180\tpdq_rotate270\t" +
          "pdq_flipx\tpdq_flipy\tpdq_flipplus1\tpdq_flipminus1\terror",
      );
      const ours = lines.slice(1).map((l) => l.split("\t").slice(0, 10).join("\t"));
      expect(ours).toHaveLength(reference.length);
      const differing = ours.flatMap((row, i) => (row === reference[i] ? [] : [files[i]]));
      expect(differing).toEqual(["upstream-data/misc-images/modes/CMYK.jpg"]);
    });
  },
);

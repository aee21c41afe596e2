// `phmatch hashset ...` as a user runs it: import with detection and a report, build from images, info,
// keygen/sign/verify with exit 3 on tampering, rollback refusal, encryption, diff, export, merge, overrides.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures, readTsv } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { runCli } from "./support/run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "phmatch-cli-hashset-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = cleanEnv({ PHMATCH_STATE_DIR: join(dir, "state") });

async function phmatch(args: string[], extraEnv: Record<string, string> = {}) {
  const r = await runCli(args, { env: { ...env, ...extraEnv } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, lines: r.stdout.split("\n").filter((l) => l !== "") };
}
const out = (name: string) => join(dir, name);

describe("phmatch hashset", () => {
  it("imports with format detection and a report naming every bad line; exit 2 when lines were invalid", async () => {
    const r = await phmatch([
      "hashset",
      "import",
      fixtures("hashsets/pytx/signals.txt"),
      "--list-id",
      "te",
      "-o",
      out("te.phs"),
      "--report",
      out("te.json"),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("format pytx");
    expect(r.stderr).toContain('signals.txt:3: unrecognised hash type "url"');
    const report = JSON.parse(readFileSync(out("te.json"), "utf8")) as {
      imported: number;
      invalid: number;
      problems: { line: number }[];
    };
    expect([report.imported, report.invalid, report.problems.map((p) => p.line)]).toEqual([3, 4, [3, 4, 6, 8]]);
  });

  it("--strict refuses the file at its first invalid line", async () => {
    const r = await phmatch([
      "hashset",
      "import",
      fixtures("hashsets/pytx/signals.txt"),
      "--list-id",
      "te",
      "--strict",
      "-o",
      out("strict.phs"),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/PHM_HASHSET_PARSE: .*signals\.txt:3/);
  });

  it("builds a list from images whose PDQ entries equal the golden hashes, and info describes it", async () => {
    const build = await phmatch([
      "hashset",
      "build",
      "test-fixtures/images/shapes.png",
      "test-fixtures/images/texture.jpg",
      "--list-id",
      "mine",
      "--category",
      "test",
      "-o",
      out("mine.phs"),
    ]);
    expect(build.code).toBe(0);
    const exported = (await phmatch(["hashset", "export", out("mine.phs")])).lines.map(
      (l) => JSON.parse(l) as { type: string; algorithm?: string; hash?: string; id?: string; category?: string },
    );
    const golden = readTsv(fixtures("golden-hashes.tsv"));
    const pdq = exported.filter((e) => e.algorithm === "pdq").map((e) => [e.id, e.hash, e.category]);
    expect(pdq).toEqual([
      // Ids are relative to the build root (the directory holding both), never the paths as typed.
      ["shapes.png", golden.find((g) => g.file === "shapes.png")?.pdq, "test"],
      ["texture.jpg", golden.find((g) => g.file === "texture.jpg")?.pdq, "test"],
    ]);
    const info = await phmatch(["hashset", "info", out("mine.phs")]);
    expect(info.stdout).toContain("list mine version 1");
    expect(info.stdout).toContain("8 entries: md5 2, pdq 2, phash16 2, sha1 2");
  });

  it(
    "--augment stores sub-window hashes as variants of the entry, " + "so a crop matches and says which window",
    async () => {
      expect(
        (
          await phmatch([
            "hashset",
            "build",
            "test-fixtures/images/shapes.png",
            "--list-id",
            "aug",
            "--augment",
            "-o",
            out("aug.phs"),
          ])
        ).code,
      ).toBe(0);
      expect(
        (
          await phmatch([
            "hashset",
            "build",
            "test-fixtures/images/shapes.png",
            "--list-id",
            "plain",
            "-o",
            out("plain.phs"),
          ])
        ).code,
      ).toBe(0);
      const info = await phmatch(["hashset", "info", out("aug.phs")]);
      // the image, its 65 windows (45 crops, 12 one-sided cuts, 8 parts) and its 4 masked parts
      expect(info.stdout).toContain("142 entries: md5 1, pdq 70, phash16 70, sha1 1");
      writeFileSync(
        out("crop5.ndjson"),
        (await phmatch(["hash", "--dihedral", "test-fixtures/images/shapes-crop5.png"])).stdout,
      );
      const matchWith = async (list: string) =>
        JSON.parse((await phmatch(["match", "--hashset", out(list), out("crop5.ndjson")])).stdout) as {
          status: string;
          matches: { entryId: string; window?: string; distance: number }[];
        };
      expect((await matchWith("plain.phs")).status).toBe("unseen"); // PDQ alone misses this 5%-area crop (32 bits > 31)
      const augmented = await matchWith("aug.phs");
      expect(augmented.status).toBe("known");
      expect(augmented.matches).toEqual([
        expect.objectContaining({ entryId: "shapes.png", window: expect.stringMatching(/^centre-/) }),
      ]);
    },
  );

  it("signs and verifies; a flipped byte, a missing signature or an untrusted key exits 3", async () => {
    expect((await phmatch(["hashset", "keygen", "--private", out("k.pem"), "--public", out("k.pub")])).code).toBe(0);
    expect(
      (await phmatch(["hashset", "keygen", "--private", out("other.pem"), "--public", out("other.pub")])).code,
    ).toBe(0);
    expect((await phmatch(["hashset", "sign", out("mine.phs"), "--key", out("k.pem")])).code).toBe(0);
    expect(await phmatch(["hashset", "verify", out("mine.phs"), "--trusted-keys", out("k.pub")])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining("OK, signed by key"),
    });
    expect(await phmatch(["hashset", "verify", out("mine.phs"), "--trusted-keys", out("other.pub")])).toMatchObject({
      code: 3,
      stderr: expect.stringContaining("PHM_HASHSET_SIGNATURE"),
    });
    expect(await phmatch(["hashset", "verify", out("te.phs"), "--trusted-keys", out("k.pub")])).toMatchObject({
      code: 3,
      stderr: expect.stringContaining("not signed"),
    });
    const bytes = readFileSync(out("mine.phs"));
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = (bytes[middle] as number) ^ 0x10;
    writeFileSync(out("tampered.phs"), bytes);
    writeFileSync(out("tampered.phs.sig"), readFileSync(out("mine.phs.sig")));
    expect(await phmatch(["hashset", "verify", out("tampered.phs"), "--trusted-keys", out("k.pub")])).toMatchObject({
      code: 3,
      stderr: expect.stringContaining("PHM_HASHSET_SIGNATURE"),
    });
    // Trusted keys from the environment apply to every command that loads a list.
    expect(
      (
        await phmatch(["hashset", "info", out("tampered.phs")], {
          PHMATCH_TRUSTED_KEYS: readFileSync(out("k.pub"), "utf8"),
        })
      ).code,
    ).toBe(3);
  });

  it(
    "refuses to load an older release of a list than one already loaded (exit 3) " + "unless --allow-rollback",
    async () => {
      const text = fixtures("hashsets/text/md5-list.txt");
      await phmatch([
        "hashset",
        "import",
        text,
        "--algorithm",
        "md5",
        "--list-id",
        "roll",
        "--list-version",
        "5",
        "-o",
        out("roll5.phs"),
      ]);
      await phmatch([
        "hashset",
        "import",
        text,
        "--algorithm",
        "md5",
        "--list-id",
        "roll",
        "--list-version",
        "4",
        "-o",
        out("roll4.phs"),
      ]);
      // Commands that match record and check the state (here PHMATCH_STATE_DIR); info reads lists and never does.
      expect((await phmatch(["match", "--hashset", out("roll5.phs")])).code).toBe(0);
      expect(await phmatch(["match", "--hashset", out("roll4.phs")])).toMatchObject({
        code: 3,
        stderr: expect.stringContaining("PHM_HASHSET_ROLLBACK"),
      });
      expect((await phmatch(["match", "--hashset", out("roll4.phs"), "--allow-rollback"])).code).toBe(0);
      expect((await phmatch(["hashset", "info", out("roll4.phs")])).code).toBe(0);
    },
  );

  it("encrypts with a key from the environment and opens only with it", async () => {
    const key = "ab".repeat(32);
    expect(
      (
        await phmatch(
          [
            "hashset",
            "import",
            fixtures("hashsets/ncmec/list.xml"),
            "--list-id",
            "conf",
            "-o",
            out("conf.phs"),
            "--encrypt",
          ],
          { PHMATCH_LIST_KEY: key },
        )
      ).code,
    ).toBe(0);
    expect(await phmatch(["hashset", "info", out("conf.phs")])).toMatchObject({
      code: 3,
      stderr: expect.stringContaining("PHM_HASHSET_KEY"),
    });
    expect((await phmatch(["hashset", "info", out("conf.phs")], { PHMATCH_LIST_KEY: key })).stdout).toContain(
      "encrypted: yes",
    );
  });

  it("diffs two releases, merges lists keeping provenance, and round-trips CSV export", async () => {
    const diff = await phmatch(["hashset", "diff", out("te.phs"), out("mine.phs")]);
    expect(diff.stderr).toContain("8 added, 3 withdrawn");
    expect((await phmatch(["hashset", "merge", out("te.phs"), out("mine.phs"), "-o", out("merged.phs")])).code).toBe(0);
    const lists = (
      JSON.parse((await phmatch(["hashset", "export", out("merged.phs")])).lines[0] as string) as {
        lists: { listId: string }[];
      }
    ).lists.map((l) => l.listId);
    expect(lists).toEqual(["te", "mine"]);
    const csv = await phmatch(["hashset", "export", out("mine.phs"), "--format", "csv", "-o", out("mine.csv")]);
    expect(csv.code).toBe(0);
    expect(
      (await phmatch(["hashset", "import", out("mine.csv"), "--list-id", "mine", "-o", out("mine2.phs")])).code,
    ).toBe(0);
    expect((await phmatch(["hashset", "export", out("mine2.phs")])).lines.slice(1)).toEqual(
      (await phmatch(["hashset", "export", out("mine.phs")])).lines.slice(1),
    );
  });

  it("phmatch hash | phmatch match: one result per input line, carrying its path", async () => {
    const hashed = await runCli(
      ["hash", "-q", "--dihedral", "-a", "pdq,md5", "test-fixtures/images", "test-fixtures/bad/empty.jpg"],
      { env },
    );
    const input = hashed.stdout + "this is not json\n";
    const r = await runCli(["match", "--hashset", out("mine.phs")], { env, input });
    expect(r.status).toBe(2); // the one invalid line
    const results = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { path: string; status: string; matches: { entryId?: string; variant?: string }[] });
    expect(results).toHaveLength(hashed.stdout.trim().split("\n").length + 1);
    const byPath = Object.fromEntries(results.map((x) => [x.path, x]));
    expect(byPath["test-fixtures/images/shapes.png"]?.status).toBe("known");
    expect(byPath["test-fixtures/images/shapes-rotate90.png"]?.matches[0]).toMatchObject({
      entryId: "shapes.png",
      variant: "rotate90",
    });
    expect(byPath["test-fixtures/images/texture-grey.png"]?.status).toBe("unseen");
    expect(byPath["test-fixtures/images/tiny-4x4.png"]?.status).toBe("low_quality");
    expect(byPath["test-fixtures/bad/empty.jpg"]?.status).toBe("error");
    expect(results.at(-1)).toMatchObject({ status: "error", error: { code: "PHM_MATCH_INPUT" } });
  });

  it("records overrides beside the list with who and why, lists and removes them", async () => {
    const hash = "cd".repeat(16);
    expect(
      (
        await phmatch([
          "hashset",
          "override",
          "add",
          out("te.phs"),
          "--action",
          "disable",
          "--algorithm",
          "md5",
          "--hash",
          hash,
          "--who",
          "reviewer",
          "--why",
          "appeal 7 upheld",
        ])
      ).code,
    ).toBe(0);
    expect(
      (
        await phmatch([
          "hashset",
          "override",
          "add",
          out("te.phs"),
          "--action",
          "allow",
          "--algorithm",
          "md5",
          "--hash",
          "12",
          "--who",
          "x",
          "--why",
          "y",
        ])
      ).code,
    ).toBe(64);
    expect((await phmatch(["hashset", "override", "list", out("te.phs")])).stdout).toContain('"why":"appeal 7 upheld"');
    expect((await phmatch(["hashset", "override", "remove", out("te.phs"), "0"])).code).toBe(0);
    expect((await phmatch(["hashset", "override", "list", out("te.phs")])).stdout).toContain("no overrides");
  });
});

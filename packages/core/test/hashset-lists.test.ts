// What goes into a list and what comes out of it: degenerate values never listed nor looked up, lists that could
// match nothing refused, the store's record of what an import read, took and refused, exports that never show a
// withdrawn entry as listed, and typed errors for a missing list file or a list that was never imported.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  checkerFor,
  HashSetBuilder,
  type HashSetEntry,
  hasherSpec,
  hashFile,
  importHashSet,
  type LoadedHashSet,
  loadHashSet,
  Matcher,
  PhmatchError,
  parseStore,
  serializeStore,
} from "@phmatch/core";
import { degenerateValue, type ExportTally, exportCsv, exportNdjson } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const tmp = mkdtempSync(join(tmpdir(), "phmatch-lists-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string | Buffer) => {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
};
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, "hex"));
const digest = (algorithm: string, data: string) => createHash(algorithm).update(data).digest("hex");
const EMPTY = { md5: digest("md5", ""), sha1: digest("sha1", ""), sha256: digest("sha256", "") };
const loaded = (builder: HashSetBuilder, path = "t.phs"): LoadedHashSet => ({
  set: parseStore(serializeStore(builder), path),
  path,
  storeSha256: "",
  encrypted: false,
  overrides: [],
});

async function caught(promise: Promise<unknown> | (() => unknown)): Promise<PhmatchError> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    if (error instanceof PhmatchError) return error;
    throw error;
  }
  throw new Error("expected a PhmatchError");
}

describe("degenerate values (item 12)", () => {
  it(
    "are the digests of empty input, placeholders, and " + "what flat images hash to under the default policy",
    async () => {
      for (const [algorithm, hex] of Object.entries(EMPTY))
        expect(degenerateValue(algorithm, bytes(hex))).toContain("empty input");
      expect(degenerateValue("md5", new Uint8Array(16))).toContain("all zeros");
      expect(degenerateValue("sha1", new Uint8Array(20).fill(0xff))).toContain("all ones");
      expect(degenerateValue("md5", bytes(digest("md5", "a")))).toBeUndefined();
      // A flat image, hashed: the imagehash family and blockhash give all zeros (or ones) for it.
      const flat = await hashFile(fixtures("images/flat.png"), {
        algorithms: ["ahash", "dhash", "whash", "blockhash8", "pdq"],
      });
      for (const algorithm of ["ahash", "dhash", "whash", "blockhash8"])
        expect(degenerateValue(algorithm, bytes(flat.hashes?.[algorithm] as string)), algorithm).toBeDefined();
      const shapes = await hashFile(fixtures("images/shapes.png"), { algorithms: ["pdq", "phash", "dhash"] });
      for (const algorithm of ["pdq", "phash", "dhash"])
        expect(degenerateValue(algorithm, bytes(shapes.hashes?.[algorithm] as string)), algorithm).toBeUndefined();
      // The boundary is the algorithm's default distance: t bits from all zeros is degenerate, t + 1 is not.
      const t = hasherSpec("phash")?.defaultThreshold as number;
      const withBits = (n: number) =>
        bytes(
          BigInt.asUintN(64, (1n << BigInt(n)) - 1n)
            .toString(16)
            .padStart(16, "0"),
        );
      expect(degenerateValue("phash", withBits(t))).toContain(`within ${t} bits of all zeros`);
      expect(degenerateValue("phash", withBits(t + 1))).toBeUndefined();
      expect(degenerateValue("phash", bytes("ffffffffffffffff"))).toContain("all ones");
    },
  );

  it(
    "import refuses them, counts them apart from invalid " + "lines and lists each with its line, even with strict",
    async () => {
      const real = digest("md5", "listed");
      const list = file("with-empty.txt", `${EMPTY.md5}\n${"0".repeat(32)}\n${real}\n`);
      for (const strict of [false, true]) {
        const builder = new HashSetBuilder();
        const report = await importHashSet(builder, list, { listId: "L", algorithm: "md5", strict });
        expect([report.read, report.imported, report.invalid, report.degenerate]).toEqual([3, 1, 0, 2]);
        expect(report.refused).toEqual({ degenerate: 2 });
        expect(report.problems.map((p) => [p.line, p.reason])).toEqual([
          [1, expect.stringContaining("empty input")],
          [2, expect.stringContaining("all zeros")],
        ]);
        expect(
          [...parseStore(serializeStore(builder), "s").entries()].map((e) => Buffer.from(e.value).toString("hex")),
        ).toEqual([real]);
      }
    },
  );

  it(
    "the matcher never looks one up, so even an older store that " +
      "lists the empty file's MD5 cannot call an empty file known",
    async () => {
      const old = new HashSetBuilder();
      old.addList({ listId: "old", version: 1 });
      // as a build before this fix did
      old.addEntry({ algorithm: "md5", value: bytes(EMPTY.md5), listId: "old", entryId: "empty" });
      old.addEntry({ algorithm: "md5", value: bytes(digest("md5", "x")), listId: "old", entryId: "x" });
      const matcher = new Matcher([loaded(old)]);
      const empty = matcher.match({ path: "upload", hashes: { md5: EMPTY.md5 } });
      expect(empty.status).toBe("unseen");
      expect(empty.matches).toEqual([]);
      expect(empty.checked).toEqual([]);
      expect(empty.notes).toEqual([expect.stringContaining("md5: not looked up: the md5 of empty input")]);
      // The same store still answers for a value that is not degenerate.
      expect(matcher.match({ path: "x", hashes: { md5: digest("md5", "x") } }).status).toBe("known");
      // A flat image's hash is not looked up either: too featureless to decide, never "unseen" nor "known".
      const flat = old.addEntry({ algorithm: "dhash", value: new Uint8Array(8), listId: "old", entryId: "flat" });
      expect(flat).toBe(true);
      const flatResult = new Matcher([loaded(old)]).match({ path: "flat", hashes: { dhash: "0000000000000000" } });
      expect([flatResult.status, flatResult.matches]).toEqual(["low_quality", []]);
    },
  );
});

describe("lists that can match nothing (item 13)", () => {
  const store = (entries: HashSetEntry[], withdrawIds: string[] = []) => {
    const b = new HashSetBuilder();
    b.addList({ listId: "L", version: 1 });
    for (const e of entries) b.addEntry(e);
    for (const id of withdrawIds) b.addWithdrawal({ listId: "L", entryId: id });
    return loaded(b);
  };
  const md5Entry = (id: string): HashSetEntry => ({
    algorithm: "md5",
    value: bytes(digest("md5", id)),
    listId: "L",
    entryId: id,
  });

  it(
    "are refused with PHM_HASHSET_EMPTY: no entries, none " + "of the algorithms computed, or every entry withdrawn",
    async () => {
      expect((await caught(() => new Matcher([store([])]).requireMatchable(["pdq", "sha256"]))).code).toBe(
        "PHM_HASHSET_EMPTY",
      );
      const onlyMd5 = new Matcher([store([md5Entry("a")])]);
      expect(onlyMd5.matchable(["pdq", "sha256"])).toEqual([]);
      expect((await caught(() => onlyMd5.requireMatchable(["pdq", "sha256"]))).message).toContain("they hold md5 1");
      expect(onlyMd5.matchable(["md5"])).toEqual(["md5"]);
      const withdrawn = new Matcher([store([md5Entry("a"), md5Entry("b")], ["a", "b"])]);
      expect(withdrawn.matchable(["md5"])).toEqual([]);
      expect((await caught(() => withdrawn.requireMatchable(["md5"]))).message).toContain(
        "every md5 entry they hold is withdrawn",
      );
      // One entry left standing is enough.
      expect(new Matcher([store([md5Entry("a"), md5Entry("b")], ["a"])]).matchable(["md5"])).toEqual(["md5"]);
    },
  );

  it("a checker (serve, the API) refuses them with PHM_HASHSET_EMPTY", async () => {
    expect((await caught(() => checkerFor([store([])]))).code).toBe("PHM_HASHSET_EMPTY");
    expect((await caught(() => checkerFor([store([md5Entry("a")], ["a"])]))).code).toBe("PHM_HASHSET_EMPTY");
    expect(checkerFor([store([md5Entry("a")])]).algorithms).toEqual(["md5"]);
  });
});

describe("what a store records of how it was made (item 14)", () => {
  const md5s = ["a", "b", "c"].map((s) => digest("md5", s));

  it(
    "an import records the file as given, its SHA-256 and " + "size, what it read, took and refused, and how it ended",
    async () => {
      // Cut off in the middle of the last row's category: the row still parses, so only the ending tells.
      const text = `algorithm,hash,category\nmd5,${md5s[0]},A1\nmd5,nothex,A1\nmd5,${md5s[1]},B`;
      const path = file("cut.csv", text);
      const builder = new HashSetBuilder();
      const report = await importHashSet(builder, path, { listId: "L" });
      expect([report.ending, report.endingProblem?.line]).toEqual(["unterminated", 4]);
      const set = parseStore(serializeStore(builder), "cut.phs");
      expect(set.header.provenance).toEqual([
        {
          step: "import",
          at: expect.any(String),
          by: expect.stringMatching(/^phmatch /),
          lists: ["L"],
          input: {
            file: path,
            sha256: digest("sha256", text),
            bytes: Buffer.byteLength(text),
            format: "csv",
            detectedBy: expect.any(String),
            ending: "unterminated",
          },
          strict: false,
          read: 3,
          taken: 2,
          withdrawals: 0,
          duplicate: 0,
          refused: { invalid: 1 },
        },
      ]);
      // Strict refuses an input that may be incomplete; the same bytes with their line end import cleanly.
      const cutClean = file("cut-clean.csv", `algorithm,hash,category\nmd5,${md5s[0]},A1\nmd5,${md5s[1]},B`);
      expect(
        (await caught(importHashSet(new HashSetBuilder(), cutClean, { listId: "L", strict: true }))).message,
      ).toContain("cut-clean.csv:3: the file ends without a line end");
      const whole = await importHashSet(new HashSetBuilder(), file("whole.csv", `algorithm,hash\nmd5,${md5s[2]}\n`), {
        listId: "L",
        strict: true,
      });
      expect([whole.ending, whole.source?.bytes]).toEqual(["complete", 52]);
    },
  );

  it("a document cut short is recorded as truncated", async () => {
    const builder = new HashSetBuilder();
    const report = await importHashSet(builder, fixtures("hashsets/vics/truncated.json"), { listId: "V" });
    expect(report.ending).toBe("truncated");
    expect(parseStore(serializeStore(builder), "v.phs").header.provenance?.[0]?.input?.ending).toBe("truncated");
  });

  it(
    "is checked at load: a store without it loads, one " + "whose record is not what phmatch writes is refused",
    async () => {
      const b = new HashSetBuilder();
      b.addList({ listId: "L", version: 1 });
      b.addEntry({ algorithm: "md5", value: bytes(md5s[0] as string), listId: "L" });
      expect(parseStore(serializeStore(b), "old.phs").header.provenance).toBeUndefined();
      b.provenance.push({
        step: "import",
        at: "2026-01-01T00:00:00Z",
        by: `phmatch ${"x".repeat(200)}`,
        lists: ["L"],
        read: 1,
        taken: 1,
        withdrawals: 0,
        duplicate: 0,
        refused: {},
      });
      const good = serializeStore(b);
      expect(parseStore(good, "new.phs").header.provenance?.[0]?.taken).toBe(1);
      expect(
        parseStore(
          withProvenance(good, () => undefined),
          "resealed.phs",
        ).header.provenance?.[0]?.by,
      ).toBe("phmatch"); // the helper alone breaks nothing
      for (const [change, why] of [
        [(p: Record<string, unknown>) => (p.taken = -1), '"taken" that is not a whole number'],
        [(p: Record<string, unknown>) => (p.step = "copy"), '"step"'],
        [(p: Record<string, unknown>) => (p.refused = { invalid: "many" }), '"refused"'],
        [
          (p: Record<string, unknown>) =>
            (p.input = { file: "x", sha256: "no", bytes: 1, format: "csv", detectedBy: "", ending: "complete" }),
          '"sha256"',
        ],
        [
          (p: Record<string, unknown>) =>
            (p.input = { file: "x", sha256: "0".repeat(64), bytes: 1, format: "csv", detectedBy: "", ending: "fine" }),
          '"ending"',
        ],
      ] as const) {
        const error = await caught(() => parseStore(withProvenance(good, change), "bad.phs"));
        expect([error.code, error.message]).toEqual(["PHM_HASHSET_FORMAT", expect.stringContaining(why)]);
      }
    },
  );
});

// The store's bytes with its first provenance record changed and the header length and trailer made right again
// (anyone can write a trailer: the header checks are what stand).
function withProvenance(store: Buffer, change: (record: Record<string, unknown>) => void): Buffer {
  const length = store.readUInt32LE(8);
  const header = JSON.parse(store.subarray(12, 12 + length).toString("utf8")) as {
    provenance: Record<string, unknown>[];
  };
  const record = header.provenance[0] as Record<string, unknown>;
  record.by = "phmatch"; // room for the change
  change(record);
  const text = Buffer.from(JSON.stringify(header));
  // Pad to the same length so every section offset stays right.
  if (text.length > length) throw new Error("changed header is longer than the original");
  const padded = Buffer.concat([text, Buffer.alloc(length - text.length, 0x20)]);
  const body = Buffer.concat([store.subarray(0, 12), padded, store.subarray(12 + length, store.length - 32)]);
  return Buffer.concat([body, createHash("sha256").update(body).digest()]);
}

describe("exports (item 15)", () => {
  it(
    "no format writes a withdrawn entry: withdrawn by " + "value or by entry id, they are left out and counted",
    async () => {
      const b = new HashSetBuilder();
      b.addList({ listId: "L", version: 2 });
      const values = ["keep", "by-value", "by-id"].map((s) => digest("md5", s));
      for (const [i, hex] of values.entries())
        b.addEntry({ algorithm: "md5", value: bytes(hex), listId: "L", entryId: `e${i}`, category: "A" });
      b.addWithdrawal({ listId: "L", algorithm: "md5", value: bytes(values[1] as string) });
      b.addWithdrawal({ listId: "L", entryId: "e2" });
      const set = parseStore(serializeStore(b), "w.phs");
      const csvTally: ExportTally = { entries: 0, withdrawn: 0 };
      const csv = [...exportCsv(set, csvTally)];
      expect(csv).toEqual(["algorithm,hash,list,id,category", `md5,${values[0]},L,e0,A`]);
      expect(csvTally).toEqual({ entries: 1, withdrawn: 2 });
      const ndTally: ExportTally = { entries: 0, withdrawn: 0 };
      const nd = [...exportNdjson(set, ndTally)].map(
        (l) => JSON.parse(l) as { type: string; hash?: string; id?: string },
      );
      expect(nd.filter((l) => l.type === "entry").map((l) => l.hash)).toEqual([values[0]]);
      expect(nd.filter((l) => l.type === "withdrawal").map((l) => l.hash ?? l.id)).toEqual([values[1], "e2"]);
      expect(ndTally).toEqual({ entries: 1, withdrawn: 2 });
      // The NDJSON imports back into a store that matches exactly as the original does.
      const back = new HashSetBuilder();
      await importHashSet(back, file("w.ndjson", nd.map((l) => JSON.stringify(l)).join("\n") + "\n"), { listId: "L" });
      const matchers = [new Matcher([loaded(b)]), new Matcher([loaded(back)])];
      for (const hex of values)
        expect(matchers.map((m) => m.match({ path: hex, hashes: { md5: hex } }).status)).toEqual(
          hex === values[0] ? ["known", "known"] : ["unseen", "unseen"],
        );
    },
  );
});

describe("typed errors for list files (item 21)", () => {
  it(
    "a missing list file is PHM_FILE_NOT_FOUND, a " + "directory PHM_FILE_UNREADABLE, before anything is read",
    async () => {
      const missing = await caught(importHashSet(new HashSetBuilder(), join(tmp, "no-such.csv"), { listId: "L" }));
      expect([missing.code, missing.path]).toEqual(["PHM_FILE_NOT_FOUND", join(tmp, "no-such.csv")]);
      expect(
        (await caught(importHashSet(new HashSetBuilder(), join(tmp, "no-such.csv"), { listId: "L", format: "csv" })))
          .code,
      ).toBe("PHM_FILE_NOT_FOUND");
      expect((await caught(importHashSet(new HashSetBuilder(), tmp, { listId: "L" }))).code).toBe(
        "PHM_FILE_UNREADABLE",
      );
    },
  );

  it("a list given where a store is expected says what it looks like and to import it first", async () => {
    const csv = file("list.csv", `md5,category\n${digest("md5", "a")},A\n`);
    const error = await caught(loadHashSet(csv));
    expect(error.code).toBe("PHM_HASHSET_FORMAT");
    expect(error.message).toContain("looks like a csv hash list");
    expect(error.message).toContain("import it into a store first (`importHashSet`)");
    expect(error.optionNames).toContain("importHashSet");
    expect((await caught(loadHashSet(file("list.txt", `${digest("md5", "a")}\n`)))).message).toContain(
      "looks like a text hash list",
    );
    expect((await caught(loadHashSet(file("empty.phs", "")))).message).toContain("empty (0 bytes)");
    expect(
      (await caught(loadHashSet(file("short.phs", Buffer.from("PHS\0v001\0\0\0\0", "latin1"))))).message,
    ).toContain("cut short (12 bytes");
    expect(readFileSync(csv, "utf8")).toContain("md5"); // the list itself is left as it was
  });
});

// The generic CSV/TSV hash-list reader, on the benign lists of test-fixtures/hashsets/csv (values are digests of
// harmless words, see generate.mjs there), and on a generated 200k-row list streamed in small chunks.
import { createHash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { HashSetRecord } from "../src/hashset/entry.js";
import { ImportReport } from "../src/hashset/import-report.js";
import { readCsv } from "../src/hashset/readers/csv.js";
import type { ReaderOptions } from "../src/hashset/readers/reader.js";
import { streamCsv } from "./support/list-streaming.js";

const fixture = (name: string) => new URL(`../../../test-fixtures/hashsets/csv/${name}`, import.meta.url);
const hex = (algorithm: string, text: string) => createHash(algorithm).update(text).digest("hex");
const photodna = (word: string) =>
  Buffer.concat([0, 1, 2, 3, 4].map((i) => createHash("sha256").update(`photodna:${word}:${i}`).digest()))
    .subarray(0, 144)
    .toString("hex");

async function collect(input: Readable, options: Partial<ReaderOptions> = {}, report = new ImportReport("list.csv")) {
  const records: HashSetRecord[] = [];
  for await (const record of readCsv(input, { listId: "test-list", ...options }, report)) records.push(record);
  return { records, report };
}

const read = (name: string, options: Partial<ReaderOptions> = {}, strict = false) =>
  collect(createReadStream(fixture(name)), options, new ImportReport(name, strict));

/** The fixture's bytes, `size` bytes per chunk. */
function chunked(name: string, size: number): Readable {
  const bytes = readFileSync(fixture(name));
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    })(),
    { objectMode: false },
  );
}

/** `bytes`, `size` bytes per chunk. */
function inChunks(bytes: Buffer, size: number): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
    })(),
    { objectMode: false },
  );
}

/** The entries as plain rows: line, algorithm, hex value, entry id, category, extra. */
function rows(records: HashSetRecord[]) {
  return records.map((record) => {
    if (record.kind !== "entry") throw new Error("a CSV list has no withdrawals");
    const { entry } = record;
    expect(entry.listId).toBe("test-list");
    return {
      line: record.line,
      algorithm: entry.algorithm,
      value: Buffer.from(entry.value).toString("hex"),
      entryId: entry.entryId,
      category: entry.category,
      extra: entry.fields?.extra,
    };
  });
}

describe("readCsv", () => {
  it("reads a comma-separated list with several algorithms, aliases, quoted fields and a multi-line cell", async () => {
    const { records, report } = await read("mixed.csv");
    expect(rows(records)).toEqual([
      {
        line: 2,
        algorithm: "md5",
        value: hex("md5", "apple"),
        entryId: "entry-0001",
        category: "A",
        extra: { source: "hotline-x", note: "plain row" },
      },
      {
        line: 3,
        algorithm: "sha1",
        value: hex("sha1", "bicycle"),
        entryId: "entry-0002",
        category: "B",
        extra: { source: "hotline-x", note: "quoted, with a comma" },
      },
      {
        line: 4,
        algorithm: "sha256",
        value: hex("sha256", "cloud"),
        entryId: "entry-0003",
        category: undefined,
        extra: { source: "hotline-y", note: 'she said "hello"' },
      },
      {
        line: 5,
        algorithm: "pdq",
        value: hex("sha256", "pdq:kettle"),
        entryId: "entry-0004",
        category: "1",
        extra: undefined,
      },
      {
        line: 6,
        algorithm: "phash",
        value: hex("sha256", "phash:lantern").slice(0, 16),
        entryId: undefined,
        category: "2",
        extra: { source: "hotline-y", note: "two\nlines" },
      },
      {
        line: 8,
        algorithm: "photodna",
        value: photodna("meadow"),
        entryId: "entry-0006",
        category: "A",
        extra: { source: "hotline-x" },
      },
      {
        line: 9,
        algorithm: "photodna",
        value: photodna("nutmeg"),
        entryId: "entry-0007",
        category: "B",
        extra: { source: "hotline-z", note: "last row" },
      },
    ]);
    expect(report).toMatchObject({ read: 7, invalid: 0, unrecognised: {}, problems: [] });
  });

  it("detects tab as the delimiter, keeping commas and quoted tabs as text", async () => {
    const { records, report } = await read("mixed.tsv");
    expect(rows(records)).toEqual([
      {
        line: 2,
        algorithm: "md5",
        value: hex("md5", "garden"),
        entryId: "t-1",
        category: "A",
        extra: { note: "comma, inside is text" },
      },
      {
        line: 3,
        algorithm: "sha1",
        value: hex("sha1", "harbour"),
        entryId: "t-2",
        category: "B",
        extra: { note: "a quoted\ttab" },
      },
      {
        line: 4,
        algorithm: "dhash",
        value: hex("sha256", "dhash:island").slice(0, 16),
        entryId: "t-3",
        category: undefined,
        extra: undefined,
      },
    ]);
    expect(report).toMatchObject({ read: 3, invalid: 0 });
  });

  it(
    "detects semicolon from a header whose quoted name holds more commas; header names match in any case; " +
      "stray quotes are text",
    async () => {
      const { records, report } = await read("semicolon.csv");
      expect(rows(records)).toEqual([
        {
          line: 2,
          algorithm: "md5",
          value: hex("md5", "orange"),
          entryId: "s-1",
          category: "A",
          extra: {
            "Comment, as given: free text, any language, any length, any script": "commas, unquoted, are text here",
          },
        },
        {
          line: 3,
          algorithm: "sha256",
          value: hex("sha256", "river"),
          entryId: "s-2",
          category: "B",
          extra: { "Comment, as given: free text, any language, any length, any script": 'a 5" tall "glass"' },
        },
        {
          line: 4,
          algorithm: "blockhash",
          value: hex("sha256", "blockhash:saddle"),
          entryId: "s-3",
          category: undefined,
          extra: undefined,
        },
      ]);
      expect(report).toMatchObject({ read: 3, invalid: 0 });
    },
  );

  it("accepts LF, CRLF and CR line ends mixed in one file", async () => {
    const text =
      "algorithm,hash\n" +
      `md5,${hex("md5", "apple")}\r\nsha1,${hex("sha1", "bicycle")}\r\r\nmd5,${hex("md5", "cloud")}\n`;
    const { records, report } = await collect(Readable.from([text]));
    expect(rows(records).map((r) => [r.line, r.algorithm, r.value])).toEqual([
      [2, "md5", hex("md5", "apple")],
      [3, "sha1", hex("sha1", "bicycle")],
      [5, "md5", hex("md5", "cloud")],
    ]);
    expect(report).toMatchObject({ read: 3, invalid: 0 });
  });

  it("gives every row the --algorithm of a list without an algorithm column", async () => {
    const { records, report } = await read("no-algorithm.csv", { algorithm: "md5" });
    expect(rows(records)).toEqual([
      { line: 2, algorithm: "md5", value: hex("md5", "pebble"), entryId: "n-1", category: "A", extra: undefined },
      { line: 3, algorithm: "md5", value: hex("md5", "quartz"), entryId: "n-2", category: undefined, extra: undefined },
    ]);
    expect(report).toMatchObject({ read: 2, invalid: 0 });
  });

  it("makes every row a problem when there is neither an algorithm column nor --algorithm", async () => {
    const { records, report } = await read("no-algorithm.csv");
    expect(records).toEqual([]);
    expect(report).toMatchObject({ read: 2, invalid: 2 });
    expect(report.problems.map((p) => p.line)).toEqual([2, 3]);
    expect(report.problems[0]?.reason).toMatch(/give `algorithm` or add an algorithm column/);
  });

  it("refuses an --algorithm that is not a known id, on every row", async () => {
    const { records, report } = await read("no-algorithm.csv", { algorithm: "crc32" });
    expect(records).toEqual([]);
    expect(report).toMatchObject({ read: 2, invalid: 2 });
    expect(report.problems[0]?.reason).toMatch(/unknown algorithm "crc32" \(known: pdq, .*photodna\)/);
  });

  it("finds columns under the names given in options.columns", async () => {
    const columns = { hash: "MD5 Hash", category: "classification", id: "Reference" };
    const { records, report } = await read("custom-columns.csv", { algorithm: "md5", columns });
    expect(rows(records)).toEqual([
      {
        line: 2,
        algorithm: "md5",
        value: hex("md5", "violet"),
        entryId: "c-1",
        category: "Category A",
        extra: { Comment: "first" },
      },
      {
        line: 3,
        algorithm: "md5",
        value: hex("md5", "walnut"),
        entryId: "c-2",
        category: "Category B",
        extra: undefined,
      },
    ]);
    expect(report).toMatchObject({ read: 2, invalid: 0 });
  });

  it("reports a missing hash column, or a named column that is not in the header, on every row", async () => {
    const unnamed = await read("custom-columns.csv", { algorithm: "md5" });
    expect(unnamed.records).toEqual([]);
    expect(unnamed.report).toMatchObject({ read: 2, invalid: 2 });
    expect(unnamed.report.problems[0]).toEqual({
      file: "custom-columns.csv",
      line: 2,
      reason:
        'the header has no "hash" column (its columns are "Reference", "MD5 Hash", "Classification", "Comment"); ' +
        "name the column that holds the hashes in the columns option",
    });

    const misnamed = await read("custom-columns.csv", { algorithm: "md5", columns: { hash: "MD5 Hash", id: "Ref" } });
    expect(misnamed.records).toEqual([]);
    expect(misnamed.report.problems.map((p) => [p.line, p.reason])).toEqual([
      [
        2,
        'the header has no column "Ref" (the id column); ' +
          'its columns are "Reference", "MD5 Hash", "Classification", "Comment"',
      ],
      [
        3,
        'the header has no column "Ref" (the id column); ' +
          'its columns are "Reference", "MD5 Hash", "Classification", "Comment"',
      ],
    ]);
  });

  it("reports each malformed row with its line and reason, and keeps the good ones", async () => {
    const { records, report } = await read("malformed.csv");
    expect(rows(records)).toEqual([
      { line: 2, algorithm: "md5", value: hex("md5", "apple"), entryId: "m-1", category: "A", extra: undefined },
      {
        line: 12,
        algorithm: "sha256",
        value: hex("sha256", "cloud"),
        entryId: "m-10",
        category: "B",
        extra: undefined,
      },
    ]);
    expect(report.problems.map((p) => [p.line, p.reason])).toEqual([
      [3, '"hash": md5 needs 32 hex digits, got 31'],
      [4, '"hash": photodna value is neither hex nor valid base64'],
      [5, "expected 4 cells (one per header column), found 5"],
      [6, "expected 4 cells (one per header column), found 3"],
      [8, 'unrecognised hash type "fuzzyhash"'],
      [9, `"hash": sha1 value is not hex: "${"z".repeat(40)}"`],
      [10, 'the "hash" cell is empty'],
      [11, 'the "algorithm" cell is empty; fill it or give `algorithm` for rows without one'],
    ]);
    expect(report).toMatchObject({ read: 10, invalid: 8, unrecognised: { fuzzyhash: 1 } });
  });

  it("fills empty algorithm cells with --algorithm when one is given", async () => {
    const { records, report } = await read("malformed.csv", { algorithm: "md5" });
    expect(rows(records).map((r) => [r.line, r.algorithm, r.value])).toContainEqual([11, "md5", hex("md5", "orange")]);
    expect(report).toMatchObject({ read: 10, invalid: 7 });
  });

  it("throws PHM_HASHSET_PARSE naming the file and line at the first bad row in strict mode", async () => {
    await expect(read("malformed.csv", {}, true)).rejects.toMatchObject({
      name: "PhmatchError",
      code: "PHM_HASHSET_PARSE",
      message: expect.stringMatching(/^malformed\.csv:3: "hash": md5 needs 32 hex digits, got 31/),
    });
  });

  it("closes the input when strict mode or the consumer stops the read early", async () => {
    // An endless list: the input can only end by being destroyed.
    const endless = (first: string) =>
      Readable.from(
        (function* () {
          yield `algorithm,hash\n${first}\n`;
          for (;;) yield `md5,${hex("md5", "apple")}\n`.repeat(100);
        })(),
        { objectMode: false },
      );
    const strict = endless("md5,0123");
    await expect(collect(strict, {}, new ImportReport("endless.csv", true))).rejects.toMatchObject({
      code: "PHM_HASHSET_PARSE",
      message: expect.stringMatching(/^endless\.csv:2: /),
    });
    await expect.poll(() => strict.destroyed).toBe(true);

    const consumed = endless(`sha1,${hex("sha1", "bicycle")}`);
    for await (const record of readCsv(consumed, { listId: "test-list" }, new ImportReport("endless.csv"))) {
      if (record.line === 1000) break;
    }
    await expect.poll(() => consumed.destroyed).toBe(true);
  });

  it(
    "handles a UTF-8 BOM before a quoted header name, CRLF line ends, " +
      "blank CRLF lines and a CRLF inside a quoted cell",
    async () => {
      const { records, report } = await read("bom-crlf.csv");
      expect(rows(records)).toEqual([
        {
          line: 2,
          algorithm: "md5",
          value: hex("md5", "apple"),
          entryId: "b-1",
          category: undefined,
          extra: { note: "first" },
        },
        {
          line: 4,
          algorithm: "sha1",
          value: hex("sha1", "bicycle"),
          entryId: "b-2",
          category: undefined,
          extra: { note: "two\r\nlines" },
        },
        {
          line: 7,
          algorithm: "md5",
          value: hex("md5", "cloud"),
          entryId: "b-3",
          category: undefined,
          extra: { note: "after" },
        },
      ]);
      expect(report).toMatchObject({ read: 3, invalid: 0 });
    },
  );

  it(
    "skips blank lines (before the header too, where the delimiter is detected after them) without counting them, " +
      "keeping physical line numbers",
    async () => {
      const { records, report } = await read("blank-lines.tsv");
      expect(rows(records).map((r) => [r.line, r.algorithm, r.value])).toEqual([
        [4, "md5", hex("md5", "apple")],
        [7, "sha1", hex("sha1", "bicycle")],
      ]);
      expect(report).toMatchObject({ read: 2, invalid: 0 });
    },
  );

  it("reports a quote left open to the end of the file at the row that opened it", async () => {
    const { records, report } = await read("unclosed-quote.csv");
    expect(rows(records).map((r) => r.line)).toEqual([2]);
    expect(report).toMatchObject({ read: 2, invalid: 1 });
    expect(report.problems).toEqual([
      {
        file: "unclosed-quote.csv",
        line: 4,
        reason: "a quote opened in this row is never closed: the rest of the file is one broken row",
      },
    ]);
  });

  it.each(["mixed.csv", "mixed.tsv", "bom-crlf.csv", "blank-lines.tsv", "malformed.csv"])(
    "gives the same result for %s fed one byte at a time",
    async (name) => {
      const whole = await read(name);
      const bytewise = await collect(chunked(name, 1), {}, new ImportReport(name));
      expect(bytewise.records).toEqual(whole.records);
      expect(bytewise.report.toJSON()).toEqual(whole.report.toJSON());
    },
  );

  it(
    "fails with PHM_HASHSET_PARSE on a row that never ends (not a delimited file), " + "without buffering it whole",
    async () => {
      const input = Readable.from(
        (function* () {
          yield 'algorithm,hash\nmd5,"';
          for (let i = 0; i < 2000; i++) yield "x".repeat(1024);
        })(),
        { objectMode: false },
      );
      await expect(collect(input, {}, new ImportReport("endless.csv"))).rejects.toMatchObject({
        code: "PHM_HASHSET_PARSE",
        message: expect.stringMatching(/^endless\.csv:2: a row is still going at this line after 1048576 characters/),
      });
    },
  );

  it("reads nothing from an empty file or a header alone", async () => {
    for (const text of ["", "algorithm,hash\n"]) {
      const { records, report } = await collect(Readable.from([Buffer.from(text)]));
      expect(records).toEqual([]);
      expect(report).toMatchObject({ read: 0, invalid: 0 });
    }
  });

  // Found by fuzzing (hashset-fuzz.test.ts): the header was re-scanned from its start for every chunk, so a long
  // header line arriving in small chunks took quadratic time (a 64 KiB line in 1-byte chunks: two minutes).
  it("finds the delimiter of a long header line fed one byte at a time, in linear time", {
    timeout: 30_000,
  }, async () => {
    const header = Buffer.from(`\uFEFF\r\n\r\nalgorithm\thash\t${"x".repeat(70_000)}\r\nmd5\t${"ab".repeat(16)}\t\r\n`);
    const { records, report } = await collect(inChunks(header, 1));
    expect(report).toMatchObject({ read: 1, invalid: 0 });
    expect(rows(records)).toEqual([
      { line: 4, algorithm: "md5", value: "ab".repeat(16), entryId: undefined, category: undefined, extra: undefined },
    ]);
    // A BOM cut short is text of the header line, however the bytes arrive.
    const partial = Buffer.from([0xef, 0xbb, ...Buffer.from("\n\talgorithm\thash\nmd5\t" + "ab".repeat(16) + "\n")]);
    const whole = await collect(inChunks(partial, partial.length));
    for (const size of [1, 2, 3])
      expect((await collect(inChunks(partial, size))).report.toJSON()).toEqual(whole.report.toJSON());
  });

  it("streams a generated 5,000-row list fed in small chunks (200,000: npm run test:fuzz)", () => streamCsv(5_000));
});

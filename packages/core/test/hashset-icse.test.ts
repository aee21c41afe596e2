// The INTERPOL ICSE CSV export reader, on the benign exports of test-fixtures/hashsets/icse (values are digests
// of harmless words, Image IDs and series names are made up; see generate.mjs there).
import { createHash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { HashSetRecord } from "../src/hashset/entry.js";
import { ImportReport } from "../src/hashset/import-report.js";
import { readIcse } from "../src/hashset/readers/icse.js";

const fixture = (name: string) => new URL(`../../../test-fixtures/hashsets/icse/${name}`, import.meta.url);
const hex = (algorithm: string, text: string) => createHash(algorithm).update(text).digest("hex");
const photodna = (word: string) =>
  Buffer.concat([0, 1, 2, 3, 4].map((i) => createHash("sha256").update(`photodna:${word}:${i}`).digest()))
    .subarray(0, 144)
    .toString("hex");

async function collect(input: Readable, report: ImportReport) {
  const records: HashSetRecord[] = [];
  // options.algorithm and options.columns do not apply to ICSE: passing them changes nothing.
  for await (const record of readIcse(
    input,
    { listId: "icse-test", algorithm: "pdq", columns: { hash: "nope" } },
    report,
  ))
    records.push(record);
  return { records, report };
}

const read = (name: string, strict = false) => collect(createReadStream(fixture(name)), new ImportReport(name, strict));

/** The entries as plain rows: line, algorithm, hex value, entry id, category, extra. */
function rows(records: HashSetRecord[]) {
  return records.map((record) => {
    if (record.kind !== "entry") throw new Error("an ICSE export has no withdrawals");
    const { entry } = record;
    expect(entry.listId).toBe("icse-test");
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

describe("readIcse", () => {
  it(
    "yields an entry per hash of each row, with the " + "Image ID, the baseline category and the other columns",
    async () => {
      const { records, report } = await read("export.csv");
      const alpha = {
        "Is distributed": "Yes",
        "Victim identified": "No",
        "Offender identified": "No",
        "Series name": "synthetic-series-alpha",
        "Number of submissions": "3",
        "File Available": "Yes",
        "Media Type": "Image",
        Baseline: "Yes",
      };
      const second = {
        "Is distributed": "No",
        "Victim identified": "No",
        "Offender identified": "No",
        "Number of submissions": "1",
        "File Available": "No",
        "Media Type": "Image",
        Baseline: "No",
      };
      const beta = {
        "Is distributed": "Yes",
        "Victim identified": "Yes",
        "Offender identified": "No",
        "Series name": "synthetic-series-beta",
        "Number of submissions": "12",
        "File Available": "Yes",
        "Media Type": "Video",
        Baseline: "true",
      };
      const fourth = {
        "Is distributed": "No",
        "Victim identified": "No",
        "Offender identified": "No",
        "Number of submissions": "2",
        "File Available": "Yes",
        "Media Type": "Image",
      };
      expect(rows(records)).toEqual([
        {
          line: 2,
          algorithm: "md5",
          value: hex("md5", "teapot"),
          entryId: "900001",
          category: "baseline",
          extra: alpha,
        },
        {
          line: 2,
          algorithm: "sha1",
          value: hex("sha1", "teapot"),
          entryId: "900001",
          category: "baseline",
          extra: alpha,
        },
        {
          line: 2,
          algorithm: "photodna",
          value: photodna("teapot"),
          entryId: "900001",
          category: "baseline",
          extra: alpha,
        },
        { line: 3, algorithm: "md5", value: hex("md5", "yarn"), entryId: "900002", category: undefined, extra: second },
        {
          line: 4,
          algorithm: "sha1",
          value: hex("sha1", "zebra"),
          entryId: "900003",
          category: "baseline",
          extra: beta,
        },
        {
          line: 4,
          algorithm: "photodna",
          value: photodna("zebra"),
          entryId: "900003",
          category: "baseline",
          extra: beta,
        },
        {
          line: 5,
          algorithm: "md5",
          value: hex("md5", "anchor"),
          entryId: "900004",
          category: undefined,
          extra: fourth,
        },
        {
          line: 5,
          algorithm: "sha1",
          value: hex("sha1", "anchor"),
          entryId: "900004",
          category: undefined,
          extra: fourth,
        },
      ]);
      expect(report).toMatchObject({ read: 4, invalid: 0, unrecognised: {}, problems: [] });
    },
  );

  it("gives each entry of a row its own extra fields", async () => {
    const { records } = await read("export.csv");
    const [md5, sha1] = records.map((record) => (record.kind === "entry" ? record.entry : undefined));
    expect(md5?.fields?.extra).not.toBe(sha1?.fields?.extra);
  });

  it("accepts header names in other case and with spaces, a BOM and CRLF line ends", async () => {
    const { records, report } = await read("header-variations.csv");
    const gamma = {
      "Is distributed": "Yes",
      "Victim identified": "No",
      "Offender identified": "No",
      "SERIES NAME": "synthetic-series-gamma",
      "Number of submissions": "1",
      "File Available": "Yes",
      "Media Type": "Image",
      BASELINE: "1",
    };
    const other = {
      "Is distributed": "No",
      "Victim identified": "No",
      "Offender identified": "No",
      "Number of submissions": "1",
      "File Available": "Yes",
      "Media Type": "Image",
      BASELINE: "YES",
    };
    expect(rows(records)).toEqual([
      { line: 2, algorithm: "md5", value: hex("md5", "button"), entryId: "910001", category: "baseline", extra: gamma },
      {
        line: 2,
        algorithm: "sha1",
        value: hex("sha1", "button"),
        entryId: "910001",
        category: "baseline",
        extra: gamma,
      },
      { line: 3, algorithm: "md5", value: hex("md5", "candle"), entryId: "910002", category: "baseline", extra: other },
      {
        line: 3,
        algorithm: "sha1",
        value: hex("sha1", "candle"),
        entryId: "910002",
        category: "baseline",
        extra: other,
      },
    ]);
    expect(report).toMatchObject({ read: 2, invalid: 0 });
  });

  it(
    "reports invalid values naming their column, rows without " +
      "a hash and wrong cell counts, keeping the valid hashes",
    async () => {
      const { records, report } = await read("malformed.csv");
      expect(
        rows(records).map(({ line, algorithm, value, entryId, category }) => [
          line,
          algorithm,
          value,
          entryId,
          category,
        ]),
      ).toEqual([
        [2, "md5", hex("md5", "daisy"), "920001", undefined],
        [3, "sha1", hex("sha1", "ember"), "920002", undefined],
        [8, "md5", hex("md5", "yarn"), "920006", "baseline"],
        [9, "md5", hex("md5", "anchor"), "920007", "baseline"],
        [9, "sha1", hex("sha1", "anchor"), "920007", "baseline"],
      ]);
      expect(report.problems.map((p) => [p.line, p.reason])).toEqual([
        [3, '"MD5": md5 needs 32 hex digits, got 31'],
        [4, '"PhotoDNA": photodna needs 144 bytes, base64 decodes to 100'],
        [5, 'no hash: "MD5", "SHA1", "PhotoDNA" are all empty'],
        [6, "expected 12 cells (one per header column), found 6"],
        [
          8,
          `"SHA1": sha1 value is not hex: "${"g".repeat(40)}"; "PhotoDNA": photodna value is neither hex nor valid ` +
            `base64`,
        ],
      ]);
      expect(report).toMatchObject({ read: 7, invalid: 5, unrecognised: {} });
    },
  );

  it("throws PHM_HASHSET_PARSE naming the file and line at the first bad row in strict mode", async () => {
    await expect(read("malformed.csv", true)).rejects.toMatchObject({
      name: "PhmatchError",
      code: "PHM_HASHSET_PARSE",
      message: expect.stringMatching(/^malformed\.csv:3: "MD5": md5 needs 32 hex digits, got 31/),
    });
  });

  it("makes every row a problem when the header lacks MD5, SHA1 or Image ID", async () => {
    const { records, report } = await read("missing-columns.csv");
    expect(records).toEqual([]);
    const reason =
      'not an ICSE export: the header lacks "SHA1", "Image ID" (it has "MD5", "Checksum", "Image Number", "Baseline")';
    expect(report.problems).toEqual([
      { file: "missing-columns.csv", line: 2, reason },
      { file: "missing-columns.csv", line: 3, reason },
    ]);
    expect(report).toMatchObject({ read: 2, invalid: 2 });
  });

  it("reads semicolons only: a comma-separated copy is not an ICSE export", async () => {
    const text = readFileSync(fixture("export.csv"), "utf8").replaceAll(";", ",");
    const { records, report } = await collect(Readable.from([text]), new ImportReport("commas.csv"));
    expect(records).toEqual([]);
    expect(report).toMatchObject({ read: 4, invalid: 4 });
    expect(report.problems[0]?.reason).toMatch(/^not an ICSE export: the header lacks "MD5", "SHA1", "Image ID"/);
  });

  it.each(["export.csv", "header-variations.csv", "malformed.csv"])(
    "gives the same result for %s fed one byte at a time",
    async (name) => {
      const bytes = readFileSync(fixture(name));
      const bytewise = Readable.from(
        (function* () {
          for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
        })(),
        { objectMode: false },
      );
      const whole = await read(name);
      const split = await collect(bytewise, new ImportReport(name));
      expect(split.records).toEqual(whole.records);
      expect(split.report.toJSON()).toEqual(whole.report.toJSON());
    },
  );
});

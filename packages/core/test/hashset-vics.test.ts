import { createHash } from "node:crypto";
import fs from "node:fs";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { HashSetEntry, HashSetRecord } from "../src/hashset/entry.js";
import { ImportReport } from "../src/hashset/import-report.js";
import { MAX_DEPTH, MAX_MEDIA_CHARS, MAX_VALUE_CHARS, readVics } from "../src/hashset/readers/vics.js";
import { streamVics } from "./support/list-streaming.js";

// The fixtures are synthetic (test-fixtures/hashsets/vics/generate.mjs): every value is a digest of the harmless
// string "phmatch vics fixture <n>" or derived from it, recomputed here so each expected value is checked.
const LIST = "vics-test";
const digestHex = (algorithm: string, text: string) => createHash(algorithm).update(text).digest("hex");
const fixtureText = (n: number) => `phmatch vics fixture ${n}`;
const md5 = (n: number) => digestHex("md5", fixtureText(n));
const sha1 = (n: number) => digestHex("sha1", fixtureText(n));
const sha256 = (n: number) => digestHex("sha256", fixtureText(n));
const pdq = (n: number) => digestHex("sha256", `pdq ${fixtureText(n)}`);
const photodna = (n: number) =>
  digestHex("sha512", `photodna 1 ${fixtureText(n)}`) +
  digestHex("sha512", `photodna 2 ${fixtureText(n)}`) +
  digestHex("sha512", `photodna 3 ${fixtureText(n)}`).slice(0, 32);

const fixture = (name: string) =>
  fs.createReadStream(new URL(`../../../test-fixtures/hashsets/vics/${name}`, import.meta.url));
const hex = (value: Uint8Array) => Buffer.from(value).toString("hex");

async function readAll(input: Readable, report: ImportReport): Promise<HashSetRecord[]> {
  const records: HashSetRecord[] = [];
  for await (const record of readVics(input, { listId: LIST }, report)) records.push(record);
  return records;
}

function entries(records: HashSetRecord[]): (HashSetEntry & { line: number })[] {
  return records.map((record) => {
    if (record.kind !== "entry") throw new Error("VICS lists hold no withdrawals");
    return { ...record.entry, line: record.line };
  });
}

/** [line, algorithm, entryId, category, hex] of each entry, for exact comparison. */
const summary = (records: HashSetRecord[]) =>
  entries(records).map((e) => [e.line, e.algorithm, e.entryId, e.category, hex(e.value)]);

/** A document as a stream of `size`-byte Buffers, so that tokens, lines and UTF-8 sequences are split. */
const inPieces = (text: string, size: number) => {
  const bytes = Buffer.from(text, "utf8");
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
  return Readable.from(pieces);
};

async function readFailure(
  input: Readable,
  report: ImportReport,
): Promise<{ records: HashSetRecord[]; error: unknown }> {
  const records: HashSetRecord[] = [];
  try {
    for await (const record of readVics(input, { listId: LIST }, report)) records.push(record);
  } catch (error) {
    return { records, error };
  }
  throw new Error("expected the read to fail");
}

describe("readVics: well-formed lists", () => {
  it("reads a VICS 2.0 #Media list: one entry per hash, with MediaID, category and fields", async () => {
    const report = new ImportReport("vics-2.0.json");
    const records = await readAll(fixture("vics-2.0.json"), report);
    expect(report.read).toBe(4);
    expect(report.invalid).toBe(0);
    expect(report.problems).toEqual([]);
    // an anchor written out, so that a wrong derivation above cannot hide a wrong reader
    expect(md5(1)).toBe("154abb59a669b0e7bc1c2417e021980b");
    expect(summary(records)).toEqual([
      [4, "md5", "1001", "1", md5(1)],
      [4, "sha1", "1001", "1", sha1(1)],
      [4, "photodna", "1001", "1", photodna(1)],
      [22, "md5", "SYN-1002", "2", md5(2)],
      [22, "pdq", "SYN-1002", "2", pdq(2)],
      [22, "sha256", "SYN-1002", "2", sha256(2)],
      [43, "photodna", "1003", "0", photodna(3)],
      [43, "sha1", "1003", "0", sha1(3)],
      [63, "sha1", "18014398509481985", "4", sha1(4)],
    ]);
    const all = entries(records);
    expect(all.every((e) => e.listId === LIST)).toBe(true);
    expect(all.map((e) => e.value.length)).toEqual([16, 20, 144, 16, 32, 32, 144, 20, 20]);
    expect(all[0]?.fields).toEqual({
      tags: ["synthetic", "fixture"],
      extra: {
        MediaSize: "2835",
        DateUpdated: "2024-01-02T03:04:05.0000Z",
        IsPrecategorized: "true",
        IsDistributed: "false",
        VictimIdentified: "false",
        OffenderIdentified: "false",
      },
    });
    expect(all[3]?.fields).toBeUndefined(); // null and "" fields are absent, Hashes is not a field
    expect(all[6]?.fields).toEqual({
      extra: {
        Comments: '{"Note":"synthetic test item"}',
        MediaFiles: '[{"FileName":"synthetic-1003.jpg","FilePath":"fixtures/"}]',
      },
    });
    expect(all[8]?.fields).toEqual({ extra: { MediaSize: "0" } });
  });

  it("states a hash given twice in one Media object (MD5 and Hashes[MD5]) once", async () => {
    const report = new ImportReport("vics-2.0.json");
    const media1002 = entries(await readAll(fixture("vics-2.0.json"), report)).filter((e) => e.entryId === "SYN-1002");
    expect(media1002.map((e) => e.algorithm)).toEqual(["md5", "pdq", "sha256"]);
  });

  it("reads the #Cases shape: Media arrays inside Case objects, Case fields not copied", async () => {
    const report = new ImportReport("vics-cases.json");
    const records = await readAll(fixture("vics-cases.json"), report);
    expect(report.read).toBe(3);
    expect(report.invalid).toBe(0);
    expect(summary(records)).toEqual([
      [8, "md5", "11", "1", md5(11)],
      [8, "sha1", "11", "1", sha1(11)],
      [14, "md5", "12", "2", md5(12)],
      [34, "photodna", "13", "3", photodna(13)],
      [34, "pdq", "13", "3", pdq(13)],
    ]);
    const all = entries(records);
    expect(all[0]?.fields).toBeUndefined();
    expect(all[2]?.fields).toEqual({ extra: { MediaFiles: '[{"FileName":"synthetic-12.png"}]' } });
  });

  it("handles a UTF-8 BOM and CRLF line endings with the same line numbers as LF", async () => {
    const bytes = fs.readFileSync(new URL("../../../test-fixtures/hashsets/vics/bom-crlf.json", import.meta.url));
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(bytes.includes("\r\n")).toBe(true);
    const report = new ImportReport("bom-crlf.json");
    const records = await readAll(fixture("bom-crlf.json"), report);
    expect(report.read).toBe(2);
    expect(report.invalid).toBe(0);
    expect(summary(records)).toEqual([
      [4, "md5", "61", "1", md5(61)],
      [4, "sha1", "61", "1", sha1(61)],
      [10, "photodna", "62", "2", photodna(62)],
    ]);
    const lf = bytes.toString("utf8").replace(/\r\n/g, "\n");
    expect(summary(await readAll(Readable.from([lf]), new ImportReport("lf.json")))).toEqual(summary(records));
  });

  it("counts blank and whitespace-only lines, and finds a Media object that starts mid-line", async () => {
    const report = new ImportReport("empty-lines.json");
    const records = await readAll(fixture("empty-lines.json"), report);
    expect(report.read).toBe(3);
    expect(report.invalid).toBe(0);
    expect(summary(records)).toEqual([
      [6, "md5", "81", "1", md5(81)],
      [8, "sha1", "82", "2", sha1(82)],
      [10, "md5", "83", "3", md5(83)],
    ]);
  });

  it(
    "gives the same records whatever the chunking: 1-byte chunks split tokens, " + "lines and UTF-8 sequences",
    async () => {
      const whole = fs.readFileSync(
        new URL("../../../test-fixtures/hashsets/vics/vics-2.0.json", import.meta.url),
        "utf8",
      );
      const expected = summary(await readAll(Readable.from([whole]), new ImportReport("whole.json")));
      expect(expected).toHaveLength(9);
      expect(summary(await readAll(inPieces(whole, 1), new ImportReport("bytes.json")))).toEqual(expected);
      expect(summary(await readAll(inPieces(whole, 7), new ImportReport("sevens.json")))).toEqual(expected);

      const series = "Café ✓ 🙂 série";
      const text =
        `{"value": [\n{"MediaID": 1, "Category": 2, "Series": ${JSON.stringify(series)},\n` + ` "MD5": "${md5(90)}"}]}`;
      const report = new ImportReport("utf8.json");
      const [entry] = entries(await readAll(inPieces(text, 1), report));
      expect(entry?.fields?.extra?.Series).toBe(series);
      expect(entry?.line).toBe(2);
    },
  );

  it('keeps a "__proto__" key as an ordinary field', async () => {
    const text = `{"value": [{"MediaID": 1, "MD5": "${md5(91)}", "__proto__": {"polluted": "yes"}}]}`;
    const [entry] = entries(await readAll(Readable.from([text]), new ImportReport("proto.json")));
    expect(Object.keys(entry?.fields?.extra ?? {})).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(entry?.fields?.extra, "__proto__")?.value).toBe('{"polluted":"yes"}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("readVics: invalid records", () => {
  it("reports wrong hex lengths and non-hex digits, naming the field, and keeps the valid hashes", async () => {
    const report = new ImportReport("bad-hex-length.json");
    const records = await readAll(fixture("bad-hex-length.json"), report);
    expect(report.read).toBe(4);
    expect(report.invalid).toBe(3);
    expect(report.problems).toEqual([
      { file: "bad-hex-length.json", line: 4, reason: 'MediaID 21: "MD5": md5 needs 32 hex digits, got 31' },
      {
        file: "bad-hex-length.json",
        line: 9,
        reason: `MediaID 22: "SHA1": sha1 value is not hex: "g${sha1(22).slice(1)}"`,
      },
      {
        file: "bad-hex-length.json",
        line: 15,
        reason: 'MediaID 23: Hashes[0] (HashName "SHA256"): sha256 needs 64 hex digits, got 63',
      },
    ]);
    expect(summary(records)).toEqual([
      [9, "md5", "22", "1", md5(22)],
      [25, "md5", "24", "2", md5(24)],
    ]);
  });

  it("reports PhotoDNA values that are not base64 or decode to the wrong length", async () => {
    const report = new ImportReport("bad-base64.json");
    const records = await readAll(fixture("bad-base64.json"), report);
    expect(report.read).toBe(3);
    expect(report.invalid).toBe(2);
    expect(report.problems).toEqual([
      {
        file: "bad-base64.json",
        line: 4,
        reason: 'MediaID 31: "PhotoDNA": photodna value is neither hex nor valid base64',
      },
      {
        file: "bad-base64.json",
        line: 9,
        reason: 'MediaID 32: "PhotoDNA": photodna needs 144 bytes, base64 decodes to 100',
      },
    ]);
    expect(summary(records)).toEqual([
      [14, "photodna", "33", "1", photodna(33)],
      [14, "md5", "33", "1", md5(33)],
    ]);
  });

  it("counts unknown HashNames as unrecognised and keeps the Media object's other hashes", async () => {
    const report = new ImportReport("unknown-hashname.json");
    const records = await readAll(fixture("unknown-hashname.json"), report);
    expect(report.read).toBe(3);
    expect(report.unrecognised).toEqual({ "SHA3-256": 2, NeuralHash: 1 });
    expect(report.invalid).toBe(3);
    expect(report.problems.map((p) => [p.line, p.reason])).toEqual([
      [4, 'unrecognised hash type "SHA3-256"'],
      [19, 'unrecognised hash type "NeuralHash"'],
      [29, 'unrecognised hash type "SHA3-256"'],
    ]);
    expect(summary(records)).toEqual([
      [4, "md5", "51", "1", md5(51)],
      [4, "pdq", "51", "1", pdq(51)],
      [29, "sha1", "53", "2", sha1(53)],
    ]);
  });

  it("reports a Media object without any hash value (null and empty values do not count)", async () => {
    const report = new ImportReport("no-hash.json");
    const records = await readAll(fixture("no-hash.json"), report);
    expect(report.read).toBe(3);
    expect(report.invalid).toBe(2);
    expect(report.problems.map((p) => [p.line, p.reason])).toEqual([
      [4, 'MediaID 71 has no hash (none of MD5, SHA1, SHA256, PhotoDNA, PDQ or a "Hashes" item has a value)'],
      [9, 'MediaID 72 has no hash (none of MD5, SHA1, SHA256, PhotoDNA, PDQ or a "Hashes" item has a value)'],
    ]);
    expect(summary(records)).toEqual([[16, "md5", "73", "1", md5(73)]]);
  });

  it("reports a non-object where a Media object belongs and goes on", async () => {
    const text = `{"value": [\n5,\n[1, 2],\n{"MediaID": 3, "MD5": "${md5(92)}"}\n]}`;
    const report = new ImportReport("scalar.json");
    const records = await readAll(Readable.from([text]), report);
    expect(report.read).toBe(3);
    expect(report.problems.map((p) => [p.line, p.reason])).toEqual([
      [2, '"value" holds a single value where a Media or Case object belongs'],
      [3, '"value" holds an array where a Media or Case object belongs'],
    ]);
    expect(summary(records)).toEqual([[4, "md5", "3", undefined, md5(92)]]);
  });
});

describe("readVics: broken JSON", () => {
  it("yields the entries before a truncation, then reports it with the line where the file ends", async () => {
    const report = new ImportReport("truncated.json");
    const records = await readAll(fixture("truncated.json"), report);
    expect(summary(records)).toEqual([
      [4, "md5", "41", "1", md5(41)],
      [9, "md5", "42", "2", md5(42)],
      [9, "sha1", "42", "2", sha1(42)],
    ]);
    expect(report.read).toBe(3);
    expect(report.invalid).toBe(1);
    expect(report.problems).toEqual([
      {
        file: "truncated.json",
        line: 19,
        reason: "the file ends inside the Media object that starts at line 15 (truncated file?)",
      },
    ]);
  });

  it(
    "in strict mode, yields the entries before a truncation " + "and then throws PHM_HASHSET_PARSE naming the line",
    async () => {
      const report = new ImportReport("truncated.json", true);
      const { records, error } = await readFailure(fixture("truncated.json"), report);
      expect(records).toHaveLength(3);
      expect(error).toMatchObject({ name: "PhmatchError", code: "PHM_HASHSET_PARSE" });
      expect((error as Error).message).toContain(
        "truncated.json:19: the file ends inside the Media object that starts at line 15",
      );
    },
  );

  it("reports a truncation between Media objects at the last line with text", async () => {
    const text = `{"value": [\n{"MediaID": 1, "MD5": "${md5(93)}"},\n\n`;
    const report = new ImportReport("cut.json");
    const records = await readAll(Readable.from([text]), report);
    expect(summary(records)).toEqual([[2, "md5", "1", undefined, md5(93)]]);
    expect(report.read).toBe(1);
    expect(report.problems).toEqual([
      { file: "cut.json", line: 2, reason: "the file ends before the JSON document is complete (truncated file?)" },
    ]);
  });

  it(
    "reports a syntax error at its line; " + "Media objects closed before it on the same line are still yielded",
    async () => {
      // minified, as some exports are: everything is line 1
      const text =
        `{"value":[{"MediaID":1,"MD5":"${md5(94)}"},{"MediaID":2,"MD5":"${md5(95)}"},` +
        `{"MediaID":3 "MD5":"${md5(96)}"}]}`;
      const report = new ImportReport("minified.json");
      const records = await readAll(Readable.from([text]), report);
      expect(summary(records)).toEqual([
        [1, "md5", "1", undefined, md5(94)],
        [1, "md5", "2", undefined, md5(95)],
      ]);
      expect(report.read).toBe(3);
      expect(report.invalid).toBe(1);
      expect(report.problems[0]?.line).toBe(1);
      expect(report.problems[0]?.reason).toMatch(
        /^invalid JSON in the Media object that starts at line 1 \(.+\); the rest of the file was not read$/,
      );

      // the error follows the last Media object's "}" with no "{" in between
      const tail = new ImportReport("tail.json");
      expect(
        summary(await readAll(Readable.from([`{"value":[{"MediaID":7,"MD5":"${md5(94)}"} oops]}`]), tail)),
      ).toEqual([[1, "md5", "7", undefined, md5(94)]]);
      expect(tail.read).toBe(1);
      expect(tail.problems[0]?.reason).toMatch(/^invalid JSON \(.+\); the rest of the file was not read$/);

      const pretty = `{\n"value": [\n{\n"MediaID": 1,\n"MD5": "${md5(94)}",,\n"SHA1": "${sha1(94)}"\n}\n]\n}\n`;
      const strict = new ImportReport("pretty.json", true);
      const { error } = await readFailure(Readable.from([pretty]), strict);
      expect(error).toMatchObject({ code: "PHM_HASHSET_PARSE" });
      expect((error as Error).message).toMatch(
        /^pretty\.json:5: invalid JSON in the Media object that starts at line 3/,
      );
    },
  );

  it("refuses a document that is not VICS, even without --strict", async () => {
    const cases: [string, string][] = [
      [
        `[{"MediaID": 1, "MD5": "${md5(97)}"}]`,
        "not-vics.json:1: not a Project VIC (VICS) JSON list: the root is an array",
      ],
      [
        `{"odata.metadata": "x",\n"items": []}`,
        'not-vics.json:1: not a Project VIC (VICS) JSON list: the root object has no "value" array',
      ],
      [
        `{\n"value": {"MediaID": 1}}`,
        'not-vics.json:2: not a Project VIC (VICS) JSON list: the root\'s "value" is an object',
      ],
      [" \n", "not-vics.json:1: not a Project VIC (VICS) JSON list: the file is empty"],
    ];
    for (const [text, message] of cases) {
      const report = new ImportReport("not-vics.json");
      const { error } = await readFailure(Readable.from([text]), report);
      expect(error).toMatchObject({ code: "PHM_HASHSET_PARSE" });
      expect((error as Error).message.startsWith(message)).toBe(true);
    }
  });
});

// Found by fuzzing (hashset-fuzz.test.ts).
describe("readVics: hostile and broken input", () => {
  /** Everything a read gave: records, the report and the error, as plain values. */
  async function outcome(input: Readable) {
    const report = new ImportReport("hostile.json");
    const records: HashSetRecord[] = [];
    let error: unknown;
    try {
      for await (const record of readVics(input, { listId: LIST }, report)) records.push(record);
    } catch (thrown) {
      error = thrown;
    }
    return {
      records: summary(records),
      report: report.toJSON() as { problems: ImportReport["problems"] },
      error: error instanceof Error ? error.message : error,
    };
  }

  // The tokenizer drops the tokens of a piece it throws on, and pieces used to end where the input's chunks did:
  // a value completed before an error then counted or not depending on the chunking (here: refused as "not VICS"
  // in 1-byte chunks, a recoverable problem when read whole; scalars in "value" counted or not).
  it("gives the same result for broken JSON however the input is chunked", async () => {
    const documents = [
      `  "{odata.metadata": "x",\n  "value": []\n}`,
      `{"value": [1, 2, x]}`,
      `{"value": [{"MediaID": 1, "MD5": "${md5(1)}"}, "s" oops]}`,
      `{"value": [{"MediaID": 1, "MD5": "${md5(1)}", "n": 12 oops}]}`,
    ];
    for (const text of documents) {
      const whole = await outcome(Readable.from([text]));
      for (const size of [1, 2, 3, 5, 7, 64])
        expect(await outcome(inPieces(text, size)), `${text} in ${size}-byte chunks`).toEqual(whole);
    }
  });

  /** `head`, then `count` chunks of `chunk`, then `tail`, produced as they are read. */
  const generated = (head: string, chunk: string, count: number, tail = "") =>
    Readable.from(
      (function* () {
        yield head;
        for (let i = 0; i < count; i++) yield chunk;
        yield tail;
      })(),
      { objectMode: false },
    );

  // stream-json keeps a string whole until its closing quote, and the walker kept every field of a Media object
  // and every nesting level: a 400 MB unterminated string held 590 MB, a Media object with 8 million fields 2.7 GB,
  // and 200,000 nested arrays in a field overflowed the stack when the field was turned into text.
  it("stops at a string that never ends, without holding it", async () => {
    const result = await outcome(
      generated(`{"value": [{"MediaID": 1, "MD5": "${md5(1)}", "Note": "`, "a,{}".repeat(16_384), 64),
    );
    expect(result.records).toEqual([]);
    expect(result.report).toMatchObject({ read: 1, invalid: 1 });
    expect(result.report.problems).toEqual([
      {
        file: "hostile.json",
        line: 1,
        reason:
          `a JSON string or number goes on for more than ${MAX_VALUE_CHARS} characters in the Media object ` +
          "that starts at line 1 (a quote that is never closed, or not JSON); the rest of the file was not read",
      },
    ]);
    // without the structural characters the string is held back by the reader, not the tokenizer: stopped too
    const plain = await outcome(generated(`{"value": [\n{"MediaID": 1, "MD5": "`, "a".repeat(65_536), 64));
    expect(plain.report.problems[0]).toMatchObject({
      line: 2,
      reason: expect.stringContaining(`goes on for more than ${MAX_VALUE_CHARS} characters`),
    });
  });

  it(
    "refuses a Media object longer than 1 Mi characters as one problem, " + "and reads the Media objects after it",
    async () => {
      for (const filler of [`, "f": "${"x".repeat(200)}"`, `, "Tags": [${'"t", '.repeat(400)}"t"]`]) {
        const head = `{"value": [\n{"MediaID": 1, "MD5": "${md5(1)}"`;
        const result = await outcome(
          generated(
            head,
            filler,
            Math.ceil((2 * MAX_MEDIA_CHARS) / filler.length),
            `},\n{"MediaID": 2, "MD5": "${md5(2)}"}\n]}\n`,
          ),
        );
        expect(result.records).toEqual([[3, "md5", "2", undefined, md5(2)]]);
        expect(result.report).toMatchObject({ read: 2, invalid: 1 });
        expect(result.report.problems).toEqual([
          {
            file: "hostile.json",
            line: 2,
            reason: `the Media object is longer than ${MAX_MEDIA_CHARS} characters; it was not imported`,
          },
        ]);
      }
    },
  );

  it("stops at nesting deeper than 64 levels, in a Media object or outside one", async () => {
    const deep = "[".repeat(200_000) + "]".repeat(200_000);
    const inMedia = await outcome(Readable.from([`{"value": [{"MediaID": 1, "MD5": "${md5(1)}", "X": ${deep}}]}`]));
    expect(inMedia.report).toMatchObject({ read: 1, invalid: 1 });
    expect(inMedia.report.problems[0]?.reason).toBe(
      `JSON nested deeper than ${MAX_DEPTH} levels in the Media object that starts at line 1 ` +
        "(not a VICS list, or a damaged one); the rest of the file was not read",
    );
    const outside = await outcome(Readable.from([`{"odata.metadata": ${deep}, "value": []}`]));
    expect(outside.report).toMatchObject({ read: 0, invalid: 1 });
    expect(outside.report.problems[0]?.reason).toBe(
      `JSON nested deeper than ${MAX_DEPTH} levels (not a VICS list, or a damaged one); ` +
        "the rest of the file was not read",
    );
    // 64 levels are read: a field nested that deep is kept as JSON text
    const levels = MAX_DEPTH - 3; // root, "value", the Media object
    const kept = await outcome(
      Readable.from([
        `{"value": [{"MediaID": 1, "MD5": "${md5(1)}", "X": ${"[".repeat(levels)}${"]".repeat(levels)}}]}`,
      ]),
    );
    expect(kept.report).toMatchObject({ read: 1, invalid: 0 });
  });
});

describe("readVics: strict mode", () => {
  it("throws PHM_HASHSET_PARSE at the first invalid value, naming file, line and field", async () => {
    const report = new ImportReport("bad-hex-length.json", true);
    const { records, error } = await readFailure(fixture("bad-hex-length.json"), report);
    expect(records).toEqual([]);
    expect(error).toMatchObject({ name: "PhmatchError", code: "PHM_HASHSET_PARSE" });
    expect((error as Error).message).toContain(
      'bad-hex-length.json:4: MediaID 21: "MD5": md5 needs 32 hex digits, got 31',
    );
    expect(report.invalid).toBe(1);
  });

  it("throws on an unknown HashName after yielding the entries before it", async () => {
    const report = new ImportReport("unknown-hashname.json", true);
    const { records, error } = await readFailure(fixture("unknown-hashname.json"), report);
    expect(summary(records)).toEqual([
      [4, "md5", "51", "1", md5(51)],
      [4, "pdq", "51", "1", pdq(51)],
    ]);
    expect(error).toMatchObject({ code: "PHM_HASHSET_PARSE" });
    expect((error as Error).message).toContain('unknown-hashname.json:4: unrecognised hash type "SHA3-256"');
    expect(report.unrecognised).toEqual({ "SHA3-256": 1 });
  });
});

describe("readVics: streaming", () => {
  it("streams 2,000 Media objects from small chunks without reading ahead (100,000: npm run test:fuzz)", () =>
    streamVics(2_000));
});

import { createHash } from "node:crypto";
import fs from "node:fs";
import { Readable } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { HashSetEntry, HashSetRecord, Withdrawal } from "../src/hashset/entry.js";
import { ImportReport } from "../src/hashset/import-report.js";
import { MAX_CHARS_WITHOUT_TAG, MAX_DEPTH, readNcmec } from "../src/hashset/readers/ncmec.js";
import { generatedNcmecList, streamNcmec } from "./support/list-streaming.js";

// Fixture values are hashes of harmless strings ("phmatch benign test image 1", ...): benign, synthetic test data.
const benign = (name: string) => `phmatch benign test ${name}`;
const digest = (algorithm: string, text: string) => createHash(algorithm).update(text).digest("hex");
/** 144 benign bytes for a PhotoDNA-sized value, derived from a harmless string. */
const photodnaOf = (text: string) => {
  const part = (algorithm: string, suffix: string) => createHash(algorithm).update(`${text}/${suffix}`).digest();
  return Buffer.concat([part("sha512", "a"), part("sha512", "b"), part("md5", "c")]).toString("hex");
};

const fixture = (name: string) => new URL(`../../../test-fixtures/hashsets/ncmec/${name}`, import.meta.url);
const hex = (value: Uint8Array) => Buffer.from(value).toString("hex");

interface Result {
  records: HashSetRecord[];
  entries: HashSetEntry[];
  withdrawals: Withdrawal[];
  report: ImportReport;
  error?: unknown;
}

/** Reads everything `input` yields; an error thrown by the reader is returned with the records yielded before it. */
async function read(input: Readable, file: string, strict = false): Promise<Result> {
  const report = new ImportReport(file, strict);
  const records: HashSetRecord[] = [];
  let error: unknown;
  try {
    for await (const record of readNcmec(input, { listId: "ncmec-test" }, report)) records.push(record);
  } catch (thrown) {
    error = thrown;
  }
  const entries = records.flatMap((r) => (r.kind === "entry" ? [r.entry] : []));
  const withdrawals = records.flatMap((r) => (r.kind === "withdrawal" ? [r.withdrawal] : []));
  return { records, entries, withdrawals, report, error };
}

const readFixture = (name: string, strict = false) => read(fs.createReadStream(fixture(name)), name, strict);
const readText = (text: string) => read(Readable.from([Buffer.from(text)]), "inline.xml");

/** [line, algorithm, entryId, category, hex] of each entry, for exact comparisons. */
const entrySummary = (result: Result) =>
  result.records.flatMap((r) =>
    r.kind === "entry" ? [[r.line, r.entry.algorithm, r.entry.entryId, r.entry.category, hex(r.entry.value)]] : [],
  );
const problemLines = (report: ImportReport) => report.problems.map((p) => p.line);

describe("readNcmec: a well-formed list", () => {
  it("yields one entry per fingerprint of images and videos, and withdrawals for tombstones", async () => {
    const result = await readFixture("list.xml");
    const { report } = result;
    expect(result.error).toBeUndefined();
    expect(report.read).toBe(5);
    expect(report.invalid).toBe(0);
    expect(report.problems).toEqual([]);
    expect(report.unrecognised).toEqual({});

    expect(entrySummary(result)).toEqual([
      [6, "md5", "img-0001", "A1", digest("md5", benign("image 1"))],
      [6, "sha1", "img-0001", "A1", digest("sha1", benign("image 1"))],
      [6, "photodna", "img-0001", "A1", photodnaOf(benign("image 1"))],
      [23, "sha256", "img-0002", "B2", digest("sha256", benign("image 2"))],
      [23, "pdq", "img-0002", "B2", digest("sha256", `${benign("image 2")}/pdq`)],
      [42, "md5", "vid-0001", "A2", digest("md5", benign("video 1"))],
      [42, "photodna", "vid-0001", "A2", photodnaOf(benign("video 1"))],
    ]);
    expect(result.entries.every((e) => e.listId === "ncmec-test")).toBe(true);

    expect(result.records.filter((r) => r.kind === "withdrawal").map((r) => r.line)).toEqual([31, 31, 52]);
    expect(result.withdrawals.map((w) => [w.algorithm, w.entryId, w.listId, hex(w.value as Uint8Array)])).toEqual([
      ["md5", "img-0900", "ncmec-test", digest("md5", benign("image 900"))],
      ["sha1", "img-0900", "ncmec-test", digest("sha1", benign("image 900"))],
      ["md5", "vid-0900", "ncmec-test", digest("md5", benign("video 900"))],
    ]);
  });

  it("keeps the contributing member, dates and classification, not the members inside <feedback>", async () => {
    const { entries } = await readFixture("list.xml");
    const [first, second] = entries;
    expect(first?.fields).toEqual({
      member: "42",
      source: "Example Member",
      added: "2024-01-01T10:00:00Z",
      verified: "2024-01-02T10:00:00Z",
    });
    // Entries of one record carry equal fields, but not one shared object.
    expect(second?.fields).toEqual(first?.fields);
    expect(second?.fields).not.toBe(first?.fields);
    // id attribute as entry id; entities decoded; no dates given, none invented.
    expect(entries.find((e) => e.algorithm === "pdq")?.fields).toEqual({ member: "7", source: "Second & Member" });
    // NCMEC's <timestamp> counts as lastModified.
    const video = entries.find((e) => e.entryId === "vid-0001");
    expect(video?.fields).toEqual({ member: "42", source: "Example Member", verified: "2024-01-03T00:00:00Z" });
  });

  it("reads the same list fed one byte at a time", async () => {
    const whole = await readFixture("list.xml");
    const bytes = fs.readFileSync(fixture("list.xml"));
    const oneByOne = await read(Readable.from([...bytes].map((b) => Buffer.from([b]))), "list.xml");
    expect(oneByOne.records).toEqual(whole.records);
    expect(oneByOne.report.toJSON()).toEqual(whole.report.toJSON());
  });

  it("reads the same records wherever the chunks are cut (property)", async () => {
    const bytes = fs.readFileSync(fixture("list.xml"));
    const whole = await readFixture("list.xml");
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }),
        async (cuts) => {
          const bounds = [0, ...cuts.sort((a, b) => a - b), bytes.length];
          const chunks = bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end));
          const split = await read(Readable.from(chunks), "list.xml");
          expect(split.records).toEqual(whole.records);
          expect(split.report.toJSON()).toEqual(whole.report.toJSON());
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("readNcmec: invalid records", () => {
  it(
    "reports wrong hex lengths and non-hex values at the record's line, " + "keeping the record's valid fingerprints",
    async () => {
      const { report, ...result } = await readFixture("wrong-hex-length.xml");
      expect(entrySummary({ report, ...result })).toEqual([
        [4, "sha1", "x1", "A1", digest("sha1", benign("x1"))],
        [18, "md5", "x3", undefined, digest("md5", benign("x3"))],
      ]);
      expect(result.withdrawals).toEqual([]);
      expect(report.read).toBe(4);
      expect(report.invalid).toBe(4);
      expect(problemLines(report)).toEqual([4, 12, 18, 22]);
      expect(report.problems.map((p) => p.reason)).toEqual([
        expect.stringMatching(/^<image> "x1": <md5>: .*32 hex digits, got 31/),
        expect.stringMatching(/^<image> "x2": <sha1>: .*40 hex digits, got 41/),
        expect.stringMatching(/^<image> "x3": <sha256>: .*not hex/),
        expect.stringMatching(/^<deletedImage> "x4": <md5>: .*32 hex digits, got 30/),
      ]);
    },
  );

  it("reports bad base64 PhotoDNA and accepts good base64", async () => {
    const { report, ...result } = await readFixture("bad-base64.xml");
    expect(entrySummary({ report, ...result })).toEqual([
      [5, "md5", "y1", undefined, digest("md5", benign("x1"))],
      [16, "photodna", "y3", undefined, photodnaOf(benign("x"))],
    ]);
    expect(result.withdrawals).toEqual([]);
    expect(report.read).toBe(4);
    expect(report.invalid).toBe(3);
    expect(problemLines(report)).toEqual([5, 12, 20]);
    expect(report.problems[0]?.reason).toMatch(/^<image> "y1": <pdna>: .*base64/);
    expect(report.problems[1]?.reason).toMatch(
      /^<image> "y2": <pdna>: photodna needs 144 bytes, base64 decodes to 143/,
    );
    expect(report.problems[2]?.reason).toMatch(/^<deletedImage> "y4": <photodna>: .*base64/);
  });

  it("reports an unknown element where a record is expected and skips its whole subtree", async () => {
    const { report, ...result } = await readFixture("unknown-element.xml");
    // u-nested is an <image> inside the unknown <thumbnail>: skipped with it.
    expect(result.entries.map((e) => e.entryId)).toEqual(["u1", "u2", "u3"]);
    expect(entrySummary({ report, ...result }).map((e) => e[0])).toEqual([3, 7, 11]);
    expect(report.read).toBe(5);
    expect(report.invalid).toBe(2);
    expect(problemLines(report)).toEqual([4, 9]);
    expect(report.problems[0]?.reason).toContain("<thumbnail>");
    expect(report.problems[1]?.reason).toContain("<statistics>");
  });

  it("counts fingerprint types it does not map, and still imports the record's mapped ones", async () => {
    const { report, ...result } = await readFixture("unmapped-types.xml");
    expect(entrySummary({ report, ...result })).toEqual([[4, "md5", "n1", "A1", digest("md5", benign("x1"))]]);
    expect(report.read).toBe(2);
    expect(report.unrecognised).toEqual({ videomd5: 1, "tmk-pdqf": 1, netica: 2 });
    expect(report.invalid).toBe(4);
    expect(problemLines(report)).toEqual([4, 4, 4, 14]);
  });

  it("reports images without any fingerprint; an id-only tombstone withdraws by entry id", async () => {
    const { report, records } = await readFixture("missing-fingerprints.xml");
    expect(records).toEqual([{ kind: "withdrawal", withdrawal: { listId: "ncmec-test", entryId: "m3" }, line: 5 }]);
    expect(report.read).toBe(3);
    expect(report.invalid).toBe(2);
    expect(problemLines(report)).toEqual([3, 4]);
    expect(report.problems[0]?.reason).toBe('<image> "m1" has no fingerprints');
    expect(report.problems[1]?.reason).toBe('<image> "m2" has no fingerprints');
  });

  it("bounds what one record may hold: overlong values and too many fingerprints", async () => {
    const many = Array.from({ length: 300 }, (_, i) => `<md5>${digest("md5", benign(`many ${i}`))}</md5>`).join("");
    const result = await readText(
      `<hashList>\n<image><id>long</id><fingerprints><md5>${"a".repeat(5000)}</md5></fingerprints></image>\n` +
        `<image><id>many</id><fingerprints>${many}</fingerprints></image>\n</hashList>\n`,
    );
    expect(result.entries.length).toBe(256);
    expect(result.entries.every((e) => e.entryId === "many")).toBe(true);
    expect(hex(result.entries[255]!.value)).toBe(digest("md5", benign("many 255")));
    expect(result.report.read).toBe(2);
    expect(problemLines(result.report)).toEqual([2, 3]);
    expect(result.report.problems[0]?.reason).toBe('<image> "long": <md5> is longer than 4096 characters');
    expect(result.report.problems[1]?.reason).toContain("more than 256 fingerprints");
  });
});

describe("readNcmec: malformed XML", () => {
  it("yields the records before a truncation, then reports it at the line where the file ends", async () => {
    const { report, ...result } = await readFixture("truncated.xml");
    expect(entrySummary({ report, ...result })).toEqual([
      [4, "md5", "t1", undefined, digest("md5", benign("x1"))],
      [8, "md5", "t2", undefined, digest("md5", benign("x2"))],
    ]);
    // The unfinished third <image> was seen, and is the one invalid record.
    expect(report.read).toBe(3);
    expect(report.invalid).toBe(1);
    expect(problemLines(report)).toEqual([14]);
    expect(report.problems[0]?.reason).toMatch(
      /^malformed XML: unclosed tag.*the <image> starting at line 12 is incomplete/,
    );
  });

  it("does not import a record that an unmatched close tag closed", async () => {
    const { report, entries } = await readFixture("unclosed-tag.xml");
    expect(entries.map((e) => e.entryId)).toEqual(["c1"]);
    expect(report.read).toBe(2);
    expect(report.invalid).toBe(1);
    expect(problemLines(report)).toEqual([5]);
    expect(report.problems[0]?.reason).toMatch(/^malformed XML: .*the <image> starting at line 3 is incomplete/);
  });

  it("resolves no entity a DOCTYPE declares (no file or network access) and stops at it", async () => {
    const { report, entries } = await readFixture("external-entity.xml");
    // entity-target.txt holds a valid MD5; had it been read, ee2 would be an entry.
    const target = fs.readFileSync(fixture("entity-target.txt"), "utf8").trim();
    expect(entries.map((e) => [e.entryId, hex(e.value)])).toEqual([["ee1", digest("md5", benign("x1"))]]);
    expect(entries.some((e) => hex(e.value) === target)).toBe(false);
    expect(report.read).toBe(2);
    expect(problemLines(report)).toEqual([8]);
    expect(report.problems[0]?.reason).toMatch(/^malformed XML: undefined entity/);
  });

  it("reports an empty input at line 1", async () => {
    const { report, records } = await read(Readable.from([]), "empty.xml");
    expect(records).toEqual([]);
    expect(report.read).toBe(0);
    expect(report.problems).toEqual([
      { file: "empty.xml", line: 1, reason: "malformed XML: document must contain a root element" },
    ]);
  });

  it("refuses input with no tag for longer than the limit, and stops reading it", async () => {
    let produced = 0;
    const chunk = Buffer.alloc(64 * 1024, "a");
    const total = Math.ceil((2 * MAX_CHARS_WITHOUT_TAG) / chunk.length);
    function* chunks() {
      yield Buffer.from("<hashList>\n<image><id>");
      for (; produced < total; produced++) yield chunk;
    }
    const { report, records } = await read(Readable.from(chunks()), "endless.xml");
    expect(records).toEqual([]);
    expect(report.read).toBe(1);
    expect(problemLines(report)).toEqual([2]);
    expect(report.problems[0]?.reason).toContain(`no tag in ${MAX_CHARS_WITHOUT_TAG} characters`);
    expect(produced).toBeLessThan(total);
  });

  // Found by fuzzing (hashset-fuzz.test.ts): saxes keeps every open element, so endlessly nested tags grew memory
  // and time without limit (10 million nested <a>: 3.1 GB and 117 s).
  it("stops at elements nested deeper than the limit, keeping the records before them, and stops reading", async () => {
    let produced = 0;
    const total = 1000;
    function* chunks() {
      yield Buffer.from(
        `<hashList>\n<image><id>n1</id><fingerprints><md5>${digest("md5", benign("n1"))}</md5></fingerprints>` +
          "</image>\n<image>\n<id>n2</id>",
      );
      for (; produced < total; produced++) yield Buffer.from("<a>".repeat(10_000));
    }
    const { report, records, error } = await read(Readable.from(chunks()), "nested.xml");
    expect(error).toBeUndefined();
    expect(records.map((r) => r.kind === "entry" && r.entry.entryId)).toEqual(["n1"]);
    expect(report.read).toBe(2);
    expect(problemLines(report)).toEqual([4]);
    expect(report.problems[0]?.reason).toBe(
      `malformed XML: elements nested deeper than ${MAX_DEPTH} levels (not an NCMEC list, or a damaged one); ` +
        "the <image> starting at line 3 is incomplete and was not imported",
    );
    expect(produced).toBeLessThan(total);
  });
});

describe("readNcmec: encodings and line numbers", () => {
  it("handles a UTF-8 BOM and CRLF line endings", async () => {
    const { report, ...result } = await readFixture("bom-crlf.xml");
    expect(entrySummary({ report, ...result })).toEqual([[4, "md5", "b1", "B1", digest("md5", benign("x5"))]]);
    expect(result.entries[0]?.fields).toEqual({ member: "5", source: "Mitglied Zürich – Ñandú 🦉" });
    expect(result.records.filter((r) => r.kind === "withdrawal").map((r) => r.line)).toEqual([16]);
    expect(result.withdrawals.map((w) => [w.algorithm, w.entryId, hex(w.value as Uint8Array)])).toEqual([
      ["sha1", "b3", digest("sha1", benign("x6"))],
    ]);
    expect(report.read).toBe(3);
    expect(report.invalid).toBe(1);
    expect(problemLines(report)).toEqual([12]);
  });

  it("gives the same result however the BOM, CRLF and multi-byte characters are split across chunks", async () => {
    const whole = await readFixture("bom-crlf.xml");
    const bytes = fs.readFileSync(fixture("bom-crlf.xml"));
    const oneByOne = await read(Readable.from([...bytes].map((b) => Buffer.from([b]))), "bom-crlf.xml");
    const asStrings = await read(
      fs.createReadStream(fixture("bom-crlf.xml"), { encoding: "utf8", highWaterMark: 7 }),
      "bom-crlf.xml",
    );
    for (const other of [oneByOne, asStrings]) {
      expect(other.records).toEqual(whole.records);
      expect(other.report.toJSON()).toEqual(whole.report.toJSON());
    }
  });

  it("counts empty and blank lines, and a start tag whose name ends a line", async () => {
    const { report, entries } = await readFixture("empty-lines.xml");
    expect(entries.map((e) => [e.entryId, hex(e.value)])).toEqual([["e1", digest("md5", benign("x1"))]]);
    expect(report.read).toBe(3);
    // <image at line 12 with its id attribute on line 13; <video> without fingerprints at line 21.
    expect(problemLines(report)).toEqual([12, 21]);
    expect(report.problems[0]?.reason).toMatch(/^<image> "e2": <md5>: .*got 33/);
    expect(report.problems[1]?.reason).toBe('<video> "e3" has no fingerprints');
  });

  it("matches element names without their namespace prefix, and accepts a section as the root", async () => {
    const md5 = digest("md5", benign("ns 1"));
    const prefixed = await readText(
      `<ns2:queryResult xmlns:ns2="https://hashsharing.example.invalid/v2">\n<ns2:images>\n` +
        `<ns2:image><ns2:id>p1</ns2:id><ns2:fingerprints><ns2:MD5>${md5}</ns2:MD5></ns2:fingerprints></ns2:image>\n` +
        `</ns2:images>\n</ns2:queryResult>`,
    );
    expect(entrySummary(prefixed)).toEqual([[3, "md5", "p1", undefined, md5]]);
    const sectionRoot = await readText(
      `<videos><video id="v1"><fingerprints><md5>${md5}</md5></fingerprints></video></videos>`,
    );
    expect(entrySummary(sectionRoot)).toEqual([[1, "md5", "v1", undefined, md5]]);
    expect(prefixed.report.invalid + sectionRoot.report.invalid).toBe(0);
  });
});

describe("readNcmec: strict mode", () => {
  it.each([
    ["bom-crlf.xml", 12, ["b1"]],
    ["truncated.xml", 14, ["t1", "t2"]],
    ["unmapped-types.xml", 4, ["n1"]],
    ["unknown-element.xml", 4, ["u1"]],
  ])(
    "%s: yields what precedes the first problem, then throws PHM_HASHSET_PARSE naming line %i",
    async (name, line, ids) => {
      const { error, entries, report } = await readFixture(name, true);
      expect(entries.map((e) => e.entryId)).toEqual(ids);
      expect(error).toMatchObject({ code: "PHM_HASHSET_PARSE" });
      expect((error as Error).message).toContain(`${name}:${line}: `);
      expect(report.invalid).toBe(1);
    },
  );
});

describe("readNcmec: streaming", () => {
  it("reads 5,000 images arriving in small chunks, yielding before the input ends (50,000: npm run test:fuzz)", () =>
    streamNcmec(5_000));

  it("destroys the input when the consumer stops early", async () => {
    const input = Readable.from(generatedNcmecList(10_000, { chunks: 0, done: false }));
    const report = new ImportReport("generated.xml");
    for await (const record of readNcmec(input, { listId: "stream" }, report)) {
      expect(record.kind).toBe("entry");
      break;
    }
    expect(input.destroyed).toBe(true);
    expect(report.read).toBeLessThan(10_000);
  });
});

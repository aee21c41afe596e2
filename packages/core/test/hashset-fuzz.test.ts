// The list readers under fuzzing: every reader is fed the benign fixtures of test-fixtures/hashsets and generated
// valid lists, damaged in every way list files get damaged (test/support/list-mutations.ts), and must
// - fail only with PHM_HASHSET_PARSE, never with a TypeError, RangeError, SyntaxError, a stack overflow or a hang;
// - account for every record: `invalid` is the number of problems, every record seen ends as an entry, a
//   withdrawal or a problem, and every line number given is a line of the file, in file order;
// - in strict mode, yield exactly what the lenient run yields before its first problem, then stop at it;
// - give the same result however the input is cut into chunks;
// and, on generated valid lists, yield exactly the records written, at their lines, and report each planted
// invalid record at its own line. Whatever an import of a damaged file accepts makes a store that loads and
// exports, and an import -> .phs -> export -> import round trip keeps every entry.
// The seed is fixed, so a run is reproducible; a failure prints its counterexample, seed and path. To fuzz longer:
// PHMATCH_FUZZ_SEED=$RANDOM PHMATCH_FUZZ_SCALE=20 npx vitest run packages/core/test/hashset-fuzz.test.ts
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { PhmatchError } from "../src/errors/index.js";
import { HashSetBuilder } from "../src/hashset/builder.js";
import type { HashSetRecord } from "../src/hashset/entry.js";
import { exportCsv, exportNdjson } from "../src/hashset/export.js";
import { importHashSet } from "../src/hashset/import.js";
import { ImportReport } from "../src/hashset/import-report.js";
import { parseStore } from "../src/hashset/load.js";
import { readCsv } from "../src/hashset/readers/csv.js";
import { readIcse } from "../src/hashset/readers/icse.js";
import { readNcmec } from "../src/hashset/readers/ncmec.js";
import { readNdjson } from "../src/hashset/readers/ndjson.js";
import type { HashSetReader, ReaderOptions } from "../src/hashset/readers/reader.js";
import { readPytx, readText } from "../src/hashset/readers/text.js";
import { readVics } from "../src/hashset/readers/vics.js";
import { serializeStore } from "../src/hashset/store-writer.js";
import { type ExpectedRecord, type GeneratedList, generatedList, type ListFormat } from "./support/list-generators.js";
import { applyMutations, chunkedStream, mutations } from "./support/list-mutations.js";

/**
 * fast-check options: `runs` scaled by PHMATCH_FUZZ_SCALE, the seed fixed unless PHMATCH_FUZZ_SEED is given. Unset
 * (npm test), the scale is 0.4: this file was the slowest of the unit suite (17 s); `npm run test:fuzz` runs 20x.
 */
const fuzz = (runs: number) => ({
  numRuns: Math.ceil(runs * Number(process.env.PHMATCH_FUZZ_SCALE ?? 0.4)),
  seed: Number(process.env.PHMATCH_FUZZ_SEED ?? 20_251_201),
});

const READERS: Record<ListFormat, HashSetReader> = {
  text: readText,
  pytx: readPytx,
  csv: readCsv,
  icse: readIcse,
  ndjson: readNdjson,
  vics: readVics,
  ncmec: readNcmec,
};
const FORMATS = Object.keys(READERS) as ListFormat[];
/** Formats where a record is one line (or one CSV row): each has its own start line. */
const ONE_RECORD_PER_LINE = new Set<ListFormat>(["text", "pytx", "csv", "icse", "ndjson"]);
const OPTIONS: Record<ListFormat, ReaderOptions> = {
  text: { listId: "fuzz", algorithm: "md5" },
  pytx: { listId: "fuzz" },
  csv: { listId: "fuzz", algorithm: "md5" },
  icse: { listId: "fuzz" },
  ndjson: { listId: "fuzz" },
  vics: { listId: "fuzz" },
  ncmec: { listId: "fuzz" },
};

const fixtureDir = new URL("../../../test-fixtures/hashsets/", import.meta.url);
/** The benign fixtures of each format (generator scripts excluded). */
const FIXTURES: Record<ListFormat, Buffer[]> = Object.fromEntries(
  FORMATS.map((format) => {
    const dir = new URL(`${format}/`, fixtureDir);
    return [
      format,
      readdirSync(dir)
        .filter((name) => !name.endsWith(".mjs"))
        .sort()
        .map((name) => readFileSync(new URL(name, dir))),
    ];
  }),
) as Record<ListFormat, Buffer[]>;

/** What a reader did, in order: records yielded and problems reported, as comparable plain values. */
type Outcome = { record: string; line: number } | { problem: string; line: number };

class RecordingReport extends ImportReport {
  readonly outcomes: Outcome[] = [];

  override problem(line: number, reason: string): void {
    this.outcomes.push({ problem: reason, line });
    super.problem(line, reason);
  }
}

interface Run {
  outcomes: Outcome[];
  records: HashSetRecord[];
  report: RecordingReport;
  error: unknown;
}

const plainRecord = (record: HashSetRecord) =>
  JSON.stringify(record, (_key, value: unknown) =>
    value instanceof Uint8Array ? Buffer.from(value).toString("hex") : value,
  );

async function read(
  format: ListFormat,
  bytes: Uint8Array,
  chunk: number,
  strict: boolean,
  options = OPTIONS[format],
): Promise<Run> {
  const report = new RecordingReport(`fuzz.${format}`, strict);
  const records: HashSetRecord[] = [];
  let error: unknown;
  try {
    for await (const record of READERS[format](chunkedStream(bytes, chunk), options, report)) {
      records.push(record);
      report.outcomes.push({ record: plainRecord(record), line: record.line });
    }
  } catch (thrown) {
    error = thrown;
  }
  return { outcomes: report.outcomes, records, report, error };
}

const describeError = (error: unknown) =>
  error instanceof PhmatchError
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? `${error.constructor.name}: ${error.message}`
      : String(error);

/** Lines of `bytes` as a reader counts them (LF, CRLF or a lone CR end a line). */
function lineCount(bytes: Uint8Array): number {
  return Buffer.from(bytes)
    .toString("utf8")
    .split(/\r\n|\n|\r/).length;
}

/** The properties every run must have, lenient or strict. */
function checkRun(format: ListFormat, bytes: Uint8Array, run: Run): void {
  const { error, report, outcomes } = run;
  if (error !== undefined && !(error instanceof PhmatchError && error.code === "PHM_HASHSET_PARSE")) {
    throw new Error(`untyped failure: ${describeError(error)}`, { cause: error });
  }
  const lines = lineCount(bytes);
  for (const outcome of outcomes) {
    if (!Number.isInteger(outcome.line) || outcome.line < 1 || outcome.line > lines)
      throw new Error(`line ${outcome.line} is not a line of the file (1-${lines}): ${JSON.stringify(outcome)}`);
  }
  const recordLines = outcomes.flatMap((o) => ("record" in o ? [o.line] : []));
  recordLines.forEach((line, i) => {
    if (i > 0 && line < (recordLines[i - 1] as number))
      throw new Error(`records out of file order: line ${line} after ${recordLines[i - 1]}`);
  });
  const problems = outcomes.filter((o) => "problem" in o);
  expect(report.invalid).toBe(problems.length);
  // In strict mode the one problem is the error thrown, not a listed problem.
  expect(report.problems.map((p) => p.line)).toEqual(report.strict ? [] : problems.slice(0, 1000).map((p) => p.line));
  if (error !== undefined) return;
  if (ONE_RECORD_PER_LINE.has(format)) {
    // One record per line: each record seen left an entry, a withdrawal or a problem on its own line.
    expect(new Set(outcomes.map((o) => o.line)).size).toBe(report.read);
  } else {
    // XML and JSON records can share a line (minified files), but none may vanish.
    expect(outcomes.length).toBeGreaterThanOrEqual(report.read);
  }
}

/** Outcomes with what is allowed to depend on where the input was cut: saxes' wording and line of an XML error. */
function chunkInvariant(format: ListFormat, run: Run) {
  const outcome = (o: Outcome) =>
    "problem" in o && format === "ncmec" && o.problem.startsWith("malformed XML") ? { problem: "malformed XML" } : o;
  return {
    outcomes: run.outcomes.map(outcome),
    counts: [run.report.read, run.report.invalid, run.report.unrecognised],
    error: run.error instanceof Error ? run.error.message : run.error,
  };
}

/** A lenient run, a strict run and a run on a differently chunked stream of the same bytes, checked together. */
async function checkAll(format: ListFormat, bytes: Uint8Array, chunk: number, options = OPTIONS[format]): Promise<Run> {
  const lenient = await read(format, bytes, 65_536, false, options);
  checkRun(format, bytes, lenient);
  const strict = await read(format, bytes, chunk, true, options);
  checkRun(format, bytes, strict);
  const first = lenient.outcomes.findIndex((o) => "problem" in o);
  if (first >= 0) {
    expect(strict.error, "strict mode stops at the first problem").toBeInstanceOf(PhmatchError);
    expect(chunkInvariant(format, { ...strict, error: undefined })).toMatchObject({
      outcomes: chunkInvariant(format, { ...lenient, outcomes: lenient.outcomes.slice(0, first + 1), error: undefined })
        .outcomes,
    });
    const fatal = lenient.outcomes[first] as Outcome & { problem: string };
    // (saxes may place an XML error a line apart depending on where the input was cut)
    if (!(format === "ncmec" && fatal.problem.startsWith("malformed XML")))
      expect((strict.error as PhmatchError).message).toContain(`:${fatal.line}:`);
  } else if (lenient.error !== undefined) {
    expect((strict.error as Error | undefined)?.message).toBe((lenient.error as Error).message);
  } else {
    expect(strict.error).toBeUndefined();
    expect(strict.outcomes).toEqual(lenient.outcomes);
  }
  const chunked = await read(format, bytes, chunk, false, options);
  expect(chunkInvariant(format, chunked)).toEqual(chunkInvariant(format, lenient));
  return lenient;
}

/** A seed to damage: a fixture of the format or a generated valid list. */
const seedBytes = (format: ListFormat): fc.Arbitrary<Buffer> =>
  fc.oneof(
    fc.constantFrom(...FIXTURES[format]),
    generatedList[format].map((list) => list.bytes),
  );

const chunkSize = fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 4096 }));

describe("list readers on damaged input", () => {
  for (const format of FORMATS) {
    it(
      `${format}: typed failures only, every record accounted for, ` +
        `strict = lenient up to the first problem, chunking changes nothing`,
      async () => {
        await fc.assert(
          fc.asyncProperty(seedBytes(format), mutations(5), chunkSize, async (seed, ms, chunk) => {
            await checkAll(format, applyMutations(seed, ms), chunk);
          }),
          fuzz(150),
        );
      },
    );
  }

  it("every truncation of one fixture per format", async () => {
    const samples: [ListFormat, string][] = [
      ["text", "text/md5-list.txt"],
      ["pytx", "pytx/signals.txt"],
      ["csv", "csv/mixed.csv"],
      ["icse", "icse/export.csv"],
      ["ndjson", "ndjson/records.ndjson"],
      ["vics", "vics/vics-cases.json"],
      ["ncmec", "ncmec/list.xml"],
    ];
    for (const [format, name] of samples) {
      const bytes = readFileSync(new URL(name, fixtureDir));
      for (let end = 0; end <= bytes.length; end++) {
        const cut = bytes.subarray(0, end);
        checkRun(format, cut, await read(format, cut, 65_536, false));
      }
    }
  });
});

/** A yielded record as the generator describes records. */
function asExpected(record: HashSetRecord): ExpectedRecord {
  const item = record.kind === "entry" ? record.entry : record.withdrawal;
  return {
    line: record.line,
    kind: record.kind,
    algorithm: item.algorithm ?? "",
    hex: item.value === undefined ? "" : Buffer.from(item.value).toString("hex"),
    ...(item.entryId !== undefined && { entryId: item.entryId }),
    ...(record.kind === "entry" && record.entry.category !== undefined && { category: record.entry.category }),
  };
}

describe("list readers on generated valid lists", () => {
  for (const format of FORMATS) {
    it(
      `${format}: exactly the records written, at their ` + `lines; each planted invalid record reported at its line`,
      async () => {
        await fc.assert(
          fc.asyncProperty(generatedList[format], chunkSize, async (list: GeneratedList, chunk) => {
            const run = await checkAll(format, list.bytes, chunk, list.options);
            expect(run.error).toBeUndefined();
            expect(run.records.map(asExpected)).toEqual(list.records);
            expect(run.report.problems.map((p) => p.line)).toEqual(list.problems);
            expect(run.report.read).toBe(list.records.length + list.problems.length);
          }),
          fuzz(150),
        );
      },
    );
  }
});

describe("import -> .phs -> export -> import", () => {
  const tmp = mkdtempSync(join(tmpdir(), "phmatch-fuzz-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it(
    "imports damaged files (format detected, or named) into " +
      "stores that load and export, or fails with PHM_HASHSET_PARSE",
    async () => {
      const damaged = fc
        .constantFrom(...FORMATS)
        .chain((format) => fc.tuple(fc.constant(format), seedBytes(format), mutations(5), fc.boolean(), fc.boolean()));
      let n = 0;
      await fc.assert(
        fc.asyncProperty(damaged, async ([format, seed, ms, named, strict]) => {
          const file = join(tmp, `damaged-${n++}`);
          writeFileSync(file, applyMutations(seed, ms));
          const builder = new HashSetBuilder();
          let report: ImportReport;
          try {
            report = await importHashSet(builder, file, { ...OPTIONS[format], ...(named && { format }), strict });
          } catch (error) {
            if (!(error instanceof PhmatchError && error.code === "PHM_HASHSET_PARSE"))
              throw new Error(`untyped failure: ${describeError(error)}`, { cause: error });
            return;
          }
          if (strict) expect(report.invalid).toBe(0);
          // A record read ends imported, a duplicate, withdrawn or invalid (one XML or JSON record may give several).
          expect(report.imported + report.duplicate + report.withdrawn + report.invalid).toBeGreaterThanOrEqual(
            report.read,
          );
          // In line formats every problem is a record's; XML and JSON also have document problems (cut off, malformed).
          if (ONE_RECORD_PER_LINE.has(report.format as ListFormat))
            expect(report.invalid).toBeLessThanOrEqual(report.read);
          const set = parseStore(serializeStore(builder), file);
          expect(set.size).toBe(report.imported);
          [...exportNdjson(set)];
          [...exportCsv(set)];
          set.withdrawals();
        }),
        fuzz(150),
      );
    },
  );

  it("keeps every entry and withdrawal, with the import report adding up", async () => {
    const anyList = fc.constantFrom(...FORMATS).chain((format) => generatedList[format]);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(anyList, async (list) => {
        const file = join(tmp, `list-${n++}.${list.format}`);
        writeFileSync(file, list.bytes);
        const builder = new HashSetBuilder();
        const report = await importHashSet(builder, file, {
          ...list.options,
          format: list.format,
          list: { version: 4 },
        });
        // Every record read is imported, withdrawn, a duplicate or invalid; nothing else happens to it.
        expect(report.invalid).toBe(list.problems.length);
        expect(report.imported + report.duplicate + report.withdrawn).toBe(list.records.length);
        const distinct = (kind: string) =>
          new Set(list.records.filter((r) => r.kind === kind).map((r) => `${r.algorithm}:${r.hex}`)).size;
        expect(report.imported).toBe(distinct("entry"));
        const set = parseStore(serializeStore(builder), file);
        const entries = [...set.entries()].map((e) => ({ ...e, value: Buffer.from(e.value).toString("hex") }));
        expect(entries.length).toBe(report.imported);

        const exported = join(tmp, `export-${n}.ndjson`);
        writeFileSync(exported, [...exportNdjson(set)].join("\n") + "\n");
        const again = new HashSetBuilder();
        const second = await importHashSet(again, exported, { listId: "other" });
        expect(second.format).toBe("ndjson");
        expect(second.invalid).toBe(0);
        const back = parseStore(serializeStore(again), exported);
        expect([...back.entries()].map((e) => ({ ...e, value: Buffer.from(e.value).toString("hex") }))).toEqual(
          entries,
        );
        expect(back.withdrawals()).toEqual(set.withdrawals());
        expect(back.lists.find((l) => l.listId === "gen")).toEqual(set.lists.find((l) => l.listId === "gen"));
      }),
      fuzz(60),
    );
  });
});

// The hash-set layer end to end: the text, pytx and NDJSON readers; detection; import -> .phs -> export round
// trips for every format; integrity (any flipped byte is caught), signatures, encryption, rollback, diff, merge
// and overrides.
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type HashSet,
  HashSetBuilder,
  type HashSetEntry,
  importHashSet,
  loadHashSet,
  parseStore,
  parseTrustedKeys,
  serializeStore,
  signStore,
  verifyStore,
} from "@phmatch/core";
import {
  addOverride,
  detectHashSetFormat,
  diffHashSets,
  encryptStore,
  exportCsv,
  exportNdjson,
  ListVersionState,
  PackedValues,
  readOverrides,
  removeOverride,
} from "@phmatch/core/internal";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const tmp = mkdtempSync(join(tmpdir(), "phmatch-hashset-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const md5 = (s: string) => createHash("md5").update(s).digest("hex");

async function importOne(file: string, options: Parameters<typeof importHashSet>[2]) {
  const builder = new HashSetBuilder();
  const report = await importHashSet(builder, fixtures(`hashsets/${file}`), options);
  return { builder, report, set: parseStore(serializeStore(builder), file) };
}

const plain = (e: HashSetEntry) => ({ ...e, value: hex(e.value) });

describe("text, pytx and NDJSON readers", () => {
  it(
    "text: one value per line, BOM and CRLF, comments and " +
      "blank lines skipped, bad lines reported with their numbers",
    async () => {
      const { report, set } = await importOne("text/md5-list.txt", { listId: "fruit", algorithm: "md5" });
      expect(report.format).toBe("text");
      expect([report.read, report.imported, report.duplicate, report.invalid]).toEqual([7, 4, 1, 2]);
      expect(report.problems.map((p) => [p.line, p.reason])).toEqual([
        [6, "md5 needs 32 hex digits, got 30"],
        [7, expect.stringContaining("not hex")],
      ]);
      expect([...set.entries()].map((e) => hex(e.value))).toEqual(["apple", "banana", "cherry", "elderberry"].map(md5));
    },
  );

  it("text without `algorithm` reports every line instead of guessing", async () => {
    const { report } = await importOne("text/md5-list.txt", { listId: "fruit", format: "text" });
    expect(report.imported).toBe(0);
    expect(report.invalid).toBe(7);
    expect(report.problems[0]?.reason).toContain("`algorithm`");
  });

  it("pytx: signal types mapped to algorithms, unrecognised ones counted by name", async () => {
    const { report, set } = await importOne("pytx/signals.txt", { listId: "te" });
    expect(report.format).toBe("pytx");
    expect([report.read, report.imported, report.invalid]).toEqual([7, 3, 4]);
    expect(report.unrecognised).toEqual({ url: 1, raw_text: 1 });
    expect(report.problems.map((p) => p.line)).toEqual([3, 4, 6, 8]);
    expect([...set.entries()].map((e) => e.algorithm).sort()).toEqual(["md5", "md5", "pdq"]);
  });

  it(
    "ndjson: phmatch hash records and phmatch export " + "lines; errors keep their digests; bad lines reported",
    async () => {
      const { report, set } = await importOne("ndjson/records.ndjson", { listId: "made" });
      expect(report.format).toBe("ndjson");
      expect([report.read, report.imported, report.withdrawn, report.invalid]).toEqual([7, 4, 1, 3]);
      expect(report.problems.map((p) => p.line)).toEqual([3, 4, 8]);
      const sha1 = [...set.entries()].find((e) => e.algorithm === "sha1");
      expect(sha1).toMatchObject({
        listId: "other",
        entryId: "E1",
        category: "B",
        fields: { source: "unit test", extra: { note: "benign" } },
      });
      expect(set.withdrawals()).toEqual([
        { algorithm: "md5", value: new Uint8Array(Buffer.from(md5("gone"), "hex")), listId: "other", entryId: "E0" },
      ]);
    },
  );

  // Found by fuzzing (hashset-fuzz.test.ts): readline holds a line whole however long it is, so a file without
  // line breaks grew memory without limit (a 400 MB line: 855 MB RSS). Over 1 Mi characters a line is passed over.
  it(
    "text, pytx, ndjson: a line over 1 Mi characters is one " +
      "problem, passed over, and the lines after it keep their numbers",
    async () => {
      const value = md5("after");
      const cases: [string, Parameters<typeof importHashSet>[2], string][] = [
        ["text", { listId: "l", format: "text", algorithm: "md5" }, value],
        ["pytx", { listId: "l", format: "pytx" }, `md5 ${value}`],
        ["ndjson", { listId: "l", format: "ndjson" }, JSON.stringify({ type: "entry", algorithm: "md5", hash: value })],
      ];
      for (const [format, options, good] of cases) {
        const file = join(tmp, `long-line.${format}`);
        writeFileSync(file, `${good}\r\n${"0".repeat(3 << 20)}\r\n\r${good.replace(value, md5("last"))}`);
        const report = await importHashSet(new HashSetBuilder(), file, options);
        expect([report.read, report.imported, report.invalid], format).toEqual([3, 2, 1]);
        expect(report.problems, format).toEqual([
          { file, line: 2, reason: expect.stringContaining("longer than 1048576 characters") },
        ]);
        await expect(importHashSet(new HashSetBuilder(), file, { ...options, strict: true })).rejects.toMatchObject({
          code: "PHM_HASHSET_PARSE",
          message: expect.stringContaining(`${file}:2:`),
        });
      }
    },
  );

  // Found by fuzzing (hashset-fuzz.test.ts): fields were stored as parsed, so nesting overflowed the stack when the
  // builder serialised them (RangeError out of importHashSet), non-string extra values broke `hashset export
  // --format csv` (TypeError), a numeric id was dropped silently, and a header line with `"lists": [null]` threw a
  // TypeError while one with `"version": "x"` went into the store.
  it(
    "ndjson: fields, ids and hashes of the wrong type are " +
      "problems at their line; a damaged header line is refused",
    async () => {
      const value = md5("kept");
      // An export line with more members, given as JSON text (the nesting is too deep for JSON.stringify).
      const entry = (members: string) => `{"type":"entry","algorithm":"md5","hash":"${md5(members)}",${members}}`;
      const lines = [
        JSON.stringify({
          type: "entry",
          algorithm: "md5",
          hash: value,
          id: "E1",
          fields: { source: "s", tags: ["t"], extra: { k: "v" } },
        }),
        entry(`"fields":{"extra":${"[".repeat(100_000)}${"]".repeat(100_000)}}`),
        entry(`"fields":{"extra":{"note":["a,b"]}}`),
        entry(`"fields":{"tags":"not a list"}`),
        entry(`"fields":{"added":2024}`),
        entry(`"id":5`),
        entry(`"category":{"nested":true}`),
        JSON.stringify({ path: "a.jpg", hashes: { md5: [[value]] } }),
        JSON.stringify({ type: "hashset", lists: [{ listId: "late", version: 9 }] }),
      ];
      const file = join(tmp, "typed-fields.ndjson");
      writeFileSync(file, lines.join("\n") + "\n");
      const builder = new HashSetBuilder();
      const report = await importHashSet(builder, file, { listId: "l" });
      expect([report.read, report.imported, report.invalid]).toEqual([9, 1, 8]);
      expect(report.problems.map((p) => [p.line, p.reason])).toEqual([
        [2, '"fields.extra" is not an object of strings'],
        [3, '"fields.extra" is not an object of strings'],
        [4, '"fields.tags" is not a list of strings'],
        [5, '"fields.added" is not a string'],
        [6, '"id" is not a string'],
        [7, '"category" is not a string'],
        [8, 'hash record of a.jpg: the "md5" hash is not a string'],
        [9, expect.stringContaining('"hashset" header line belongs on line 1')],
      ]);
      const set = parseStore(serializeStore(builder), file);
      expect([...set.entries()].map(plain)).toEqual([
        {
          algorithm: "md5",
          value,
          listId: "l",
          entryId: "E1",
          fields: { source: "s", tags: ["t"], extra: { k: "v" } },
        },
      ]);
      expect([...exportCsv(set)]).toEqual(["algorithm,hash,list,id,category,k", `md5,${value},l,E1,,v`]);

      for (const [lists, why] of [
        [[null], "lists[0] is not an object"],
        [[{ listId: "l", version: "7" }], 'lists[0] has a "version" that is not a whole number >= 0 ("7")'],
        [[{ listId: "l", version: 1 }, { version: 2 }], 'lists[1] has no "listId" text'],
        [{ listId: "l" }, '"lists" is not an array'],
      ] as [unknown, string][]) {
        writeFileSync(file, `${JSON.stringify({ type: "hashset", lists })}\n${lines[0]}\n`);
        await expect(importHashSet(new HashSetBuilder(), file, { listId: "l" })).rejects.toMatchObject({
          code: "PHM_HASHSET_PARSE",
          message: expect.stringContaining(`${file}:1: the "hashset" header line's ${why}`),
        });
      }
    },
  );

  it("strict mode makes the first invalid line fatal, naming it", async () => {
    await expect(importOne("pytx/signals.txt", { listId: "te", strict: true })).rejects.toMatchObject({
      code: "PHM_HASHSET_PARSE",
      message: expect.stringContaining("signals.txt:3"),
    });
  });
});

describe("format detection", () => {
  const wellFormed: [string, string][] = [
    ["text/md5-list.txt", "text"],
    ["pytx/signals.txt", "pytx"],
    ["ndjson/records.ndjson", "ndjson"],
    ...readdirSync(fixtures("hashsets/vics"))
      .filter((f) => f.startsWith("vics"))
      .map((f) => [`vics/${f}`, "vics"] as [string, string]),
    ["ncmec/list.xml", "ncmec"],
    ["icse/export.csv", "icse"],
    ["icse/header-variations.csv", "icse"],
    ["csv/mixed.csv", "csv"],
    ["csv/mixed.tsv", "csv"],
    ["csv/semicolon.csv", "csv"],
  ];
  it.each(wellFormed)("%s is %s", async (file, format) => {
    expect((await detectHashSetFormat(fixtures(`hashsets/${file}`))).format).toBe(format);
  });
});

describe("round trip: import -> .phs -> export -> import gives the same entries and metadata", () => {
  const cases: [string, Parameters<typeof importHashSet>[2]][] = [
    [
      "text/md5-list.txt",
      { listId: "fruit", algorithm: "md5", list: { version: 3, name: "Fruit", usageTerms: "test only" } },
    ],
    ["pytx/signals.txt", { listId: "te" }],
    ["ndjson/records.ndjson", { listId: "made" }],
    ["vics/vics-2.0.json", { listId: "pvic", list: { version: 7, source: "unit test" } }],
    ["vics/vics-cases.json", { listId: "pvic" }],
    ["ncmec/list.xml", { listId: "ncmec" }],
    ["csv/mixed.csv", { listId: "csv" }],
    ["csv/mixed.tsv", { listId: "csv" }],
    ["csv/semicolon.csv", { listId: "csv" }],
    ["icse/export.csv", { listId: "icse" }],
  ];
  it.each(cases)("%s", async (file, options) => {
    const first = await importOne(file, options);
    expect(first.set.size).toBeGreaterThan(0);
    const exported = join(tmp, `${file.replace(/\W/g, "_")}.ndjson`);
    writeFileSync(exported, [...exportNdjson(first.set)].join("\n") + "\n");
    const builder = new HashSetBuilder();
    const report = await importHashSet(builder, exported, { listId: "ignored" });
    expect(report.invalid).toBe(0);
    const second = parseStore(serializeStore(builder), exported);
    expect([...second.entries()].map(plain)).toEqual([...first.set.entries()].map(plain));
    expect(second.withdrawals().map((w) => ({ ...w, value: hex(w.value as Uint8Array) }))).toEqual(
      first.set.withdrawals().map((w) => ({ ...w, value: hex(w.value as Uint8Array) })),
    );
    expect(second.lists.filter((l) => l.listId !== "ignored")).toEqual(first.set.lists);
  });
});

function signedStore(): { bytes: Buffer; sig: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const builder = new HashSetBuilder();
  builder.addList({ listId: "L", version: 1 });
  for (let i = 0; i < 20; i++)
    builder.addEntry({
      algorithm: i % 2 ? "pdq" : "md5",
      value: randomBytes(i % 2 ? 32 : 16),
      listId: "L",
      entryId: `E${i}`,
      category: "A",
    });
  const bytes = serializeStore(builder);
  return {
    bytes,
    sig: signStore(bytes, privateKey.export({ type: "pkcs8", format: "pem" }).toString()),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}

describe("integrity and signatures", () => {
  const { bytes, sig, publicPem } = signedStore();
  const trusted = parseTrustedKeys(publicPem);

  it("verifies the untouched store", () => {
    expect(() => verifyStore(bytes, sig, trusted, "L.phs")).not.toThrow();
  });

  it(
    "any single flipped byte fails verification and loading with " +
      "PHM_HASHSET_SIGNATURE, and the trailer catches it without keys",
    async () => {
      const file = join(tmp, "flip.phs");
      writeFileSync(`${file}.sig`, sig);
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: bytes.length - 1 }),
          fc.integer({ min: 1, max: 255 }),
          async (position, mask) => {
            const altered = Buffer.from(bytes);
            altered[position] = (altered[position] as number) ^ mask;
            expect(() => verifyStore(altered, sig, trusted, "flip.phs")).toThrow(
              expect.objectContaining({ code: "PHM_HASHSET_SIGNATURE" }),
            );
            writeFileSync(file, altered);
            await expect(loadHashSet(file, { trustedKeys: trusted })).rejects.toMatchObject({
              code: "PHM_HASHSET_SIGNATURE",
            });
            expect(() => parseStore(altered, "flip.phs")).toThrow(
              expect.objectContaining({ code: "PHM_HASHSET_FORMAT" }),
            );
          },
        ),
        { numRuns: 200 },
      );
    },
  );

  // Found by fuzzing (hashset-store-fuzz.test.ts): a .sig holding JSON null threw a TypeError.
  it("refuses a .sig that is not a signature object with PHM_HASHSET_SIGNATURE", () => {
    for (const text of ["null", "[]", "7", '"sig"', "{}", '{"algorithm":"ed25519","signature":5}', "{"]) {
      expect(() => verifyStore(bytes, text, trusted, "L.phs"), text).toThrow(
        expect.objectContaining({
          code: "PHM_HASHSET_SIGNATURE",
          message: expect.stringMatching(
            /^L\.phs\.sig is not (a phmatch signature file|an Ed25519 signature): refused$/,
          ),
        }),
      );
    }
  });

  it("refuses an unsigned store and a store signed by an untrusted key", async () => {
    const file = join(tmp, "unsigned.phs");
    writeFileSync(file, bytes);
    await expect(loadHashSet(file, { trustedKeys: trusted })).rejects.toMatchObject({
      code: "PHM_HASHSET_SIGNATURE",
      message: expect.stringContaining("not signed"),
    });
    const other = signedStore();
    expect(() => verifyStore(bytes, other.sig, trusted, "x")).toThrow(
      expect.objectContaining({ code: "PHM_HASHSET_SIGNATURE" }),
    );
  });
});

// Found by fuzzing (hashset-store-fuzz.test.ts): the trailer proves only that the bytes are those the writer
// hashed, and anyone can write a trailer. Behind it the header was taken on trust: a missing or null field threw a
// TypeError, offsets given as text, values of an unknown algorithm or of the wrong size loaded, and damaged entry
// metadata or withdrawals threw a SyntaxError when an entry was reported.
describe("a store whose trailer matches but whose inside is damaged", () => {
  const builder = new HashSetBuilder();
  builder.addList({ listId: "D", version: 2, name: "n".repeat(300) }); // room to rewrite the header in place
  builder.addEntry({ algorithm: "md5", value: new Uint8Array(16).fill(1), listId: "D", entryId: "e1", category: "c" });
  builder.addEntry({ algorithm: "pdq", value: new Uint8Array(32).fill(2), listId: "D" });
  builder.addWithdrawal({ algorithm: "md5", value: new Uint8Array(16).fill(3), listId: "D" });
  const good = serializeStore(builder);
  const headerLength = good.readUInt32LE(8);
  const goodHeader = JSON.parse(good.subarray(12, 12 + headerLength).toString()) as Record<string, unknown> & {
    lists: { name: string }[];
  };
  const reseal = (bytes: Buffer) => {
    const body = bytes.subarray(0, bytes.length - 32);
    return Buffer.concat([body, createHash("sha256").update(body).digest()]);
  };
  /** The store with its header replaced (same length, padded with spaces) and a matching trailer. */
  const withHeader = (change: (header: Record<string, unknown>) => unknown) => {
    const header = structuredClone(goodHeader);
    header.lists[0] && (header.lists[0].name = "");
    const changed = change(header);
    const text = JSON.stringify(changed === undefined ? header : changed);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(headerLength);
    const bytes = Buffer.from(good);
    bytes.write(text.padEnd(headerLength, " "), 12, "utf8");
    return reseal(bytes);
  };
  const section = (algorithm: string, part: "values" | "meta") =>
    (goodHeader.algorithms as { algorithm: string; values: { offset: number }; meta: { offset: number } }[]).find(
      (a) => a.algorithm === algorithm,
    )?.[part].offset as number;
  const refused = (bytes: Buffer, why: string) =>
    expect(() => parseStore(bytes, "d.phs")).toThrow(
      expect.objectContaining({
        code: "PHM_HASHSET_FORMAT",
        message: expect.stringContaining(`d.phs is not a valid .phs store: ${why}`),
      }),
    );

  it("loads the untouched store, and the store rewritten with an equivalent header", () => {
    expect([...parseStore(good, "d.phs").entries()]).toHaveLength(2);
    expect(
      [
        ...parseStore(
          withHeader(() => undefined),
          "d.phs",
        ).entries(),
      ].map((e) => e.entryId),
    ).toEqual(["e1", undefined]);
  });

  it("refuses a header with fields missing, of the wrong type, or disagreeing with the sections", () => {
    // biome-ignore lint/suspicious/noExplicitAny: the header as JSON, to be damaged field by field
    type H = Record<string, any>;
    const cases: [(h: H) => unknown, string][] = [
      [() => null, "its header is not a JSON object"],
      [(h) => void (h.algorithms = null), 'its header has no "algorithms" array'],
      [(h) => void (h.algorithms = {}), 'its header has no "algorithms" array'],
      [(h) => void delete h.algorithms[0].values, "the md5 values section has no valid offset and length"],
      [(h) => void (h.algorithms[0].values.offset = "1008"), "the md5 values section has no valid offset and length"],
      [(h) => void (h.algorithms[0].values.offset = 0.5), "the md5 values section has no valid offset and length"],
      [(h) => void (h.algorithms[0].meta.offset = 4), "the md5 metadata section lies outside the file's sections"],
      [
        (h) => void (h.algorithms[0].meta.length = 2 ** 40),
        "the md5 metadata section lies outside the file's sections",
      ],
      [(h) => void delete h.withdrawals, "the withdrawals section has no valid offset and length"],
      [(h) => void (h.withdrawals.count = 2), "its withdrawal count disagrees with its withdrawals"],
      [(h) => void (h.lists = []), "it holds entries but names no list"],
      [(h) => void (h.lists = [null]), "its header's lists[0] is not an object"],
      [
        (h) => void (h.lists[0].version = -1),
        `its header's lists[0] has a "version" that is not a whole number >= 0 (-1)`,
      ],
      [(h) => void h.lists.push(h.lists[0]), "its header names a list twice"],
      [(h) => void (h.algorithms[0].algorithm = "md6"), 'it holds values of an unknown algorithm "md6"'],
      [(h) => void (h.algorithms[1].algorithm = "md5"), "its md5 values are 32 bytes, not 16"],
      [
        (h) => {
          h.algorithms[0].bytesPerValue = 8;
          h.algorithms[0].values.length = 8;
        },
        "its md5 values are 8 bytes, not 16",
      ],
      [(h) => void (h.algorithms[0].count = 2), "section sizes of md5 disagree with its count"],
      [(h) => void (h.counts.entries = 3), "its header's counts disagree with its sections"],
      [(h) => void (h.counts.byAlgorithm.md5 = 7), "its header's counts by algorithm disagree with its sections"],
      [(h) => void (h.formatVersion = 2), "format version 2 is not supported"],
    ];
    for (const [change, why] of cases) refused(withHeader(change), why);
    const lengthPastEnd = Buffer.from(good);
    lengthPastEnd.writeUInt32LE(0xffffffff, 8);
    refused(reseal(lengthPastEnd), "its header length (4294967295 bytes) runs past the end of the file");
  });

  it("refuses metadata offsets out of order and withdrawals that name nothing, at load", () => {
    const offsets = Buffer.from(good);
    offsets.writeUInt32LE(999, section("md5", "meta") + 4); // entry 0 ends after its blob
    refused(reseal(offsets), "the metadata offsets of its md5 entries are out of order or outside their section");
    const withdrawals = goodHeader.withdrawals as { offset: number; length: number };
    for (const line of ['{"a":"md5"}', '{"a":"md5","h":"zz"}', '{"l":5,"i":"x"}', "[1, 2]", "not json"]) {
      const bytes = Buffer.from(good);
      bytes.fill(0x20, withdrawals.offset, withdrawals.offset + withdrawals.length - 1);
      bytes.write(line, withdrawals.offset);
      expect(() => parseStore(reseal(bytes), "d.phs"), line).toThrow(
        expect.objectContaining({ code: "PHM_HASHSET_FORMAT", message: expect.stringContaining("withdrawal 1") }),
      );
    }
  });

  it("reports damaged entry metadata with PHM_HASHSET_FORMAT when the entry is read", () => {
    for (const [meta, why] of [
      ['{"i":"e1","c":"c"', "not valid JSON"],
      ['{"l":9,"i":"e1"}', "it names no list of the store"],
      ['{"i":7, "c":"c"}', "its entry id is not text"],
      ['["i", "e1", "c"]', "not a JSON object"],
    ]) {
      const bytes = Buffer.from(good);
      const blob = section("md5", "meta") + 8; // after the two offsets
      bytes.write((meta as string).padEnd(18, " "), blob); // the original {"i":"e1","c":"c"} is 18 bytes
      const set = parseStore(reseal(bytes), "d.phs");
      expect(() => set.entry("md5", 0), meta).toThrow(
        expect.objectContaining({
          code: "PHM_HASHSET_FORMAT",
          message: expect.stringContaining(`the metadata of md5 entry 0 of the store is damaged (${why})`),
        }),
      );
      expect(set.entry("pdq", 0).listId).toBe("D");
    }
  });
});

describe("versions and rollback protection", () => {
  it("refuses an older release than one already loaded, unless forced", async () => {
    const state = new ListVersionState(join(tmp, "state"));
    const write = (version: number) => {
      const builder = new HashSetBuilder();
      builder.addList({ listId: "R", version });
      builder.addEntry({ algorithm: "md5", value: randomBytes(16), listId: "R" });
      const file = join(tmp, `R-${version}.phs`);
      writeFileSync(file, serializeStore(builder));
      return file;
    };
    const [v1, v2] = [write(1), write(2)];
    await loadHashSet(v1, { versionState: state });
    await loadHashSet(v2, { versionState: state });
    await expect(loadHashSet(v1, { versionState: state })).rejects.toMatchObject({ code: "PHM_HASHSET_ROLLBACK" });
    await expect(loadHashSet(v1, { versionState: state, allowRollback: true })).resolves.toBeDefined();
    expect(state.highest("R")).toBe(2);
  });

  // Found by fuzzing the loader: a state file holding null or a number threw a TypeError, and versions that are not
  // numbers ({"R": "7"}) made every comparison false, so rollback protection was off without a word.
  it("refuses a state file that is not list ids with whole-number versions", async () => {
    const dir = join(tmp, "state-damaged");
    mkdirSync(dir, { recursive: true });
    const builder = new HashSetBuilder();
    builder.addList({ listId: "S", version: 2 });
    const file = join(tmp, "S.phs");
    writeFileSync(file, serializeStore(builder));
    for (const text of ["null", "5", "[]", '{"S": "7"}', '{"S": -1}', '{"S": 1.5}', '{"S": null}']) {
      writeFileSync(join(dir, "list-versions.json"), text);
      await expect(loadHashSet(file, { versionState: new ListVersionState(dir) }), text).rejects.toMatchObject({
        code: "PHM_HASHSET_FORMAT",
        message: expect.stringContaining("fix or remove it"),
      });
    }
    writeFileSync(join(dir, "list-versions.json"), '{"__proto__": 4, "S": 1}');
    const state = new ListVersionState(dir);
    await loadHashSet(file, { versionState: state });
    expect([state.highest("S"), state.highest("__proto__")]).toEqual([2, 4]);
  });

  // Found by fuzzing the loader: the versions in an encrypted store's clear header were recorded before
  // decryption authenticated them, so a copy with "version": 999 written in its header, refused as altered,
  // still left 999 in the state, and every genuine release after it was refused as a rollback.
  it("records the versions of an encrypted store only once decryption has authenticated them", async () => {
    const state = new ListVersionState(join(tmp, "state-encrypted"));
    const key = randomBytes(32);
    const builder = new HashSetBuilder();
    builder.addList({ listId: "E", version: 3 });
    builder.addEntry({ algorithm: "md5", value: randomBytes(16), listId: "E" });
    const encrypted = encryptStore(serializeStore(builder), key, [{ listId: "E", version: 3 }]);
    const length = encrypted.readUInt32LE(8);
    const header = JSON.parse(encrypted.subarray(12, 12 + length).toString()) as Record<string, unknown>;
    const text = Buffer.from(JSON.stringify({ ...header, lists: [{ listId: "E", version: 999 }] }));
    const size = Buffer.alloc(4);
    size.writeUInt32LE(text.length);
    const genuine = join(tmp, "E.phs");
    const altered = join(tmp, "E-altered.phs");
    writeFileSync(genuine, encrypted);
    writeFileSync(altered, Buffer.concat([encrypted.subarray(0, 8), size, text, encrypted.subarray(12 + length)]));
    await expect(loadHashSet(altered, { key, versionState: state })).rejects.toMatchObject({
      code: "PHM_HASHSET_FORMAT",
    });
    expect(state.highest("E")).toBeUndefined();
    await expect(loadHashSet(genuine, { key, versionState: state })).resolves.toBeDefined();
    expect(state.highest("E")).toBe(3);
    // a store that fails after its header was read records nothing either
    await expect(
      loadHashSet(genuine, { key: randomBytes(32), versionState: new ListVersionState(join(tmp, "state-wrong-key")) }),
    ).rejects.toMatchObject({ code: "PHM_HASHSET_KEY" });
    expect(new ListVersionState(join(tmp, "state-wrong-key")).highest("E")).toBeUndefined();
  });
});

describe("encrypted stores", () => {
  const key = randomBytes(32);
  const builder = new HashSetBuilder();
  builder.addList({ listId: "secret", version: 4, usageTerms: "confidential" });
  builder.addEntry({
    algorithm: "sha256",
    value: randomBytes(32),
    listId: "secret",
    entryId: "confidential-entry-id-0001",
    category: "category-confidential",
  });
  const plainBytes = serializeStore(builder);
  const encrypted = encryptStore(plainBytes, key, [{ listId: "secret", version: 4 }]);
  const file = join(tmp, "secret.phs");
  writeFileSync(file, encrypted);

  it("never holds the entries in clear on disk", () => {
    // Needles long enough that random ciphertext cannot contain them by chance.
    expect(encrypted.includes(Buffer.from("confidential-entry-id-0001"))).toBe(false);
    expect(encrypted.includes(Buffer.from("category-confidential"))).toBe(false);
    expect(plainBytes.includes(Buffer.from("confidential-entry-id-0001"))).toBe(true);
    expect(encrypted.includes(Buffer.from(builder.groups()[0]?.values ?? []))).toBe(false);
  });

  it("opens with the key, and refuses no key or the wrong key with PHM_HASHSET_KEY", async () => {
    const { set, encrypted: wasEncrypted } = await loadHashSet(file, { key });
    expect(wasEncrypted).toBe(true);
    expect([...set.entries()].map(plain)).toEqual([...parseStore(plainBytes, "p").entries()].map(plain));
    await expect(loadHashSet(file)).rejects.toMatchObject({ code: "PHM_HASHSET_KEY" });
    await expect(loadHashSet(file, { key: randomBytes(32) })).rejects.toMatchObject({ code: "PHM_HASHSET_KEY" });
  });

  // Found by fuzzing (hashset-store-fuzz.test.ts): the clear header was only checked for its cipher and a lists
  // array, so an iv or tag of the wrong size or type threw the cipher's TypeError, and lists: [null] a TypeError in
  // the rollback check that reads them before decryption.
  it("refuses a damaged clear header with PHM_HASHSET_FORMAT, before and after the key is used", async () => {
    const length = encrypted.readUInt32LE(8);
    const header = JSON.parse(encrypted.subarray(12, 12 + length).toString()) as Record<string, unknown>;
    const withHeader = (changed: unknown) => {
      const text = Buffer.from(JSON.stringify(changed));
      const size = Buffer.alloc(4);
      size.writeUInt32LE(text.length);
      return Buffer.concat([encrypted.subarray(0, 8), size, text, encrypted.subarray(12 + length)]);
    };
    const hugeLength = Buffer.from(encrypted);
    hugeLength.writeUInt32LE(0xfffffff0, 8);
    const cases: [Buffer, string][] = [
      [withHeader({ ...header, iv: "" }), "its iv is not 12 bytes of base64"],
      [withHeader({ ...header, iv: 12 }), "its iv is not 12 bytes of base64"],
      [withHeader({ ...header, tag: "AAAA" }), "its tag is not 16 bytes of base64"],
      [withHeader({ ...header, tag: null }), "its tag is not 16 bytes of base64"],
      [withHeader({ ...header, keyId: 5 }), "no key id"],
      [withHeader({ ...header, lists: [null] }), "lists[0] is not an object"],
      [
        withHeader({ ...header, lists: [{ listId: "secret", version: "9" }] }),
        'lists[0] has a "version" that is not a whole number >= 0 ("9")',
      ],
      [withHeader(null), "not a JSON object"],
      [hugeLength, "its length, 4294967280 bytes, runs past the end of the file"],
      [encrypted.subarray(0, 20), `its length, ${length} bytes, runs past the end of the file`],
    ];
    const state = new ListVersionState(join(tmp, "damaged-header-state"));
    for (const [bytes, why] of cases) {
      writeFileSync(join(tmp, "damaged-header.phs"), bytes);
      for (const options of [{ key }, { key, versionState: state }, {}]) {
        await expect(loadHashSet(join(tmp, "damaged-header.phs"), options), why).rejects.toMatchObject({
          code: "PHM_HASHSET_FORMAT",
          message: expect.stringContaining(`has a damaged encryption header (${why})`),
        });
      }
    }
  });

  it("detects tampering of ciphertext or clear header, and its signature verifies without the key", async () => {
    for (const position of [20, encrypted.length - 5]) {
      const altered = Buffer.from(encrypted);
      altered[position] = (altered[position] as number) ^ 1;
      writeFileSync(join(tmp, "tampered.phs"), altered);
      await expect(loadHashSet(join(tmp, "tampered.phs"), { key })).rejects.toMatchObject({
        code: expect.stringMatching(/^PHM_HASHSET_(FORMAT|KEY)$/),
      });
    }
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const sig = signStore(encrypted, privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    expect(() => verifyStore(encrypted, sig, [publicKey], "secret.phs")).not.toThrow();
  });
});

describe("diff, merge, overrides", () => {
  const release = (version: number, words: string[], tombstones: string[] = []): HashSet => {
    const builder = new HashSetBuilder();
    builder.addList({ listId: "D", version });
    for (const w of words)
      builder.addEntry({ algorithm: "md5", value: Buffer.from(md5(w), "hex"), listId: "D", entryId: w });
    for (const w of tombstones)
      builder.addWithdrawal({ algorithm: "md5", value: Buffer.from(md5(w), "hex"), listId: "D" });
    return parseStore(serializeStore(builder), `D${version}`);
  };

  it("diff shows entries added and withdrawn, tombstones included", () => {
    const changes = [...diffHashSets(release(1, ["a", "b", "c"]), release(2, ["b", "c", "d"], ["a", "old"]))].map(
      (c) => [c.change, hex(c.entry.value)],
    );
    expect(changes.sort()).toEqual(
      [
        ["added", md5("d")],
        ["withdrawn", md5("a")],
        ["withdrawn", md5("old")],
      ].sort(),
    );
  });

  it("a withdrawal by entry id alone survives the store and the NDJSON export", async () => {
    const builder = new HashSetBuilder();
    builder.addList({ listId: "N", version: 2 });
    builder.addEntry({ algorithm: "md5", value: Buffer.from(md5("kept"), "hex"), listId: "N", entryId: "k" });
    expect(builder.addWithdrawal({ listId: "N", entryId: "gone-7" })).toBe(true);
    expect(builder.addWithdrawal({ listId: "N", entryId: "gone-7" })).toBe(false);
    const set = parseStore(serializeStore(builder), "N");
    expect(set.withdrawals()).toEqual([{ listId: "N", entryId: "gone-7" }]);
    const file = join(tmp, "N.ndjson");
    writeFileSync(file, [...exportNdjson(set)].join("\n") + "\n");
    const again = new HashSetBuilder();
    await importHashSet(again, file, { listId: "N" });
    expect(parseStore(serializeStore(again), "N2").withdrawals()).toEqual([{ listId: "N", entryId: "gone-7" }]);
  });

  it("merge keeps every list: the same value in two lists is two entries", () => {
    const builder = new HashSetBuilder();
    for (const listId of ["X", "Y"]) {
      builder.addList({ listId, version: 1 });
      builder.addEntry({
        algorithm: "md5",
        value: Buffer.from(md5("shared"), "hex"),
        listId,
        category: listId === "X" ? "A" : "2",
      });
    }
    const set = parseStore(serializeStore(builder), "merged");
    expect([...set.entries()].map((e) => [e.listId, e.category])).toEqual([
      ["X", "A"],
      ["Y", "2"],
    ]);
  });

  it("overrides live beside the list, record who, when and why, and can be removed", async () => {
    const store = join(tmp, "D.phs");
    const o = {
      action: "disable" as const,
      algorithm: "md5",
      hash: md5("b"),
      who: "reviewer",
      when: new Date().toISOString(),
      why: "upheld appeal 12",
    };
    await addOverride(store, o);
    await addOverride(store, { ...o, action: "allow", hash: md5("c"), why: "confirmed false positive" });
    expect(await readOverrides(store)).toHaveLength(2);
    await removeOverride(store, 0);
    expect((await readOverrides(store)).map((x) => x.why)).toEqual(["confirmed false positive"]);
    await expect(addOverride(store, { ...o, why: " " })).rejects.toMatchObject({ code: "PHM_USAGE" });
  });

  // Found by fuzzing the loader (hashset-store-fuzz.test.ts): overrides were returned as parsed, so a line holding
  // null, a number or an object without its hash made building a Matcher throw a TypeError; lines were numbered
  // without the blank ones; an overrides path that cannot be read (a directory) threw a raw EISDIR.
  it("refuses an overrides line that is not an override with PHM_HASHSET_PARSE at its line", async () => {
    const store = join(tmp, "O.phs");
    const good = JSON.stringify({ action: "disable", algorithm: "md5", hash: md5("b"), who: "w", when: "t", why: "y" });
    const cases: [string, string][] = [
      ["null", "not an override (a JSON object)"],
      ["[1]", "not an override (a JSON object)"],
      ['{"action":"drop"}', '"action" is "drop", not "disable" or "allow"'],
      [
        JSON.stringify({ action: "allow", algorithm: "md6", hash: md5("b") }),
        '"algorithm" "md6" is not a known algorithm',
      ],
      [JSON.stringify({ action: "allow", algorithm: "md5", hash: 5 }), '"hash" is not 32 hex digits of md5'],
      [
        JSON.stringify({ action: "allow", algorithm: "md5", hash: md5("b").slice(1) }),
        '"hash" is not 32 hex digits of md5',
      ],
      [
        JSON.stringify({ action: "allow", algorithm: "md5", hash: md5("b"), listId: 3, who: "w", when: "t", why: "y" }),
        '"listId" is not text',
      ],
      [
        JSON.stringify({ action: "allow", algorithm: "md5", hash: md5("b"), who: "w", when: "t" }),
        '"why" is missing (who, when and why are the record of the decision)',
      ],
      ["{", "not valid JSON"],
    ];
    for (const [line, why] of cases) {
      writeFileSync(`${store}.overrides.ndjson`, `${good}\n\n${line}\n`);
      await expect(readOverrides(store), line).rejects.toMatchObject({
        code: "PHM_HASHSET_PARSE",
        message: `${store}.overrides.ndjson:3: ${why}; fix the overrides file`,
      });
    }
    rmSync(`${store}.overrides.ndjson`);
    mkdirSync(`${store}.overrides.ndjson`);
    await expect(readOverrides(store)).rejects.toMatchObject({ code: "PHM_FILE_UNREADABLE" });
  });
});

describe("PackedValues (the dedupe and lookup table)", () => {
  it("agrees with a Set of hex strings", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 4, maxLength: 4 }), { maxLength: 300 }), (values) => {
        const packed = new PackedValues(4, 1);
        const seen = new Set<string>();
        for (const v of values) {
          const added = packed.add(v) >= 0;
          expect(added).toBe(!seen.has(hex(v)));
          seen.add(hex(v));
        }
        expect(packed.count).toBe(seen.size);
        for (const v of values) expect(packed.indexOf(v)).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

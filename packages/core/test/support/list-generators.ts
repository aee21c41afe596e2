// fast-check arbitraries of *valid* hash lists in every format phmatch reads, each rendered with what a reader
// must make of it: the records in order with the line each starts on, and the lines of the records planted as
// invalid (a value of the wrong length). Values are random bytes: benign synthetic data, no real list's content.
// Layout varies the way real files do: BOM or not, LF / CRLF (and CR where the format allows it), blank lines,
// comments, spacing, quoting, escapes, pretty-printed or minified JSON, attributes or child elements in XML.
import fc from "fast-check";
import type { ReaderOptions } from "../../src/hashset/readers/reader.js";

export type ListFormat = "text" | "pytx" | "csv" | "icse" | "ndjson" | "vics" | "ncmec";

/** A record a reader must yield: the line its record starts on, and the entry (value as lowercase hex). */
export interface ExpectedRecord {
  line: number;
  kind: "entry" | "withdrawal";
  algorithm: string;
  hex: string;
  entryId?: string;
  category?: string;
}

/** A generated list file and what reading it must give. */
export interface GeneratedList {
  format: ListFormat;
  bytes: Buffer;
  options: ReaderOptions;
  records: ExpectedRecord[];
  /** Lines of the planted invalid records, in file order (one problem each). */
  problems: number[];
}

const BYTES: Record<string, number> = { md5: 16, sha1: 20, sha256: 32, pdq: 32, phash: 8, dhash: 8, photodna: 144 };

interface Item {
  algorithm: string;
  value: Uint8Array;
  entryId: string | undefined;
  category: string | undefined;
  /** Planted invalid: the value is written one byte short. */
  invalid: boolean;
  /** Layout choices, interpreted by each renderer. */
  style: number;
}

const idText = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ._&<>'"-]{0,10}[A-Za-z0-9]$/);
const category = fc.constantFrom("A1", "B2", "1", "2", "baseline", "cat 3");

const item = (algorithms: readonly string[]): fc.Arbitrary<Item> =>
  fc.constantFrom(...algorithms).chain((algorithm) =>
    fc.record({
      algorithm: fc.constant(algorithm),
      value: fc.uint8Array({ minLength: BYTES[algorithm] as number, maxLength: BYTES[algorithm] as number }),
      entryId: fc.option(idText, { nil: undefined }),
      category: fc.option(category, { nil: undefined }),
      invalid: fc.nat(5).map((n) => n === 0),
      style: fc.nat(1000),
    }),
  );

interface Layout {
  newline: string;
  bom: boolean;
  upper: boolean;
}
const layout = (newlines: readonly string[]): fc.Arbitrary<Layout> =>
  fc.record({ newline: fc.constantFrom(...newlines), bom: fc.boolean(), upper: fc.boolean() });

const hexOf = (value: Uint8Array, upper = false) => {
  const hex = Buffer.from(value).toString("hex");
  return upper ? hex.toUpperCase() : hex;
};
/** The value as written: hex, one byte short when the item is planted invalid. */
const written = (it: Item, upper = false) => hexOf(it.invalid ? it.value.subarray(1) : it.value, upper);

/** Text assembled piece by piece, knowing which line it is on (lines count "\n", "\r\n" and a lone "\r"). */
class Doc {
  private parts: string[] = [];
  line = 1;
  private lastWasCr = false;

  constructor(readonly newline: string) {}

  add(text: string): this {
    for (const c of text) {
      if (c === "\n") {
        if (!this.lastWasCr) this.line++;
        this.lastWasCr = false;
      } else if (c === "\r") {
        this.line++;
        this.lastWasCr = true;
      } else this.lastWasCr = false;
    }
    this.parts.push(text);
    return this;
  }

  nl(): this {
    return this.add(this.newline);
  }

  bytes(bom: boolean): Buffer {
    const body = Buffer.from(this.parts.join(""), "utf8");
    return bom ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]) : body;
  }
}

function finish(
  format: ListFormat,
  doc: Doc,
  l: Layout,
  options: ReaderOptions,
  records: ExpectedRecord[],
  problems: number[],
): GeneratedList {
  return { format, bytes: doc.bytes(l.bom), options, records, problems };
}

const entryRecord = (line: number, it: Item, extra: Partial<ExpectedRecord> = {}): ExpectedRecord => ({
  line,
  kind: "entry",
  algorithm: it.algorithm,
  hex: hexOf(it.value),
  ...extra,
});

// text: one value per line, of the algorithm given in the options; comments and blank lines between.
const textList = fc
  .constantFrom("md5", "sha1", "sha256", "pdq", "phash", "dhash")
  .chain((algorithm) =>
    fc.tuple(fc.constant(algorithm), fc.array(item([algorithm]), { maxLength: 25 }), layout(["\n", "\r\n", "\r"])),
  )
  .map(([algorithm, items, l]) => {
    const doc = new Doc(l.newline);
    const records: ExpectedRecord[] = [];
    const problems: number[] = [];
    for (const it of items) {
      if (it.style % 5 === 0) doc.add("# a comment").nl();
      if (it.style % 7 === 0) doc.add("  ").nl();
      const line = doc.line;
      doc
        .add(
          `${it.style % 3 === 0 ? "  " : ""}${it.style % 4 === 0 ? "0x" : ""}` +
            `${written(it, l.upper)}${it.style % 6 === 0 ? " \t" : ""}`,
        )
        .nl();
      if (it.invalid) problems.push(line);
      else records.push(entryRecord(line, it));
    }
    return finish("text", doc, l, { listId: "gen", algorithm }, records, problems);
  });

// pytx: "<signal_type> <value>".
const PYTX_NAMES: Record<string, string[]> = {
  pdq: ["pdq", "photo_pdq", "PDQ"],
  md5: ["md5", "photo_md5", "video_md5"],
  sha1: ["sha1"],
  sha256: ["sha256"],
};
const pytxList = fc
  .tuple(fc.array(item(["pdq", "md5", "sha1", "sha256"]), { maxLength: 25 }), layout(["\n", "\r\n", "\r"]))
  .map(([items, l]) => {
    const doc = new Doc(l.newline);
    const records: ExpectedRecord[] = [];
    const problems: number[] = [];
    for (const it of items) {
      if (it.style % 5 === 0) doc.add("# comment").nl().nl();
      const names = PYTX_NAMES[it.algorithm] as string[];
      const line = doc.line;
      doc.add(`${names[it.style % names.length]}${it.style % 2 === 0 ? " " : " \t "}${written(it, l.upper)}`).nl();
      if (it.invalid) problems.push(line);
      else records.push(entryRecord(line, it));
    }
    return finish("pytx", doc, l, { listId: "gen" }, records, problems);
  });

/** A CSV cell, quoted when it has to be (or when the style says so), quotes doubled. */
function cell(value: string, delimiter: string, quoteAnyway: boolean): string {
  const needs = value.includes(delimiter) || /["\r\n]/.test(value) || value !== value.trim();
  return needs || quoteAnyway ? `"${value.replaceAll('"', '""')}"` : value;
}

// csv: algorithm, hash, id, category columns (in a random order) and a note column whose quoted text can span
// lines, so that a row's line is not its index.
const CSV_ALGORITHM_NAMES: Record<string, string[]> = {
  md5: ["md5", "MD5"],
  sha1: ["sha1", "SHA-1"],
  sha256: ["sha256", "SHA-256"],
  pdq: ["pdq"],
  photodna: ["photodna", "PDNA"],
  phash: ["phash"],
};
const csvList = fc
  .tuple(
    fc.array(item(["md5", "sha1", "sha256", "pdq", "photodna", "phash"]), { maxLength: 20 }),
    layout(["\n", "\r\n", "\r"]),
    fc.constantFrom(",", ";", "\t"),
    fc.shuffledSubarray(["algorithm", "hash", "id", "category", "note"], { minLength: 5, maxLength: 5 }),
  )
  .map(([items, l, delimiter, columns]) => {
    const doc = new Doc(l.newline);
    const records: ExpectedRecord[] = [];
    const problems: number[] = [];
    doc.add(columns.join(delimiter)).nl();
    for (const it of items) {
      if (it.style % 9 === 0) doc.nl();
      const names = CSV_ALGORITHM_NAMES[it.algorithm] as string[];
      const note =
        it.style % 4 === 0 ? `note${l.newline}on two lines` : it.style % 4 === 1 ? `say "hi"${delimiter} twice` : "";
      const cells: Record<string, string> = {
        algorithm: names[it.style % names.length] as string,
        hash: written(it, l.upper),
        id: it.entryId ?? "",
        category: it.category ?? "",
        note,
      };
      const line = doc.line;
      doc.add(columns.map((c) => cell(cells[c] as string, delimiter, it.style % 3 === 0)).join(delimiter)).nl();
      if (it.invalid) problems.push(line);
      else
        records.push(
          entryRecord(line, it, {
            ...(it.entryId !== undefined && { entryId: it.entryId.trim() }),
            ...(it.category !== undefined && { category: it.category }),
          }),
        );
    }
    return finish("csv", doc, l, { listId: "gen" }, records, problems);
  });

// icse: the export's header; each row one image with an md5, sha1 or PhotoDNA value.
const ICSE_HEADER =
  "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;Number of " +
  "submissions;File Available;Media Type;Baseline";
const icseList = fc
  .tuple(fc.array(item(["md5", "sha1", "photodna"]), { maxLength: 20 }), layout(["\n", "\r\n"]))
  .map(([items, l]) => {
    const doc = new Doc(l.newline);
    const records: ExpectedRecord[] = [];
    const problems: number[] = [];
    doc.add(ICSE_HEADER).nl();
    items.forEach((it, n) => {
      const imageId = String(900000 + n);
      const hashes = ["md5", "sha1", "photodna"].map((a) => (a === it.algorithm ? written(it, l.upper) : ""));
      const baseline = it.style % 2 === 0;
      const line = doc.line;
      doc
        .add(
          [
            ...hashes,
            imageId,
            "No",
            "No",
            "No",
            it.style % 3 === 0 ? cell("series; one", ";", false) : "",
            "1",
            "Yes",
            "Image",
            baseline ? "Yes" : "No",
          ].join(";"),
        )
        .nl();
      if (it.invalid) problems.push(line);
      else records.push(entryRecord(line, it, { entryId: imageId, ...(baseline && { category: "baseline" }) }));
    });
    return finish("icse", doc, l, { listId: "gen" }, records, problems);
  });

// ndjson: phmatch's export lines (entries and withdrawals), with blank lines between.
const ndjsonList = fc
  .tuple(
    fc.array(fc.tuple(item(["md5", "sha1", "sha256", "pdq", "photodna", "phash", "dhash"]), fc.boolean()), {
      maxLength: 25,
    }),
    layout(["\n", "\r\n"]),
  )
  .map(([items, l]) => {
    const doc = new Doc(l.newline);
    const records: ExpectedRecord[] = [];
    const problems: number[] = [];
    doc
      .add(
        JSON.stringify({
          type: "hashset",
          format: "phmatch-hashset",
          formatVersion: 1,
          lists: [{ listId: "gen", version: 3 }],
        }),
      )
      .nl();
    for (const [it, withdrawal] of items) {
      if (it.style % 8 === 0) doc.nl();
      const line = doc.line;
      const type = withdrawal ? "withdrawal" : "entry";
      const object = {
        type,
        algorithm: it.algorithm,
        hash: written(it, l.upper),
        list: "gen",
        ...(it.entryId !== undefined && { id: it.entryId }),
        ...(!withdrawal && it.category !== undefined && { category: it.category }),
      };
      doc.add(JSON.stringify(object)).nl();
      if (it.invalid) problems.push(line);
      else
        records.push({
          line,
          kind: type,
          algorithm: it.algorithm,
          hex: hexOf(it.value),
          ...(it.entryId !== undefined && { entryId: it.entryId }),
          ...(!withdrawal && it.category !== undefined && { category: it.category }),
        });
    }
    return finish("ndjson", doc, l, { listId: "gen" }, records, problems);
  });

// vics: {"odata.metadata": ..., "value": [Media, ...]}, or the #Cases shape, pretty-printed or minified; a hash
// is a top-level field or a "Hashes" item; a PhotoDNA value base64 or hex.
const VICS_FIELDS: Record<string, string> = {
  md5: "MD5",
  sha1: "SHA1",
  sha256: "SHA256",
  photodna: "PhotoDNA",
  pdq: "PDQ",
};
const vicsList = fc
  .tuple(
    fc.array(item(["md5", "sha1", "sha256", "photodna", "pdq"]), { maxLength: 15 }),
    layout(["\n", "\r\n"]),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([items, l, pretty, cases]) => {
    const doc = new Doc(l.newline);
    const records: ExpectedRecord[] = [];
    const problems: number[] = [];
    const nl = () => (pretty ? doc.nl() : doc);
    doc.add(`{"odata.metadata": "https://example.invalid/$metadata#${cases ? "Cases" : "Media"}",`);
    nl().add(`"value": [`);
    if (cases) nl().add(`{"CaseID": 7, "Media": [`);
    items.forEach((it, n) => {
      if (n > 0) doc.add(",");
      nl();
      const line = doc.line;
      doc.add("{");
      nl();
      const mediaId = it.style % 2 === 0 ? String(1000 + n) : `m-${n}`;
      const members: string[] = [
        it.style % 2 === 0 ? `"MediaID": ${mediaId}` : `"MediaID": ${JSON.stringify(mediaId)}`,
      ];
      if (it.category !== undefined) members.push(`"Category": ${JSON.stringify(it.category)}`);
      const text =
        it.algorithm === "photodna" && it.style % 3 === 0 && !it.invalid
          ? Buffer.from(it.value).toString("base64")
          : written(it, l.upper);
      if (it.style % 5 === 0)
        members.push(`"Hashes": [{"HashName": "${VICS_FIELDS[it.algorithm]}", "HashValue": ${JSON.stringify(text)}}]`);
      else members.push(`"${VICS_FIELDS[it.algorithm]}": ${JSON.stringify(text)}`);
      if (it.style % 7 === 0) members.push(`"Tags": ["a", "b"], "Series": {"Name": "s"}`);
      members.forEach((m, i) => {
        if (i > 0) {
          doc.add(",");
          nl();
        }
        doc.add(m);
      });
      nl();
      doc.add("}");
      if (it.invalid) problems.push(line);
      else
        records.push(
          entryRecord(line, it, { entryId: mediaId, ...(it.category !== undefined && { category: it.category }) }),
        );
    });
    nl();
    if (cases) doc.add("]}");
    doc.add("]}");
    nl();
    return finish("vics", doc, l, { listId: "gen" }, records, problems);
  });

const xmlEscape = (s: string) =>
  s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

// ncmec: <queryResult><images><image>... and <deletedImage> tombstones; the id as a child or an attribute.
const NCMEC_ELEMENTS: Record<string, string> = {
  md5: "md5",
  sha1: "sha1",
  sha256: "sha256",
  pdq: "pdq",
  photodna: "pdna",
};
const ncmecList = fc
  .tuple(
    fc.array(fc.tuple(item(["md5", "sha1", "sha256", "pdq", "photodna"]), fc.boolean()), { maxLength: 15 }),
    layout(["\n", "\r\n"]),
    fc.boolean(),
  )
  .map(([items, l, pretty]) => {
    const doc = new Doc(l.newline);
    const records: ExpectedRecord[] = [];
    const problems: number[] = [];
    const nl = () => (pretty ? doc.nl() : doc);
    doc.add(`<?xml version="1.0" encoding="UTF-8"?>`).nl().add(`<queryResult xmlns="https://example.invalid/v2">`);
    nl().add("<images>");
    items.forEach(([it, deleted], n) => {
      nl();
      const name = deleted ? "deletedImage" : "image";
      const entryId = it.entryId ?? `id-${n}`;
      const line = doc.line;
      const asAttribute = it.style % 2 === 0;
      doc.add(asAttribute ? `<${name} id="${xmlEscape(entryId)}">` : `<${name}>`);
      if (!asAttribute) nl().add(`<id>${xmlEscape(entryId)}</id>`);
      if (!deleted && it.category !== undefined) nl().add(`<classification>${xmlEscape(it.category)}</classification>`);
      const element = NCMEC_ELEMENTS[it.algorithm] as string;
      const text =
        it.algorithm === "photodna" && !it.invalid ? Buffer.from(it.value).toString("base64") : written(it, l.upper);
      nl().add("<fingerprints>");
      nl().add(
        it.style % 3 === 0 ? `<${element}><![CDATA[${text}]]></${element}>` : `<${element}>${text}</${element}>`,
      );
      nl().add("</fingerprints>");
      nl().add(`</${name}>`);
      if (it.invalid) problems.push(line);
      else
        records.push({
          line,
          kind: deleted ? "withdrawal" : "entry",
          algorithm: it.algorithm,
          hex: hexOf(it.value),
          entryId,
          ...(!deleted && it.category !== undefined && { category: it.category }),
        });
    });
    nl().add("</images>");
    nl().add("</queryResult>").nl();
    return finish("ncmec", doc, l, { listId: "gen" }, records, problems);
  });

/** A generated valid list of `format` (with planted invalid records) and what reading it must give. */
export const generatedList: Record<ListFormat, fc.Arbitrary<GeneratedList>> = {
  text: textList,
  pytx: pytxList,
  csv: csvList,
  icse: icseList,
  ndjson: ndjsonList,
  vics: vicsList,
  ncmec: ncmecList,
};

/**
 * Reader for NCMEC-style XML hash-sharing lists (the shape of NCMEC's hash-sharing API responses), streamed through
 * saxes: chunks are parsed as they arrive and records are yielded as their elements close, so a multi-GB list never
 * sits in memory. Accepted shape (element names are compared without their namespace prefix):
 *
 *   <queryResult xmlns="...">                       any root name (queryResult, hashList, ...)
 *     <images> <videos>                             optional sections; records may also sit directly in the root
 *       <image id="..."> <video>                    an entry: one entry per usable fingerprint
 *         <member id="42">Name</member>             fields.member = "42", fields.source = "Name"
 *         <id>...</id>                              entryId (else the element's id attribute)
 *         <classification>A1</classification>       category
 *         <dateAdded>, <lastModified>               fields.added, fields.verified (<timestamp> counts as lastModified)
 *         <fingerprints>                            <md5> <sha1> <sha256> <pdq> hex; <pdna> or <photodna> base64 or hex
 *       <deletedImage> <deletedVideo>               a tombstone: one withdrawal per fingerprint, entryId from <id>
 *     <paging>                                      NCMEC's paging links: skipped
 *
 * Other children of a record (e.g. NCMEC's <feedback>, whose own <member> elements are not the contributor's) are
 * ignored. Problems, each reported at the line where the record's start tag is: a fingerprint type we do not map
 * (<netica>, <tmk>, <videomd5>, ...: report.unrecognisedName, the record's other fingerprints are still imported); an
 * invalid value; a record with no fingerprint at all; an unknown element where a record is expected (its subtree is
 * skipped). Malformed XML stops the import: the records before it are yielded, then one problem at the error's line.
 */
import type { Readable } from "node:stream";
import { SaxesParser } from "saxes";
import type { EntryFields, HashSetEntry, HashSetRecord, Withdrawal } from "../entry.js";
import { parseHashValue } from "../hash-value.js";
import type { ImportReport } from "../import-report.js";
import type { HashSetReader, ReaderOptions } from "./reader.js";

/** Fingerprint element (lower-cased local name) to registry algorithm id. */
const FINGERPRINT_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ["md5", "md5"],
  ["sha1", "sha1"],
  ["sha256", "sha256"],
  ["pdq", "pdq"],
  ["pdna", "photodna"],
  ["photodna", "photodna"],
]);
const RECORDS = new Set(["image", "video", "deletedImage", "deletedVideo"]);
const WITHDRAWALS = new Set(["deletedImage", "deletedVideo"]);
const SECTIONS = new Set(["images", "videos"]);
/** Known non-record children of the root. */
const ROOT_METADATA = new Set(["paging"]);
const RECORD_FIELDS = new Set(["id", "member", "classification", "dateAdded", "lastModified", "timestamp"]);

// Bounds on what one record may make us hold, so that a hostile list cannot grow memory without limit: the longest
// real value is a hex PhotoDNA (288 digits), and records carry a handful of fingerprints.
const MAX_VALUE_CHARS = 4096;
const MAX_FINGERPRINTS = 256;
/**
 * Input characters allowed between two tags. saxes buffers a text node, comment or tag until it ends, so a list
 * with no tag boundary for this long is refused as malformed rather than held in memory.
 */
export const MAX_CHARS_WITHOUT_TAG = 8 * 1024 * 1024;
/**
 * Element nesting allowed. saxes keeps every open element (name, attributes), so a list of endlessly nested tags
 * would grow memory, and time, without limit; real lists nest about 7 levels.
 */
export const MAX_DEPTH = 64;
// Decoded text is fed in slices of this size, so the records queued between two yields stay few.
const SLICE_CHARS = 64 * 1024;

type Role = "root" | "section" | "record" | "field" | "fingerprints" | "fingerprint" | "skip";

interface PendingRecord {
  /** Local name: image, video, deletedImage or deletedVideo. */
  name: string;
  line: number;
  idAttribute?: string;
  texts: Map<string, string>;
  memberId?: string;
  fingerprints: { name: string; text: string }[];
  tooManyFingerprints: boolean;
  /** Name of a child whose text exceeded MAX_VALUE_CHARS. */
  overlong?: string;
}

type Item =
  | { kind: "record"; record: PendingRecord }
  | { kind: "unexpected"; line: number; name: string; parent: string }
  | { kind: "xml-error"; line: number; reason: string; unfinished: boolean; atEnd: boolean };

const localName = (name: string): string => name.slice(name.indexOf(":") + 1);

/**
 * Drives saxes and turns its events into queued items; the generator drains the queue after each slice of input, so
 * that report calls (which throw in strict mode) and yields happen in file order, outside saxes' callbacks.
 */
class NcmecParse {
  failed = false;
  // Set once the input has ended: an XML error then means the document was cut short (elements left open).
  private ending = false;
  private queue: Item[] = [];
  private readonly roles: Role[] = [];
  private record: PendingRecord | undefined;
  private leaf: { text: string; overlong: boolean } | undefined;
  private startLine = 1;
  private lastTagPosition = 0;
  private recordClosedAt = -1;
  // No DTD processing: saxes knows only the five predefined entities and character references, never reads an
  // external entity or DTD (it fetches nothing), and reports any other entity reference as an error. Untrusted
  // lists must not make us read files or the network; keep it that way (do not fill parser.ENTITIES from a DOCTYPE).
  private readonly parser = new SaxesParser({ xmlns: false });

  constructor() {
    const p = this.parser;
    p.on("error", (error) => this.fail(error.message.replace(/^\d+:\d+: /, "").replace(/\.$/, "")));
    p.on("opentagstart", () => {
      if (this.failed) return;
      // The tag name has just been ended by the character after it; if that was a newline, the tag began a line
      // earlier.
      this.startLine = p.columnIndex === 0 ? p.line - 1 : p.line;
    });
    p.on("opentag", (tag) => {
      if (this.failed) return;
      this.lastTagPosition = p.position;
      if (this.roles.length >= MAX_DEPTH) {
        p.fail(`elements nested deeper than ${MAX_DEPTH} levels (not an NCMEC list, or a damaged one)`);
        return;
      }
      this.open(localName(tag.name), tag.attributes);
    });
    p.on("closetag", (tag) => {
      if (this.failed) return;
      this.lastTagPosition = p.position;
      this.closeElement(localName(tag.name));
    });
    p.on("text", (text) => this.text(text));
    p.on("cdata", (text) => this.text(text));
  }

  write(text: string): void {
    for (let start = 0; start < text.length && !this.failed; start += SLICE_CHARS) {
      this.parser.write(text.slice(start, start + SLICE_CHARS));
      if (!this.failed && this.parser.position - this.lastTagPosition > MAX_CHARS_WITHOUT_TAG) {
        this.parser.fail(`no tag in ${MAX_CHARS_WITHOUT_TAG} characters (an unterminated text, comment or tag)`);
      }
    }
  }

  /** Ends the input: saxes then reports unclosed elements and a missing root. */
  end(): void {
    this.ending = true;
    if (!this.failed) this.parser.close();
  }

  /** The items queued since the last call. */
  take(): Item[] {
    const items = this.queue;
    this.queue = [];
    return items;
  }

  private closeElement(name: string): void {
    const role = this.roles.pop();
    const record = this.record;
    if (record === undefined) return;
    if (role === "record") {
      this.queue.push({ kind: "record", record });
      this.record = undefined;
      this.recordClosedAt = this.parser.position;
    } else if ((role === "field" || role === "fingerprint") && this.leaf !== undefined) {
      const { text, overlong } = this.leaf;
      this.leaf = undefined;
      if (overlong) record.overlong ??= name;
      else if (role === "field") {
        record.texts.set(name, text.trim());
      } else if (record.fingerprints.length >= MAX_FINGERPRINTS) {
        record.tooManyFingerprints = true;
      } else if (text.trim() !== "" || !FINGERPRINT_ALGORITHMS.has(name.toLowerCase())) {
        // An empty known fingerprint carries no value; an unknown one is counted whatever it holds (NCMEC links
        // some types by href instead of carrying them).
        record.fingerprints.push({ name, text });
      }
    }
  }

  private open(name: string, attributes: Record<string, string>): void {
    const parent = this.roles.at(-1);
    let role: Role = "skip";
    if (parent === undefined) {
      role = SECTIONS.has(name) ? "section" : RECORDS.has(name) ? "record" : "root";
    } else if (parent === "root" || parent === "section") {
      if (RECORDS.has(name)) role = "record";
      else if (parent === "root" && SECTIONS.has(name)) role = "section";
      else if (!(parent === "root" && ROOT_METADATA.has(name))) {
        this.queue.push({
          kind: "unexpected",
          line: this.startLine,
          name,
          parent: parent === "root" ? "the root element" : "a section",
        });
      }
    } else if (parent === "record") {
      if (name === "fingerprints") role = "fingerprints";
      else if (RECORD_FIELDS.has(name)) role = "field";
    } else if (parent === "fingerprints") {
      role = "fingerprint";
    }

    if (role === "record") {
      this.record = { name, line: this.startLine, texts: new Map(), fingerprints: [], tooManyFingerprints: false };
      if (attributes.id !== undefined) this.record.idAttribute = attributes.id.trim();
    } else if (role === "field" || role === "fingerprint") {
      this.leaf = { text: "", overlong: false };
      if (name === "member" && this.record !== undefined && attributes.id !== undefined)
        this.record.memberId = attributes.id.trim();
    }
    this.roles.push(role);
  }

  private text(text: string): void {
    const leaf = this.leaf;
    if (this.failed || leaf === undefined || leaf.overlong) return;
    const role = this.roles.at(-1);
    if (role !== "field" && role !== "fingerprint") return;
    if (leaf.text.length + text.length > MAX_VALUE_CHARS) {
      leaf.overlong = true;
      leaf.text = "";
    } else {
      leaf.text += text;
    }
  }

  private fail(message: string): void {
    // saxes keeps reporting errors after the first one, but its events are then guesses: stop at the first.
    if (this.failed) return;
    this.failed = true;
    let open = this.record;
    // A close tag that does not match makes saxes close the open elements (calling our closetag handler) and then
    // fail, at the same position: a record closed that way was never closed by its own end tag.
    const last = this.queue.at(-1);
    if (last?.kind === "record" && this.recordClosedAt === this.parser.position) {
      this.queue.pop();
      open = last.record;
    }
    const where =
      open === undefined ? "" : `; the <${open.name}> starting at line ${open.line} is incomplete and was not imported`;
    this.queue.push({
      kind: "xml-error",
      line: this.parser.line,
      reason: `malformed XML: ${message}${where}`,
      unfinished: open !== undefined,
      atEnd: this.ending,
    });
  }
}

function labelOf(record: PendingRecord, entryId: string | undefined): string {
  return entryId === undefined ? `<${record.name}>` : `<${record.name}> ${JSON.stringify(entryId)}`;
}

function fieldsOf(record: PendingRecord): EntryFields | undefined {
  const fields: EntryFields = {};
  const set = (key: "added" | "verified" | "source" | "member", value: string | undefined) => {
    if (value !== undefined && value !== "") fields[key] = value;
  };
  set("member", record.memberId);
  set("source", record.texts.get("member"));
  set("added", record.texts.get("dateAdded"));
  set("verified", record.texts.get("lastModified") || record.texts.get("timestamp"));
  return Object.keys(fields).length === 0 ? undefined : fields;
}

function* recordsOf(record: PendingRecord, options: ReaderOptions, report: ImportReport): Generator<HashSetRecord> {
  report.read++;
  const entryId = record.texts.get("id") || record.idAttribute || undefined;
  const label = labelOf(record, entryId);
  const { line } = record;
  if (record.overlong !== undefined) {
    report.problem(line, `${label}: <${record.overlong}> is longer than ${MAX_VALUE_CHARS} characters`);
    return;
  }
  const withdrawal = WITHDRAWALS.has(record.name);
  const category = record.texts.get("classification") || undefined;
  const fields = fieldsOf(record);
  let yielded = 0;
  let reported = 0;
  for (const fingerprint of record.fingerprints) {
    const algorithm = FINGERPRINT_ALGORITHMS.get(fingerprint.name.toLowerCase());
    if (algorithm === undefined) {
      report.unrecognisedName(line, fingerprint.name);
      reported++;
      continue;
    }
    const parsed = parseHashValue(algorithm, fingerprint.text);
    if (!parsed.ok) {
      report.problem(line, `${label}: <${fingerprint.name}>: ${parsed.reason}`);
      reported++;
      continue;
    }
    yielded++;
    if (withdrawal) {
      const value: Withdrawal = { algorithm, value: parsed.value, listId: options.listId };
      if (entryId !== undefined) value.entryId = entryId;
      yield { kind: "withdrawal", withdrawal: value, line };
    } else {
      const entry: HashSetEntry = { algorithm, value: parsed.value, listId: options.listId };
      if (entryId !== undefined) entry.entryId = entryId;
      if (category !== undefined) entry.category = category;
      // A copy per entry: entries of one record must not share a mutable object.
      if (fields !== undefined) entry.fields = { ...fields };
      yield { kind: "entry", entry, line };
    }
  }
  if (record.tooManyFingerprints) {
    report.problem(line, `${label} has more than ${MAX_FINGERPRINTS} fingerprints; the rest were not imported`);
  } else if (yielded === 0 && reported === 0) {
    // Deletion feeds often name only the entry id: that withdraws every entry of the list with that id.
    if (withdrawal && entryId !== undefined)
      yield { kind: "withdrawal", withdrawal: { listId: options.listId, entryId }, line };
    else
      report.problem(line, withdrawal ? `${label} has neither fingerprints nor an id` : `${label} has no fingerprints`);
  }
}

function* drain(items: Item[], options: ReaderOptions, report: ImportReport): Generator<HashSetRecord> {
  for (const item of items) {
    if (item.kind === "record") {
      yield* recordsOf(item.record, options, report);
    } else if (item.kind === "unexpected") {
      report.read++;
      const expected = "<image>, <video>, <deletedImage> or <deletedVideo>";
      report.problem(item.line, `unexpected element <${item.name}> in ${item.parent} (expected ${expected}); skipped`);
    } else {
      if (item.unfinished) report.read++;
      if (item.atEnd) report.cutShort(item.line, item.reason);
      else report.problem(item.line, item.reason);
    }
  }
}

/** Streams an NCMEC-style XML hash list (see the top of this file for the accepted shape). */
export const readNcmec: HashSetReader = async function* readNcmec(
  input: Readable,
  options: ReaderOptions,
  report: ImportReport,
) {
  const parse = new NcmecParse();
  // TextDecoder drops a leading UTF-8 BOM and keeps a character split across chunks whole; saxes folds CRLF to LF.
  const decoder = new TextDecoder("utf-8");
  for await (const chunk of input as AsyncIterable<Uint8Array | string>) {
    parse.write(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
    yield* drain(parse.take(), options, report);
    // Leaving the loop destroys the input: nothing after a well-formedness error is read.
    if (parse.failed) return;
  }
  parse.write(decoder.decode());
  parse.end();
  yield* drain(parse.take(), options, report);
};

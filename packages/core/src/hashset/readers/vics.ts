import { StringDecoder } from "node:string_decoder";
import type { Token } from "stream-json/core/parser.js";
import { jsonParser } from "stream-json/core/parser.js";
import { PhmatchError } from "../../errors/index.js";
import type { EntryFields, HashSetEntry, HashSetRecord } from "../entry.js";
import { parseHashValue } from "../hash-value.js";
import type { ImportReport } from "../import-report.js";
import type { HashSetReader, ReaderOptions } from "./reader.js";

/**
 * Project VIC "VICS" JSON (OData style), streamed: one Media object is in memory at a time, never the file.
 * Accepted shapes (any "odata.metadata" / "@odata.context" and other root keys are ignored):
 * - VICS 2.0 `#Media`: `{"value": [Media, ...]}`;
 * - `#Cases` (VICS 1.x and 1.3, Griffeye, IPED): `{"value": [{"CaseID": ..., "Media": [Media, ...]}, ...]}`;
 *   an element of `value` is a Case as soon as it holds a "Media" array, otherwise it is a Media object.
 * In a Media object: "MediaID" (number or string) becomes the entry id, "Category" (0-4, number or string) the
 * category, "MD5", "SHA1", "SHA256", "PhotoDNA" (base64 or hex) and "PDQ" are hashes, as is each
 * `{"HashName", "HashValue"}` of a "Hashes" array; "Tags" (strings) go to fields.tags and every other field
 * (MediaSize, IsDistributed, Series, VictimIdentified, DateUpdated, ...) to fields.extra as text.
 * One Media object with several hashes yields one entry per hash, all with its MediaID and category.
 * Record lines are the line where the Media object starts. JSON that is cut off or invalid is one problem at the
 * line where it stops, reported after the entries before it; a document with no "value" array is refused.
 */
export const readVics: HashSetReader = async function* (input, options, report) {
  // stream-json's tokenizer gives tokens but no positions, so it is fed one piece at a time and every token of a
  // call belongs to the line the piece is on: pieces end after each "\n" (so a number or literal, which the
  // tokenizer holds back while it touches the end of its input, is never carried to the next line), and after
  // each "{", "}" and "," as well: when the tokenizer throws it drops the tokens of the whole piece it was given,
  // and on a minified (one-line) file that would lose, uncounted, Media objects that closed before the error, or
  // hide which one the error is in. Where pieces end depends on the text only, never on where the input's chunks
  // end (text after the last cut waits for the next chunk), so a file reads the same however it arrives.
  const tokenize = jsonParser({ packValues: true, streamValues: false });
  const walker = new VicsWalker(options, report);
  const decoder = new StringDecoder("utf8");
  const cuts = /[\n{},]/g;
  let line = 1;
  let lastTextLine = 1;
  let atStart = true;
  let held = "";
  let offset = 0;
  let sinceToken = 0;

  /** Tokenizes the complete pieces of the text so far; false once the file cannot be read further. */
  const feed = (more: string, final: boolean): boolean => {
    if (atStart && more.length > 0) {
      atStart = false;
      if (more.charCodeAt(0) === 0xfeff) more = more.slice(1); // the tokenizer refuses a BOM
    }
    // `held` is joined to the first piece only: searching `held + more` itself was slow (a V8 cons string,
    // flattened again by every search of it).
    let from = 0;
    for (;;) {
      cuts.lastIndex = from;
      const cut = cuts.exec(more);
      if (cut === null && !final) {
        held += more.slice(from);
        return held.length > MAX_VALUE_CHARS ? walker.stop(line, ...tooLong) : true;
      }
      const end = cut === null ? more.length : cut.index + 1;
      const piece = held + more.slice(from, end);
      held = "";
      from = end;
      if (piece.length > 0) {
        if (/\S/.test(piece)) lastTextLine = line;
        let tokens: Token[];
        try {
          const result = tokenize(piece);
          tokens = typeof result === "symbol" ? [] : (result.values as Token[]);
        } catch (error) {
          return walker.stop(line, "invalid JSON", error instanceof Error ? error.message : String(error));
        }
        offset += piece.length;
        // Only inside a string or number does the tokenizer take text without giving tokens: it is holding a value.
        sinceToken = tokens.length > 0 ? 0 : sinceToken + piece.length;
        if (sinceToken > MAX_VALUE_CHARS) return walker.stop(line, ...tooLong);
        for (const token of tokens) if (!walker.take(token, line, offset)) return false;
      }
      if (cut === null) return true;
      if (cut[0] === "\n") line++;
    }
  };

  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const intact = feed(typeof chunk === "string" ? chunk : decoder.write(chunk), false);
    yield* walker.drain();
    if (!intact) return; // leaving the loop destroys the input stream
  }
  if (feed(decoder.end(), true)) walker.end(lastTextLine);
  yield* walker.drain();
};

/**
 * Bounds on what one file may make the reader hold, so that a hostile or broken list cannot grow memory without
 * limit: a JSON string or number (stream-json keeps one whole until it ends, however long), a Media object, and
 * the nesting depth (the tokenizer keeps a frame per level). Real VICS values are at most a few hundred
 * characters, a Media object a few kilobytes, and the nesting about 8 levels.
 */
export const MAX_VALUE_CHARS = 1 << 20;
export const MAX_MEDIA_CHARS = 1 << 20;
export const MAX_DEPTH = 64;
const tooLong = [
  `a JSON string or number goes on for more than ${MAX_VALUE_CHARS} characters`,
  "a quote that is never closed, or not JSON",
] as const;

/** A JSON number as its text: MediaIDs can be larger than 2^53, and VICS values are kept verbatim. */
class JsonNumber {
  constructor(readonly text: string) {}
  toJSON(): number {
    return Number(this.text);
  }
}

type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
interface JsonObject {
  [key: string]: JsonValue;
}

/** A Media object being read: its fields, in document order, and where it starts. */
interface MediaDraft {
  line: number;
  /** Characters of the file before the object's "{" ends. */
  start: number;
  fields: Map<string, JsonValue>;
  key: string;
  /** Set when the object is refused (too long): its fields are no longer kept, and it is one problem. */
  refused?: string;
}

/**
 * Where the walker is in the document. A `value[]` element starts as "element" and becomes a Case when a
 * "Media" array shows up in it; Case fields are not kept (a Case's Media array is streamed, not assembled).
 */
type Frame =
  | { kind: "root"; key: string }
  | { kind: "value-array" }
  | { kind: "element"; media: MediaDraft; isCase: boolean }
  | { kind: "case-media" }
  | { kind: "media"; media: MediaDraft }
  | { kind: "object"; value: JsonObject; key: string }
  | { kind: "array"; value: JsonValue[] }
  | { kind: "skip"; depth: number };

/** What the reader hands on, in file order; problems are reported when drained so they follow earlier entries. */
type Outcome =
  | HashSetRecord
  | { kind: "read" }
  | { kind: "problem" | "cut-short"; line: number; reason: string }
  | { kind: "unrecognised"; line: number; name: string };

/** Hash fields of a Media object, by lower-case key, and HashName values, normalised (lower case, no "-", "_", " "). */
const HASH_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ["md5", "md5"],
  ["sha1", "sha1"],
  ["sha256", "sha256"],
  ["photodna", "photodna"],
  ["pdq", "pdq"],
]);

/** Turns the token stream into Media objects and those into entries, counting and reporting as it goes. */
class VicsWalker {
  private readonly stack: Frame[] = [];
  private rootSeen = false;
  private rootClosed = false;
  private valueArraySeen = false;
  private outcomes: Outcome[] = [];
  private depth = 0;
  private stopped = false;

  constructor(
    private readonly options: ReaderOptions,
    private readonly report: ImportReport,
  ) {}

  /** Outcomes so far, applied to the report in order (a problem throws here in strict mode). */
  *drain(): Generator<HashSetRecord> {
    const outcomes = this.outcomes;
    this.outcomes = [];
    for (const outcome of outcomes) {
      switch (outcome.kind) {
        case "read":
          this.report.read++;
          break;
        case "problem":
          this.report.problem(outcome.line, outcome.reason);
          break;
        case "cut-short":
          this.report.cutShort(outcome.line, outcome.reason);
          break;
        case "unrecognised":
          this.report.unrecognisedName(outcome.line, outcome.name);
          break;
        default:
          yield outcome;
      }
    }
  }

  /** Takes one token; false once reading has stopped (see {@link stop}). `offset`: characters read so far. */
  take(token: Token, line: number, offset: number): boolean {
    if (this.stopped) return false;
    this.token(token, line, offset);
    const at = this.openMediaIndex();
    const media = at < 0 ? undefined : this.mediaOf(this.stack[at]);
    if (media !== undefined && media.refused === undefined && offset - media.start > MAX_MEDIA_CHARS) {
      media.refused = `the Media object is longer than ${MAX_MEDIA_CHARS} characters; it was not imported`;
      media.fields.clear();
      // Values still being assembled inside it are dropped too: from here on its subtree is only walked.
      for (let i = at + 1; i < this.stack.length; i++) this.stack[i] = { kind: "skip", depth: 0 };
    }
    return !this.stopped;
  }

  private token(token: Token, line: number, offset: number): void {
    switch (token.name) {
      case "startObject":
      case "startArray":
        if (++this.depth > MAX_DEPTH) {
          this.stop(line, `JSON nested deeper than ${MAX_DEPTH} levels`, "not a VICS list, or a damaged one");
          return;
        }
        this.open(token.name === "startObject", line, offset);
        return;
      case "endObject":
      case "endArray":
        this.depth--;
        this.close();
        return;
      case "keyValue":
        this.key(token.value);
        return;
      case "stringValue":
        this.scalar(token.value, line);
        return;
      case "numberValue":
        this.scalar(new JsonNumber(token.value), line);
        return;
      case "nullValue":
      case "trueValue":
      case "falseValue":
        this.scalar(token.value, line);
        return;
      default:
        return; // streamed chunks are switched off; packed tokens carry the same text
    }
  }

  /**
   * The file cannot be read further (the tokenizer refused the text, or a limit was passed): one problem, and the
   * Media object it stopped in, if any, counts as read. Returns false, for the caller to return.
   */
  stop(line: number, what: string, detail: string): false {
    this.stopped = true;
    const media = this.openMedia();
    if (media !== undefined) this.outcomes.push({ kind: "read" });
    const where = media === undefined ? "" : ` in the Media object that starts at line ${media.line}`;
    this.outcomes.push({
      kind: "problem",
      line,
      reason: `${what}${where} (${detail}); the rest of the file was not read`,
    });
    return false;
  }

  /** The input ended: anything still open means the file was cut short. */
  end(lastTextLine: number): void {
    if (!this.rootSeen) this.notVics(1, "the file is empty");
    if (this.rootClosed) {
      if (!this.valueArraySeen) this.notVics(1, 'the root object has no "value" array of Media or Case objects');
      return;
    }
    const media = this.openMedia();
    if (media !== undefined) {
      this.outcomes.push({ kind: "read" });
      this.outcomes.push({
        kind: "cut-short",
        line: lastTextLine,
        reason: `the file ends inside the Media object that starts at line ${media.line} (truncated file?)`,
      });
    } else {
      this.outcomes.push({
        kind: "cut-short",
        line: lastTextLine,
        reason: "the file ends before the JSON document is complete (truncated file?)",
      });
    }
  }

  private open(isObject: boolean, line: number, offset: number): void {
    const parent = this.stack.at(-1);
    if (parent === undefined) {
      if (this.rootSeen) return; // after the root the tokenizer throws on any further value
      this.rootSeen = true;
      if (!isObject) this.notVics(line, 'the root is an array, not an object with a "value" array');
      this.stack.push({ kind: "root", key: "" });
      return;
    }
    switch (parent.kind) {
      case "root":
        if (parent.key === "value") {
          if (isObject) this.notVics(line, 'the root\'s "value" is an object, not an array of Media or Case objects');
          this.valueArraySeen = true;
          this.stack.push({ kind: "value-array" });
        } else {
          this.stack.push({ kind: "skip", depth: 0 });
        }
        return;
      case "value-array":
        if (isObject) {
          this.stack.push({
            kind: "element",
            media: { line, start: offset, fields: new Map(), key: "" },
            isCase: false,
          });
        } else {
          this.notMedia(line, '"value" holds an array where a Media or Case object belongs');
          this.stack.push({ kind: "skip", depth: 0 });
        }
        return;
      case "element":
        if (parent.isCase) {
          this.stack.push({ kind: "skip", depth: 0 });
        } else if (!isObject && parent.media.key.toLowerCase() === "media") {
          // A Case: its own fields are not kept, so its size does not matter; its Media objects count one by one.
          parent.isCase = true;
          parent.media.fields.clear();
          delete parent.media.refused;
          this.stack.push({ kind: "case-media" });
        } else if (parent.media.refused !== undefined) {
          this.stack.push({ kind: "skip", depth: 0 });
        } else {
          this.stack.push(
            isObject
              ? { kind: "object", value: Object.create(null) as JsonObject, key: "" }
              : { kind: "array", value: [] },
          );
        }
        return;
      case "case-media":
        if (isObject) {
          this.stack.push({ kind: "media", media: { line, start: offset, fields: new Map(), key: "" } });
        } else {
          this.notMedia(line, '"Media" holds an array where a Media object belongs');
          this.stack.push({ kind: "skip", depth: 0 });
        }
        return;
      case "skip":
        parent.depth++;
        return;
      // biome-ignore lint/suspicious/noFallthroughSwitchClause: a value in a Media not refused opens as by default
      case "media":
        if (parent.media.refused !== undefined) {
          this.stack.push({ kind: "skip", depth: 0 });
          return;
        }
      // falls through
      default:
        // Object.create(null): a "__proto__" key in the list stays an ordinary field
        this.stack.push(
          isObject
            ? { kind: "object", value: Object.create(null) as JsonObject, key: "" }
            : { kind: "array", value: [] },
        );
    }
  }

  private close(): void {
    const frame = this.stack.at(-1);
    if (frame?.kind === "skip" && frame.depth > 0) {
      frame.depth--;
      return;
    }
    this.stack.pop();
    switch (frame?.kind) {
      case "root":
        this.rootClosed = true;
        return;
      case "element":
        if (!frame.isCase) this.mediaComplete(frame.media);
        return;
      case "media":
        this.mediaComplete(frame.media);
        return;
      case "object":
      case "array":
        this.deliver(frame.value);
        return;
      default:
        return;
    }
  }

  private key(key: string): void {
    const frame = this.stack.at(-1);
    switch (frame?.kind) {
      case "root":
      case "object":
        frame.key = key;
        return;
      case "element":
      case "media":
        frame.media.key = key;
        return;
      default:
        return;
    }
  }

  private scalar(value: null | boolean | string | JsonNumber, line: number): void {
    const frame = this.stack.at(-1);
    if (frame === undefined) {
      this.rootSeen = true;
      this.notVics(line, 'the root is a single value, not an object with a "value" array');
    }
    switch (frame.kind) {
      case "root":
        if (frame.key === "value") this.notVics(line, 'the root\'s "value" is not an array of Media or Case objects');
        return;
      case "value-array":
        this.notMedia(line, '"value" holds a single value where a Media or Case object belongs');
        return;
      case "case-media":
        this.notMedia(line, '"Media" holds a single value where a Media object belongs');
        return;
      default:
        this.deliver(value);
    }
  }

  /** Hands a complete field value to the container it belongs to. */
  private deliver(value: JsonValue): void {
    const frame = this.stack.at(-1);
    switch (frame?.kind) {
      case "element":
        if (!frame.isCase && frame.media.refused === undefined) frame.media.fields.set(frame.media.key, value);
        return;
      case "media":
        if (frame.media.refused === undefined) frame.media.fields.set(frame.media.key, value);
        return;
      case "object":
        frame.value[frame.key] = value;
        return;
      case "array":
        frame.value.push(value);
        return;
      default:
        return;
    }
  }

  /** The innermost Media object still open, if any. */
  private openMedia(): MediaDraft | undefined {
    const at = this.openMediaIndex();
    return at < 0 ? undefined : this.mediaOf(this.stack[at]);
  }

  private openMediaIndex(): number {
    for (let i = this.stack.length - 1; i >= 0; i--) if (this.mediaOf(this.stack[i]) !== undefined) return i;
    return -1;
  }

  private mediaOf(frame: Frame | undefined): MediaDraft | undefined {
    return frame?.kind === "media" || (frame?.kind === "element" && !frame.isCase) ? frame.media : undefined;
  }

  private notMedia(line: number, reason: string): void {
    this.outcomes.push({ kind: "read" }, { kind: "problem", line, reason });
  }

  /** A document that is not VICS at all is refused as a whole, even without --strict: no record can be trusted. */
  private notVics(line: number, reason: string): never {
    throw new PhmatchError(
      "PHM_HASHSET_PARSE",
      `${this.report.file}:${line}: not a Project VIC (VICS) JSON list: ${reason}`,
      { path: this.report.file },
    );
  }

  private mediaComplete(media: MediaDraft): void {
    this.outcomes.push({ kind: "read" });
    const { line } = media;
    if (media.refused !== undefined) {
      this.outcomes.push({ kind: "problem", line, reason: media.refused });
      return;
    }
    let entryId: string | undefined;
    let category: string | undefined;
    let tags: string[] | undefined;
    const extra: [string, string][] = [];
    const hashes: { field: string; algorithm: string; text: JsonValue }[] = [];
    let hashesField: JsonValue | undefined;
    for (const [key, value] of media.fields) {
      const lower = key.toLowerCase();
      const algorithm = HASH_ALGORITHMS.get(lower);
      if (algorithm !== undefined) hashes.push({ field: `"${key}"`, algorithm, text: value });
      else if (lower === "mediaid") entryId = fieldText(value);
      else if (lower === "category") category = fieldText(value);
      else if (lower === "hashes") hashesField = value;
      else if (
        lower === "tags" &&
        Array.isArray(value) &&
        value.every((tag) => typeof tag === "string" || tag instanceof JsonNumber)
      ) {
        if (value.length > 0) tags = value.map((tag) => String(fieldText(tag)));
      } else {
        const text = fieldText(value);
        if (text !== undefined) extra.push([key, text]);
      }
    }
    const label = entryId === undefined ? "Media object" : `MediaID ${entryId}`;
    const problems: Outcome[] = [];
    if (hashesField !== undefined && hashesField !== null) {
      if (!Array.isArray(hashesField)) {
        problems.push({
          kind: "problem",
          line,
          reason: `${label}: "Hashes" is not an array of {"HashName", "HashValue"} objects`,
        });
      } else {
        hashesField.forEach((item, i) => {
          const hashName = isJsonObject(item) ? memberIgnoringCase(item, "hashname") : undefined;
          const hashValue = isJsonObject(item) ? memberIgnoringCase(item, "hashvalue") : undefined;
          // a named hash without a value holds nothing to import
          if (hashValue === undefined || isBlank(hashValue)) return;
          const name = typeof hashName === "string" ? hashName.trim() : "";
          if (name === "") {
            problems.push({ kind: "problem", line, reason: `${label}: Hashes[${i}] has a HashValue but no HashName` });
            return;
          }
          const algorithm = HASH_ALGORITHMS.get(name.toLowerCase().replace(/[-_ ]/g, ""));
          if (algorithm === undefined) problems.push({ kind: "unrecognised", line, name });
          else hashes.push({ field: `Hashes[${i}] (HashName "${name}")`, algorithm, text: hashValue });
        });
      }
    }

    const fields: EntryFields = {};
    if (tags !== undefined) fields.tags = tags;
    if (extra.length > 0) fields.extra = Object.fromEntries(extra);
    const hasFields = fields.tags !== undefined || fields.extra !== undefined;
    const kept: HashSetEntry[] = [];
    let present = 0;
    for (const hash of hashes) {
      if (isBlank(hash.text)) continue; // VICS writes absent hashes as null or ""
      present++;
      if (typeof hash.text !== "string") {
        problems.push({ kind: "problem", line, reason: `${label}: ${hash.field} is not a string` });
        continue;
      }
      const parsed = parseHashValue(hash.algorithm, hash.text);
      if (!parsed.ok) {
        problems.push({ kind: "problem", line, reason: `${label}: ${hash.field}: ${parsed.reason}` });
        continue;
      }
      // A Media object may state one hash twice (top-level "MD5" and in "Hashes"): that is one entry, not a
      // duplicate across records for the importer to count.
      if (kept.some((entry) => entry.algorithm === hash.algorithm && Buffer.compare(entry.value, parsed.value) === 0))
        continue;
      const entry: HashSetEntry = { algorithm: hash.algorithm, value: parsed.value, listId: this.options.listId };
      if (entryId !== undefined) entry.entryId = entryId;
      if (category !== undefined) entry.category = category;
      if (hasFields) entry.fields = fields; // shared by the entries of one Media object
      kept.push(entry);
    }
    for (const entry of kept) this.outcomes.push({ kind: "entry", entry, line });
    if (present === 0 && problems.length === 0) {
      problems.push({
        kind: "problem",
        line,
        reason: `${label} has no hash (none of MD5, SHA1, SHA256, PhotoDNA, PDQ or a "Hashes" item has a value)`,
      });
    }
    this.outcomes.push(...problems);
  }
}

/** A field as text for the entry model: numbers verbatim, nested values as JSON, null and "" as absent. */
function fieldText(value: JsonValue): string | undefined {
  if (value === null || value === "") return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return String(value);
  if (value instanceof JsonNumber) return value.text;
  return JSON.stringify(value);
}

function isBlank(value: JsonValue): boolean {
  return value === null || (typeof value === "string" && value.trim() === "");
}

function isJsonObject(value: JsonValue): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}

/** Griffeye and IPED exports differ in key case ("HashName" / "hashName"); the first match wins. */
function memberIgnoringCase(object: JsonObject, lowerKey: string): JsonValue | undefined {
  for (const key in object) if (key.toLowerCase() === lowerKey) return object[key];
  return undefined;
}

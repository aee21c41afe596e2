// Byte-level damage for property tests of the list readers and the .phs loader: fast-check arbitraries of
// mutations (flipped bytes, truncations at structural offsets, inserted bytes and syntax, duplicated or deleted
// lines, huge fields, deep nesting, invalid UTF-8, BOMs, CRLF) and a function that applies them. Every mutation is
// plain data, so a failing case prints as a value fast-check can replay from its seed.
import { Readable } from "node:stream";
import fc from "fast-check";

export type Mutation =
  | { kind: "flip"; at: number; byte: number }
  | { kind: "truncate"; at: number }
  /** Cuts just before or just after the n-th occurrence (mod count) of a structural byte. */
  | { kind: "truncate-at"; char: string; nth: number; after: boolean }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "syntax"; at: number; text: string }
  | { kind: "duplicate-line"; at: number }
  | { kind: "delete-line"; at: number }
  | { kind: "huge-field"; at: number; char: string; length: number }
  | { kind: "nest"; at: number; open: string; close: string; depth: number; closed: boolean }
  | { kind: "invalid-utf8"; at: number; bytes: Uint8Array }
  | { kind: "bom" }
  | { kind: "crlf" };

// Bytes that mean something to one of the formats: a cut or an insertion there is where a parser has to decide.
const STRUCTURAL = ["\n", "\r", "{", "}", "[", "]", '"', ",", ":", ";", "\t", "<", ">", "/", "=", " "];
const SYNTAX = [
  ...STRUCTURAL,
  "</",
  "<!--",
  "-->",
  "<![CDATA[",
  "]]>",
  "<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
  "&",
  "&amp;",
  "&e;",
  "&#0;",
  "&#x110000;",
  "\\",
  "\\u",
  "\\ud800",
  "\uFEFF",
  "\r\n",
  "\0",
  "'",
  "0x",
  "-",
  "1e999",
  "-0",
  "null",
  "true",
  '""',
  '"value":',
  '"Media":[',
  '{"type":"entry"}',
  '{"type":"hashset","lists":[null]}',
  "#",
  "__proto__",
  '"__proto__":',
  "md5 ",
  "pdq ",
];
// Byte sequences that are not UTF-8: a lone continuation byte, a truncated lead byte, an overlong encoding, an
// encoded surrogate, a code point past U+10FFFF, and bytes that never occur in UTF-8.
const NOT_UTF8 = [
  [0x80],
  [0xc3],
  [0xe2, 0x82],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xfe],
  [0xff, 0xfe],
].map((b) => Uint8Array.from(b));

/** One mutation. Offsets are taken modulo the length of the input they are applied to. */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("truncate-at" as const),
    char: fc.constantFrom(...STRUCTURAL),
    nth: fc.nat(),
    after: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 24 }),
  }),
  fc.record({ kind: fc.constant("syntax" as const), at: fc.nat(), text: fc.constantFrom(...SYNTAX) }),
  fc.record({ kind: fc.constant("duplicate-line" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("delete-line" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("huge-field" as const),
    at: fc.nat(),
    char: fc.constantFrom("a", "0", " ", "f", "=", "\\n"),
    length: fc.integer({ min: 1000, max: 70_000 }),
  }),
  fc
    .record({
      at: fc.nat(),
      pair: fc.constantFrom<[string, string]>(
        ["[", "]"],
        ['{"a":', "}"],
        ["<a>", "</a>"],
        ["<fingerprints>", "</fingerprints>"],
      ),
      depth: fc.integer({ min: 10, max: 5000 }),
      closed: fc.boolean(),
    })
    .map(({ at, pair: [open, close], depth, closed }) => ({ kind: "nest" as const, at, open, close, depth, closed })),
  fc.record({ kind: fc.constant("invalid-utf8" as const), at: fc.nat(), bytes: fc.constantFrom(...NOT_UTF8) }),
  fc.constant({ kind: "bom" as const }),
  fc.constant({ kind: "crlf" as const }),
);

/** One to `max` mutations, applied in order. */
export const mutations = (max = 5): fc.Arbitrary<Mutation[]> => fc.array(mutation, { minLength: 1, maxLength: max });

const splice = (bytes: Uint8Array, at: number, inserted: Uint8Array, removed = 0): Buffer =>
  Buffer.concat([bytes.subarray(0, at), inserted, bytes.subarray(at + removed)]);

/** `bytes` with `m` applied (a new buffer; the input is not changed). */
export function applyMutation(bytes: Uint8Array, m: Mutation): Buffer {
  const at = "at" in m ? m.at % (bytes.length + 1) : 0;
  switch (m.kind) {
    case "flip": {
      const out = Buffer.from(bytes);
      if (out.length > 0) out[m.at % out.length] = m.byte;
      return out;
    }
    case "truncate":
      return Buffer.from(bytes.subarray(0, at));
    case "truncate-at": {
      const code = m.char.charCodeAt(0);
      const positions: number[] = [];
      bytes.forEach((b, i) => {
        if (b === code) positions.push(i);
      });
      if (positions.length === 0) return Buffer.from(bytes);
      const position = positions[m.nth % positions.length] as number;
      return Buffer.from(bytes.subarray(0, position + (m.after ? 1 : 0)));
    }
    case "insert":
    case "invalid-utf8":
      return splice(bytes, at, m.bytes);
    case "syntax":
      return splice(bytes, at, Buffer.from(m.text, "utf8"));
    case "huge-field":
      return splice(
        bytes,
        at,
        Buffer.from(m.char.repeat(Math.ceil(m.length / m.char.length)).slice(0, m.length), "utf8"),
      );
    case "nest":
      return splice(bytes, at, Buffer.from(m.open.repeat(m.depth) + (m.closed ? m.close.repeat(m.depth) : ""), "utf8"));
    case "duplicate-line":
    case "delete-line": {
      const lines = Buffer.from(bytes).toString("latin1").split("\n");
      const i = m.at % lines.length;
      if (m.kind === "duplicate-line") lines.splice(i, 0, lines[i] as string);
      else lines.splice(i, 1);
      return Buffer.from(lines.join("\n"), "latin1");
    }
    case "bom":
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    case "crlf":
      return Buffer.from(Buffer.from(bytes).toString("latin1").replace(/\r?\n/g, "\r\n"), "latin1");
  }
}

/** `bytes` with every mutation of `ms` applied in order. */
export const applyMutations = (bytes: Uint8Array, ms: readonly Mutation[]): Buffer =>
  ms.reduce<Buffer>((b, m) => applyMutation(b, m), Buffer.from(bytes));

/** A byte stream of `bytes` in chunks of `size` bytes (the way a file or socket delivers them, cut anywhere). */
export function chunkedStream(bytes: Uint8Array, size: number): Readable {
  const step = Math.max(1, size);
  return Readable.from(
    (function* () {
      for (let i = 0; i < bytes.length; i += step) yield Buffer.from(bytes.subarray(i, i + step));
    })(),
    { objectMode: false },
  );
}

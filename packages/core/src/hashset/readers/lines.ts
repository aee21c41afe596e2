import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";

/**
 * The longest line a line-based list (text, pytx, NDJSON) may have: one record is a few hundred characters. A
 * longer line is not held: it is passed over to its end and reported, so a file without line breaks (or a
 * hostile one) cannot grow memory without limit, as readline would let it.
 */
export const MAX_LINE_CHARS = 1 << 20;

/** Why a line over MAX_LINE_CHARS is refused (it was passed over, not read into memory). */
export function tooLongReason(what: string): string {
  return (
    `the line is longer than ${MAX_LINE_CHARS} characters, where ${what} was expected ` +
    `(a file that is not this list format, or a damaged one?); skipped to its end`
  );
}

/** One line of a list: its 1-based number and text, or `tooLong` (then `text` is empty: the line was not kept). */
export interface NumberedLine {
  line: number;
  text: string;
  tooLong: boolean;
}

/**
 * The lines of a text stream with their 1-based numbers; a UTF-8 BOM is removed. LF, CRLF and a lone CR end a
 * line (a CRLF split across chunks is one line end); a last line without a line end counts when not empty. Bytes
 * that are not UTF-8 become U+FFFD. Lines over {@link MAX_LINE_CHARS} characters come as `tooLong`.
 */
export async function* numberedLines(input: Readable): AsyncGenerator<NumberedLine> {
  const decoder = new StringDecoder("utf8");
  let line = 0;
  let text = "";
  let length = 0;
  let afterCr = false;
  const append = (piece: string) => {
    length += piece.length;
    text = length > MAX_LINE_CHARS ? "" : text + piece;
  };
  const finish = (): NumberedLine => {
    line++;
    const done = { line, text: line === 1 ? text.replace(/^\uFEFF/, "") : text, tooLong: length > MAX_LINE_CHARS };
    text = "";
    length = 0;
    return done;
  };
  const breaks = /[\r\n]/g;
  function* split(chunk: string): Generator<NumberedLine> {
    let from = 0;
    if (afterCr && chunk.length > 0) {
      if (chunk.charCodeAt(0) === 0x0a) from = 1;
      afterCr = false;
    }
    for (;;) {
      breaks.lastIndex = from;
      const found = breaks.exec(chunk);
      if (found === null) {
        append(chunk.slice(from));
        return;
      }
      append(chunk.slice(from, found.index));
      yield finish();
      from = found.index + 1;
      if (found[0] === "\r") {
        if (from === chunk.length) afterCr = true;
        else if (chunk.charCodeAt(from) === 0x0a) from++;
      }
    }
  }
  for await (const chunk of input as AsyncIterable<Buffer | string>)
    yield* split(typeof chunk === "string" ? chunk : decoder.write(chunk));
  yield* split(decoder.end());
  if (length > 0) yield finish();
}

import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

/** The lines of a text stream with their 1-based numbers; a UTF-8 BOM and CRLF endings are removed. */
export async function* numberedLines(input: Readable): AsyncGenerator<{ line: number; text: string }> {
  let line = 0;
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    yield { line, text: line === 1 ? raw.replace(/^\uFEFF/, "") : raw };
  }
}

// The line reader of retroactive matching: records split across chunks, CRLF, a last line without a newline, and a
// line over the limit dropped as it streams (numbered, without its text) while the lines after it are read.
import { ndjsonLines } from "@phmatch/core/internal";
import { describe, expect, it } from "vitest";

async function lines(chunks: (string | Buffer)[], maxBytes: number) {
  const out: { line: number; text?: string }[] = [];
  async function* source() {
    yield* chunks;
  }
  for await (const item of ndjsonLines(source(), maxBytes)) out.push(item);
  return out;
}

describe("ndjsonLines", () => {
  it("joins a line split across chunks, drops a CR before the newline, and keeps a last line without one", async () => {
    expect(await lines(['{"a":', '1}\r\n{"b"', ":2}\n\n", '{"c":3}'], 100)).toEqual([
      { line: 1, text: '{"a":1}' },
      { line: 2, text: '{"b":2}' },
      { line: 3, text: "" },
      { line: 4, text: '{"c":3}' },
    ]);
  });

  it("gives a line over the limit by number only, never holding it, and reads on", async () => {
    const long = "x".repeat(40);
    expect(await lines(["ok\n", long.slice(0, 15), long.slice(15), "\nafter\n", long], 20)).toEqual([
      { line: 1, text: "ok" },
      { line: 2 },
      { line: 3, text: "after" },
      { line: 4 },
    ]);
    // A whole over-long line inside one chunk too.
    expect(await lines([`${long}\nok\n`], 20)).toEqual([{ line: 1 }, { line: 2, text: "ok" }]);
  });
});

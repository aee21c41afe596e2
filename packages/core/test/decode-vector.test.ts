// SVG in every form a hostile upload may take (external entities, external hrefs, a long comment before the
// <svg element, UTF-16, gzip) is refused as vector input, PHM_DECODE_VECTOR, before any parser reads it; and a
// gzip bomb dressed as .svgz costs a bounded look.
import { gzipSync } from "node:zlib";
import { decodeImage, PhmatchError } from "@phmatch/core";
import { describe, expect, it } from "vitest";
import { hostileCorpus } from "../../../test-fixtures/hostile/generate.mjs";

type Input = { name: string; kind: string; bytes: Uint8Array; codes?: string[] };
const vectors = ((await hostileCorpus({ size: "full", kinds: ["svg"] })) as Input[]).filter((i) =>
  i.codes?.includes("PHM_DECODE_VECTOR"),
);
const codeOf = (bytes: Uint8Array) =>
  decodeImage(bytes).then(
    () => "decoded",
    (error: unknown) => (error instanceof PhmatchError ? error.code : `untyped: ${String(error)}`),
  );

describe("vector input is refused whatever its encoding", () => {
  it("the corpus has the SVG forms", () => {
    expect(vectors.map((v) => v.name)).toEqual(
      expect.arrayContaining(["xxe-file.svg", "long-comment-prefix.svg", "utf16.svg", "gzipped.svgz"]),
    );
  });

  it.each(vectors.map((v) => [v.name, v] as const))("%s -> PHM_DECODE_VECTOR", async (_name, input) => {
    expect(await codeOf(input.bytes)).toBe("PHM_DECODE_VECTOR");
  });

  it("UTF-16 big-endian SVG too", async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>', "utf16le").swap16();
    expect(await codeOf(Buffer.concat([Buffer.from([0xfe, 0xff]), svg]))).toBe("PHM_DECODE_VECTOR");
  });

  it("gzip that is not SVG, or a gzip bomb, is not vector input and is refused as unsupported", async () => {
    expect(await codeOf(gzipSync(Buffer.from("plain text, not an image\n".repeat(100))))).toBe(
      "PHM_DECODE_UNSUPPORTED",
    );
    expect(await codeOf(gzipSync(Buffer.alloc(64 * 1024 * 1024)))).toBe("PHM_DECODE_UNSUPPORTED");
  });
});

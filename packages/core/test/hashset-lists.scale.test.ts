// The list readers' streaming cases at scale (npm run test:fuzz): 100,000 VICS Media objects, 200,000 CSV rows and
// 50,000 NCMEC images, each produced lazily in small chunks, so that a reader that held its input would show it.
// npm test runs the same cases small (hashset-vics, hashset-csv, hashset-ncmec).
import { describe, it } from "vitest";
import { streamCsv, streamNcmec, streamVics } from "./support/list-streaming.js";

describe("list readers stream at scale", () => {
  it("VICS: 100,000 Media objects from small chunks without reading ahead", () => streamVics(100_000));
  it("CSV: a generated 200,000-row list fed in small chunks", () => streamCsv(200_000));
  it("NCMEC: 50,000 images arriving in small chunks, yielding before the input ends", () => streamNcmec(50_000));
});

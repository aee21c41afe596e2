// A cut file is reported as truncated (PHM_DECODE_TRUNCATED: "re-copy the file from its source") in every format
// phmatch decodes, not as unsupported or corrupt: partially copied files are the commonest damage on seized media,
// and libvips' own text calls a cut TIFF "unsupported" and a cut AVIF a "bad seek". Damage that leaves the
// structure whole stays PHM_DECODE_CORRUPT.

import { decodeImage, PhmatchError } from "@phmatch/core";
import { describe, expect, it } from "vitest";
import { benignBases } from "../../../test-fixtures/hostile/generate.mjs";

const { bases } = (await benignBases()) as { bases: Record<string, Buffer> };
const codeOf = (bytes: Uint8Array) =>
  decodeImage(bytes).then(
    () => "decoded",
    (error: unknown) => (error instanceof PhmatchError ? error.code : `untyped: ${String(error)}`),
  );

describe("truncation is told from corruption by the file's structure", () => {
  it.each(Object.keys(bases))(
    "%s cut at 30, 60 and 90 per cent of its bytes -> PHM_DECODE_TRUNCATED (and whole, it decodes)",
    async (ext) => {
      const bytes = bases[ext] as Buffer;
      expect(await codeOf(bytes)).toBe("decoded");
      const codes = await Promise.all(
        [0.3, 0.6, 0.9].map((f) => codeOf(bytes.subarray(0, Math.floor(bytes.length * f)))),
      );
      expect(codes).toEqual(["PHM_DECODE_TRUNCATED", "PHM_DECODE_TRUNCATED", "PHM_DECODE_TRUNCATED"]);
    },
  );

  it("a whole file with bad contents is corrupt, not truncated", async () => {
    const png = Buffer.from(bases.png as Buffer);
    // The PNG signature then text: no IHDR, so not a PNG that was cut.
    expect(await codeOf(Buffer.concat([png.subarray(0, 8), Buffer.from("<!DOCTYPE html><html></html>")]))).toBe(
      "PHM_DECODE_CORRUPT",
    );
    // A WebP whose RIFF size is right but whose lossless bitstream is overwritten.
    const webp = Buffer.from(bases["lossless.webp"] as Buffer);
    webp.fill(0xff, 30, webp.length);
    expect(await codeOf(webp)).toBe("PHM_DECODE_CORRUPT");
    // An AVIF whose boxes are complete but whose first box after ftyp is garbage.
    const avif = Buffer.from(bases.avif as Buffer);
    const ftyp = avif.readUInt32BE(0);
    avif.fill(0x00, ftyp + 4, ftyp + 8);
    expect(await codeOf(avif)).toBe("PHM_DECODE_CORRUPT");
  });
});

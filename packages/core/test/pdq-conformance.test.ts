// PDQ against Meta's reference: every row of the shared conformance TSVs (hash, quality, 8 dihedral variants).
import { join } from "node:path";
import { type HashedRecord, hammingDistance, hashFile, hexToBytes, isFailedRecord } from "@phmatch/core";
import { describe, expect, it } from "vitest";
import { conformanceDir, hasConformance, readTsv, skipReason } from "../../../test/support/conformance.js";

const pdqDir = join(conformanceDir, "pdq");
// Rows whose reference hash reflects ImageMagick's decoding of the file, not PDQ
// (see shared/conformance/pdq/README.md).
// CMYK.jpg: ImageMagick's JPEG decode of CMYK differs from libjpeg-turbo's; our conversion formula is ImageMagick's.
const DECODER_DEPENDENT: Record<string, number> = { "upstream-data/misc-images/modes/CMYK.jpg": 2 };

async function hashed(path: string, dihedral: boolean): Promise<HashedRecord> {
  const record = await hashFile(path, { dihedral });
  if (isFailedRecord(record)) throw new Error(`${path}: ${record.error.code} ${record.error.message}`);
  return record as HashedRecord;
}

const distance = (a: string, b: string): number => hammingDistance(hexToBytes(a, 32), hexToBytes(b, 32));

describe.skipIf(!hasConformance)(`PDQ conformance (${hasConformance ? pdqDir : skipReason})`, () => {
  const vectors = hasConformance ? readTsv(join(pdqDir, "pdq-vectors.tsv")) : [];
  const dihedral = hasConformance ? readTsv(join(pdqDir, "pdq-dihedral-fullres.tsv")) : [];

  it("covers every row of pdq-vectors.tsv and pdq-dihedral-fullres.tsv", () => {
    expect(vectors).toHaveLength(54);
    expect(dihedral).toHaveLength(54);
  });

  it.each(vectors.map((row) => [row.file as string, row] as const))(
    "hash_fullres and quality_fullres: %s",
    async (file, row) => {
      const record = await hashed(join(pdqDir, file), false);
      expect(record.quality?.pdq).toBe(Number(row.quality_fullres));
      const d = distance(record.hashes.pdq as string, row.hash_fullres as string);
      if (file in DECODER_DEPENDENT) {
        console.info(`${file}: ${d} bits from the reference (decoder-dependent row)`);
        expect(d).toBeLessThanOrEqual(DECODER_DEPENDENT[file] as number);
      } else {
        expect(record.hashes.pdq).toBe(row.hash_fullres);
      }
    },
  );

  it.each(dihedral.map((row) => [row.file as string, row] as const))("8 dihedral variants: %s", async (file, row) => {
    const record = await hashed(join(pdqDir, file), true);
    const expected = [
      "original",
      "rotate90",
      "rotate180",
      "rotate270",
      "flipx",
      "flipy",
      "flipplus1",
      "flipminus1",
    ].map((v) => row[v] as string);
    const variants = record.dihedral?.pdq ?? [];
    expect(variants).toHaveLength(8);
    expect(variants[0]).toBe(record.hashes.pdq);
    expect(record.quality?.pdq).toBe(Number(row.quality));
    if (file in DECODER_DEPENDENT) {
      const distances = variants.map((v, i) => distance(v, expected[i] as string));
      console.info(`${file}: dihedral distances ${distances.join(",")} (decoder-dependent row)`);
      expect(Math.max(...distances)).toBeLessThanOrEqual(12);
    } else {
      expect(variants).toEqual(expected);
    }
  });

  const imagehashDir = join(conformanceDir, "imagehash");
  const extra = hasConformance ? readTsv(join(imagehashDir, "pdq-vectors.tsv")) : [];
  it.each(extra.map((row) => [row.file as string, row] as const))(
    "imagehash set, reference PDQ: %s",
    async (file, row) => {
      const record = await hashed(join(imagehashDir, "images", file), false);
      expect(record.hashes.pdq).toBe(row.pdq_fullres);
      expect(record.quality?.pdq).toBe(Number(row.quality));
    },
  );
});

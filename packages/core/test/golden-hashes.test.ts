// Golden vectors: every algorithm's exact hex on every benign fixture (test-fixtures/golden-hashes.tsv), plus
// independent checks of the goldens: digests against node:crypto, blockhash against a separate implementation
// of its block-median rule written here from the blockhash specification.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { decodeImage, hashFile, type Pixels, SUPPORTED_ALGORITHMS } from "@phmatch/core";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { fixtures, readTsv } from "../../../test/support/conformance.js";

const golden = readTsv(fixtures("golden-hashes.tsv"));
const algorithms = [...SUPPORTED_ALGORITHMS];

describe("golden hashes of the benign fixtures", () => {
  it("cover every fixture image and every computable algorithm", () => {
    expect(golden.map((r) => r.file)).toEqual(readdirSync(fixtures("images")).sort());
    expect(Object.keys(golden[0] ?? {})).toEqual(["file", ...algorithms, "pdq_quality"]);
  });

  it.each(golden.map((row) => [row.file as string, row] as const))(
    "%s: every algorithm, one pass",
    async (file, row) => {
      const record = await hashFile(fixtures(`images/${file}`), { algorithms });
      expect(record.error).toBeUndefined();
      expect(record.hashes).toEqual(Object.fromEntries(algorithms.map((id) => [id, row[id]])));
      expect(String(record.quality?.pdq)).toBe(row.pdq_quality);
    },
  );
});

describe("digests equal node:crypto on every fixture, images or not", () => {
  const files = [
    ...readdirSync(fixtures("images")).map((f) => `images/${f}`),
    ...readdirSync(fixtures("bad")).map((f) => `bad/${f}`),
  ];
  it.each(files)("%s", async (file) => {
    const bytes = readFileSync(fixtures(file));
    const record = await hashFile(fixtures(file), { algorithms: ["md5", "sha1", "sha256", "pdq"] });
    for (const id of ["md5", "sha1", "sha256"])
      expect(record.hashes?.[id], id).toBe(createHash(id).update(bytes).digest("hex"));
  });
});

// blockhash (blockhash.io), written from its description: split the image into grid x grid blocks whose edges
// may cut pixels (each pixel counts in a block by the area it has there); a pixel's value is R + G + B, or 765
// when fully transparent; in each of four horizontal bands of blocks, a bit is 1 where the block's sum is above
// the band's median, or equal to it within 1 when the median is above half the maximum, which blockhash takes
// as 256 * 3 / 2 per pixel (so a flat mid-grey image, 384 per pixel, is all zeros).
function blockhashBySpec(rgba: { width: number; height: number; data: Uint8Array }, grid: number): string {
  const { width, height, data } = rgba;
  const sums = new Float64Array(grid * grid);
  const bw = width / grid;
  const bh = height / grid;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const value = data[i + 3] === 0 ? 765 : (data[i] as number) + (data[i + 1] as number) + (data[i + 2] as number);
      for (let by = Math.floor(y / bh); by < grid && by * bh < y + 1; by++) {
        const oy = Math.min(y + 1, (by + 1) * bh) - Math.max(y, by * bh);
        for (let bx = Math.floor(x / bw); bx < grid && bx * bw < x + 1; bx++) {
          const ox = Math.min(x + 1, (bx + 1) * bw) - Math.max(x, bx * bw);
          if (ox > 0 && oy > 0) sums[by * grid + bx] = (sums[by * grid + bx] as number) + value * ox * oy;
        }
      }
    }
  }
  const half = (bw * bh * 256 * 3) / 2;
  const bits: number[] = [];
  const band = sums.length / 4;
  for (let b = 0; b < 4; b++) {
    const slice = [...sums.slice(b * band, (b + 1) * band)];
    const sorted = [...slice].sort((p, q) => p - q);
    const median = (sorted[band / 2 - 1]! + sorted[band / 2]!) / 2;
    for (const v of slice) bits.push(v > median || (Math.abs(v - median) < 1 && median > half) ? 1 : 0);
  }
  let hex = "";
  for (let i = 0; i < bits.length; i += 4)
    hex += ((bits[i]! << 3) | (bits[i + 1]! << 2) | (bits[i + 2]! << 1) | bits[i + 3]!).toString(16);
  return hex;
}

function rgbaOf(p: Pixels) {
  const out = new Uint8Array(p.width * p.height * 4);
  for (let i = 0; i < p.width * p.height; i++) {
    const s = i * p.channels;
    const grey = p.channels < 3;
    out[i * 4] = p.data[s]!;
    out[i * 4 + 1] = p.data[grey ? s : s + 1]!;
    out[i * 4 + 2] = p.data[grey ? s : s + 2]!;
    out[i * 4 + 3] = p.channels === 2 ? p.data[s + 1]! : p.channels === 4 ? p.data[s + 3]! : 255;
  }
  return { width: p.width, height: p.height, data: out };
}

describe("blockhash goldens agree with an independent implementation of the blockhash rule", () => {
  const larger = golden.filter((row) => row.file !== "tiny-4x4.png");
  it.each(larger.map((row) => [row.file as string, row] as const))("%s", async (file, row) => {
    const { pixels } = await decodeImage(readFileSync(fixtures(`images/${file}`)));
    expect(blockhashBySpec(rgbaOf(pixels), 16)).toBe(row.blockhash);
    expect(blockhashBySpec(rgbaOf(pixels), 8)).toBe(row.blockhash8);
  });

  it("enlarges an image smaller than the grid instead of summing wrong blocks, and never prints NaN", async () => {
    const row = golden.find((r) => r.file === "tiny-4x4.png");
    expect(row?.blockhash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.blockhash8).toMatch(/^[0-9a-f]{16}$/);
    // A 4x4 image enlarged 4x by nearest neighbour hashes like the 16x16 image it becomes.
    const big = await sharp(fixtures("images/tiny-4x4.png"))
      .resize(16, 16, { kernel: "nearest" })
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(blockhashBySpec(rgbaOf({ width: 16, height: 16, channels: 3, data: big.data }), 16)).toBe(row?.blockhash);
  });
});

describe("decoding shared by every algorithm", () => {
  it("decodes HEIC (HEVC) through libheif-js: the same picture as the PNG it was encoded from", async () => {
    const heic = golden.find((r) => r.file === "shapes.heic");
    const pngRow = golden.find((r) => r.file === "shapes.png");
    const decoded = await decodeImage(readFileSync(fixtures("images/shapes.heic")));
    const png = await decodeImage(readFileSync(fixtures("images/shapes.png")));
    expect([decoded.format, decoded.pixels.width, decoded.pixels.height, decoded.pixels.channels]).toEqual([
      "heic",
      480,
      360,
      png.pixels.channels,
    ]);
    expect(heic?.pdq).toBe(pngRow?.pdq);
  });

  it("reports a truncated HEIC as a decode error, with its digests", async () => {
    const record = await hashFile(fixtures("bad/truncated.heic"), { algorithms: ["pdq", "md5"] });
    expect(record.error?.code).toMatch(/^PHM_DECODE_(CORRUPT|TRUNCATED)$/);
    expect(record.hashes?.md5).toMatch(/^[0-9a-f]{32}$/);
  });

  it(
    "reads 16-bit samples two ways: high bytes for " + "Pillow-compatible hashes, low bytes for reference PDQ",
    async () => {
      const decoded = await decodeImage(readFileSync(fixtures("images/texture-16bit.png")));
      const wide = await sharp(fixtures("images/texture-16bit.png"))
        .toColourspace("rgb16")
        .raw({ depth: "ushort" })
        .toBuffer();
      const samples = new Uint16Array(wide.buffer, wide.byteOffset, wide.length / 2);
      expect(samples.some((v) => v > 255 && (v & 0xff) !== v >> 8)).toBe(true);
      expect([...decoded.pixels.data]).toEqual([...samples].map((v) => v >> 8));
      expect([...(decoded.pdqPixels?.data ?? [])]).toEqual([...samples].map((v) => v & 0xff));
    },
  );

  it("converts CMYK to three-channel RGB", async () => {
    const decoded = await decodeImage(readFileSync(fixtures("images/texture-cmyk.jpg")));
    expect(decoded.pixels.channels).toBe(3);
  });
});

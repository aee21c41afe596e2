// The WebAssembly kernel alone: its DCT basis and intermediate buffers against the reference's float32 dumps,
// input validation, and memory given back after a large image.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HashKernel, KernelMemoryError, wasmUrl } from "@phmatch/wasm";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { conformanceDir, hasConformance, readF32Hex, skipReason } from "../../../test/support/conformance.js";

const wasm = readFileSync(fileURLToPath(wasmUrl));
const kernel = HashKernel.loadSync(wasm);

function bitsEqual(a: Float32Array, b: Float32Array): number {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  let same = 0;
  for (let i = 0; i < ua.length; i++) if (ua[i] === ub[i]) same++;
  return same;
}

describe.skipIf(!hasConformance)(
  `kernel vs reference intermediate buffers (${hasConformance ? "" : skipReason})`,
  () => {
    const dir = join(conformanceDir, "pdq", "intermediate");
    it("DCT basis is bit-for-bit the reference's", () => {
      const expected = readF32Hex(join(dir, "dct_matrix_16x64.f32hex"));
      expect(bitsEqual(kernel.dctMatrix(), expected)).toBe(16 * 64);
    });

    it.each(["bridge-1-original.png", "q0122.png", "wee.png"])(
      "64x64 buffer and 16x16 DCT of %s are bit-for-bit the reference's",
      async (name) => {
        const { data, info } = await sharp(join(conformanceDir, "pdq", "decoded-png", name))
          .raw()
          .toBuffer({ resolveWithObject: true });
        const result = kernel.intermediate({ width: info.width, height: info.height, channels: info.channels, data });
        expect(bitsEqual(result.buffer64, readF32Hex(join(dir, `${name}.b64x64.f32hex`)))).toBe(64 * 64);
        expect(bitsEqual(result.dct16, readF32Hex(join(dir, `${name}.dct16x16.f32hex`)))).toBe(256);
      },
    );
  },
);

describe("kernel input handling", () => {
  it("gives an all-zero hash with quality 0 below 5 px, as the reference", () => {
    const result = kernel.pdq(
      { width: 4, height: 40, channels: 1, data: new Uint8Array(160).fill(7) },
      { dihedral: true },
    );
    expect(result.quality).toBe(0);
    expect([...result.hash].every((b) => b === 0)).toBe(true);
    expect(result.dihedral).toHaveLength(8);
  });

  it("sets exactly 128 bits on a textured image (strict comparison with the lower median)", () => {
    const data = new Uint8Array(97 * 131 * 3);
    let seed = 1;
    for (let i = 0; i < data.length; i++) data[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const { hash, quality } = kernel.pdq({ width: 97, height: 131, channels: 3, data });
    const ones = [...hash].reduce((n, b) => n + b.toString(2).replaceAll("0", "").length, 0);
    expect(ones).toBe(128);
    expect(quality).toBeGreaterThan(50);
  });

  it("treats 1 and 2 channels as grey (alpha ignored) and 3 and 4 as RGB (alpha ignored)", () => {
    const w = 70,
      h = 50;
    const grey = new Uint8Array(w * h).map((_, i) => (i * 7919) % 251);
    const greyAlpha = new Uint8Array(w * h * 2).map((_, i) => (i % 2 === 0 ? (grey[i / 2] as number) : (i * 13) % 256));
    const rgb = new Uint8Array(w * h * 3).map((_, i) => (i * 31) % 256);
    const rgba = new Uint8Array(w * h * 4).map((_, i) =>
      i % 4 === 3 ? (i * 5) % 256 : (rgb[(i >> 2) * 3 + (i % 4)] as number),
    );
    const hex = (r: { hash: Uint8Array }) => Buffer.from(r.hash).toString("hex");
    expect(hex(kernel.pdq({ width: w, height: h, channels: 2, data: greyAlpha }))).toBe(
      hex(kernel.pdq({ width: w, height: h, channels: 1, data: grey })),
    );
    expect(hex(kernel.pdq({ width: w, height: h, channels: 4, data: rgba }))).toBe(
      hex(kernel.pdq({ width: w, height: h, channels: 3, data: rgb })),
    );
  });

  it("refuses wrong sizes and channel counts with a clear message", () => {
    expect(() => kernel.pdq({ width: 10, height: 10, channels: 3, data: new Uint8Array(299) })).toThrow(
      /expected 300 pixel bytes/,
    );
    expect(() => kernel.pdq({ width: 10, height: 10, channels: 5, data: new Uint8Array(500) })).toThrow(
      /channels must be 1, 2, 3 or 4/,
    );
    expect(() => kernel.pdq({ width: 0, height: 10, channels: 1, data: new Uint8Array(0) })).toThrow(
      /positive integers/,
    );
  });

  it("times a hash's stages (benchmarks) without changing what the next hash gives", () => {
    const data = new Uint8Array(300 * 200 * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
    const pixels = { width: 300, height: 200, channels: 3, data };
    const before = kernel.pdq(pixels);
    const stages = kernel.timePdqStages(pixels);
    expect(Object.keys(stages).sort()).toEqual(["blur", "copy", "luma", "threshold"]);
    for (const ms of Object.values(stages)) expect(ms).toBeGreaterThanOrEqual(0);
    expect(kernel.pdq(pixels)).toEqual(before);
    expect(() => kernel.timePdqStages({ ...pixels, channels: 5 })).toThrow(/channels must be 1, 2, 3 or 4/);
  });

  it("gives memory back after an image larger than its retain limit", () => {
    const small = HashKernel.loadSync(wasm, { retainBytes: 8 * 1024 * 1024 });
    const w = 2000,
      h = 1500;
    small.pdq({ width: w, height: h, channels: 3, data: new Uint8Array(w * h * 3).fill(9) });
    expect(small.memoryBytes).toBeLessThan(8 * 1024 * 1024);
    expect(small.pdq({ width: 64, height: 64, channels: 1, data: new Uint8Array(4096).fill(1) }).quality).toBe(0);
  });

  it("throws KernelMemoryError (code PHM_WASM_MEMORY) when an image cannot fit in 4 GiB of linear memory", () => {
    const fake = {
      width: 40000,
      height: 40000,
      channels: 3,
      data: { length: 40000 * 40000 * 3 } as unknown as Uint8Array,
    };
    let error: unknown;
    try {
      kernel.pdq(fake);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KernelMemoryError);
    expect((error as KernelMemoryError).code).toBe("PHM_WASM_MEMORY");
    expect(kernel.pdq({ width: 64, height: 64, channels: 1, data: new Uint8Array(4096).fill(1) }).quality).toBe(0);
  });
});

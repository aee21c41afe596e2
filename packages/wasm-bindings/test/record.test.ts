// hashImage, the device-side entry point: given the RGBA a browser hands over, it returns exactly what
// `phmatch hash` computes from the file (PNG fixtures: opaque RGB and greyscale), and the inline build loads
// without a .wasm file.
import { readdirSync, readFileSync } from "node:fs";
import { hashFile } from "@phmatch/core";
import { HashKernel, hashImage } from "@phmatch/wasm";
import { hash, loadInlineKernel, wasmBytes } from "@phmatch/wasm/inline";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

// 8-bit PNGs without transparency: what a canvas gives back unchanged (alpha and 16-bit samples it cannot).
const opaque8 = readdirSync(fixtures("images")).filter((f) => f.endsWith(".png") && !/alpha|16bit/.test(f));

describe("hashImage (device side)", async () => {
  const kernel = await loadInlineKernel();

  it.each(opaque8)("equals phmatch hash on the RGBA of %s", async (name) => {
    const { data, info } = await sharp(fixtures(`images/${name}`))
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const device = hashImage(
      kernel,
      { width: info.width, height: info.height, data: new Uint8ClampedArray(data) },
      { algorithms: ["pdq", "phash", "dhash"], dihedral: true },
    );
    const server = await hashFile(fixtures(`images/${name}`), {
      algorithms: ["pdq", "phash", "dhash"],
      dihedral: true,
    });
    expect(device).toEqual({ hashes: server.hashes, quality: server.quality, dihedral: server.dihedral });
    expect(
      await hash(
        { width: info.width, height: info.height, data },
        { algorithms: ["pdq", "phash", "dhash"], dihedral: true },
      ),
    ).toEqual(device);
  });

  it("hashes grey content as grey: a grey image as RGBA gives the grey hashes", () => {
    const w = 97;
    const h = 61;
    const grey = Uint8Array.from({ length: w * h }, (_, i) => (i * 37 + (i >> 5)) % 256);
    const rgba = new Uint8ClampedArray(w * h * 4).map((_, k) => (k % 4 === 3 ? 255 : (grey[k >> 2] as number)));
    expect(hashImage(kernel, { width: w, height: h, data: rgba })).toEqual(
      hashImage(kernel, { width: w, height: h, data: grey, channels: 1 }),
    );
  });

  it("loads from inline bytes identical to build/phmatch.wasm", async () => {
    const { readFileSync } = await import("node:fs");
    const { fileURLToPath } = await import("node:url");
    const { wasmUrl } = await import("@phmatch/wasm");
    expect(Buffer.from(wasmBytes()).equals(readFileSync(fileURLToPath(wasmUrl)))).toBe(true);
    expect(kernel).toBeInstanceOf(HashKernel);
  });
});

describe("EXIF orientation, as browsers apply it", () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    "undoOrientation gives back the stored pixels of orientation %i exactly",
    async (orientation) => {
      const { exifOrientation, undoOrientation } = await import("@phmatch/wasm");
      const jpeg = await sharp(fixtures("images/texture.jpg"))
        .resize(61, 37)
        .withMetadata({ orientation })
        .jpeg()
        .toBuffer();
      expect(exifOrientation(new Uint8Array(jpeg))).toBe(orientation);
      const stored = await sharp(jpeg).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      // what a browser shows
      const displayed = await sharp(jpeg).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const undone = undoOrientation(
        { width: displayed.info.width, height: displayed.info.height, data: new Uint8ClampedArray(displayed.data) },
        orientation,
      );
      expect([undone.width, undone.height]).toEqual([stored.info.width, stored.info.height]);
      expect(Buffer.from(undone.data).equals(stored.data)).toBe(true);
    },
  );

  it("reads 1 for files without EXIF orientation", async () => {
    const { exifOrientation } = await import("@phmatch/wasm");
    expect(exifOrientation(new Uint8Array(readFileSync(fixtures("images/shapes.png"))))).toBe(1);
    expect(exifOrientation(new Uint8Array(readFileSync(fixtures("images/texture.jpg"))))).toBe(1);
    expect(exifOrientation(new Uint8Array([0xff, 0xd8, 0xff]))).toBe(1);
  });
});

// Decoding untrusted input: each kind of bad file gets its stable code, and the next file in the batch still hashes.
import { readFileSync } from "node:fs";
import { decodeImage, type HashRecord, hashFile, hashImageBytes, isFailedRecord, PhmatchError } from "@phmatch/core";
import { pdqHash, readImageFile } from "@phmatch/core/internal";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const GOOD = fixtures("images/texture.jpg");

const cases: [file: string, code: string][] = [
  ["bad/empty.jpg", "PHM_DECODE_EMPTY"],
  ["bad/truncated.jpg", "PHM_DECODE_TRUNCATED"],
  ["bad/truncated.png", "PHM_DECODE_TRUNCATED"],
  ["bad/corrupt.png", "PHM_DECODE_CORRUPT"],
  ["bad/not-an-image.jpg", "PHM_DECODE_UNSUPPORTED"],
  ["bad/vector.svg", "PHM_DECODE_VECTOR"],
  ["bad/vector-renamed.png", "PHM_DECODE_VECTOR"],
  ["bad/bomb.png", "PHM_DECODE_TOO_MANY_PIXELS"],
  ["bad/does-not-exist.jpg", "PHM_FILE_NOT_FOUND"],
  ["bad", "PHM_FILE_UNREADABLE"],
];

describe("bad input gets a typed error and the batch goes on", () => {
  it.each(cases)("%s -> %s, then the next file hashes", async (file, code) => {
    const records: HashRecord[] = [];
    for (const path of [fixtures(file), GOOD]) records.push(await hashFile(path));
    const [bad, good] = records as [HashRecord, HashRecord];
    expect(isFailedRecord(bad) && bad.error.code).toBe(code);
    expect(isFailedRecord(bad) && bad.error.message).toContain(fixtures(file));
    expect(isFailedRecord(good)).toBe(false);
    expect(!isFailedRecord(good) && good.hashes?.pdq).toMatch(/^[0-9a-f]{64}$/);
  });

  it("an over-limit image is refused from its header, before any pixel is decoded", async () => {
    const bytes = readFileSync(GOOD);
    await expect(decodeImage(bytes, { maxPixels: 800 * 600 - 1 })).rejects.toMatchObject({
      code: "PHM_DECODE_TOO_MANY_PIXELS",
    });
    await expect(decodeImage(bytes, { maxPixels: 800 * 600 })).resolves.toBeDefined();
  });

  it("a file over the size limit is refused before it is read", async () => {
    await expect(readImageFile(GOOD, 1000)).rejects.toMatchObject({ code: "PHM_FILE_TOO_LARGE" });
    const record = await hashFile(GOOD, { maxFileBytes: 1000 });
    expect(isFailedRecord(record) && record.error.code).toBe("PHM_FILE_TOO_LARGE");
  });

  it("errors are PhmatchError instances whose messages carry no image bytes", async () => {
    const bytes = readFileSync(fixtures("bad/truncated.jpg"));
    const error = await decodeImage(bytes, {}, "upload-1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PhmatchError);
    expect((error as PhmatchError).message.length).toBeLessThan(400);
    expect((error as PhmatchError).message).not.toContain(bytes.subarray(0, 16).toString("latin1"));
  });
});

describe("decoding follows the reference's conventions", () => {
  it("keeps grey as one channel, RGBA as four, RGB as three", async () => {
    const channels = async (name: string) =>
      (await decodeImage(readFileSync(fixtures(`images/${name}`)))).pixels.channels;
    expect(await channels("texture-grey.png")).toBe(1);
    expect(await channels("texture-alpha.png")).toBe(4);
    expect(await channels("texture.jpg")).toBe(3);
  });

  it("hashes only the first frame of an animation", async () => {
    const decoded = await decodeImage(readFileSync(fixtures("images/animated.gif")));
    expect([decoded.pixels.width, decoded.pixels.height]).toEqual([120, 90]);
  });

  it("ignores EXIF orientation unless asked, and then equals hashing the rotated pixels", async () => {
    const bytes = readFileSync(fixtures("images/texture-exif6.jpg"));
    const stored = await hashImageBytes(bytes, "exif6");
    const oriented = await hashImageBytes(bytes, "exif6", { autoOrient: true });
    const asStored = await decodeImage(bytes);
    expect(asStored.pixels.width).toBe(320);
    const rotated = await sharp(bytes).rotate(90).raw().toBuffer({ resolveWithObject: true });
    const expected = pdqHash({
      width: rotated.info.width,
      height: rotated.info.height,
      channels: 3,
      data: rotated.data,
    });
    expect(isFailedRecord(stored) || isFailedRecord(oriented)).toBe(false);
    if (isFailedRecord(stored) || isFailedRecord(oriented)) return;
    expect(stored.hashes?.pdq).not.toBe(oriented.hashes?.pdq);
    expect(oriented.hashes?.pdq).toBe(Buffer.from(expected.bytes).toString("hex"));
  });

  it("keeps the aspect ratio in fast mode with --auto-orient on a rotated JPEG", async () => {
    // Photo-like content (energy at low frequencies, as in photographs), 2000x1200, EXIF orientation 6.
    const w = 2000,
      h = 1200;
    const pixels = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v =
          128 +
          60 * Math.sin(x / 97 + Math.cos(y / 151)) +
          40 * Math.cos(y / 53 - x / 211) +
          20 * Math.sin((x + y) / 29);
        for (let c = 0; c < 3; c++) pixels[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v + 15 * c)));
      }
    }
    const jpeg = await sharp(pixels, { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 90 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const fast = await decodeImage(jpeg, { autoOrient: true, shrinkOnLoadTo: 512 });
    expect([fast.pixels.width, fast.pixels.height]).toEqual([400, 667]);
    const bits = (a: string, b: string) =>
      [...Buffer.from(a, "hex")].reduce(
        (n, x, i) => n + (x ^ (Buffer.from(b, "hex")[i] as number)).toString(2).replaceAll("0", "").length,
        0,
      );
    for (const autoOrient of [false, true]) {
      const exact = await hashImageBytes(jpeg, "rotated", { autoOrient });
      const quick = await hashImageBytes(jpeg, "rotated", { autoOrient, mode: "fast" });
      if (isFailedRecord(exact) || isFailedRecord(quick)) throw new Error("hashing failed");
      expect(bits(exact.hashes?.pdq as string, quick.hashes?.pdq as string)).toBeLessThanOrEqual(10);
    }
  });

  it("gives images under 5 px an all-zero hash with quality 0", async () => {
    const record = await hashFile(fixtures("images/tiny-4x4.png"));
    expect(record).toMatchObject({ hashes: { pdq: "0".repeat(64) }, quality: { pdq: 0 } });
  });
});

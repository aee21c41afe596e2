// Images over the pixel limit: with `oversize: "shrink"` a JPEG or WebP is decoded by the decoder's own scaling
// (never at full size, proven by the peak memory of a process that decodes it), anything else is refused from its
// header before a pixel is decoded (proven by files that hold a header and nothing else: a decode would call them
// truncated), and so is a JPEG or WebP whose decoder would hold the whole image anyway (progressive, lossless),
// or a JPEG too short to hold the frame it declares.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeImage, hashImageBytes, PhmatchError } from "@phmatch/core";
import fc from "fast-check";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { headerOnlyPng, withJpegSize } from "../../../test/support/pixel-bombs.js";
import { syntheticImage } from "../../../test/support/worker-faults.js";
import { decoderMemory } from "../src/decode/decoder-memory.js";

const dir = mkdtempSync(join(tmpdir(), "phmatch-oversize-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const flat = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp({
    create: { width, height, channels, background: { r: 90, g: 140, b: 200, alpha: 0.5 } },
    limitInputPixels: false,
  });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "decoded";
  } catch (error) {
    return error instanceof PhmatchError ? error.code : String(error);
  }
}

// Peak RSS growth (MiB) of a fresh process decoding `file` with `options`, after a warm-up decode; and the shape.
// The peak is the process's own (VmHWM of its memory map): getrusage's maxRSS keeps, across the exec that started
// it, the RSS of the test worker it was forked from, so with a big worker (test files sharing it) a full decode
// seemed to grow 8-40 MiB, under the peak it inherited.
function decodeInChild(file: string, options: object): { grewMiB: number; width: number; height: number } {
  const script = `
    import { existsSync, readFileSync } from "node:fs";
    import sharp from "sharp";
    import { decodeImage } from "@phmatch/core";
    const peakKiB = () => {
      const status = existsSync("/proc/self/status") ? readFileSync("/proc/self/status", "utf8") : "";
      const hwm = /^VmHWM:\\s+(\\d+) kB/m.exec(status);
      return hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS;
    };
    await decodeImage(
      await sharp({ create: { width: 64, height: 64, channels: 3, background: "red" } }).jpeg().toBuffer(),
    );
    const bytes = readFileSync(${JSON.stringify(file)});
    const before = peakKiB();
    const { pixels } = await decodeImage(bytes, ${JSON.stringify(options)});
    const grew = (peakKiB() - before) / 1024;
    console.log(JSON.stringify({ grewMiB: grew, width: pixels.width, height: pixels.height }));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: new URL("..", import.meta.url),
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { grewMiB: number; width: number; height: number };
}

describe("an image over the pixel limit", () => {
  it("is refused from its header before decoding when it cannot be decoded at reduced size (PNG)", async () => {
    // Had it been decoded, a PNG without image data would be PHM_DECODE_TRUNCATED or _CORRUPT.
    const png = headerOnlyPng(10_000, 10_000);
    expect(await codeOf(decodeImage(png, { maxPixels: 50_000_000, oversize: "shrink" }))).toBe(
      "PHM_DECODE_TOO_MANY_PIXELS",
    );
    expect(await codeOf(decodeImage(png, { maxPixels: 100_000_000 }))).toMatch(/PHM_DECODE_(TRUNCATED|CORRUPT)/);
    await expect(decodeImage(png, { maxPixels: 50_000_000, oversize: "shrink" })).rejects.toThrow(
      /png cannot be decoded at reduced size/,
    );
  });

  it("decodes a sequential JPEG and a lossy WebP by the decoder's own scaling, never the full frame", async () => {
    // 6000 x 6000: the full frame is 103 MiB of RGB; over a 4 MP limit each is decoded as fast mode does (1/8).
    const jpeg = join(dir, "big.jpg");
    writeFileSync(jpeg, await flat(6000, 6000).jpeg({ quality: 80 }).toBuffer());
    const webp = join(dir, "big.webp");
    writeFileSync(webp, await flat(6000, 6000).webp({ quality: 80, effort: 0 }).toBuffer());
    for (const file of [jpeg, webp]) {
      const full = decodeInChild(file, { maxPixels: 100_000_000 });
      expect(full).toMatchObject({ width: 6000, height: 6000 });
      expect(full.grewMiB).toBeGreaterThan(100);
      const reduced = decodeInChild(file, { maxPixels: 4_000_000, oversize: "shrink" });
      expect(reduced).toMatchObject({ width: 667, height: 667 }); // 6000 / 9: the decoder's 1/8, then a linear step
      expect(reduced.grewMiB, file).toBeLessThan(34);
    }
  }, 120_000);

  it("is hashed as fast mode hashes the same file", async () => {
    const jpeg = await syntheticImage(9, 2400, 1800, "jpeg");
    const exact = await hashImageBytes(jpeg, "x.jpg", { algorithms: ["pdq"] });
    const fast = await hashImageBytes(jpeg, "x.jpg", { algorithms: ["pdq"], mode: "fast" });
    const over = await hashImageBytes(jpeg, "x.jpg", { algorithms: ["pdq"], maxPixels: 2_000_000, oversize: "shrink" });
    expect(over.error).toBeUndefined();
    expect(over.hashes).toEqual(fast.hashes);
    expect(over.hashes).not.toEqual(exact.hashes);
    expect((await hashImageBytes(jpeg, "x.jpg", { algorithms: ["pdq"], maxPixels: 2_000_000 })).error?.code).toBe(
      "PHM_DECODE_TOO_MANY_PIXELS",
    );
  });

  it("keeps the longer side of a reduced decode within 2048 px", async () => {
    const { pixels } = await decodeImage(await flat(24_000, 300).jpeg().toBuffer(), {
      maxPixels: 1_000_000,
      oversize: "shrink",
    });
    expect([pixels.width, pixels.height]).toEqual([2048, 26]);
  });

  it("refuses, from the header, a JPEG or WebP whose decoder would hold the whole image anyway", async () => {
    const limit = { maxPixels: 1_000_000, oversize: "shrink" } as const;
    // 1600 x 1600 over a 1 MP limit: the bound is 4 bytes a limit pixel (4 MB).
    const progressive = await flat(1600, 1600).jpeg({ progressive: true }).toBuffer(); // 3 bytes a pixel (4:2:0)
    const lossless = await flat(1600, 1600).webp({ lossless: true }).toBuffer(); // 4 bytes a pixel
    const alpha = await flat(1600, 1600, 4).webp({ quality: 80 }).toBuffer(); // 2 bytes a pixel
    for (const bytes of [progressive, lossless, alpha])
      expect(await codeOf(decodeImage(bytes, limit))).toBe("PHM_DECODE_TOO_MANY_PIXELS");
    await expect(decodeImage(progressive, limit)).rejects.toThrow(
      /progressive JPEG, whose decoder holds 7680000 bytes/,
    );
    // Within the bound they are decoded at reduced size: a progressive JPEG of 1.2 MP, a WebP with alpha of 1.44 MP.
    expect(
      (await decodeImage(await flat(1200, 1000).jpeg({ progressive: true }).toBuffer(), limit)).pixels.width,
    ).toBeLessThan(1200);
    expect(
      (await decodeImage(await flat(1200, 1200, 4).webp({ quality: 80 }).toBuffer(), limit)).pixels.width,
    ).toBeLessThan(1200);
    // The same sizes, sequential and lossy without alpha: decoded.
    for (const bytes of [
      await flat(1600, 1600).jpeg().toBuffer(),
      await flat(1600, 1600).webp({ quality: 80 }).toBuffer(),
    ]) {
      expect((await decodeImage(bytes, limit)).pixels.width).toBe(533);
    }
  });

  it(
    "refuses a JPEG declaring 65500 x 65500 in a few " + "hundred bytes from its header, progressive or sequential",
    async () => {
      // Progressive: its decoder would hold 12.9 GB of coefficients. Sequential: its data cannot fill the frame (a
      // Huffman code of at least a bit for every block: 25 MB at the least), so libjpeg would hash its grey fill.
      for (const progressive of [true, false]) {
        const huge = withJpegSize(await flat(64, 64).jpeg({ progressive }).toBuffer(), 65_500, 65_500);
        expect(await codeOf(decodeImage(huge, { maxPixels: 50_000_000, oversize: "shrink" }))).toBe(
          "PHM_DECODE_TOO_MANY_PIXELS",
        );
        await expect(decodeImage(huge, { maxPixels: 50_000_000, oversize: "shrink" })).rejects.toThrow(
          progressive ? /progressive JPEG, whose decoder holds/ : /its data cannot fill it/,
        );
      }
      // The tightest real one: one colour, optimised Huffman tables (1-bit codes), exactly 2 bits a block.
      const tight = await flat(4000, 4000).jpeg().toBuffer();
      expect(decoderMemory(tight, "jpeg")?.minBytes).toBeLessThanOrEqual(tight.length);
      expect((await decodeImage(tight, { maxPixels: 1_000_000, oversize: "shrink" })).pixels.width).toBe(800);
    },
  );
});

describe("decoderMemory", () => {
  it("reads what each kind of JPEG and WebP holds", async () => {
    expect(decoderMemory(await flat(100, 80).jpeg().toBuffer(), "jpeg")).toMatchObject({
      width: 100,
      height: 80,
      heldBytes: 0,
    });
    // 4:2:0, progressive: luma 14 x 10 blocks (whole 16 px MCUs), chroma 7 x 5 each; 128 bytes a block.
    expect(decoderMemory(await flat(100, 80).jpeg({ progressive: true }).toBuffer(), "jpeg")).toMatchObject({
      heldBytes: (140 + 35 + 35) * 128,
      kind: "a progressive JPEG",
    });
    expect(decoderMemory(await flat(100, 80).webp({ quality: 80 }).toBuffer(), "webp")).toMatchObject({
      width: 100,
      height: 80,
      heldBytes: 0,
    });
    expect(decoderMemory(await flat(100, 80).webp({ lossless: true }).toBuffer(), "webp")).toMatchObject({
      width: 100,
      height: 80,
      heldBytes: 32_000,
    });
    expect(decoderMemory(await flat(100, 80, 4).webp({ quality: 80 }).toBuffer(), "webp")).toMatchObject({
      width: 100,
      height: 80,
      heldBytes: 16_000,
    });
    expect(decoderMemory(await flat(100, 80).png().toBuffer(), "png")).toBeUndefined();
  });

  it("never throws on hostile bytes, and answers only for headers it fully understood", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom("jpeg", "webp"),
        fc.boolean(),
        (tail, format, prefix) => {
          const head = format === "jpeg" ? [0xff, 0xd8, 0xff] : [...Buffer.from("RIFF\xff\xff\x00\x00WEBP", "latin1")];
          const bytes = prefix ? new Uint8Array([...head, ...tail]) : tail;
          const memory = decoderMemory(bytes, format);
          if (memory !== undefined) expect(memory.width * memory.height).toBeGreaterThan(0);
        },
      ),
      { numRuns: 5000 },
    );
  });
});

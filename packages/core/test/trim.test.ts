// Trimming uniform borders and caption bars: letterboxing, frames, screenshot padding and meme captions are found
// side by side (each its own colour), photos without borders are left alone, and the content's hashes equal the
// unbordered image's, so the matcher finds a padded copy through its `trimmed` query.

import {
  HashSetBuilder,
  hashFile,
  hashImageBytes,
  hashRecordSchema,
  Matcher,
  matchResultSchema,
  type Pixels,
  parseHashValue,
  parseStore,
  serializeStore,
} from "@phmatch/core";
import { findContentBox } from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

async function pixelsOf(bytes: Buffer): Promise<Pixels> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    channels: info.channels as Pixels["channels"],
    data: new Uint8Array(data),
  };
}
const shapes = () => sharp(fixtures("images/shapes.png"));

// A seeded linear congruential generator of bytes.
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state >>> 24;
  };
}

// An n x n RGB picture of seeded random 4x4 blocks: detail up to its edges.
function blocksPicture(n: number, seed: number): Buffer {
  const next = lcg(seed);
  const blocks = Buffer.alloc(n * n * 3);
  for (let y = 0; y < n; y += 4) {
    for (let x = 0; x < n; x += 4) {
      const rgb = [next(), next(), next()];
      for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) blocks.set(rgb, ((y + dy) * n + x + dx) * 3);
    }
  }
  return blocks;
}

describe("findContentBox", () => {
  it("puts a JPEG-smeared frame's inner edge where the picture starts, within a line", async () => {
    // A picture of seeded random 4x4 blocks (detail up to its edges) in coloured frames, saved as JPEG: its 8x8
    // blocks and halved colour planes blend the frame's colour up to 14 lines into the picture, which the strict
    // border test alone counted as picture (2-8 lines on each side).
    const n = 384;
    const picture = await sharp(blocksPicture(n, 3), { raw: { width: n, height: n, channels: 3 } })
      .png()
      .toBuffer();
    for (const [width, background] of [
      [50, { r: 159, g: 212, b: 35 }],
      [50, { r: 37, g: 94, b: 202 }],
      [33, { r: 126, g: 158, b: 213 }],
      [30, { r: 94, g: 169, b: 195 }],
      [40, { r: 0, g: 0, b: 0 }],
    ] as const) {
      const framed = await sharp(picture)
        .extend({ top: width, bottom: width, left: width, right: width, background })
        .jpeg({ quality: 85 })
        .toBuffer();
      const box = findContentBox(await pixelsOf(framed));
      expect(box, JSON.stringify(background)).toBeDefined();
      const edges = box as { left: number; top: number; width: number; height: number };
      const sides: [number, number][] = [
        [edges.left, width],
        [edges.top, width],
        [edges.left + edges.width, width + n],
        [edges.top + edges.height, width + n],
      ];
      for (const [found, expected] of sides) {
        expect(Math.abs(found - expected), `${JSON.stringify(background)}: ${JSON.stringify(box)}`).toBeLessThanOrEqual(
          1,
        );
      }
    }
  });

  it("finds the picture under or over a caption bar (text on a light band), as PNG and as JPEG", async () => {
    // A meme's caption: a light band with dark text strokes and clean margins, above or below a picture. The
    // strokes are drawn as glyph-like marks (bars and posts of a few pixels) so that no font is needed.
    const n = 320;
    const picture = await sharp(blocksPicture(n, 11), { raw: { width: n, height: n, channels: 3 } })
      .png()
      .toBuffer();
    const caption = (height: number, shade: number, seed: number): Buffer => {
      const bar = Buffer.alloc(n * height * 3, shade);
      const random = lcg(seed);
      const [from, to] = [Math.round(height * 0.2), Math.round(height * 0.8)];
      for (let x = 16 + (random() % 10); x < n - 24; x += 4 + (random() % 5)) {
        if (random() % 6 === 0) x += 6; // a space between words
        const post = random() % 2 === 0;
        const [x0, x1] = post ? [x, x + 3] : [x, x + 7];
        const [y0, y1] = post ? [from, to] : [from + (random() % (to - from - 3)), 0];
        for (let y = y0; y < (post ? y1 : y0 + 3); y++)
          for (let xx = x0; xx < Math.min(x1, n); xx++) bar.fill(random() % 40, (y * n + xx) * 3, (y * n + xx) * 3 + 3);
      }
      return bar;
    };
    for (const [height, shade, where] of [
      [40, 245, "above"],
      [26, 255, "below"],
      [48, 236, "below"],
    ] as const) {
      const bar = await sharp(caption(height, shade, height), { raw: { width: n, height, channels: 3 } })
        .png()
        .toBuffer();
      const parts = where === "above" ? [bar, picture] : [picture, bar];
      const memed = await sharp({ create: { width: n, height: n + height, channels: 3, background: "#000000" } })
        .composite([
          { input: parts[0] as Buffer, left: 0, top: 0 },
          { input: parts[1] as Buffer, left: 0, top: where === "above" ? height : n },
        ])
        .png()
        .toBuffer();
      const top = where === "above" ? height : 0;
      for (const encoded of [memed, await sharp(memed).jpeg({ quality: 70 }).toBuffer()]) {
        const box = findContentBox(await pixelsOf(encoded));
        const label = `${height} px ${where}: ${JSON.stringify(box)}`;
        expect(box, label).toBeDefined();
        expect(Math.abs((box?.top ?? -9) - top), label).toBeLessThanOrEqual(1);
        expect(Math.abs((box?.height ?? 0) - n), label).toBeLessThanOrEqual(2);
        expect(box?.left, label).toBe(0);
        expect(box?.width, label).toBe(n);
      }
    }
  });

  it("does not take a dark picture's own edge with bright marks, inside a dark frame, for a caption", async () => {
    // Inside a near-black frame, the picture's left edge is dark with sparse bright dots (rain on a night window),
    // then a dark column, then more rain: line by line it looks like a caption band in the frame's colour, but what
    // follows the "margin" is more of the same, not a picture unlike the band.
    const n = 320;
    const frame = 38;
    const blocks = blocksPicture(n, 7);
    const random = lcg(9);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < 60; x++) {
        const o = (y * n + x) * 3;
        if (x >= 30 && x < 34) blocks.fill(28, o, o + 3);
        else blocks.fill(random() % 12 === 0 ? 230 : 24 + (random() % 9), o, o + 3);
      }
    }
    const framed = await sharp(blocks, { raw: { width: n, height: n, channels: 3 } })
      .extend({ top: frame, bottom: frame, left: frame, right: frame, background: "#1c1c1c" })
      .png()
      .toBuffer();
    expect(findContentBox(await pixelsOf(framed))).toEqual({ left: frame, top: frame, width: n, height: n });
  });

  it("beside a caption bar, leaves a flat stretch of the picture itself (a sky) on the other side", async () => {
    // Without the caption, the strict border test trims the flat sky; beside one, the box must be the picture's.
    const n = 320;
    const sky = 60;
    const blocks = blocksPicture(n, 5);
    blocks.fill(200, 0, n * sky * 3); // a flat, pale stretch along the top of the picture
    const picture = await sharp(blocks, { raw: { width: n, height: n, channels: 3 } })
      .png()
      .toBuffer();
    const alone = findContentBox(await pixelsOf(picture));
    expect(alone?.top).toBeGreaterThanOrEqual(sky - 1);
    const bar = Buffer.alloc(n * 36 * 3, 250);
    for (let x = 20; x < n - 20; x += 9)
      for (let y = 8; y < 28; y++) bar.fill(10, (y * n + x) * 3, (y * n + x + 3) * 3);
    const memed = await sharp(picture)
      .extend({ bottom: 36, background: "#000000" })
      .composite([
        {
          input: await sharp(bar, { raw: { width: n, height: 36, channels: 3 } })
            .png()
            .toBuffer(),
          left: 0,
          top: n,
        },
      ])
      .png()
      .toBuffer();
    expect(findContentBox(await pixelsOf(memed))).toEqual({ left: 0, top: 0, width: n, height: n });
  });

  it("finds letterbox bars, a frame, and an image pasted onto a white canvas, each side on its own", async () => {
    const meta = await shapes().metadata();
    const [w, h] = [meta.width as number, meta.height as number];
    const letterbox = await shapes().extend({ top: 60, bottom: 60, background: "#000000" }).png().toBuffer();
    expect(findContentBox(await pixelsOf(letterbox))).toEqual({ left: 0, top: 60, width: w, height: h });
    const frame = await shapes()
      .extend({ top: 12, bottom: 30, left: 25, right: 7, background: "#3a6b22" })
      .png()
      .toBuffer();
    expect(findContentBox(await pixelsOf(frame))).toEqual({ left: 25, top: 12, width: w, height: h });
    const small = await shapes().resize(200).png().toBuffer();
    const screenshot = await sharp({ create: { width: 420, height: 360, channels: 3, background: "#ffffff" } })
      .composite([{ input: small, left: 50, top: 70 }])
      .png()
      .toBuffer();
    const box = findContentBox(await pixelsOf(screenshot));
    expect(box).toMatchObject({ left: 50, top: 70, width: 200 });
  });

  it("leaves images without uniform borders alone, and finds nothing in a flat image", async () => {
    expect(
      findContentBox(await pixelsOf(await sharp(fixtures("images/texture.jpg")).png().toBuffer())),
    ).toBeUndefined();
    expect(findContentBox(await pixelsOf(await shapes().png().toBuffer()))).toBeUndefined();
    const flat = await sharp({ create: { width: 200, height: 100, channels: 3, background: "#808080" } })
      .png()
      .toBuffer();
    expect(findContentBox(await pixelsOf(flat))).toBeUndefined();
  });

  it("tolerates JPEG noise along a border", async () => {
    const bordered = await sharp(fixtures("images/texture.jpg"))
      .extend({ top: 40, bottom: 40, left: 40, right: 40, background: "#ffffff" })
      .jpeg({ quality: 70 })
      .toBuffer();
    const box = findContentBox(await pixelsOf(bordered));
    expect(box).toBeDefined();
    expect(Math.abs((box?.left ?? 0) - 40)).toBeLessThanOrEqual(2);
    expect(Math.abs((box?.top ?? 0) - 40)).toBeLessThanOrEqual(2);
  });
});

describe("trimmed query hashes", () => {
  it(
    "hash the content inside the borders exactly as the " +
      "unbordered image, and the matcher says which query matched",
    async () => {
      const padded = await shapes()
        .extend({ top: 90, bottom: 90, left: 200, right: 200, background: "#ffffff" })
        .png()
        .toBuffer();
      const record = await hashImageBytes(padded, "padded.png", {
        algorithms: ["pdq", "phash"],
        dihedral: true,
        trim: true,
      });
      const original = await hashFile(fixtures("images/shapes.png"), { algorithms: ["pdq", "phash"], dihedral: true });
      expect(record.trimmed?.hashes).toEqual(original.hashes);
      const meta = await shapes().metadata();
      expect(record.trimmed?.box).toEqual([200, 90, meta.width, meta.height]);
      // off unless asked
      expect((await hashImageBytes(padded, "padded.png", { algorithms: ["pdq"] })).trimmed).toBeUndefined();

      const builder = new HashSetBuilder();
      builder.addList({ listId: "L", version: 1 });
      const pdq = parseHashValue("pdq", original.hashes?.pdq as string);
      if (pdq.ok) builder.addEntry({ algorithm: "pdq", value: pdq.value, listId: "L", entryId: "shapes" });
      const matcher = new Matcher([
        { set: parseStore(serializeStore(builder), "t"), path: "t", storeSha256: "", encrypted: false, overrides: [] },
      ]);
      const result = matcher.match(record);
      expect(result.status).toBe("known");
      expect(result.matches).toContainEqual(
        expect.objectContaining({ entryId: "shapes", query: "trimmed", distance: 0 }),
      );
      const ajv = new Ajv2020({ strict: true });
      expect(ajv.compile(hashRecordSchema())(record), "record valid").toBe(true);
      expect(ajv.compile(matchResultSchema())(result), "result valid").toBe(true);
      const { trimmed: _t, ...withoutTrim } = record;
      expect(matcher.match(withoutTrim).matches.filter((m) => m.entryId === "shapes" && m.distance === 0)).toEqual([]);
    },
  );
});

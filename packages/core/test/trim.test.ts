// Trimming uniform borders: letterboxing, frames and screenshot padding are found side by side (each its own
// colour), photos without borders are left alone, and the content's hashes equal the unbordered image's, so the
// matcher finds a padded copy through its `trimmed` query.

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

describe("findContentBox", () => {
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

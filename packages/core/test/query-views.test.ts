// The extra query views from one reduced copy: the turn back inverts a small rotation pixel for pixel (up to
// resampling), the parts of an overlaid copy match the parts a list built with --augment holds, a hit says which
// part matched, and createChecker has every view on by default.

import {
  checkerFor,
  type HashRecord,
  HashSetBuilder,
  hashFile,
  hashImageBytes,
  hashRecordSchema,
  type LoadedHashSet,
  Matcher,
  matchResultSchema,
  parseHashValue,
  parseStore,
  serializeStore,
} from "@phmatch/core";
import {
  AUGMENT_WINDOWS,
  type ImageWindow,
  maskPixels,
  PART_MASKS,
  PART_WINDOWS,
  windowBox,
} from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { greyPixels, reducePixels, turnBack } from "../src/decode/rotate.js";

const ALGORITHMS = ["pdq", "phash16"];

async function grey(bytes: Buffer) {
  const { data, info } = await sharp(bytes).greyscale().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 1 as const, data: new Uint8Array(data) };
}

// A list of one image as `hashset build --augment` stores it: the whole image and its sub-windows.
function augmentedList(record: HashRecord, entryId: string): LoadedHashSet {
  const builder = new HashSetBuilder();
  builder.addList({ listId: "L", version: 1 });
  const add = (hashes: Record<string, string>, window?: string) => {
    for (const a of ALGORITHMS) {
      const parsed = parseHashValue(a, hashes[a] as string);
      if (parsed.ok)
        builder.addEntry({
          algorithm: a,
          value: parsed.value,
          listId: "L",
          entryId,
          ...(window !== undefined && { fields: { window } }),
        });
    }
  };
  add(record.hashes ?? {});
  for (const w of record.windows ?? []) add(w.hashes, w.window);
  return { set: parseStore(serializeStore(builder), "t"), path: "t", storeSha256: "", encrypted: false, overrides: [] };
}

// A synthetic scene with detail everywhere (so that every band has PDQ quality to spare): overlapping rectangles of
// colours from a fixed linear congruential sequence over faint crossing gradients.
async function drawnScene(side: number): Promise<Buffer> {
  let state = 19;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const data = Buffer.alloc(side * side * 3);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const o = (y * side + x) * 3;
      data[o] = (x * 60) / side;
      data[o + 1] = (y * 60) / side;
      data[o + 2] = ((x + y) * 30) / side;
    }
  for (let n = 0; n < 25; n++) {
    const w = 40 + Math.floor(next() * 100);
    const h = 40 + Math.floor(next() * 100);
    const left = Math.floor(next() * (side - w));
    const top = Math.floor(next() * (side - h));
    const colour = [next(), next(), next()].map((v) => Math.floor(v * 256));
    for (let y = top; y < top + h; y++)
      for (let x = left; x < left + w; x++)
        for (let c = 0; c < 3; c++) data[(y * side + x) * 3 + c] = colour[c] as number;
  }
  return sharp(data, { raw: { width: side, height: side, channels: 3 } })
    .png()
    .toBuffer();
}

describe("turnBack", () => {
  it("undoes a 5-degree rotation: the turned-back centre equals the original's to within resampling", async () => {
    const original = await grey(
      await sharp(fixtures("images/texture.jpg")).resize(200, 150, { fit: "fill" }).png().toBuffer(),
    );
    const rotated = await grey(
      await sharp(Buffer.from(original.data), { raw: { width: 200, height: 150, channels: 1 } })
        .rotate(5, { background: "#ffffff" })
        .png()
        .toBuffer(),
    );
    const back = turnBack(rotated, 5);
    expect(back).toMatchObject({ width: 200, height: 150, channels: 1 });
    const meanDifference = (a: Uint8Array, b: Uint8Array) =>
      a.reduce((s, v, i) => s + Math.abs(v - (b[i] as number)), 0) / a.length;
    // Interior only (the corners hold the white the rotation brought in), against the wrong direction as control.
    const interior = (p: { data: Uint8Array }) =>
      p.data.filter((_, i) => i % 200 > 20 && i % 200 < 180 && i / 200 > 20 && i / 200 < 130);
    const right = meanDifference(interior(back as { data: Uint8Array }), interior(original));
    const wrong = meanDifference(interior(turnBack(rotated, -5) as { data: Uint8Array }), interior(original));
    expect(right).toBeLessThan(6);
    expect(wrong).toBeGreaterThan(3 * right);
  });

  it("reduces to at most 256 px a side and keeps small images as they are", async () => {
    const big = await grey(
      await sharp(fixtures("images/texture.jpg")).resize(1000, 600, { fit: "fill" }).png().toBuffer(),
    );
    const small = await reducePixels(big);
    expect([small.width, small.height]).toEqual([256, 154]);
    expect(await reducePixels(small)).toBe(small);
    const rgb = { width: 2, height: 1, channels: 3 as const, data: new Uint8Array([255, 0, 0, 0, 0, 255]) };
    expect([...greyPixels(rgb).data]).toEqual([76, 29]); // Pillow's convert("L")
  });
});

describe("parts", () => {
  it("are the four 60% bands and the four 34% bands, and --augment stores them with the crops", () => {
    expect(PART_WINDOWS.map((w) => w.name)).toEqual([
      ...["top-60", "bottom-60", "left-60", "right-60"],
      ...["top-34", "bottom-34", "left-34", "right-34"],
    ]);
    for (const w of PART_WINDOWS) expect(AUGMENT_WINDOWS).toContainEqual(w);
  });

  it("mask one 2/3 block at each corner: the block mid-grey, the rest of the image as it was", () => {
    const p = { width: 6, height: 3, channels: 4 as const, data: new Uint8Array(6 * 3 * 4).fill(7) };
    const box = windowBox(6, 3, PART_MASKS[3] as ImageWindow);
    expect(box).toEqual({ left: 2, top: 1, width: 4, height: 2 });
    const masked = maskPixels(p, box);
    expect(p.data.every((v) => v === 7)).toBe(true); // a copy
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 6; x++) {
        const inside = x >= 2 && y >= 1;
        const o = (y * 6 + x) * 4;
        expect([...masked.data.subarray(o, o + 4)]).toEqual(inside ? [128, 128, 128, 7] : [7, 7, 7, 7]);
      }
    expect(PART_MASKS.map((m) => m.name)).toEqual([
      "masked-top-left",
      "masked-top-right",
      "masked-bottom-left",
      "masked-bottom-right",
    ]);
  });

  it("match a copy with a square near the middle (10% of the area) through a 34% band or a masked part", async () => {
    const source = await drawnScene(384);
    const listed = await hashImageBytes(source, "listed.png", { algorithms: ALGORITHMS, augment: true });
    const matcher = new Matcher([augmentedList(listed, "scene")]);
    // 121 px is 31.5% of the side: near the middle it overlaps every 60% band; the top 34% clears it by 9 px.
    const square = await sharp({ create: { width: 121, height: 121, channels: 3, background: "#f0f0f0" } })
      .png()
      .toBuffer();
    const overlaid = await sharp(source)
      .composite([{ input: square, left: 131, top: 140 }])
      .jpeg({ quality: 80 })
      .toBuffer();
    const record = await hashImageBytes(overlaid, "overlaid.jpg", {
      algorithms: ALGORITHMS,
      dihedral: true,
      parts: true,
    });
    const result = matcher.match(record);
    expect(result.status).toBe("known");
    const viaPart = result.matches.filter((m) => m.query === "part");
    expect(viaPart.length).toBeGreaterThan(0);
    // Only the 34% bands and the masked parts whose block holds the square clear it; each matches its own kind.
    for (const hit of viaPart) {
      expect(hit.part).toMatch(/-34$|^masked-bottom-(left|right)$/);
      expect(hit.window).toBe(hit.part);
    }
    const withParts = (keep: (window: string) => boolean) =>
      matcher.match({ ...record, parts: record.parts?.filter((p) => keep(p.window)) }).status;
    expect(withParts((w) => w.endsWith("-60"))).toBe("unseen");
    expect(withParts((w) => w.endsWith("-34"))).toBe("known");
    expect(withParts((w) => w.startsWith("masked-"))).toBe("known");
  });

  it("match a copy with a logo over one corner through a part, which the whole image misses", async () => {
    const source = await sharp(fixtures("images/texture.jpg")).resize(384, 384, { fit: "fill" }).png().toBuffer();
    const listed = await hashImageBytes(source, "listed.png", { algorithms: ALGORITHMS, augment: true });
    expect(listed.windows?.map((w) => w.window)).toEqual([...AUGMENT_WINDOWS, ...PART_MASKS].map((w) => w.name));
    const matcher = new Matcher([augmentedList(listed, "texture")]);
    const badge = await sharp({ create: { width: 150, height: 150, channels: 3, background: "#e8462b" } })
      .png()
      .toBuffer();
    const overlaid = await sharp(source)
      .composite([{ input: badge, left: 232, top: 232 }])
      .jpeg({ quality: 80 })
      .toBuffer();

    const plain = await hashImageBytes(overlaid, "overlaid.jpg", { algorithms: ALGORITHMS, dihedral: true });
    expect(plain.parts).toBeUndefined(); // off unless asked
    const record = await hashImageBytes(overlaid, "overlaid.jpg", {
      algorithms: ALGORITHMS,
      dihedral: true,
      parts: true,
    });
    expect(record.parts?.map((p) => [p.window, p.box])).toEqual([
      ["top-60", [0, 0, 384, 230]],
      ["bottom-60", [0, 154, 384, 230]],
      ["left-60", [0, 0, 230, 384]],
      ["right-60", [154, 0, 230, 384]],
      ["top-34", [0, 0, 384, 131]],
      ["bottom-34", [0, 253, 384, 131]],
      ["left-34", [0, 0, 131, 384]],
      ["right-34", [253, 0, 131, 384]],
      ["masked-top-left", [0, 0, 256, 256]],
      ["masked-top-right", [128, 0, 256, 256]],
      ["masked-bottom-left", [0, 128, 256, 256]],
      ["masked-bottom-right", [128, 128, 256, 256]],
    ]);
    const result = matcher.match(record);
    expect(result.status).toBe("known");
    const viaPart = result.matches.filter((m) => m.query === "part");
    expect(viaPart.length).toBeGreaterThan(0);
    // The parts the badge missed (top, left) are the ones that match, each against the same part of the list.
    for (const hit of viaPart) {
      expect(["top-60", "left-60", "top-34", "left-34", "masked-bottom-right"]).toContain(hit.part);
      expect(hit.window).toBe(hit.part);
    }
    const ajv = new Ajv2020({ strict: true });
    expect(ajv.compile(hashRecordSchema())(record), "record valid").toBe(true);
    expect(ajv.compile(matchResultSchema())(result), "result valid").toBe(true);
    expect(matcher.match(plain).status).toBe("unseen"); // the whole image and its other views miss it
  });
});

describe("augment windows", () => {
  // The synthetic texture at 384 px, listed as `hashset build --augment` lists it, and the PDQ hits of a query
  // against that list: the entry's whole image and its windows, no query view.
  async function listedTexture() {
    const source = await sharp(fixtures("images/texture.jpg")).resize(384, 384, { fit: "fill" }).png().toBuffer();
    const listed = await hashImageBytes(source, "listed.png", { algorithms: ALGORITHMS, augment: true });
    const matcher = new Matcher([augmentedList(listed, "texture")]);
    const pdqHits = async ([left, top, width, height]: readonly [number, number, number, number]) => {
      const crop = await sharp(source).extract({ left, top, width, height }).jpeg({ quality: 90 }).toBuffer();
      const record = await hashImageBytes(crop, "crop.jpg", { algorithms: ALGORITHMS });
      return matcher.match(record).matches.filter((m) => m.algorithm === "pdq");
    };
    return { listed, pdqHits };
  }

  it("have unique names, and every window lies inside the image", () => {
    expect(new Set(AUGMENT_WINDOWS.map((w) => w.name)).size).toBe(AUGMENT_WINDOWS.length);
    for (const w of AUGMENT_WINDOWS) {
      const box = windowBox(384, 256, w);
      expect(box.left >= 0 && box.top >= 0, w.name).toBe(true);
      expect(box.left + box.width <= 384 && box.top + box.height <= 256, w.name).toBe(true);
    }
    expect(AUGMENT_WINDOWS.map((w) => w.name)).toEqual(expect.arrayContaining(["centre-90", "top-left-90", "left-85"]));
  });

  it("match a crop keeping 95% of each side at any corner, at PDQ d <= 31", async () => {
    const { pdqHits } = await listedTexture();
    for (const [left, top] of [
      [0, 0],
      [19, 0],
      [0, 19],
      [19, 19],
    ] as const) {
      const hits = await pdqHits([left, top, 365, 365]);
      expect(hits.length, `corner at ${left},${top}`).toBeGreaterThan(0);
      expect(Math.min(...hits.map((h) => h.distance))).toBeLessThanOrEqual(31);
    }
  });

  it("match a cut of 15% of the width or height from any side through the side window left", async () => {
    const { pdqHits } = await listedTexture();
    for (const [box, window] of [
      [[58, 0, 326, 384], "right-85"],
      [[0, 0, 326, 384], "left-85"],
      [[0, 58, 384, 326], "bottom-85"],
      [[0, 0, 384, 326], "top-85"],
    ] as const) {
      const hits = await pdqHits(box);
      expect(
        hits.map((h) => h.window),
        window,
      ).toContain(window);
    }
  });

  it("match crops off the centre, between the corners and the middle", async () => {
    const { pdqHits } = await listedTexture();
    // Keeping 92% of each side (a size no window has), 8 and 21 px from the left and top of 30 px of slack.
    for (const [left, top] of [
      [8, 21],
      [21, 8],
    ] as const) {
      const hits = await pdqHits([left, top, 353, 353]);
      expect(hits.length, `at ${left},${top}`).toBeGreaterThan(0);
    }
  });
});

describe("createChecker defaults", () => {
  it("matches with trim, rotations and parts on, and each can be turned off", async () => {
    const listed = await hashFile(fixtures("images/texture.jpg"), { algorithms: ALGORITHMS, augment: true });
    const set = augmentedList(listed, "texture");
    const turned = await sharp(fixtures("images/texture.jpg"))
      .rotate(5, { background: "#ffffff" })
      .jpeg({ quality: 85 })
      .toBuffer();
    const on = await checkerFor([set]).check(new Uint8Array(turned), { name: "turned.jpg" });
    expect(on.status).toBe("known");
    expect(on.matches.some((m) => m.query === "rotated")).toBe(true);
    const off = await checkerFor([set], { rotations: false }).check(new Uint8Array(turned), { name: "turned.jpg" });
    expect(off.matches.some((m) => m.query === "rotated")).toBe(false);
  });
});

// pHash's dihedral variants come from its one DCT, as PDQ's do: for every rotation and flip of an image, the
// variant that equals the transformed image's hash is the one PDQ names for it, within a few bits (the Lanczos
// resize of a turned image is not bit for bit the turned resize).

import { hammingDistance, hashImageBytes } from "@phmatch/core";
import sharp, { type Sharp } from "sharp";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const hex = (h: string) => new Uint8Array(Buffer.from(h, "hex"));
const TRANSFORMS: [string, (s: Sharp) => Sharp][] = [
  ["rotate 90", (s) => s.rotate(90)],
  ["rotate 180", (s) => s.rotate(180)],
  ["rotate 270", (s) => s.rotate(270)],
  ["mirror", (s) => s.flop()],
  ["flip", (s) => s.flip()],
  ["transpose", (s) => s.rotate(90).flop()],
  ["transverse", (s) => s.rotate(90).flip()],
];

describe.each(["phash16", "phash"])("%s dihedral variants", (algorithm) => {
  it.each(TRANSFORMS)("a %s copy matches through the variant PDQ names for it", async (_name, transform) => {
    for (const file of ["texture.jpg", "shapes.png"]) {
      const bytes = await sharp(fixtures(`images/${file}`))
        .png()
        .toBuffer();
      const turned = await transform(sharp(bytes)).png().toBuffer();
      const original = await hashImageBytes(bytes, file, { algorithms: ["pdq", algorithm] });
      const query = await hashImageBytes(turned, file, { algorithms: ["pdq", algorithm], dihedral: true });
      const closest = (a: string) => {
        const d = (query.dihedral?.[a] ?? []).map((v) => hammingDistance(hex(v), hex(original.hashes?.[a] as string)));
        const best = Math.min(...d);
        return { index: d.indexOf(best), distance: best };
      };
      const pdq = closest("pdq");
      const ph = closest(algorithm);
      expect(ph.index, `${file}: ${algorithm} variant vs PDQ's`).toBe(pdq.index);
      expect(ph.distance).toBeLessThanOrEqual(algorithm === "phash" ? 4 : 12);
      expect(query.dihedral?.[algorithm]?.[0]).toBe(query.hashes?.[algorithm]); // variant 0 is the hash itself
    }
  });
});

// Rotation hypotheses: a copy turned by a few degrees (canvas expanded) matches through the query turned back,
// says so (query rotated, with the angle), stays valid against the schemas, and is off unless asked.

import {
  HashSetBuilder,
  hashFile,
  hashImageBytes,
  hashRecordSchema,
  Matcher,
  matchResultSchema,
  parseHashValue,
  parseStore,
  serializeStore,
} from "@phmatch/core";
import { unrotatedSize } from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

describe("rotation hypotheses", () => {
  it("inverts the expanded canvas size of a turned image", () => {
    const t = (5 * Math.PI) / 180;
    const [w, h] = [400, 300];
    const expanded = [w * Math.cos(t) + h * Math.sin(t), w * Math.sin(t) + h * Math.cos(t)];
    expect(unrotatedSize(expanded[0] as number, expanded[1] as number, 5)).toEqual({ width: w, height: h });
    expect(unrotatedSize(40, 40, 40)).toBeUndefined();
  });

  it("match a copy turned by 5 degrees, which PDQ and pHash alone miss", async () => {
    const original = await hashFile(fixtures("images/texture.jpg"), { algorithms: ["pdq", "phash16"] });
    const builder = new HashSetBuilder();
    builder.addList({ listId: "L", version: 1 });
    for (const a of ["pdq", "phash16"]) {
      const parsed = parseHashValue(a, original.hashes?.[a] as string);
      if (parsed.ok) builder.addEntry({ algorithm: a, value: parsed.value, listId: "L", entryId: "texture" });
    }
    const matcher = new Matcher([
      { set: parseStore(serializeStore(builder), "t"), path: "t", storeSha256: "", encrypted: false, overrides: [] },
    ]);
    const turned = await sharp(fixtures("images/texture.jpg")).rotate(5, { background: "#ffffff" }).png().toBuffer();
    const plain = await hashImageBytes(turned, "turned.png", { algorithms: ["pdq", "phash16"], dihedral: true });
    expect(plain.rotated).toBeUndefined();
    expect(matcher.match(plain).status).not.toBe("known");
    const record = await hashImageBytes(turned, "turned.png", {
      algorithms: ["pdq", "phash16"],
      dihedral: true,
      rotations: true,
    });
    expect(record.rotated?.map((r) => r.degrees)).toEqual([-8, -6, -4, -2, 2, 4, 6, 8]);
    const result = matcher.match(record);
    expect(result.status).toBe("known");
    expect(result.matches[0]).toMatchObject({ entryId: "texture", query: "rotated" });
    expect([4, 6]).toContain(result.matches[0]?.rotation);
    const ajv = new Ajv2020({ strict: true });
    expect(ajv.compile(hashRecordSchema())(record)).toBe(true);
    expect(ajv.compile(matchResultSchema())(result)).toBe(true);
  });
});

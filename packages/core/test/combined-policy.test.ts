// The opt-in combined policy: PDQ and the 256-bit pHash of the same entry agreeing within looser thresholds.
// An overlaid copy beyond PDQ's 31 bits matches only with it; an unrelated image does not; results stay valid.

import {
  HashSetBuilder,
  hammingDistance,
  hashFile,
  hashImageBytes,
  Matcher,
  matchResultSchema,
  parseHashValue,
  parseStore,
  serializeStore,
} from "@phmatch/core";
import { Ajv2020 } from "ajv/dist/2020.js";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

async function listOf(file: string) {
  const record = await hashFile(fixtures(`images/${file}`), { algorithms: ["pdq", "phash16"] });
  const builder = new HashSetBuilder();
  builder.addList({ listId: "L", version: 1 });
  for (const a of ["pdq", "phash16"]) {
    const parsed = parseHashValue(a, record.hashes?.[a] as string);
    if (parsed.ok) builder.addEntry({ algorithm: a, value: parsed.value, listId: "L", entryId: file, category: "c" });
  }
  return {
    record,
    loaded: {
      set: parseStore(serializeStore(builder), "t"),
      path: "t",
      storeSha256: "",
      encrypted: false,
      overrides: [],
    },
  };
}

describe("combined policy pdq+phash16", () => {
  it("matches an overlaid copy that PDQ alone misses, and says which policy decided", async () => {
    const { record, loaded } = await listOf("texture.jpg");
    const meta = await sharp(fixtures("images/texture.jpg")).metadata();
    const side = Math.round(Math.sqrt(0.12 * (meta.width as number) * (meta.height as number)));
    const badge = await sharp({ create: { width: side, height: side, channels: 4, background: "#e8462bff" } })
      .png()
      .toBuffer();
    const overlaid = await sharp(fixtures("images/texture.jpg"))
      .composite([{ input: badge, gravity: "southeast" }])
      .jpeg({ quality: 90 })
      .toBuffer();
    const query = await hashImageBytes(overlaid, "overlaid.jpg", { algorithms: ["pdq", "phash16"], dihedral: true });
    const pdqDistance = hammingDistance(
      Buffer.from(query.hashes?.pdq as string, "hex"),
      Buffer.from(record.hashes?.pdq as string, "hex"),
    );
    expect(pdqDistance).toBeGreaterThan(31);
    expect(pdqDistance).toBeLessThanOrEqual(64);
    expect(new Matcher([loaded]).match(query).status).not.toBe("known");
    const combined = new Matcher([loaded], { combined: { pdq: 64, phash16: 64 } }).match(query);
    expect(combined.status).toBe("known");
    expect(combined.matches).toEqual([
      expect.objectContaining({ entryId: "texture.jpg", policy: "pdq+phash16:d64+d64@1", algorithm: "pdq" }),
    ]);
    expect(new Ajv2020({ strict: true }).compile(matchResultSchema())(combined)).toBe(true);
  });

  it("does not match an unrelated image, and refuses distances out of range", async () => {
    const { loaded } = await listOf("texture.jpg");
    const other = await hashFile(fixtures("images/shapes.png"), { algorithms: ["pdq", "phash16"], dihedral: true });
    expect(new Matcher([loaded], { combined: { pdq: 64, phash16: 64 } }).match(other).status).toBe("unseen");
    expect(() => new Matcher([loaded], { combined: { pdq: 300, phash16: 64 } })).toThrow(
      expect.objectContaining({ code: "PHM_USAGE" }),
    );
  });
});

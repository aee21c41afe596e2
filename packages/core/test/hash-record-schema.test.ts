// The hash record is defined once, as a versioned JSON Schema; every record phmatch writes must validate.

import { hashFile, hashRecordSchema, SUPPORTED_ALGORITHMS } from "@phmatch/core";
import { HASH_RECORD_VERSION } from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(hashRecordSchema());

describe("hash record schema", () => {
  it("is versioned", () => {
    expect((hashRecordSchema() as { $id: string }).$id).toBe(`urn:phmatch:schema:hash-record:${HASH_RECORD_VERSION}`);
  });

  it.each(["images/texture.jpg", "images/shapes.png", "bad/truncated.jpg", "bad/empty.jpg", "bad/not-an-image.jpg"])(
    "validates the record of %s",
    async (file) => {
      for (const dihedral of [false, true]) {
        for (const algorithms of [["pdq"], SUPPORTED_ALGORITHMS as string[]]) {
          const record = await hashFile(fixtures(file), { dihedral, algorithms });
          expect(validate(record), JSON.stringify(validate.errors)).toBe(true);
        }
      }
    },
  );

  it.each([
    ["a short PDQ hex", { path: "a", hashes: { pdq: "ab".repeat(31) } }],
    ["uppercase hex", { path: "a", hashes: { pdq: "AB".repeat(32) } }],
    ["no path", { hashes: { pdq: "ab".repeat(32) } }],
    ["no hashes", { path: "a", hashes: {} }],
    ["quality over 100", { path: "a", hashes: { pdq: "ab".repeat(32) }, quality: { pdq: 101 } }],
    [
      "7 dihedral variants",
      { path: "a", hashes: { pdq: "ab".repeat(32) }, dihedral: { pdq: Array(7).fill("ab".repeat(32)) } },
    ],
    ["an error without a code", { path: "a", error: { message: "x" } }],
    ["neither hashes nor error", { path: "a" }],
    ["an md5 of the wrong length", { path: "a", hashes: { md5: "ab".repeat(15) } }],
    ["image bytes smuggled in", { path: "a", hashes: { pdq: "ab".repeat(32) }, pixels: "AAAA" }],
  ])("rejects %s", (_name, record) => {
    expect(validate(record)).toBe(false);
  });
});

describe("hash record schema and the registry agree", () => {
  it("declares the hex length of every registered algorithm", async () => {
    const { hasherSpecs, hexDigits } = await import("@phmatch/core/internal");
    const properties = (
      hashRecordSchema() as { properties: { hashes: { properties: Record<string, { pattern: string }> } } }
    ).properties.hashes.properties;
    for (const spec of hasherSpecs())
      expect(properties[spec.id]?.pattern, spec.id).toBe(`^[0-9a-f]{${hexDigits(spec)}}$`);
    expect(Object.keys(properties).sort()).toEqual(
      hasherSpecs()
        .map((s) => s.id)
        .sort(),
    );
  });
});

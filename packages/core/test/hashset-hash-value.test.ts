// parseHashValue, the one place list values are checked: every value written as lists write it (hex in any case,
// with or without 0x, spaced; PhotoDNA also base64) parses back to its bytes, and a wrong one says what is wrong.

import { parseHashValue } from "@phmatch/core";
import { hasherSpecs } from "@phmatch/core/internal";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const specs = hasherSpecs();

describe("parseHashValue", () => {
  it("parses back the bytes of every algorithm's values, as hex and (PhotoDNA) base64", () => {
    fc.assert(
      fc.property(
        fc
          .constantFrom(...specs)
          .chain((spec) =>
            fc.tuple(fc.constant(spec.id), fc.uint8Array({ minLength: spec.bits / 8, maxLength: spec.bits / 8 })),
          ),
        fc.constantFrom("", "0x", "0X"),
        fc.boolean(),
        fc.constantFrom("", " ", "\t", " \r"),
        ([algorithm, bytes], prefix, upper, space) => {
          const hex = Buffer.from(bytes).toString("hex");
          expect(parseHashValue(algorithm, `${space}${prefix}${upper ? hex.toUpperCase() : hex}${space}`)).toEqual({
            ok: true,
            value: bytes,
          });
          if (algorithm === "photodna")
            expect(parseHashValue(algorithm, `${space}${Buffer.from(bytes).toString("base64")}${space}`)).toEqual({
              ok: true,
              value: bytes,
            });
        },
      ),
      { numRuns: 500 },
    );
  });

  // Found by generating VICS lists: "0x" was stripped before base64 was tried, so one in 2048 random PhotoDNA
  // values, those whose base64 starts with "0x" or "0X", was refused as "neither hex nor valid base64".
  it("reads a base64 PhotoDNA value that begins with 0x", () => {
    for (const start of ["0x", "0X"]) {
      const bytes = Buffer.concat([Buffer.from(`${start}AA`, "base64"), Buffer.alloc(141, 7)]);
      const text = bytes.toString("base64");
      expect(text.startsWith(start)).toBe(true);
      expect(parseHashValue("photodna", text)).toEqual({ ok: true, value: new Uint8Array(bytes) });
    }
  });

  it("says what is wrong with a value", () => {
    expect(parseHashValue("md5", "0x" + "ab".repeat(15))).toEqual({
      ok: false,
      reason: "md5 needs 32 hex digits, got 30",
    });
    expect(parseHashValue("md5", "zz")).toEqual({ ok: false, reason: 'md5 value is not hex: "zz"' });
    expect(parseHashValue("photodna", Buffer.alloc(100).toString("base64"))).toEqual({
      ok: false,
      reason: "photodna needs 144 bytes, base64 decodes to 100",
    });
    expect(parseHashValue("photodna", "not*base64!")).toEqual({
      ok: false,
      reason: "photodna value is neither hex nor valid base64",
    });
    expect(parseHashValue("photodna", "ab".repeat(100))).toEqual({
      ok: false,
      reason: "photodna needs 288 hex digits, got 200",
    });
    expect(parseHashValue("nope", "00")).toEqual({ ok: false, reason: 'unknown algorithm "nope"' });
  });
});

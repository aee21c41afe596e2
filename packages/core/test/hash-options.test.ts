// buildHashOptions: one way to build hashing options, dihedral decided from the algorithms' declarations.

import { buildHashOptions, hasherSpecs } from "@phmatch/core/internal";
import { describe, expect, it } from "vitest";

describe("buildHashOptions", () => {
  it("asks for dihedral variants when an algorithm has them (PDQ, pHash), not for the others", () => {
    expect(buildHashOptions({ algorithms: ["pdq", "sha256"] }).dihedral).toBe(true);
    expect(buildHashOptions({ algorithms: ["phash16", "md5"] }).dihedral).toBe(true);
    expect(buildHashOptions({ algorithms: ["dhash", "blockhash", "md5", "sha256"] }).dihedral).toBe(false);
    expect(
      hasherSpecs()
        .filter((s) => s.dihedral === true)
        .map((s) => s.id),
    ).toEqual(["pdq", "phash", "phash16"]);
  });

  it("keeps what the caller sets, extra queries off unless asked for, and leaves out undefined", () => {
    expect(buildHashOptions({ algorithms: ["pdq"], dihedral: false, augment: true, maxPixels: undefined })).toEqual({
      algorithms: ["pdq"],
      dihedral: false,
      augment: true,
      trim: false,
      rotations: false,
      parts: false,
    });
    const all = buildHashOptions({ algorithms: ["pdq"], trim: true, rotations: true, parts: true, maxFileBytes: 10 });
    expect(all).toEqual({
      algorithms: ["pdq"],
      dihedral: true,
      trim: true,
      rotations: true,
      parts: true,
      maxFileBytes: 10,
    });
  });
});

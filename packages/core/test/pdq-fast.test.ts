// Fast mode (shrink on load) against exact mode on the reference vectors: within 10 bits wherever quality >= 80,
// the upstream definition of an acceptable port. The distribution is printed for the README.
import { join } from "node:path";
import { hammingDistance, hashFile, hexToBytes, isFailedRecord } from "@phmatch/core";
import { describe, expect, it } from "vitest";
import { conformanceDir, hasConformance, readTsv, skipReason } from "../../../test/support/conformance.js";

describe.skipIf(!hasConformance)(`PDQ fast mode (${hasConformance ? "" : skipReason})`, () => {
  it("stays within 10 bits of the exact hash on every vector with quality >= 80", async () => {
    const dir = join(conformanceDir, "pdq");
    const rows = readTsv(join(dir, "pdq-vectors.tsv"));
    const distances: { file: string; d: number; quality: number }[] = [];
    for (const row of rows) {
      const fast = await hashFile(join(dir, row.file as string), { mode: "fast" });
      if (isFailedRecord(fast)) throw new Error(`${row.file}: ${fast.error.code}`);
      const d = hammingDistance(hexToBytes(fast.hashes?.pdq as string, 32), hexToBytes(row.hash_fullres as string, 32));
      distances.push({ file: row.file as string, d, quality: Number(row.quality_fullres) });
    }
    const gated = distances.filter((x) => x.quality >= 80);
    const histogram = new Map<number, number>();
    for (const { d } of gated) histogram.set(d, (histogram.get(d) ?? 0) + 1);
    console.info(
      `fast vs exact reference, ${gated.length} vectors with quality >= 80: distance -> count ` +
        `${JSON.stringify(Object.fromEntries([...histogram].sort((a, b) => a[0] - b[0])))}`,
    );
    expect(gated.length).toBeGreaterThan(45);
    expect(gated.filter((x) => x.d > 10)).toEqual([]);
  });
});

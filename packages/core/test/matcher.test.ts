// The matcher: statuses, policies, PDQ dihedral variants, digests deciding when images fail, tombstones,
// overrides, and results valid against the versioned schema.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type HashRecord,
  HashSetBuilder,
  hashFile,
  loadHashSet,
  Matcher,
  type MatchResult,
  matchResultSchema,
  parseHashValue,
  serializeStore,
} from "@phmatch/core";
import { addOverride } from "@phmatch/core/internal";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";

const dir = mkdtempSync(join(tmpdir(), "phmatch-matcher-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const validate = new Ajv2020({ strict: true }).compile(matchResultSchema());

async function listOf(
  files: string[],
  options: { listId?: string; version?: number; withdrawIds?: string[] } = {},
): Promise<string> {
  const listId = options.listId ?? "L";
  const builder = new HashSetBuilder();
  builder.addList({ listId, version: options.version ?? 3 });
  for (const f of files) {
    const record = await hashFile(fixtures(`images/${f}`), { algorithms: ["pdq", "phash", "md5"] });
    for (const [algorithm, hex] of Object.entries(record.hashes ?? {})) {
      const parsed = parseHashValue(algorithm, hex);
      if (parsed.ok) builder.addEntry({ algorithm, value: parsed.value, listId, entryId: f, category: "cat-1" });
    }
  }
  for (const id of options.withdrawIds ?? []) builder.addWithdrawal({ listId, entryId: id });
  const file = join(dir, `${listId}-${files.join("_").replace(/\W/g, "")}.phs`);
  writeFileSync(file, serializeStore(builder));
  return file;
}

async function matchFile(matcher: Matcher, file: string, dihedral = true): Promise<MatchResult> {
  const record = await hashFile(fixtures(file), { algorithms: ["pdq", "phash", "md5"], dihedral });
  const result = matcher.match(record);
  expect(validate(result), JSON.stringify(validate.errors)).toBe(true);
  return result;
}

describe("Matcher", () => {
  it("finds the listed image, its rotated copy through a dihedral variant, and says which policy decided", async () => {
    const matcher = new Matcher([await loadHashSet(await listOf(["shapes.png"]))]);
    const same = await matchFile(matcher, "images/shapes.png");
    expect(same.status).toBe("known");
    expect(same.matches.map((m) => [m.algorithm, m.distance, m.policy])).toEqual([
      ["pdq", 0, "pdq:d31:q50@1"],
      ["phash", 0, "phash:d10@1"],
      ["md5", 0, "md5:exact@1"],
    ]);
    expect(same.matches[0]).toMatchObject({
      list: "L",
      listVersion: 3,
      entryId: "shapes.png",
      category: "cat-1",
      variant: "original",
    });
    const rotated = await matchFile(matcher, "images/shapes-rotate90.png");
    expect(rotated.status).toBe("known");
    // The variant names the transform of the queried image that matches: a copy turned 90 degrees clockwise
    // matches through rotate90 (counter-clockwise).
    expect(rotated.matches.find((m) => m.algorithm === "pdq")).toMatchObject({
      variant: "rotate90",
      entryId: "shapes.png",
    });
  });

  it("without dihedral variants says rotated copies were not checked", async () => {
    const matcher = new Matcher([await loadHashSet(await listOf(["shapes.png"]))]);
    const rotated = await matchFile(matcher, "images/shapes-rotate90.png", false);
    expect(rotated.status).toBe("unseen");
    expect(rotated.notes?.join(" ")).toContain("rotated and mirrored copies were not checked");
  });

  it("low quality is never a silent no-match, and a digest hit still makes the file known", async () => {
    const matcher = new Matcher([await loadHashSet(await listOf(["flat.png", "texture.jpg"]))]);
    // PDQ and MD5 only: imagehash hashes have no quality score, and two featureless images hash alike.
    const tiny = matcher.match(
      await hashFile(fixtures("images/tiny-4x4.png"), { algorithms: ["pdq", "md5"], dihedral: true }),
    );
    expect(validate(tiny)).toBe(true);
    expect(tiny.status).toBe("low_quality");
    const flat = await matchFile(matcher, "images/flat.png");
    expect(flat.status).toBe("known");
    expect(flat.matches.map((m) => m.algorithm)).toContain("md5");
  });

  it("reports a file whose image failed as error unless a digest matched", async () => {
    const matcher = new Matcher([await loadHashSet(await listOf(["texture.jpg"]))]);
    const record: HashRecord = await hashFile(fixtures("bad/truncated.jpg"), { algorithms: ["pdq", "md5"] });
    expect(matcher.match(record).status).toBe("error");
    const md5 = (await hashFile(fixtures("images/texture.jpg"), { algorithms: ["md5"] })).hashes?.md5 as string;
    expect(matcher.match({ ...record, hashes: { md5 } }).status).toBe("known");
  });

  it("reports every list a file hits, each with its own version and category", async () => {
    const a = await loadHashSet(await listOf(["texture.jpg"], { listId: "A", version: 2 }));
    const b = await loadHashSet(await listOf(["texture.jpg"], { listId: "B", version: 9 }));
    const result = await matchFile(new Matcher([a, b]), "images/texture.jpg");
    expect([...new Set(result.matches.map((m) => `${m.list}@${m.listVersion}`))]).toEqual(["A@2", "B@9"]);
  });

  it("never matches withdrawn entries", async () => {
    const matcher = new Matcher([
      await loadHashSet(await listOf(["texture.jpg", "shapes.png"], { listId: "W", withdrawIds: ["texture.jpg"] })),
    ]);
    expect((await matchFile(matcher, "images/texture.jpg")).status).toBe("unseen");
    expect((await matchFile(matcher, "images/shapes.png")).status).toBe("known");
  });

  it("reports an override with who, when and why, and does not count the overridden hit", async () => {
    const store = await listOf(["texture.jpg"], { listId: "O" });
    const md5 = (await hashFile(fixtures("images/texture.jpg"), { algorithms: ["md5"] })).hashes?.md5 as string;
    await addOverride(store, {
      action: "allow",
      algorithm: "md5",
      hash: md5,
      who: "reviewer",
      when: "2026-11-23T00:00:00Z",
      why: "confirmed false positive",
    });
    const matcher = new Matcher([await loadHashSet(store)], {
      policies: { pdq: { maxDistance: 0 }, phash: { maxDistance: 0 } },
    });
    const result = await matchFile(matcher, "images/texture.jpg");
    const md5Hit = result.matches.find((m) => m.algorithm === "md5");
    expect(md5Hit?.override).toEqual({
      action: "allow",
      who: "reviewer",
      when: "2026-11-23T00:00:00Z",
      why: "confirmed false positive",
    });
    expect(result.matches.find((m) => m.algorithm === "pdq")?.policy).toBe("pdq:d0:q50@1");
    expect(result.status).toBe("known"); // pdq and phash still hit
    const onlyMd5 = new Matcher([await loadHashSet(store)]).match({ path: "x", hashes: { md5 } });
    expect(onlyMd5.status).toBe("unseen");
    expect(onlyMd5.matches).toHaveLength(1);
  });

  it("gives the same answer with every index kind", async () => {
    const store = await loadHashSet(await listOf(["shapes.png", "texture.jpg", "texture-grey.png"]));
    const results = await Promise.all(
      (["flat", "mih", "bktree"] as const).map(
        async (index) => (await matchFile(new Matcher([store], { index }), "images/shapes-small.jpg")).matches,
      ),
    );
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });
});

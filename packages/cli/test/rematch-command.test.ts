// Retroactive matching (issue 21 part 1): the stored hash records of accepted uploads against what a new list
// release added. A release that adds an entry makes an accepted upload's record come out, with the platform's
// content id and upload time; an entry both releases hold, and a withdrawn one, do not. An earlier release that is
// not one (the same store, the same or a newer version, a list missing, another signer) is refused before anything
// is matched; a line that is not a record is counted, said by number and code, and the run goes on.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  generateSigningKeys,
  HashSetBuilder,
  hashFile,
  parseHashValue,
  serializeStore,
  signStore,
} from "@phmatch/core";
import { addOverride } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { runCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-rematch-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const at = (name: string) => join(work, name);
const signer = generateSigningKeys();
const stranger = generateSigningKeys();
writeFileSync(at("keys.pem"), `${signer.publicKeyPem}\n${stranger.publicKeyPem}`);

const pdqOf = async (image: string) =>
  (await hashFile(fixtures(`images/${image}`), { algorithms: ["pdq"], dihedral: true })) as unknown as {
    hashes: { pdq: string };
  };
// A listed PDQ value no fixture is near: the withdrawn entry's.
const WITHDRAWN = "5a".repeat(32);

interface Release {
  listId?: string;
  version: number;
  images: string[];
  withdrawnEntry?: boolean;
  extraList?: string;
  key?: string;
}

// A release of list "hotline" holding the PDQ of each image (entry E-<image>, category A1), signed.
async function writeRelease(name: string, release: Release): Promise<string> {
  const listId = release.listId ?? "hotline";
  const builder = new HashSetBuilder();
  builder.addList({ listId, version: release.version });
  for (const image of release.images) {
    const parsed = parseHashValue("pdq", (await pdqOf(image)).hashes.pdq);
    if (!parsed.ok) throw new Error(`no PDQ for ${image}`);
    builder.addEntry({ algorithm: "pdq", value: parsed.value, listId, entryId: `E-${image}`, category: "A1" });
  }
  if (release.withdrawnEntry === true) {
    // Listed and withdrawn by its id in the same release (as a merge of a release and a later tombstone leaves it).
    const parsed = parseHashValue("pdq", WITHDRAWN);
    if (!parsed.ok) throw new Error("bad value");
    builder.addEntry({ algorithm: "pdq", value: parsed.value, listId, entryId: "E-withdrawn", category: "A1" });
    builder.addWithdrawal({ listId, entryId: "E-withdrawn" });
  }
  if (release.extraList !== undefined) {
    builder.addList({ listId: release.extraList, version: 3 });
    const parsed = parseHashValue("pdq", "a5".repeat(32));
    if (parsed.ok) builder.addEntry({ algorithm: "pdq", value: parsed.value, listId: release.extraList });
  }
  const bytes = serializeStore(builder);
  writeFileSync(at(name), bytes);
  writeFileSync(at(`${name}.sig`), signStore(bytes, release.key ?? signer.privateKeyPem));
  return at(name);
}

// Accepted uploads as the platform keeps them: `phmatch hash` records with its content id and upload time.
async function acceptedRecords(images: string[], extra: string[] = []): Promise<string> {
  const lines = [];
  for (const [i, image] of images.entries())
    lines.push(
      JSON.stringify({ ...(await pdqOf(image)), contentId: `upload-${i}`, uploadedAt: `2026-11-0${i + 1}T10:00:00Z` }),
    );
  return [...lines, ...extra].join("\n") + "\n";
}

async function rematch(args: string[], input = "") {
  return runCli(["rematch", "--trusted-keys", at("keys.pem"), ...args], { cwd: work, input, env: cleanEnv() });
}
const lines = (stdout: string) =>
  stdout
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const old = await writeRelease("hotline-1.phs", { version: 1, images: ["texture.jpg"] });
const next = await writeRelease("hotline-2.phs", {
  version: 2,
  images: ["texture.jpg", "shapes.png"],
  withdrawnEntry: true,
});
// shapes-mirror: a mirrored copy of the entry release 2 adds; texture.jpg: the entry both hold (the same file);
// the third carries exactly the value release 2 lists and withdraws.
const withdrawnRecord = JSON.stringify({
  hashes: { pdq: WITHDRAWN },
  quality: { pdq: 100 },
  contentId: "upload-w",
  uploadedAt: "2026-11-20T10:00:00+01:00",
});
const records = await acceptedRecords(["shapes-mirror.png", "texture.jpg"], [withdrawnRecord]);
writeFileSync(at("accepted.ndjson"), records);

describe("phmatch rematch --since: only what the release added", () => {
  it("prints the accepted upload a newly listed entry matches, with its content id and upload time", async () => {
    const r = await rematch(["--records", at("accepted.ndjson"), "--hashset", next, "--since", old]);
    expect(r.stderr).toContain("entries added by hotline 1 -> 2");
    expect(r.status).toBe(0);
    const hits = lines(r.stdout);
    // texture.jpg matches an entry release 1 already held; the withdrawn value never matches.
    expect(hits.map((h) => h.contentId)).toEqual(["upload-0"]);
    const [hit] = hits as [Record<string, unknown> & { matches: Record<string, unknown>[] }];
    expect(hit).toMatchObject({
      contentId: "upload-0",
      uploadedAt: "2026-11-01T10:00:00Z",
      retroactive: true,
      status: "known",
      decision: "match",
      reason_code: "LIST_MATCH",
      checked: ["pdq"],
      release: [{ listId: "hotline", version: 2, since: 1 }],
    });
    expect(hit.matches).toHaveLength(1);
    expect(hit.matches[0]).toMatchObject({
      list: "hotline",
      listVersion: 2,
      entryId: "E-shapes.png",
      category: "A1",
      algorithm: "pdq",
    });
    expect(hit.matches[0]?.variant).not.toBe("original"); // a mirror image: found through a dihedral variant
    const summary = JSON.parse(r.stderr.trim().split("\n").at(-1) as string) as Record<string, unknown>;
    expect(summary).toMatchObject({ summary: "rematch", read: 3, failed: 0, matched: 1 });
  });

  it("without --since matches the whole list: the entry both hold comes out too, the withdrawn never", async () => {
    const r = await rematch(["--records", "-", "--hashset", next], records);
    expect(r.status).toBe(0);
    const hits = lines(r.stdout);
    expect(hits.map((h) => h.contentId)).toEqual(["upload-0", "upload-1"]);
    expect(hits[1]).toMatchObject({ release: [{ listId: "hotline", version: 2 }] });
    expect(hits[1]?.release).toEqual([{ listId: "hotline", version: 2 }]);
  });
});

describe("the new store's overrides apply, as they do for match", () => {
  // Overrides are signed by an overrides key, a role no list key plays (SECURITY.md).
  const overridesKey = generateSigningKeys();
  writeFileSync(at("overrides.pem"), overridesKey.publicKeyPem);

  it("a signed allow on the added entry keeps the record out of the output", async () => {
    const overridden = await writeRelease("hotline-2-overridden.phs", {
      version: 2,
      images: ["texture.jpg", "shapes.png"],
    });
    const shapes = (await pdqOf("shapes.png")).hashes.pdq;
    await addOverride(
      overridden,
      {
        action: "allow",
        algorithm: "pdq",
        hash: shapes,
        listId: "hotline",
        listVersion: 2,
        who: "reviewer",
        when: "2026-12-01T00:00:00Z",
        why: "test",
      },
      { lists: ["hotline"], signingKeyPem: overridesKey.privateKeyPem },
    );
    const r = await rematch([
      "--records",
      at("accepted.ndjson"),
      "--hashset",
      overridden,
      "--since",
      old,
      "--trusted-override-keys",
      at("overrides.pem"),
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('"matched":0');
  });
});

describe("an earlier release that is not one is refused before anything is matched (fail closed)", () => {
  const refused = async (since: string, why: RegExp, hashset = next) => {
    const r = await rematch(["--records", at("accepted.ndjson"), "--hashset", hashset, "--since", since]);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("PHM_REMATCH_SINCE");
    expect(r.stderr).toMatch(why);
  };

  it("the same store given twice", async () => {
    await refused(next, /the same store/);
  });

  it("the same version (not a newer release), and a newer one given as the earlier", async () => {
    const same = await writeRelease("hotline-2b.phs", { version: 2, images: ["texture.jpg"] });
    await refused(same, /list hotline is at version 2 in the new store and 2 in the earlier one \(the same release\)/);
    await refused(next, /list hotline is at version 1 in the new store and 2 in the earlier one/, old);
  });

  it("an earlier store holding a list the new one lacks, or only another list", async () => {
    const two = await writeRelease("two-lists.phs", { version: 1, images: ["texture.jpg"], extraList: "other" });
    await refused(two, /it holds list other \(version 3\), which the new lacks/);
    const other = await writeRelease("other-1.phs", { listId: "other", version: 1, images: ["texture.jpg"] });
    await refused(other, /it holds list other \(version 1\), which the new lacks/);
  });

  it("an earlier store signed by another (trusted) key: it could hold the new entries and hide them", async () => {
    const forged = await writeRelease("hotline-1-forged.phs", {
      version: 1,
      images: ["texture.jpg", "shapes.png"],
      key: stranger.privateKeyPem,
    });
    await refused(forged, /signed by different keys/);
  });

  it("an earlier store with no valid signature is refused as any list is", async () => {
    writeFileSync(at("unsigned.phs"), serializeStore(new HashSetBuilder()));
    const r = await rematch(["--records", at("accepted.ndjson"), "--hashset", next, "--since", at("unsigned.phs")]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("PHM_HASHSET_SIGNATURE");
  });
});

describe("lines that are not accepted-upload records", () => {
  it("are said by line number and code, counted in the summary, and the run goes on (exit 2)", async () => {
    const good = records.split("\n")[0] as string;
    const record = JSON.parse(good) as Record<string, unknown>;
    const input = [
      "not json",
      JSON.stringify({ ...record, contentId: undefined }),
      JSON.stringify({ ...record, uploadedAt: "yesterday" }),
      JSON.stringify({ ...record, hashes: { pdq: "abcd" } }),
      "",
      good,
      JSON.stringify({ contentId: "x", uploadedAt: "2026-11-01T10:00:00Z" }),
    ].join("\n");
    const r = await rematch(["--records", "-", "--hashset", next, "--since", old], input);
    expect(r.status).toBe(2);
    expect(lines(r.stdout).map((h) => h.contentId)).toEqual(["upload-0"]);
    for (const n of [1, 2, 3, 4, 7]) expect(r.stderr).toContain(`line ${n}: PHM_REMATCH_RECORD: `);
    expect(r.stderr).toContain("pdq has 4 hex digits, pdq has 64");
    const summary = JSON.parse(r.stderr.trim().split("\n").at(-1) as string) as {
      read: number;
      failed: number;
      matched: number;
      failures: { line: number; code: string }[];
    };
    expect(summary).toMatchObject({ read: 6, failed: 5, matched: 1 });
    expect(summary.failures.map((f) => [f.line, f.code])).toEqual(
      [1, 2, 3, 4, 7].map((n) => [n, "PHM_REMATCH_RECORD"]),
    );
  });
});

// Trust in the overrides beside a list (issue 16 items 9 and 10). Under trusted keys an overrides file must be
// signed by a trusted key and bound to the store's lists, and an older signed release replayed is refused by the
// rollback state; without keys they work as before and say they are unsigned. Trusted keys that are asked for
// must be usable: an empty key list never turns the checks off.
import { createHash, generateKeyPairSync } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  checkerFor,
  generateSigningKeys,
  HashSetBuilder,
  loadHashSet,
  Matcher,
  type Override,
  parseTrustedKeys,
  RollbackState,
  serializeStore,
  signStore,
} from "@phmatch/core";
import { addOverride, keyId, readOverridesFile, removeOverride, signOverrides } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";

const tmp = mkdtempSync(join(tmpdir(), "phmatch-overrides-trust-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const signer = generateSigningKeys();
const stranger = generateSigningKeys();
const trusted = parseTrustedKeys(signer.publicKeyPem);
// Overrides are signed by a key of their own role (issue 21), never by the list key.
const overrider = generateSigningKeys();
const overrideKeys = parseTrustedKeys(overrider.publicKeyPem);
const overriderId = keyId(overrideKeys[0]!);
const roles = { trustedKeys: trusted, trustedOverrideKeys: overrideKeys };
const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const LISTED = md5("listed image");

// A signed list holding one MD5 entry (LISTED), as a hotline publishes it.
function signedList(name: string, listId: string, version = 3): string {
  const builder = new HashSetBuilder();
  builder.addList({ listId, version });
  builder.addEntry({ algorithm: "md5", value: Buffer.from(LISTED, "hex"), listId, entryId: "E1", category: "A1" });
  const file = join(tmp, name);
  const bytes = serializeStore(builder);
  writeFileSync(file, bytes);
  writeFileSync(`${file}.sig`, signStore(bytes, signer.privateKeyPem));
  return file;
}

// Signed overrides name the list release they were decided about (signedList's default: hotline release 3).
const allow: Override = {
  action: "allow",
  algorithm: "md5",
  hash: LISTED,
  listId: "hotline",
  listVersion: 3,
  who: "reviewer",
  when: "2026-01-02T00:00:00Z",
  why: "confirmed false positive, ticket 4",
};
const statusOf = async (store: string, options: Parameters<typeof loadHashSet>[1]) =>
  new Matcher([await loadHashSet(store, options)]).match({ path: "upload", hashes: { md5: LISTED } });

describe("changing overrides", () => {
  it("loses no change made at the same time: each is its own signed release, every override kept", async () => {
    const store = signedList("concurrent.phs", "hotline");
    const decisions = Array.from({ length: 12 }, (_, i) => ({ ...allow, why: `ticket ${i}` }));
    const written = await Promise.all(
      decisions.map((o) => addOverride(store, o, { lists: ["hotline"], signingKeyPem: overrider.privateKeyPem })),
    );
    expect(written.map((w) => w.release).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(decisions.map((_, i) => i + 1));
    const file = await readOverridesFile(store);
    expect(file?.header?.release).toBe(12);
    expect(file?.overrides.map((o) => o.why).sort()).toEqual(decisions.map((o) => o.why).sort());
    expect((await loadHashSet(store, { ...roles })).overridesProvenance).toMatchObject({
      count: 12,
      release: 12,
      signedBy: overriderId,
    });
  });
});

describe("overrides under trusted keys", () => {
  // Issue 16 item 10: an unsigned overrides file beside a signed list allowed every entry; a listed image turned
  // unseen and hashset verify still said "OK, signed".
  it("refuses an unsigned overrides file beside a signed list (the list is not loaded)", async () => {
    const store = signedList("unsigned.phs", "hotline");
    expect((await statusOf(store, { ...roles })).status).toBe("known");
    writeFileSync(`${store}.overrides.ndjson`, JSON.stringify(allow) + "\n");
    await expect(loadHashSet(store, { ...roles })).rejects.toMatchObject({
      code: "PHM_HASHSET_SIGNATURE",
      message: expect.stringContaining("not signed"),
    });
    // without trusted keys it is used as before, and known to be unsigned
    const loaded = await loadHashSet(store);
    expect(loaded.overridesProvenance).toMatchObject({ count: 1 });
    expect(loaded.overridesProvenance?.signedBy).toBeUndefined();
    expect((await statusOf(store, {})).status).toBe("unseen");
  });

  it("applies overrides signed by a trusted key, and every hit they set aside says which release and key", async () => {
    const store = signedList("signed.phs", "hotline");
    const written = await addOverride(store, allow, { lists: ["hotline"], signingKeyPem: overrider.privateKeyPem });
    expect(written).toMatchObject({ release: 1, signedBy: overriderId, unsigned: false });
    const file = await readOverridesFile(store);
    expect(file?.header).toEqual({ type: "overrides", release: 1, lists: ["hotline"] });
    const loaded = await loadHashSet(store, { ...roles });
    expect(loaded.overridesProvenance).toMatchObject({
      count: 1,
      release: 1,
      lists: ["hotline"],
      signedBy: overriderId,
      sha256: createHash("sha256")
        .update(readFileSync(`${store}.overrides.ndjson`))
        .digest("hex"),
    });
    // the gate's answers come from checkerFor: the allow turned a match into no_match, and the result says so
    const result = checkerFor([loaded]).matchRecord({ path: "upload", hashes: { md5: LISTED } });
    expect(result).toMatchObject({ decision: "no_match", status: "unseen" });
    expect(result.matches).toEqual([
      expect.objectContaining({
        list: "hotline",
        entryId: "E1",
        override: {
          action: "allow",
          who: "reviewer",
          when: allow.when,
          why: allow.why,
          release: 1,
          signedBy: overriderId,
        },
      }),
    ]);
  });

  it("refuses overrides signed by an untrusted key, altered after signing, or signed without a binding", async () => {
    const store = signedList("wrong.phs", "hotline");
    await addOverride(store, allow, { lists: ["hotline"], signingKeyPem: stranger.privateKeyPem });
    await expect(loadHashSet(store, { ...roles })).rejects.toMatchObject({
      code: "PHM_HASHSET_SIGNATURE",
      message: expect.stringContaining("not among the trusted keys"),
    });

    await signOverrides(store, overrider.privateKeyPem, ["hotline"]);
    await expect(loadHashSet(store, { ...roles })).resolves.toBeDefined();
    const path = `${store}.overrides.ndjson`;
    writeFileSync(path, readFileSync(path, "utf8").replace("ticket 4", "ticket 5"));
    await expect(loadHashSet(store, { ...roles })).rejects.toMatchObject({
      code: "PHM_HASHSET_SIGNATURE",
      message: expect.stringContaining("does not match its signature"),
    });

    // a file without a header (as written before releases), signed as it is: bound to nothing, refused
    const legacy = JSON.stringify(allow) + "\n";
    writeFileSync(path, legacy);
    writeFileSync(`${path}.sig`, signStore(Buffer.from(legacy), overrider.privateKeyPem));
    await expect(loadHashSet(store, { ...roles })).rejects.toMatchObject({
      code: "PHM_HASHSET_SIGNATURE",
      message: expect.stringContaining("no header"),
    });
  });

  it("refuses signed overrides moved beside a list they are not bound to", async () => {
    const hotline = signedList("bound-hotline.phs", "hotline");
    const test = signedList("bound-test.phs", "hotline-test");
    await addOverride(
      test,
      { ...allow, listId: "hotline-test" },
      { lists: ["hotline-test"], signingKeyPem: overrider.privateKeyPem },
    );
    copyFileSync(`${test}.overrides.ndjson`, `${hotline}.overrides.ndjson`);
    copyFileSync(`${test}.overrides.ndjson.sig`, `${hotline}.overrides.ndjson.sig`);
    await expect(loadHashSet(hotline, { ...roles })).rejects.toMatchObject({
      code: "PHM_HASHSET_SIGNATURE",
      message: expect.stringContaining("bound to list(s) hotline-test"),
    });
    await expect(loadHashSet(test, { ...roles })).resolves.toBeDefined();
  });

  it(
    "refuses an older signed release replayed once the rollback " +
      "state has seen a newer one; nothing is recorded read-only",
    async () => {
      const store = signedList("replay.phs", "hotline");
      const state = new RollbackState(join(tmp, "state-replay"));
      const path = `${store}.overrides.ndjson`;
      await addOverride(store, allow, { lists: ["hotline"], signingKeyPem: overrider.privateKeyPem });
      const release1 = [readFileSync(path), readFileSync(`${path}.sig`)] as const;
      expect((await statusOf(store, { ...roles, versionState: state })).status).toBe("unseen");
      expect(state.overridesRelease(["hotline"])).toBe(1);
      // The reviewer withdraws the allow (an appeal reversed): release 2, signed.
      await removeOverride(store, 0, { lists: ["hotline"], signingKeyPem: overrider.privateKeyPem });
      expect((await readOverridesFile(store))?.header?.release).toBe(2);
      const readOnly = new RollbackState(join(tmp, "state-replay"), { readOnly: true });
      await loadHashSet(store, { ...roles, versionState: readOnly });
      expect(state.overridesRelease(["hotline"])).toBe(1); // a read-only check moves nothing
      expect((await statusOf(store, { ...roles, versionState: state })).status).toBe("known");
      expect(state.overridesRelease(["hotline"])).toBe(2);
      // Someone puts release 1 (validly signed) back to bring the allow back.
      writeFileSync(path, release1[0]);
      writeFileSync(`${path}.sig`, release1[1]);
      await expect(loadHashSet(store, { ...roles, versionState: state })).rejects.toMatchObject({
        code: "PHM_HASHSET_ROLLBACK",
        message: expect.stringContaining("release 1"),
      });
      await expect(loadHashSet(store, { ...roles, versionState: state, allowRollback: true })).resolves.toBeDefined();
      expect(state.overridesRelease(["hotline"])).toBe(2);
    },
  );

  it(
    "a change without a signing key leaves the file unsigned " +
      "(the stale signature removed), and refused under trusted keys",
    async () => {
      const store = signedList("unsign.phs", "hotline");
      await addOverride(store, allow, { lists: ["hotline"], signingKeyPem: overrider.privateKeyPem });
      const written = await addOverride(
        store,
        { ...allow, action: "disable", why: "entry under dispute" },
        { lists: ["hotline"] },
      );
      expect(written).toMatchObject({ release: 2, unsigned: true });
      await expect(loadHashSet(store, { ...roles })).rejects.toMatchObject({
        code: "PHM_HASHSET_SIGNATURE",
        message: expect.stringContaining("not signed"),
      });
      await expect(addOverride(store, allow, { lists: ["other"] })).rejects.toMatchObject({ code: "PHM_USAGE" });
    },
  );
});

// Issue 16 item 9: an empty --trusted-keys file (or PHMATCH_TRUSTED_KEYS=' ') turned signature checks off.
describe("trusted keys that are asked for", () => {
  it("an empty key list is refused, never taken as 'no checks'", async () => {
    const builder = new HashSetBuilder();
    builder.addList({ listId: "forged", version: 1 });
    const store = join(tmp, "forged.phs");
    writeFileSync(store, serializeStore(builder)); // no signature at all
    await expect(loadHashSet(store, { trustedKeys: [] })).rejects.toMatchObject({ code: "PHM_USAGE" });
    await expect(loadHashSet(store, { trustedKeys: trusted })).rejects.toMatchObject({ code: "PHM_HASHSET_SIGNATURE" });
  });

  it("a key text without a usable Ed25519 public key is refused", () => {
    expect(() => parseTrustedKeys("")).toThrow(expect.objectContaining({ code: "PHM_USAGE" }));
    expect(() => parseTrustedKeys(" \n")).toThrow(expect.objectContaining({ code: "PHM_USAGE" }));
    expect(() => parseTrustedKeys("-----BEGIN PUBLIC KEY-----\nnot base64 at all\n-----END PUBLIC KEY-----\n")).toThrow(
      expect.objectContaining({ code: "PHM_USAGE" }),
    );
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
      .publicKey.export({ type: "spki", format: "pem" })
      .toString();
    expect(() => parseTrustedKeys(rsa, "keys.pem")).toThrow(
      expect.objectContaining({ code: "PHM_USAGE", message: expect.stringContaining("not Ed25519") }),
    );
    expect(parseTrustedKeys(signer.publicKeyPem + stranger.publicKeyPem)).toHaveLength(2);
  });
});

// Issue 21: overrides are signed by an overrides key, a role of its own, and name the release they were decided about.
describe("the overrides key role", () => {
  it("refuses a key given as both a list key and an overrides key", async () => {
    const store = signedList("roles-both.phs", "hotline");
    await expect(
      loadHashSet(store, { trustedKeys: trusted, trustedOverrideKeys: [...overrideKeys, ...trusted] }),
    ).rejects.toMatchObject({ code: "PHM_USAGE", message: expect.stringContaining("a key has one role") });
    await expect(loadHashSet(store, { trustedKeys: trusted, trustedOverrideKeys: [] })).rejects.toMatchObject({
      code: "PHM_USAGE",
    });
  });

  it("refuses overrides signed by a list key, and a list signed by an overrides key, naming the role", async () => {
    const store = signedList("roles-list-key.phs", "hotline");
    await addOverride(store, allow, { lists: ["hotline"], signingKeyPem: signer.privateKeyPem });
    await expect(loadHashSet(store, roles)).rejects.toMatchObject({
      code: "PHM_HASHSET_SIGNATURE",
      message: expect.stringContaining("a list key (role: lists)"),
    });

    const forged = join(tmp, "roles-forged.phs");
    copyFileSync(signedList("roles-source.phs", "hotline"), forged);
    writeFileSync(`${forged}.sig`, signStore(readFileSync(forged), overrider.privateKeyPem));
    await expect(loadHashSet(forged, roles)).rejects.toMatchObject({
      code: "PHM_HASHSET_SIGNATURE",
      message: expect.stringContaining("an overrides key (role: overrides)"),
    });
  });

  it("list keys, signed overrides, no overrides keys configured: refused, saying what to configure", async () => {
    const store = signedList("roles-none.phs", "hotline");
    await addOverride(store, allow, { lists: ["hotline"], signingKeyPem: overrider.privateKeyPem });
    await expect(loadHashSet(store, { trustedKeys: trusted })).rejects.toMatchObject({
      code: "PHM_HASHSET_SIGNATURE",
      message: expect.stringContaining("trustedOverrideKeys"),
    });
    expect((await statusOf(store, roles)).status).toBe("unseen");
  });

  it("applies an override only to the release it names; another keeps matching, and the load says why", async () => {
    const store = signedList("roles-release.phs", "hotline", 3);
    const about = (listVersion: number): Override => ({ ...allow, listId: "hotline", listVersion });
    await addOverride(store, about(2), { lists: ["hotline"], signingKeyPem: overrider.privateKeyPem });
    const loaded = await loadHashSet(store, roles);
    expect(loaded.overrides).toEqual([]);
    expect(loaded.overridesNotApplied).toEqual([
      expect.stringContaining("list hotline release 2, and release 3 is loaded: not applied"),
    ]);
    expect(new Matcher([loaded]).match({ path: "upload", hashes: { md5: LISTED } }).status).toBe("known");

    await removeOverride(store, 0, { lists: ["hotline"], signingKeyPem: overrider.privateKeyPem });
    await addOverride(store, about(3), { lists: ["hotline"], signingKeyPem: overrider.privateKeyPem });
    const now = await loadHashSet(store, roles);
    expect(now.overridesNotApplied).toBeUndefined();
    expect(new Matcher([now]).match({ path: "upload", hashes: { md5: LISTED } }).status).toBe("unseen");
    // A release without its list is not an override (checked when written).
    const { listId: _listId, ...withoutList } = allow;
    await expect(
      addOverride(store, withoutList, { lists: ["hotline"], signingKeyPem: overrider.privateKeyPem }),
    ).rejects.toMatchObject({ code: "PHM_USAGE", message: expect.stringContaining('"listVersion" without "listId"') });
  });

  it("sets aside a signed override that names no release (written before overrides named one)", async () => {
    const store = signedList("roles-no-release.phs", "hotline", 3);
    const { listId: _listId, listVersion: _listVersion, ...legacy } = allow;
    await addOverride(store, legacy, { lists: ["hotline"], signingKeyPem: overrider.privateKeyPem });
    const loaded = await loadHashSet(store, roles);
    expect(loaded.overrides).toEqual([]);
    expect(loaded.overridesNotApplied).toEqual([expect.stringContaining("names no list release")]);
    expect(new Matcher([loaded]).match({ path: "upload", hashes: { md5: LISTED } }).status).toBe("known");
    // Unsigned, with no keys configured (nothing is trusted anyway), it still applies as before.
    rmSync(`${store}.overrides.ndjson.sig`);
    expect((await statusOf(store, {})).status).toBe("unseen");
  });
});

// The .phs loader under fuzzing: stores built from generated valid lists round-trip exactly; damaged stores
// (bytes flipped anywhere, cut at any offset, bytes inserted, length fields made huge; plain, signed, encrypted)
// are refused with PHM_HASHSET_FORMAT / _SIGNATURE / _KEY and nothing else; and stores damaged *behind* a
// recomputed trailer (which anyone can write) either load whole and read without surprises or are refused with
// PHM_HASHSET_FORMAT. Every failure must be a PhmatchError with one of the expected codes: a TypeError, RangeError
// or SyntaxError is a bug. fast-check prints the seed and path of a failure, so a case replays.
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  generateSigningKeys,
  type HashSet,
  HashSetBuilder,
  type HashSetEntry,
  loadHashSet,
  Matcher,
  PhmatchError,
  parseStore,
  parseTrustedKeys,
  serializeStore,
  signStore,
  type Withdrawal,
} from "@phmatch/core";
import { encryptStore, exportCsv, exportNdjson, ListVersionState } from "@phmatch/core/internal";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { applyMutations, mutations } from "./support/list-mutations.js";

const tmp = mkdtempSync(join(tmpdir(), "phmatch-store-fuzz-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
/** fast-check options: runs scaled by PHMATCH_FUZZ_SCALE, the seed fixed unless PHMATCH_FUZZ_SEED is given. */
const FUZZ = {
  // npm test runs 0.4 of it (80 runs); npm run test:fuzz 20x (4,000).
  numRuns: Math.ceil(200 * Number(process.env.PHMATCH_FUZZ_SCALE ?? 0.4)),
  seed: Number(process.env.PHMATCH_FUZZ_SEED ?? 20_251_201),
};

const BYTES: Record<string, number> = {
  md5: 16,
  sha1: 20,
  sha256: 32,
  pdq: 32,
  phash: 8,
  dhash: 8,
  photodna: 144,
  blockhash: 32,
};
const text = fc.string({ maxLength: 12, unit: fc.constantFrom("a", "b", "é", "\u0000", '"', "\\", "\n", "🦉", " ") });

/** A generated builder: lists, entries (some duplicated) and withdrawals, with what it must hold. */
const generatedStore = fc
  .record({
    lists: fc.uniqueArray(
      fc.record({
        listId: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/),
        version: fc.nat(1000),
        name: fc.option(text, { nil: undefined }),
      }),
      { minLength: 1, maxLength: 3, selector: (l) => l.listId },
    ),
    entries: fc.array(
      fc.record({
        algorithm: fc.constantFrom(...Object.keys(BYTES)),
        list: fc.nat(),
        entryId: fc.option(text, { nil: undefined }),
        category: fc.option(text, { nil: undefined }),
        tags: fc.option(fc.array(text, { maxLength: 3 }), { nil: undefined }),
        seed: fc.nat(40),
      }),
      { maxLength: 30 },
    ),
    withdrawals: fc.array(fc.record({ byValue: fc.boolean(), list: fc.nat(), seed: fc.nat(40), entryId: text }), {
      maxLength: 5,
    }),
  })
  .map(({ lists, entries, withdrawals }) => {
    const builder = new HashSetBuilder();
    for (const list of lists)
      builder.addList(
        list.name === undefined ? { listId: list.listId, version: list.version } : { ...list, name: list.name },
      );
    // Values from a small seed space, so that duplicates occur.
    const value = (algorithm: string, seed: number) =>
      new Uint8Array(
        Buffer.concat([0, 1, 2].map((i) => createHash("sha512").update(`${algorithm}:${seed}:${i}`).digest())).subarray(
          0,
          BYTES[algorithm] as number,
        ),
      );
    const kept: HashSetEntry[] = [];
    for (const e of entries) {
      const entry: HashSetEntry = {
        algorithm: e.algorithm,
        value: value(e.algorithm, e.seed),
        listId: (lists[e.list % lists.length] as { listId: string }).listId,
      };
      if (e.entryId !== undefined) entry.entryId = e.entryId;
      if (e.category !== undefined) entry.category = e.category;
      if (e.tags !== undefined) entry.fields = { tags: e.tags };
      if (builder.addEntry(entry)) kept.push(entry);
    }
    const withdrawn: Withdrawal[] = [];
    for (const w of withdrawals) {
      const listId = (lists[w.list % lists.length] as { listId: string }).listId;
      const withdrawal: Withdrawal = w.byValue
        ? { algorithm: "md5", value: value("md5", w.seed), listId }
        : { listId, entryId: w.entryId };
      if (builder.addWithdrawal(withdrawal)) withdrawn.push(withdrawal);
    }
    return { builder, kept, withdrawn, lists };
  });

const plain = (e: HashSetEntry) => ({ ...e, value: hex(e.value) });
const byKey = (a: { algorithm: string; value: string }, b: { algorithm: string; value: string }) =>
  a.algorithm + a.value < b.algorithm + b.value ? -1 : 1;

/** A PhmatchError with one of `codes`; anything else (TypeError, RangeError, SyntaxError, ...) fails the property. */
function expectTyped(error: unknown, codes: string[]): void {
  if (!(error instanceof PhmatchError) || !codes.includes(error.code)) {
    throw new Error(
      `expected a PhmatchError ${codes.join(" | ")}, got ` +
        `${error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error)}`,
      { cause: error },
    );
  }
}

/** A loaded set must read whole: every entry, the withdrawals, both exports; or fail only with PHM_HASHSET_FORMAT. */
function readWhole(set: HashSet): void {
  let counted = 0;
  for (const algorithm of set.algorithms) {
    const packed = set.packed(algorithm);
    expect(packed.values.length).toBe(packed.count * packed.bytesPerValue);
    counted += packed.count;
  }
  expect(set.size).toBe(counted);
  set.withdrawals();
  try {
    for (const entry of set.entries()) expect(set.lists.some((l) => l.listId === entry.listId)).toBe(true);
    [...exportNdjson(set)];
    [...exportCsv(set)];
  } catch (error) {
    expectTyped(error, ["PHM_HASHSET_FORMAT"]);
  }
}

const reseal = (bytes: Uint8Array) => {
  const body = Buffer.from(bytes.subarray(0, Math.max(0, bytes.length - 32)));
  return Buffer.concat([body, createHash("sha256").update(body).digest()]);
};

/** Values a hostile header puts where numbers, text, arrays and objects belong. */
const hostileJson = fc.constantFrom<unknown>(
  null,
  -1,
  0,
  0.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  1e308,
  -0,
  "",
  "12",
  "x".repeat(300),
  [],
  [null],
  {},
  { offset: 0 },
  true,
  "__proto__",
);

/** Every path into a JSON value, as lists of keys. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const here = [prefix];
  if (Array.isArray(value)) return here.concat(value.flatMap((v, i) => paths(v, [...prefix, i])));
  if (typeof value === "object" && value !== null)
    return here.concat(Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k])));
  return here;
}

/** The store with one header field set to `replacement` (or deleted), the header rewritten in place. */
function withHeaderChange(store: Buffer, pick: number, replacement: unknown, remove: boolean): Buffer {
  const length = store.readUInt32LE(8);
  const header = JSON.parse(store.subarray(12, 12 + length).toString()) as unknown;
  const all = paths(header);
  const path = all[pick % all.length] as (string | number)[];
  let changed: unknown = replacement;
  if (path.length > 0) {
    changed = header;
    let parent = header as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const last = path.at(-1) as string | number;
    if (remove) delete parent[last];
    else parent[last] = replacement;
  }
  const text = Buffer.from(JSON.stringify(changed) ?? "");
  // Shorter: padded in place, so the sections stay where the header says; longer: the sections shift.
  const padded = text.length <= length ? Buffer.concat([text, Buffer.alloc(length - text.length, 0x20)]) : text;
  const size = Buffer.alloc(4);
  size.writeUInt32LE(padded.length);
  return reseal(Buffer.concat([store.subarray(0, 8), size, padded, store.subarray(12 + length)]));
}

describe(".phs stores of generated lists", () => {
  it("round-trip exactly: entries with their lists, ids, categories and fields, withdrawals, lists", () => {
    fc.assert(
      fc.property(generatedStore, ({ builder, kept, withdrawn, lists }) => {
        const set = parseStore(serializeStore(builder), "gen.phs");
        expect([...set.entries()].map(plain).sort(byKey)).toEqual(kept.map(plain).sort(byKey));
        expect(set.withdrawals().map((w) => ({ ...w, value: w.value && hex(w.value) }))).toEqual(
          withdrawn.map((w) => ({ ...w, value: w.value && hex(w.value) })),
        );
        expect(set.lists.map((l) => l.listId)).toEqual(lists.map((l) => l.listId));
        readWhole(set);
      }),
      FUZZ,
    );
  });
});

describe(".phs stores, damaged", () => {
  const keys = generateSigningKeys();
  const trusted = parseTrustedKeys(keys.publicKeyPem);
  // Overrides are signed by an overrides key, a role of its own (a list key signing them is refused).
  const overridesKeys = generateSigningKeys();
  const trustedOverrides = parseTrustedKeys(overridesKeys.publicKeyPem);
  const key = randomBytes(32);
  const damage = fc.oneof(
    mutations(4),
    fc
      .record({ at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) })
      .map(({ at, mask }) => [{ kind: "flip" as const, at, byte: mask }]),
  );

  it("anywhere (trailer, header, sections): refused with PHM_HASHSET_FORMAT, or _SIGNATURE when signed", async () => {
    const file = join(tmp, "damaged.phs");
    await fc.assert(
      fc.asyncProperty(generatedStore, damage, fc.boolean(), async ({ builder }, ms, signed) => {
        const good = serializeStore(builder);
        const bytes = applyMutations(good, ms);
        if (bytes.equals(good)) return; // a mutation that changed nothing (a byte set to its own value)
        expect(() => parseStore(bytes, "damaged.phs")).toThrow(expect.objectContaining({ code: "PHM_HASHSET_FORMAT" }));
        writeFileSync(file, bytes);
        writeFileSync(`${file}.sig`, signStore(good, keys.privateKeyPem));
        const error = await loadHashSet(file, signed ? { trustedKeys: trusted } : {}).then(
          () => undefined,
          (e: unknown) => e,
        );
        expectTyped(error, [signed ? "PHM_HASHSET_SIGNATURE" : "PHM_HASHSET_FORMAT"]);
      }),
      FUZZ,
    );
  });

  it("encrypted, anywhere: refused with PHM_HASHSET_FORMAT or _KEY, and the rollback state is left alone", async () => {
    const file = join(tmp, "damaged-encrypted.phs");
    const stateDir = join(tmp, "state-damaged-encrypted");
    await fc.assert(
      fc.asyncProperty(generatedStore, damage, async ({ builder }, ms) => {
        const good = encryptStore(serializeStore(builder), key, builder.lists);
        const bytes = applyMutations(good, ms);
        if (bytes.equals(good)) return;
        writeFileSync(file, bytes);
        const state = new ListVersionState(stateDir);
        const error = await loadHashSet(file, { key, versionState: state }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expectTyped(error, ["PHM_HASHSET_FORMAT", "PHM_HASHSET_KEY", "PHM_HASHSET_ROLLBACK"]);
        for (const list of builder.lists) expect(state.highest(list.listId)).toBeUndefined();
      }),
      FUZZ,
    );
  });

  it(
    "behind a recomputed trailer (bytes): loads whole and reads " +
      "without surprises, or is refused with PHM_HASHSET_FORMAT",
    () => {
      fc.assert(
        fc.property(generatedStore, damage, ({ builder }, ms) => {
          const bytes = reseal(applyMutations(serializeStore(builder), ms));
          let set: HashSet;
          try {
            set = parseStore(bytes, "resealed.phs");
          } catch (error) {
            expectTyped(error, ["PHM_HASHSET_FORMAT"]);
            return;
          }
          readWhole(set);
        }),
        { numRuns: FUZZ.numRuns * 2 },
      );
    },
  );

  it(
    "behind a recomputed trailer (header fields set to hostile values " +
      "or deleted, huge lengths): the same, and nothing huge is allocated",
    () => {
      fc.assert(
        fc.property(generatedStore, fc.nat(), hostileJson, fc.boolean(), ({ builder }, pick, replacement, remove) => {
          const bytes = withHeaderChange(serializeStore(builder), pick, replacement, remove);
          const before = process.memoryUsage().arrayBuffers;
          let set: HashSet;
          try {
            set = parseStore(bytes, "header.phs");
          } catch (error) {
            expectTyped(error, ["PHM_HASHSET_FORMAT"]);
            return;
          }
          readWhole(set);
          // A safety net, not a measurement: a length taken from the header must never size an allocation.
          expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
        }),
        { numRuns: FUZZ.numRuns * 2 },
      );
    },
  );

  it(
    "signed after the damage (the signer's own mistake): " + "the signature verifies, the store is still checked",
    async () => {
      const file = join(tmp, "signed-damaged.phs");
      await fc.assert(
        fc.asyncProperty(
          generatedStore,
          fc.nat(),
          hostileJson,
          fc.boolean(),
          async ({ builder }, pick, replacement, remove) => {
            const bytes = withHeaderChange(serializeStore(builder), pick, replacement, remove);
            writeFileSync(file, bytes);
            writeFileSync(`${file}.sig`, signStore(bytes, keys.privateKeyPem));
            try {
              readWhole((await loadHashSet(file, { trustedKeys: trusted })).set);
            } catch (error) {
              expectTyped(error, ["PHM_HASHSET_FORMAT"]);
            }
          },
        ),
        { numRuns: Math.ceil(FUZZ.numRuns / 2) },
      );
    },
  );

  it(
    "beside it (.sig, overrides, rollback state), damaged: the lists " +
      "load and a Matcher is built, or a typed error says which file",
    async () => {
      const builder = new HashSetBuilder();
      builder.addList({ listId: "B", version: 5 });
      builder.addEntry({ algorithm: "md5", value: new Uint8Array(16).fill(9), listId: "B" });
      const store = serializeStore(builder);
      const hash = "09".repeat(16);
      // Signed and bound to the store's list, as trusted keys require; a damaged copy is refused as unparseable or
      // as not matching its signature.
      const overrides = Buffer.from(
        [
          { type: "overrides", release: 1, lists: ["B"] },
          {
            action: "disable",
            algorithm: "md5",
            hash,
            who: "reviewer",
            when: "2025-01-01T00:00:00Z",
            why: "appeal upheld",
          },
          { action: "allow", algorithm: "md5", hash, listId: "B", entryId: "e", who: "w", when: "t", why: "y" },
        ]
          .map((o) => JSON.stringify(o) + "\n")
          .join(""),
      );
      const sig = Buffer.from(signStore(store, keys.privateKeyPem));
      const overridesSig = signStore(overrides, overridesKeys.privateKeyPem);
      const state = Buffer.from(JSON.stringify({ B: 4, other: 2 }));
      const file = join(tmp, "beside.phs");
      const stateDir = join(tmp, "state-beside");
      writeFileSync(file, store);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom("overrides", "sig", "state"), mutations(4), async (which, ms) => {
          writeFileSync(`${file}.overrides.ndjson`, which === "overrides" ? applyMutations(overrides, ms) : overrides);
          writeFileSync(`${file}.overrides.ndjson.sig`, overridesSig);
          writeFileSync(`${file}.sig`, which === "sig" ? applyMutations(sig, ms) : sig);
          rmSync(stateDir, { recursive: true, force: true });
          mkdirSync(stateDir);
          writeFileSync(join(stateDir, "list-versions.json"), which === "state" ? applyMutations(state, ms) : state);
          try {
            const loaded = await loadHashSet(file, {
              trustedKeys: trusted,
              trustedOverrideKeys: trustedOverrides,
              versionState: new ListVersionState(stateDir),
            });
            new Matcher([loaded]);
          } catch (error) {
            expectTyped(
              error,
              {
                overrides: ["PHM_HASHSET_PARSE", "PHM_HASHSET_SIGNATURE"],
                sig: ["PHM_HASHSET_SIGNATURE"],
                state: ["PHM_HASHSET_FORMAT", "PHM_HASHSET_ROLLBACK"],
              }[which],
            );
          }
        }),
        FUZZ,
      );
    },
  );
});

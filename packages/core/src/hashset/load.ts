import { createHash, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { PhmatchError } from "../errors/index.js";
import { hasherSpec } from "../hashers/index.js";
import { decryptStore, encryptedStoreLists, isEncryptedStore } from "./encryption.js";
import { HashSet } from "./hash-set.js";
import { detectFormatOfText } from "./import.js";
import {
  checkOverrides,
  type Override,
  type OverridesProvenance,
  overridesForRelease,
  readOverridesFile,
} from "./overrides.js";
import { keyId, verifyStore } from "./signature.js";
import {
  type AlgorithmSection,
  checkedListInfo,
  checkedProvenance,
  type ListInfo,
  PHS_FORMAT_VERSION,
  PHS_MAGIC,
  type PhsHeader,
  type SectionRef,
} from "./store-format.js";
import type { RollbackState } from "./version-state.js";

/** How to load a store: which keys to trust, the decryption key, rollback state. */
export interface LoadOptions {
  /**
   * When given, the store (and any overrides beside it) must carry a valid detached signature by one of these keys.
   * An empty array is refused (PHM_USAGE): asking for signature checks with no key to check against must never
   * quietly load an unsigned list.
   */
  trustedKeys?: KeyObject[];
  /**
   * The keys whose signatures over the overrides beside a store are trusted: the overrides role, never the same
   * key as a list key (given in both: PHM_USAGE). A store signed by one of them is refused; see
   * {@link OverridesCheck}.
   */
  trustedOverrideKeys?: KeyObject[];
  /** Key of an encrypted store. */
  key?: Buffer;
  /** Rollback protection (list versions, signed overrides releases); omitted = not checked. */
  versionState?: RollbackState;
  allowRollback?: boolean;
  /**
   * Largest store accepted from a list server (an http(s) URL), in bytes; default 2 GiB (a 10-million-entry PDQ
   * store is about 0.6 GiB). The response is read in chunks and refused as soon as it goes over, so a hostile or
   * broken server cannot make the loader allocate what it likes.
   */
  maxUrlBytes?: number;
}

/** Default of {@link LoadOptions.maxUrlBytes}. */
export const DEFAULT_MAX_URL_BYTES = 2 * 1024 ** 3;
/** A detached signature is a few hundred bytes; more is not one. */
const MAX_SIGNATURE_BYTES = 64 * 1024;

/** A loaded store and how it was verified. */
export interface LoadedHashSet {
  set: HashSet;
  path: string;
  /** SHA-256 of the store file's bytes as read (reports name the exact list file used). */
  storeSha256: string;
  /** Id of the key whose signature was verified, if keys were configured. */
  signedBy?: string;
  encrypted: boolean;
  /** Local overrides beside the store (`<store>.overrides.ndjson`). */
  overrides: Override[];
  /** The overrides file, when there is one: release, binding, signing key (see {@link checkOverrides}). */
  overridesProvenance?: OverridesProvenance;
  /** Overrides made about another release of their list than the one loaded: not applied, and why (warnings). */
  overridesNotApplied?: string[];
}

/**
 * Loads a `.phs` store (a file, or an http(s) URL of a list server), all or nothing: signature first (over the
 * bytes on disk, when trusted keys are given), then decryption, then the store's own SHA-256 trailer and header,
 * then rollback protection, then the overrides beside it (signed and bound to its lists when trusted keys are
 * given). Any failure throws (PHM_HASHSET_SIGNATURE / _KEY / _FORMAT / _ROLLBACK); a half-loaded list is never
 * returned.
 */
export async function loadHashSet(path: string, options: LoadOptions = {}): Promise<LoadedHashSet> {
  if (options.trustedKeys !== undefined && options.trustedKeys.length === 0) {
    throw new PhmatchError(
      "PHM_USAGE",
      `trusted keys were asked for but none was given, so ${path} cannot be checked: ` +
        `give at least one public key (or omit trustedKeys to load unverified)`,
    );
  }
  checkKeyRoles(options);
  const url = isListUrl(path);
  const bytes = await (url ? fetchBytes(path, options.maxUrlBytes ?? DEFAULT_MAX_URL_BYTES) : readFile(path)).catch(
    (error: unknown) => {
      if (error instanceof PhmatchError) throw error;
      const missing = url || ["ENOENT", "ENOTDIR"].includes((error as NodeJS.ErrnoException).code ?? "");
      throw new PhmatchError(
        missing ? "PHM_FILE_NOT_FOUND" : "PHM_FILE_UNREADABLE",
        `cannot read hash set ${path}: ${(error as Error).message}`,
        { path, cause: error },
      );
    },
  );
  let signedBy: string | undefined;
  if (options.trustedKeys !== undefined) {
    const signature = await (url
      ? fetchBytes(`${path}.sig`, MAX_SIGNATURE_BYTES).then((b) => b.toString("utf8"))
      : readFile(`${path}.sig`, "utf8")
    ).catch(() => undefined);
    const overrideKeyIds = new Set((options.trustedOverrideKeys ?? []).map(keyId));
    const signer = signature === undefined ? undefined : signerOf(signature);
    if (signer !== undefined && overrideKeyIds.has(signer))
      throw new PhmatchError(
        "PHM_HASHSET_SIGNATURE",
        `${path} is signed by key ${signer}, an overrides key (role: overrides): a list must be signed by a list ` +
          "key (role: lists, trustedKeys): refused, the list was not loaded",
        { path },
      );
    signedBy = verifyStore(bytes, signature, options.trustedKeys, path);
  }
  const encrypted = isEncryptedStore(bytes);
  if (encrypted && options.versionState !== undefined) {
    // Versions are in the clear header: refuse a rollback before decrypting anything. They are not recorded yet:
    // until decryption has authenticated the header, they may be anyone's (recording an altered "version 999"
    // would refuse every genuine release after it).
    options.versionState.check(encryptedStoreLists(bytes, path), path, options.allowRollback);
  }
  const plain = encrypted ? decryptStore(bytes, options.key, path) : bytes;
  const { set, sha256 } = parseStoreWithDigest(plain, path);
  if (options.versionState !== undefined) options.versionState.admit(set.lists, path, options.allowRollback);
  // The file's SHA-256 (what reports cite): for a plain store, the pass that checked its trailer gave it already.
  const storeSha256 = encrypted ? createHash("sha256").update(bytes).digest("hex") : sha256;
  // Overrides are a machine's own decisions, kept beside a local store; a list fetched from a URL has none.
  const overrides = url ? undefined : await readOverridesFile(path);
  const provenance =
    overrides === undefined
      ? undefined
      : await checkOverrides(
          overrides,
          set.lists.map((l) => l.listId),
          options,
          path,
        );
  // Signed overrides (checked against overrides keys) must each name the release they were decided about.
  const { applied, notApplied } = overridesForRelease(overrides?.overrides ?? [], set.lists, path, {
    requireRelease: provenance?.signedBy !== undefined,
  });
  const loaded: LoadedHashSet = { set, path, storeSha256, encrypted, overrides: applied };
  if (provenance !== undefined) loaded.overridesProvenance = provenance;
  if (notApplied.length > 0) loaded.overridesNotApplied = notApplied;
  if (signedBy !== undefined) loaded.signedBy = signedBy;
  return loaded;
}

/** True for a store given as an http:// or https:// URL (a shared list server); its signature is at URL + ".sig". */
export function isListUrl(path: string): boolean {
  return /^https?:\/\//i.test(path);
}

// A store from a list server, held in memory like a file read: the signature, trailer and rollback checks that
// follow are the same, so plain HTTP is as safe as a file once trusted keys are required.
async function fetchBytes(url: string, limit: number): Promise<Buffer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(120_000), redirect: "follow" });
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
  const tooLarge = () =>
    new PhmatchError(
      "PHM_HASHSET_FORMAT",
      `${url} sends more than ${limit} bytes, more than a list (or its signature) may be; ` +
        `raise maxUrlBytes if the list is really that large`,
      { path: url },
    );
  if (Number(response.headers.get("content-length") ?? 0) > limit) {
    await response.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += (chunk as Uint8Array).length;
    if (size > limit) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(chunk as Uint8Array);
  }
  return Buffer.concat(chunks, size);
}

/** Parses the bytes of a plain store, checking magic, SHA-256 trailer, version and section bounds. */
export function parseStore(bytes: Buffer, what: string): HashSet {
  return parseStoreWithDigest(bytes, what).set;
}

// parseStore, also giving the SHA-256 of all the bytes from the same pass that checks the trailer (the body's
// hash, copied, then continued over the trailer), so a large store is hashed once, not twice.
function parseStoreWithDigest(bytes: Buffer, what: string): { set: HashSet; sha256: string } {
  const damaged = (why: string) =>
    new PhmatchError(
      "PHM_HASHSET_FORMAT",
      `${what} is not a valid .phs store: ${why}; get the list again from its source, or rebuild it`,
    );
  if (bytes.length < PHS_MAGIC.length + 4 + 32 || !bytes.subarray(0, PHS_MAGIC.length).equals(PHS_MAGIC)) {
    throw new PhmatchError("PHM_HASHSET_FORMAT", `${what} is not a .phs store: ${whatItIs(bytes)}`, {
      path: what,
      optionNames: ["importHashSet", "key"],
    });
  }
  const body = bytes.subarray(0, bytes.length - 32);
  const hash = createHash("sha256").update(body);
  const trailer = bytes.subarray(bytes.length - 32);
  if (!hash.copy().digest().equals(trailer)) {
    throw damaged("its SHA-256 does not match: the file was altered, truncated or damaged");
  }
  const headerLength = bytes.readUInt32LE(PHS_MAGIC.length);
  const headerEnd = PHS_MAGIC.length + 4 + headerLength;
  if (headerEnd > body.length) throw damaged(`its header length (${headerLength} bytes) runs past the end of the file`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.subarray(PHS_MAGIC.length + 4, headerEnd).toString("utf8"));
  } catch {
    throw damaged("its header is not valid JSON");
  }
  const header = checkedHeader(parsed, headerEnd, body, damaged);
  return { set: new HashSet(header, bytes), sha256: hash.update(trailer).digest("hex") };
}

// What a file given as a store is instead: a list still to import is the usual mistake, and says how to fix it.
function whatItIs(bytes: Buffer): string {
  if (bytes.length === 0) return "it is empty (0 bytes); get the list again from its source, or rebuild it";
  if (bytes.subarray(0, PHS_MAGIC.length).equals(PHS_MAGIC))
    return (
      `it is cut short (${bytes.length} bytes, fewer than the smallest store); ` +
      `get the list again from its source, or rebuild it`
    );
  if (isEncryptedStore(bytes)) return "it is an encrypted store; give its `key`";
  const looks = detectFormatOfText(bytes.subarray(0, 64 * 1024).toString("utf8"));
  if (looks !== undefined) {
    return (
      `it looks like a ${looks.format} hash list (${looks.reason}); ` +
      `import it into a store first (\`importHashSet\`)`
    );
  }
  return "wrong magic (not a phmatch store, or a damaged one); get the list again from its source, or rebuild it";
}

const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/**
 * The header of a store, checked against the file before anything is built from it. The trailer only proves the
 * bytes are those the writer hashed, and anyone can write a trailer: every field a HashSet or an index relies on
 * is checked here (types, known algorithms and their value sizes, counts that agree, sections inside the file,
 * metadata offsets inside their blob, withdrawals that name a value or an id of a list in the store), so that a
 * store either loads whole or is refused with PHM_HASHSET_FORMAT, never failing later with a TypeError.
 */
function checkedHeader(
  value: unknown,
  sectionsStart: number,
  body: Buffer,
  damaged: (why: string) => PhmatchError,
): PhsHeader {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw damaged("its header is not a JSON object");
  const header = value as Record<string, unknown>;
  if (header.format !== "phs" || header.formatVersion !== PHS_FORMAT_VERSION) {
    throw damaged(
      `format version ${String(header.formatVersion)} is not supported ` +
        `(this phmatch reads version ${PHS_FORMAT_VERSION})`,
    );
  }
  for (const key of ["createdBy", "createdAt"]) {
    if (header[key] !== undefined && typeof header[key] !== "string")
      throw damaged(`its header's "${key}" is not text`);
  }
  if (!Array.isArray(header.lists)) throw damaged('its header has no "lists" array');
  const lists: ListInfo[] = header.lists.map((list: unknown, i) => {
    const checked = checkedListInfo(list);
    if (typeof checked === "string") throw damaged(`its header's lists[${i}] ${checked}`);
    return checked;
  });
  if (new Set(lists.map((l) => l.listId)).size !== lists.length) throw damaged("its header names a list twice");
  const provenance = header.provenance === undefined ? undefined : checkedProvenance(header.provenance);
  if (typeof provenance === "string") throw damaged(`its header's provenance${provenance}`);

  const section = (ref: unknown, what: string): SectionRef => {
    const r = ref as Partial<SectionRef> | null;
    if (typeof r !== "object" || r === null || !isCount(r.offset) || !isCount(r.length))
      throw damaged(`the ${what} section has no valid offset and length`);
    if (r.offset < sectionsStart || r.offset + r.length > body.length)
      throw damaged(`the ${what} section lies outside the file's sections`);
    return { offset: r.offset, length: r.length };
  };
  if (!Array.isArray(header.algorithms)) throw damaged('its header has no "algorithms" array');
  const algorithms: AlgorithmSection[] = header.algorithms.map((item: unknown, i) => {
    const a = item as Partial<AlgorithmSection> | null;
    if (typeof a !== "object" || a === null || typeof a.algorithm !== "string")
      throw damaged(`its header's algorithms[${i}] names no algorithm`);
    const spec = hasherSpec(a.algorithm);
    if (spec === undefined)
      throw damaged(`it holds values of an unknown algorithm "${a.algorithm}" (made by a newer phmatch?)`);
    if (a.bytesPerValue !== spec.bits / 8)
      throw damaged(`its ${a.algorithm} values are ${String(a.bytesPerValue)} bytes, not ${spec.bits / 8}`);
    if (!isCount(a.count)) throw damaged(`its ${a.algorithm} count is not a whole number`);
    const values = section(a.values, `${a.algorithm} values`);
    const meta = section(a.meta, `${a.algorithm} metadata`);
    if (values.length !== a.count * a.bytesPerValue || meta.length < (a.count + 1) * 4)
      throw damaged(`section sizes of ${a.algorithm} disagree with its count`);
    checkMetaOffsets(body, meta, a.count, a.algorithm, damaged);
    return { algorithm: a.algorithm, bytesPerValue: a.bytesPerValue, count: a.count, values, meta };
  });
  if (new Set(algorithms.map((a) => a.algorithm)).size !== algorithms.length)
    throw damaged("its header lists an algorithm twice");
  if (lists.length === 0 && algorithms.some((a) => a.count > 0)) throw damaged("it holds entries but names no list");

  const w = header.withdrawals as { count?: unknown } | null;
  const withdrawalSection = section(w, "withdrawals");
  if (!isCount(w?.count)) throw damaged("its withdrawal count is not a whole number");
  const withdrawals = { ...withdrawalSection, count: w.count };
  if (
    checkWithdrawals(body.subarray(withdrawals.offset, withdrawals.offset + withdrawals.length), lists, damaged) !==
    withdrawals.count
  ) {
    throw damaged("its withdrawal count disagrees with its withdrawals");
  }

  const counts = header.counts as Partial<PhsHeader["counts"]> | null;
  const entries = algorithms.reduce((sum, a) => sum + a.count, 0);
  if (
    typeof counts !== "object" ||
    counts === null ||
    counts.entries !== entries ||
    counts.withdrawals !== withdrawals.count
  ) {
    throw damaged("its header's counts disagree with its sections");
  }
  const byAlgorithm = counts.byAlgorithm;
  if (
    typeof byAlgorithm !== "object" ||
    byAlgorithm === null ||
    Object.keys(byAlgorithm).length !== algorithms.length ||
    algorithms.some((a) => byAlgorithm[a.algorithm] !== a.count)
  ) {
    throw damaged("its header's counts by algorithm disagree with its sections");
  }
  return {
    format: "phs",
    formatVersion: PHS_FORMAT_VERSION,
    createdBy: typeof header.createdBy === "string" ? header.createdBy : "",
    createdAt: typeof header.createdAt === "string" ? header.createdAt : "",
    lists,
    ...(provenance !== undefined && { provenance }),
    counts: {
      entries,
      withdrawals: withdrawals.count,
      byAlgorithm: Object.fromEntries(algorithms.map((a) => [a.algorithm, a.count])),
    },
    algorithms,
    withdrawals,
  };
}

// The count + 1 u32 offsets of entry metadata must start at 0, never go back, and end at the end of their blob.
function checkMetaOffsets(
  body: Buffer,
  meta: SectionRef,
  count: number,
  algorithm: string,
  damaged: (why: string) => PhmatchError,
): void {
  const blobLength = meta.length - (count + 1) * 4;
  let previous = 0;
  for (let i = 0; i <= count; i++) {
    const offset = body.readUInt32LE(meta.offset + i * 4);
    if ((i === 0 && offset !== 0) || offset < previous || (i === count && offset !== blobLength)) {
      throw damaged(
        `the metadata offsets of its ${algorithm} entries are out of order or outside their section ` +
          `(entry ${Math.max(0, i - 1)})`,
      );
    }
    previous = offset;
  }
}

// Each withdrawal line names a value (a known algorithm and hex of its size) or an entry id, of a list in the store.
function checkWithdrawals(section: Buffer, lists: readonly ListInfo[], damaged: (why: string) => PhmatchError): number {
  let count = 0;
  for (const line of section.toString("utf8").split("\n")) {
    if (line.length === 0) continue;
    count++;
    const where = `withdrawal ${count}`;
    let w: Record<string, unknown>;
    try {
      w = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw damaged(`its ${where} is not valid JSON`);
    }
    if (typeof w !== "object" || w === null || Array.isArray(w)) throw damaged(`its ${where} is not an object`);
    if (w.l !== undefined && !(isCount(w.l) && w.l < lists.length))
      throw damaged(`its ${where} names no list of the store`);
    if (w.l === undefined && lists.length === 0) throw damaged(`its ${where} names no list of the store`);
    if (w.i !== undefined && typeof w.i !== "string") throw damaged(`its ${where} has an entry id that is not text`);
    if (w.a === undefined && w.h === undefined) {
      if (w.i === undefined) throw damaged(`its ${where} names neither a value nor an entry id`);
      continue;
    }
    const spec = typeof w.a === "string" ? hasherSpec(w.a) : undefined;
    if (
      spec === undefined ||
      typeof w.h !== "string" ||
      !/^[0-9a-f]*$/.test(w.h) ||
      w.h.length !== (spec.bits / 8) * 2
    ) {
      throw damaged(`its ${where} does not name a value of a known algorithm`);
    }
  }
  return count;
}

/**
 * The two signing roles are kept apart (issue 21): a key given both as a list key and as an overrides key is
 * PHM_USAGE, and so is an empty set of overrides keys (asking for checks with nothing to check against).
 */
export function checkKeyRoles(options: Pick<LoadOptions, "trustedKeys" | "trustedOverrideKeys">): void {
  const overrideKeys = options.trustedOverrideKeys;
  if (overrideKeys === undefined) return;
  if (overrideKeys.length === 0)
    throw new PhmatchError(
      "PHM_USAGE",
      "overrides keys were asked for (trustedOverrideKeys) but none was given: give at least one public key",
      { optionNames: ["trustedOverrideKeys"] },
    );
  const listIds = new Set((options.trustedKeys ?? []).map(keyId));
  const both = overrideKeys.map(keyId).filter((id) => listIds.has(id));
  if (both.length > 0)
    throw new PhmatchError(
      "PHM_USAGE",
      `key ${both.join(", ")} is given both as a list key (trustedKeys) and as an overrides key ` +
        "(trustedOverrideKeys): a key has one role; use one key to sign lists and another to sign overrides",
      { optionNames: ["trustedKeys", "trustedOverrideKeys"] },
    );
}

function signerOf(signature: string): string | undefined {
  try {
    const id = (JSON.parse(signature) as { keyId?: unknown }).keyId;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

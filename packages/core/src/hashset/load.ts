import { createHash, type KeyObject } from "node:crypto";
import { readFile } from "node:fs/promises";
import { PhmatchError } from "../errors/index.js";
import { decryptStore, encryptedStoreLists, isEncryptedStore } from "./encryption.js";
import { HashSet } from "./hash-set.js";
import { readOverrides, type Override } from "./overrides.js";
import { verifyStore } from "./signature.js";
import { PHS_FORMAT_VERSION, PHS_MAGIC, type PhsHeader } from "./store-format.js";
import type { ListVersionState } from "./version-state.js";

/** How to load a store: which keys to trust, the decryption key, rollback state. */
export interface LoadOptions {
  /** When given (non-empty), the store must carry a valid detached signature by one of these keys. */
  trustedKeys?: KeyObject[];
  /** Key of an encrypted store. */
  key?: Buffer;
  /** Rollback protection; omitted = not checked. */
  versionState?: ListVersionState;
  allowRollback?: boolean;
}

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
}

/**
 * Loads a `.phs` store, all or nothing: signature first (over the bytes on disk, when trusted keys are given),
 * then decryption, then the store's own SHA-256 trailer and header, then rollback protection. Any failure
 * throws (PHM_HASHSET_SIGNATURE / _KEY / _FORMAT / _ROLLBACK); a half-loaded list is never returned.
 */
export async function loadHashSet(path: string, options: LoadOptions = {}): Promise<LoadedHashSet> {
  const bytes = await readFile(path).catch((error: unknown) => {
    throw new PhmatchError("PHM_FILE_NOT_FOUND", `cannot read hash set ${path}: ${(error as Error).message}`, { path, cause: error });
  });
  let signedBy: string | undefined;
  if (options.trustedKeys !== undefined && options.trustedKeys.length > 0) {
    const signature = await readFile(`${path}.sig`, "utf8").catch(() => undefined);
    signedBy = verifyStore(bytes, signature, options.trustedKeys, path);
  }
  const encrypted = isEncryptedStore(bytes);
  if (encrypted && options.versionState !== undefined) {
    // Versions are in the clear header: refuse a rollback before decrypting anything.
    options.versionState.admit(encryptedStoreLists(bytes, path), path, options.allowRollback);
  }
  const plain = encrypted ? decryptStore(bytes, options.key, path) : bytes;
  const { set, sha256 } = parseStoreWithDigest(plain, path);
  if (!encrypted && options.versionState !== undefined) options.versionState.admit(set.lists, path, options.allowRollback);
  // The file's SHA-256 (what reports cite): for a plain store, the pass that checked its trailer gave it already.
  const storeSha256 = encrypted ? createHash("sha256").update(bytes).digest("hex") : sha256;
  const loaded: LoadedHashSet = { set, path, storeSha256, encrypted, overrides: await readOverrides(path) };
  if (signedBy !== undefined) loaded.signedBy = signedBy;
  return loaded;
}

/** Parses the bytes of a plain store, checking magic, SHA-256 trailer, version and section bounds. */
export function parseStore(bytes: Buffer, what: string): HashSet {
  return parseStoreWithDigest(bytes, what).set;
}

// parseStore, also giving the SHA-256 of all the bytes from the same pass that checks the trailer (the body's
// hash, copied, then continued over the trailer), so a large store is hashed once, not twice.
function parseStoreWithDigest(bytes: Buffer, what: string): { set: HashSet; sha256: string } {
  const damaged = (why: string) => new PhmatchError("PHM_HASHSET_FORMAT", `${what} is not a valid .phs store: ${why}`);
  if (bytes.length < PHS_MAGIC.length + 4 + 32 || !bytes.subarray(0, PHS_MAGIC.length).equals(PHS_MAGIC)) {
    throw damaged("wrong magic (not a phmatch store, or an encrypted one without its key)");
  }
  const body = bytes.subarray(0, bytes.length - 32);
  const hash = createHash("sha256").update(body);
  const trailer = bytes.subarray(bytes.length - 32);
  if (!hash.copy().digest().equals(trailer)) {
    throw damaged("its SHA-256 does not match: the file was altered, truncated or damaged");
  }
  const headerLength = bytes.readUInt32LE(PHS_MAGIC.length);
  let header: PhsHeader;
  try {
    header = JSON.parse(bytes.subarray(PHS_MAGIC.length + 4, PHS_MAGIC.length + 4 + headerLength).toString("utf8")) as PhsHeader;
  } catch {
    throw damaged("its header is not valid JSON");
  }
  if (header.format !== "phs" || header.formatVersion !== PHS_FORMAT_VERSION) {
    throw damaged(`format version ${String(header.formatVersion)} is not supported (this phmatch reads version ${PHS_FORMAT_VERSION})`);
  }
  for (const s of header.algorithms) {
    for (const ref of [s.values, s.meta]) {
      if (ref.offset < 0 || ref.offset + ref.length > body.length) throw damaged(`section of ${s.algorithm} lies outside the file`);
    }
    if (s.values.length !== s.count * s.bytesPerValue || s.meta.length < (s.count + 1) * 4) throw damaged(`section sizes of ${s.algorithm} disagree with its count`);
  }
  return { set: new HashSet(header, bytes), sha256: hash.update(trailer).digest("hex") };
}

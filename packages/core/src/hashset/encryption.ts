import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { PhmatchError } from "../errors/index.js";
import { checkedListInfo, PHS_ENCRYPTED_MAGIC } from "./store-format.js";

// Confidential lists at rest: AES-256-GCM over the whole plain store. Layout:
//   magic "PHSEv001" | header length (u32 LE) | header JSON {cipher, keyId, iv, tag, lists} | ciphertext
// The header (which names the lists and their versions, in clear, so rollback can be checked without the key)
// is the GCM additional data: altering it fails decryption. A detached signature covers these bytes, so
// integrity is checkable without the key.

/** Parses a 256-bit list key given as 64 hex digits or base64 (PHMATCH_LIST_KEY or a key file). */
export function parseListKey(text: string): Buffer {
  const s = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, "hex") : Buffer.from(s, "base64");
  if (key.length !== 32)
    throw new PhmatchError("PHM_HASHSET_KEY", "a list key must be 32 bytes (64 hex digits or base64)");
  return key;
}

const keyIdOf = (key: Buffer) => createHash("sha256").update(key).digest("hex").slice(0, 16);

/** True if `bytes` is an encrypted store. */
export function isEncryptedStore(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && Buffer.from(bytes.buffer, bytes.byteOffset, 8).equals(PHS_ENCRYPTED_MAGIC);
}

/** Encrypts the bytes of a plain store. `lists` (ids and versions) stay readable in the header. */
export function encryptStore(plain: Uint8Array, key: Buffer, lists: { listId: string; version: number }[]): Buffer {
  const iv = randomBytes(12);
  const headerObject = { cipher: "aes-256-gcm", keyId: keyIdOf(key), iv: iv.toString("base64"), tag: "", lists };
  // The tag is only known after encryption; authenticate the header with an empty tag field, then fill it in.
  const aad = Buffer.from(JSON.stringify(headerObject));
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plain), cipher.final()]);
  headerObject.tag = cipher.getAuthTag().toString("base64");
  const header = Buffer.from(JSON.stringify(headerObject));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  return Buffer.concat([PHS_ENCRYPTED_MAGIC, length, header, ciphertext]);
}

/** The clear header of an encrypted store (lists and versions), without the key. */
export function encryptedStoreLists(bytes: Buffer, what: string): { listId: string; version: number }[] {
  return readEncryptedHeader(bytes, what).header.lists;
}

/** Decrypts an encrypted store; PHM_HASHSET_KEY without the right key, PHM_HASHSET_FORMAT if damaged. */
export function decryptStore(bytes: Buffer, key: Buffer | undefined, what: string): Buffer {
  const { header, ciphertext } = readEncryptedHeader(bytes, what);
  if (key === undefined) {
    throw new PhmatchError("PHM_HASHSET_KEY", `${what} is encrypted: give its \`key\``, {
      optionNames: ["key"],
    });
  }
  if (keyIdOf(key) !== header.keyId) {
    throw new PhmatchError(
      "PHM_HASHSET_KEY",
      `${what} is encrypted under key ${header.keyId}, not the key given (${keyIdOf(key)})`,
    );
  }
  const aad = Buffer.from(JSON.stringify({ ...header, tag: "" }));
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(header.iv, "base64"));
  decipher.setAAD(aad);
  decipher.setAuthTag(Buffer.from(header.tag, "base64"));
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch {
    throw new PhmatchError(
      "PHM_HASHSET_FORMAT",
      `${what} failed authentication on decryption: it was altered or damaged`,
    );
  }
}

interface EncryptedHeader {
  cipher: string;
  keyId: string;
  iv: string;
  tag: string;
  lists: { listId: string; version: number }[];
}

/**
 * The clear header of an encrypted store, checked: it is read before anything is authenticated (the rollback
 * check uses its lists before decryption), so a damaged one must be PHM_HASHSET_FORMAT, not a TypeError from the
 * cipher. The parsed object is kept as it is: decryption authenticates its exact JSON.
 */
function readEncryptedHeader(bytes: Buffer, what: string): { header: EncryptedHeader; ciphertext: Buffer } {
  const damaged = (why: string) =>
    new PhmatchError(
      "PHM_HASHSET_FORMAT",
      `${what} has a damaged encryption header (${why}); get the list again from its source`,
    );
  if (bytes.length < 12) throw damaged("the file is too short");
  const length = bytes.readUInt32LE(8);
  if (12 + length > bytes.length) throw damaged(`its length, ${length} bytes, runs past the end of the file`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(12, 12 + length).toString("utf8")) as Record<string, unknown>;
  } catch {
    throw damaged("not valid JSON");
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) throw damaged("not a JSON object");
  if (header.cipher !== "aes-256-gcm") throw damaged(`unknown cipher ${JSON.stringify(header.cipher)}`);
  if (typeof header.keyId !== "string") throw damaged("no key id");
  for (const [field, size] of [
    ["iv", 12],
    ["tag", 16],
  ] as const) {
    const text = header[field];
    if (typeof text !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || Buffer.from(text, "base64").length !== size)
      throw damaged(`its ${field} is not ${size} bytes of base64`);
  }
  if (!Array.isArray(header.lists)) throw damaged('no "lists" array');
  header.lists.forEach((list: unknown, i) => {
    const checked = checkedListInfo(list);
    if (typeof checked === "string") throw damaged(`lists[${i}] ${checked}`);
  });
  return { header: header as unknown as EncryptedHeader, ciphertext: bytes.subarray(12 + length) };
}

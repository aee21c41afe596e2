import { createHash, type Hash } from "node:crypto";

// Exact digests of the file bytes, streamed (a 4 GB file is never held in memory), computed for every file,
// image or not: hotline and forensic lists (Project VIC, CAID, NCMEC) carry MD5 and SHA-1, some SHA-256.
// They sit below decode (which reads the bytes once for both) and hashers (which declares them as algorithms).
const NODE_NAMES: Record<string, string> = { md5: "md5", sha1: "sha1", sha256: "sha256" };

/** True if `id` is a digest of the file bytes. */
export function isDigest(id: string): boolean {
  return Object.hasOwn(NODE_NAMES, id);
}

/** Incremental digests of one byte stream: feed chunks with update(), read hex with digests(). */
export class StreamingDigests {
  readonly #hashes: [string, Hash][];

  constructor(ids: readonly string[]) {
    this.#hashes = ids.map((id) => [id, createHash(NODE_NAMES[id] as string)]);
  }

  update(chunk: Uint8Array): void {
    for (const [, hash] of this.#hashes) hash.update(chunk);
  }

  digests(): Record<string, string> {
    return Object.fromEntries(this.#hashes.map(([id, hash]) => [id, hash.digest("hex")]));
  }
}

import { createHash, type Hash } from "node:crypto";
import { registerHasher } from "./registry.js";

// Exact digests of the file bytes, streamed (a 4 GB file is never held in memory), computed for every file,
// image or not: hotline and forensic lists (Project VIC, CAID, NCMEC) carry MD5 and SHA-1, some SHA-256.
registerHasher({ id: "md5", bits: 128, input: "bytes", defaultThreshold: 0, description: "MD5 of the file bytes" });
registerHasher({ id: "sha1", bits: 160, input: "bytes", defaultThreshold: 0, description: "SHA-1 of the file bytes" });
registerHasher({ id: "sha256", bits: 256, input: "bytes", defaultThreshold: 0, description: "SHA-256 of the file bytes" });

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

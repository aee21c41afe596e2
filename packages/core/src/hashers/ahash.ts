import type { Pixels } from "../decode/pixels.js";
import { imagehashHash } from "./imagehash-family.js";
import { registerHasher } from "./registry.js";

// imagehash.average_hash: Pillow 'L', LANCZOS to size x size, bit = pixel > mean. Equal to imagehash 4.x.
registerHasher({
  id: "ahash",
  bits: 64,
  input: "pixels",
  defaultThreshold: 4,
  description: "average hash, imagehash-compatible, hash_size 8",
});
registerHasher({
  id: "ahash16",
  bits: 256,
  input: "pixels",
  defaultThreshold: 32,
  description: "average hash, imagehash-compatible, hash_size 16",
});

/** imagehash's average_hash (hash_size 8, or 16 for `ahash16`), bits row-major MSB first. */
export function ahash(pixels: Pixels, size: 8 | 16 = 8): Uint8Array {
  return imagehashHash(pixels, size === 8 ? "ahash" : "ahash16");
}

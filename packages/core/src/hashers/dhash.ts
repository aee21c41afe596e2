import type { Pixels } from "../decode/pixels.js";
import { imagehashHash } from "./imagehash-family.js";
import { registerHasher } from "./registry.js";

// imagehash.dhash: Pillow 'L', LANCZOS to (size + 1) x size, bit = right pixel brighter than left.
// Equal to imagehash 4.x.
registerHasher({
  id: "dhash",
  bits: 64,
  input: "pixels",
  defaultThreshold: 8,
  description: "difference hash, imagehash-compatible, hash_size 8",
});
registerHasher({
  id: "dhash16",
  bits: 256,
  input: "pixels",
  defaultThreshold: 32,
  description: "difference hash, imagehash-compatible, hash_size 16",
});

/** imagehash's dhash (hash_size 8, or 16 for `dhash16`), bits row-major MSB first. */
export function dhash(pixels: Pixels, size: 8 | 16 = 8): Uint8Array {
  return imagehashHash(pixels, size === 8 ? "dhash" : "dhash16");
}

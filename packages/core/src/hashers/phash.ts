import type { Pixels } from "../decode/pixels.js";
import { imagehashHash } from "./imagehash-family.js";
import { registerHasher } from "./registry.js";

// imagehash.phash: Pillow 'L', LANCZOS to 4 size square, 2-D DCT-II, top-left size x size block (DC included),
// bit = coefficient > median. Equal to imagehash 4.x except where coefficients are rounding noise (an image
// constant along rows or columns), whose bits no independent implementation reproduces.
registerHasher({
  id: "phash",
  bits: 64,
  input: "pixels",
  defaultThreshold: 10,
  description: "perceptual (DCT) hash, imagehash-compatible, hash_size 8",
  dihedral: true,
});
registerHasher({
  id: "phash16",
  bits: 256,
  input: "pixels",
  defaultThreshold: 32,
  description: "perceptual (DCT) hash, imagehash-compatible, hash_size 16",
  dihedral: true,
});

/** imagehash's phash (hash_size 8, or 16 for `phash16`), bits row-major MSB first. */
export function phash(pixels: Pixels, size: 8 | 16 = 8): Uint8Array {
  return imagehashHash(pixels, size === 8 ? "phash" : "phash16");
}

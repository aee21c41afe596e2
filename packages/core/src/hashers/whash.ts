import type { Pixels } from "../decode/pixels.js";
import { imagehashHash } from "./imagehash-family.js";
import { registerHasher } from "./registry.js";

// imagehash.whash (haar, remove_max_haar_ll): Pillow 'L', LANCZOS to image_scale = max(2^floor(log2(min side)),
// size), mean removed, LL band at level log2(image_scale / size), bit = value > median. Equal to imagehash 4.x
// up to float ties at the median.
registerHasher({
  id: "whash",
  bits: 64,
  input: "pixels",
  defaultThreshold: 5,
  description: "wavelet (Haar) hash, imagehash-compatible, hash_size 8",
});
registerHasher({
  id: "whash16",
  bits: 256,
  input: "pixels",
  defaultThreshold: 32,
  description: "wavelet (Haar) hash, imagehash-compatible, hash_size 16",
});

/** imagehash's whash (hash_size 8, or 16 for `whash16`), bits row-major MSB first. */
export function whash(pixels: Pixels, size: 8 | 16 = 8): Uint8Array {
  return imagehashHash(pixels, size === 8 ? "whash" : "whash16");
}

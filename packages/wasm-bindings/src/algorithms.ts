/** What the kernels compute: the algorithms, their pixel input and hash output (shared by the kernel and hashImage). */

/**
 * Decoded pixels: row-major, `channels` interleaved 8-bit samples per pixel (1 grey, 2 grey+alpha, 3 RGB,
 * 4 RGBA), as `Uint8Array` or `ImageData`'s `Uint8ClampedArray`.
 */
export interface PixelInput {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Uint8ClampedArray;
}

/**
 * One hash: its bytes (PDQ: the reference's 256-bit big-endian integer; imagehash family: bits row-major,
 * most significant first, as imagehash prints them), PDQ's quality 0..100, and with `dihedral` PDQ's 8 variants
 * in {@link DIHEDRAL_VARIANTS} order.
 */
export interface KernelHash {
  hash: Uint8Array;
  quality?: number;
  dihedral?: Uint8Array[];
}

/** PDQ result: 32-byte hash, quality 0..100, and with `dihedral` the 8 variants. */
export interface HashKernelResult extends KernelHash {
  quality: number;
}

/** Algorithms the kernels compute, with the imagehash function and hash_size behind each imagehash id. */
export const KERNEL_ALGORITHMS = {
  pdq: { bits: 256 },
  ahash: { bits: 64, imagehash: 0, size: 8 },
  phash: { bits: 64, imagehash: 1, size: 8 },
  dhash: { bits: 64, imagehash: 2, size: 8 },
  whash: { bits: 64, imagehash: 3, size: 8 },
  ahash16: { bits: 256, imagehash: 0, size: 16 },
  phash16: { bits: 256, imagehash: 1, size: 16 },
  dhash16: { bits: 256, imagehash: 2, size: 16 },
  whash16: { bits: 256, imagehash: 3, size: 16 },
} as const;

/** An algorithm id the kernels compute. */
export type KernelAlgorithm = keyof typeof KERNEL_ALGORITHMS;

/** Order of PDQ's dihedral variants, as the reference prints them. */
export const DIHEDRAL_VARIANTS = [
  "original",
  "rotate90",
  "rotate180",
  "rotate270",
  "flipx",
  "flipy",
  "flipplus1",
  "flipminus1",
] as const;

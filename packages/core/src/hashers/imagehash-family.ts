import { type KernelAlgorithm, KernelMemoryError } from "@phmatch/wasm";
import type { Pixels } from "../decode/pixels.js";
import { PhmatchError } from "../errors/index.js";
import { hashKernel } from "./kernel.js";

/** A computed hash: its bytes (hex at the edges), and quality / dihedral variants where the algorithm has them. */
export interface ComputedHash {
  bytes: Uint8Array;
  quality?: number;
  dihedral?: Uint8Array[];
}

/**
 * Runs several kernel algorithms on one image with one copy of its pixels into WebAssembly. Pure: no I/O.
 * Throws PHM_HASH_MEMORY when the kernel cannot get memory for the image.
 */
export function kernelHashes(
  pixels: Pixels,
  ids: readonly KernelAlgorithm[],
  options: { dihedral?: boolean } = {},
): Record<string, ComputedHash> {
  try {
    const results = hashKernel().hash(pixels, { algorithms: ids, dihedral: options.dihedral });
    const out: Record<string, ComputedHash> = {};
    for (const [id, r] of Object.entries(results)) {
      const hash: ComputedHash = { bytes: r.hash };
      if (r.quality !== undefined) hash.quality = r.quality;
      if (r.dihedral !== undefined) hash.dihedral = r.dihedral;
      out[id] = hash;
    }
    return out;
  } catch (error) {
    if (error instanceof KernelMemoryError) throw new PhmatchError("PHM_HASH_MEMORY", error.message, { cause: error });
    throw error;
  }
}

/** One imagehash-family hash of decoded pixels (see the ahash/phash/dhash/whash files). */
export function imagehashHash(pixels: Pixels, id: KernelAlgorithm): Uint8Array {
  return (kernelHashes(pixels, [id])[id] as ComputedHash).bytes;
}

import { KERNEL_ALGORITHMS, type KernelAlgorithm } from "@phmatch/wasm";
import type { DecodedImage } from "../decode/pixels.js";
import { blockhashes } from "../hashers/blockhash.js";
import { type ComputedHash, kernelHashes } from "../hashers/imagehash-family.js";
import { PDQ } from "../hashers/pdq.js";

const BLOCKHASH_GRIDS: Record<string, 8 | 16> = { blockhash: 16, blockhash8: 8 };

/**
 * Every requested pixel hash of one decoded image. The WebAssembly kernels (PDQ, imagehash family) share one copy
 * of the pixels; blockhash runs blockhash-core. For 16-bit sources PDQ hashes the reference's reading of the
 * samples (`pdqPixels`), the others Pillow's.
 */
export function hashPixels(
  decoded: DecodedImage,
  ids: readonly string[],
  options: { dihedral?: boolean } = {},
): Record<string, ComputedHash> {
  const kernelIds = ids.filter((id): id is KernelAlgorithm => Object.hasOwn(KERNEL_ALGORITHMS, id));
  const separatePdq = decoded.pdqPixels !== undefined && kernelIds.includes(PDQ);
  const shared = separatePdq ? kernelIds.filter((id) => id !== PDQ) : kernelIds;
  const results: Record<string, ComputedHash> = shared.length > 0 ? kernelHashes(decoded.pixels, shared, options) : {};
  if (separatePdq && decoded.pdqPixels !== undefined)
    Object.assign(results, kernelHashes(decoded.pdqPixels, [PDQ], options));
  const blockIds = ids.filter((id) => BLOCKHASH_GRIDS[id] !== undefined);
  if (blockIds.length > 0) {
    const hashes = blockhashes(
      decoded.pixels,
      blockIds.map((id) => BLOCKHASH_GRIDS[id] as 8 | 16),
    );
    for (const [i, id] of blockIds.entries()) results[id] = { bytes: hashes[i] as Uint8Array };
  }
  return results;
}

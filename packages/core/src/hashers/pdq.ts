import { DIHEDRAL_VARIANTS, KernelMemoryError } from "@phmatch/wasm";
import type { Pixels } from "../decode/pixels.js";
import { PhmatchError } from "../errors/index.js";
import { hashKernel } from "./kernel.js";
import { registerHasher } from "./registry.js";

/** Algorithm id of PDQ. */
export const PDQ = "pdq";
/** PDQ hash length in bits. */
export const PDQ_BITS = 256;
/** Hamming distance at or below which two PDQ hashes match (the reference's PDQ_CONFIDENT_MATCH_THRESHOLD). */
export const PDQ_MATCH_THRESHOLD = 31;
/** Hashes with quality below this are too featureless to match on (python-threatexchange's QUALITY_THRESHOLD). */
export const PDQ_MIN_QUALITY = 50;
/** Order of the 8 dihedral variants in records and TSVs. */
export const PDQ_DIHEDRAL_VARIANTS = DIHEDRAL_VARIANTS;

registerHasher({
  id: PDQ,
  bits: PDQ_BITS,
  input: "pixels",
  defaultThreshold: PDQ_MATCH_THRESHOLD,
  description: "PDQ (Meta), bit-exact with the reference; quality 0-100, 8 dihedral variants",
  dihedral: true,
});

/**
 * A PDQ hash: 32 bytes, the reference's 256-bit integer (bit k = 16*row + col of the 16x16 DCT has weight 2^k)
 * in big-endian byte order, so its hex is exactly the reference's 64-character hex.
 */
export interface PdqHash {
  algorithm: typeof PDQ;
  bytes: Uint8Array;
  /** 0 (featureless) to 100. */
  quality: number;
  /** The 8 dihedral variants from the one DCT, in {@link PDQ_DIHEDRAL_VARIANTS} order (index 0 = `bytes`). */
  dihedral?: Uint8Array[];
}

/**
 * PDQ of decoded pixels, bit-exact with Meta's reference core at the resolution given (full resolution in
 * exact mode). Pure: no I/O. Images under 5 px on a side give an all-zero hash with quality 0, as the reference.
 */
export function pdqHash(pixels: Pixels, options: { dihedral?: boolean } = {}): PdqHash {
  try {
    const result = hashKernel().pdq(pixels, { dihedral: options.dihedral === true });
    const hash: PdqHash = { algorithm: PDQ, bytes: result.hash, quality: result.quality };
    if (result.dihedral !== undefined) hash.dihedral = result.dihedral;
    return hash;
  } catch (error) {
    if (error instanceof KernelMemoryError) {
      throw new PhmatchError("PHM_HASH_MEMORY", `${error.message}`, { cause: error });
    }
    throw error;
  }
}

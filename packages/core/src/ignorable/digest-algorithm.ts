/**
 * The cryptographic file digests an ignorable list can hold (issue 22): exact digests of whole files, as NSRL and
 * forensic tools publish them. A digest is bytes (`Uint8Array`); hex appears only in text lists and messages.
 */

/** A file digest algorithm of ignorable lists. */
export type DigestAlgorithm = "md5" | "sha1" | "sha256";

/** Bytes per digest of each algorithm. */
export const DIGEST_WIDTH: Readonly<Record<DigestAlgorithm, number>> = { md5: 16, sha1: 20, sha256: 32 };

/** The algorithm byte of a digest store's header (0 is never used, so a zeroed header is refused). */
export const DIGEST_ALGORITHM_ID: Readonly<Record<DigestAlgorithm, number>> = { md5: 1, sha1: 2, sha256: 3 };

/** The algorithm whose hex digests have `length` characters, if any (32 MD5, 40 SHA-1, 64 SHA-256). */
export function algorithmOfHexLength(length: number): DigestAlgorithm | undefined {
  for (const algorithm of Object.keys(DIGEST_WIDTH) as DigestAlgorithm[]) {
    if (DIGEST_WIDTH[algorithm] * 2 === length) return algorithm;
  }
  return undefined;
}

/** The algorithm of a header's algorithm byte, or undefined for an unknown byte. */
export function algorithmOfId(id: number): DigestAlgorithm | undefined {
  for (const algorithm of Object.keys(DIGEST_ALGORITHM_ID) as DigestAlgorithm[]) {
    if (DIGEST_ALGORITHM_ID[algorithm] === id) return algorithm;
  }
  return undefined;
}

/** True if `value` is a digest algorithm name. */
export function isDigestAlgorithm(value: unknown): value is DigestAlgorithm {
  return value === "md5" || value === "sha1" || value === "sha256";
}

const HEX = /^[0-9a-fA-F]*$/;

/** The bytes of a hex digest (either case), or undefined when it is not hex of an even length. */
export function parseHexDigest(hex: string): Uint8Array | undefined {
  if (hex.length % 2 !== 0 || !HEX.test(hex)) return undefined;
  return Buffer.from(hex, "hex");
}

import { PhmatchError } from "../errors/index.js";
import { algorithmOfId, DIGEST_ALGORITHM_ID, DIGEST_WIDTH, type DigestAlgorithm } from "./digest-algorithm.js";

/**
 * The ignorable digest store (`.phd`, docs/formats.md "Ignorable digest stores"): one algorithm's digests, sorted
 * ascending as unsigned bytes, deduplicated, fixed width, after a small header. All integers little-endian.
 *
 *     offset  size  field
 *          0     8  magic "PHMDIGST"
 *          8     2  format version (1)
 *         10     1  algorithm (1 MD5, 2 SHA-1, 3 SHA-256)
 *         11     1  reserved, 0
 *         12     8  count of digests (an integer below 2^53)
 *         20     4  byte length D of the source description (at most 4096)
 *         24    32  checksum: SHA-256 of the body followed by bytes 0..23 and the description
 *         56     D  source description, UTF-8 (where the digests came from: "NSRL RDS 2024.12.1 modern", a file name)
 *     56 + D  N*W  body: N digests of W bytes (16, 20 or 32)
 *
 * The checksum covers the header fields as well as the body, so that an edited count or algorithm byte (which could
 * re-cut the same body into other digests) is caught, not only edited digests. The body comes first in the hashed
 * bytes because the writer streams it before it knows the count.
 */
export const DIGEST_STORE_MAGIC = Buffer.from("PHMDIGST", "latin1");
/** The only format version this code reads and writes. */
export const DIGEST_STORE_VERSION = 1;
/** Bytes before the description. */
export const DIGEST_STORE_FIXED_HEADER = 56;
/** Longest source description, in UTF-8 bytes. */
export const DIGEST_STORE_MAX_DESCRIPTION = 4096;

/** The parsed header of a digest store. */
export interface DigestStoreHeader {
  algorithm: DigestAlgorithm;
  count: number;
  description: string;
  /** Bytes 0..23 and the description, as hashed after the body. */
  hashedHeader: Buffer;
  checksum: Buffer;
  /** Where the body starts. */
  bodyOffset: number;
}

/** Control characters (C0, DEL, C1): a description is shown in reports and terminals, so none may hide there. */
export const DESCRIPTION_CONTROL = /\p{Cc}/u;

/** Encodes a header; `checksum` may be zeros while the body is still being written. */
export function encodeDigestStoreHeader(
  algorithm: DigestAlgorithm,
  count: number,
  description: string,
  checksum: Uint8Array = new Uint8Array(32),
): { bytes: Buffer; hashedHeader: Buffer } {
  if (DESCRIPTION_CONTROL.test(description)) {
    throw new PhmatchError("PHM_USAGE", "the source description of a digest store must not hold control characters");
  }
  const descriptionBytes = Buffer.from(description, "utf8");
  if (descriptionBytes.length > DIGEST_STORE_MAX_DESCRIPTION) {
    throw new PhmatchError(
      "PHM_USAGE",
      `the source description of a digest store is ${descriptionBytes.length} bytes; at most ` +
        `${DIGEST_STORE_MAX_DESCRIPTION} are allowed`,
    );
  }
  const bytes = Buffer.alloc(DIGEST_STORE_FIXED_HEADER + descriptionBytes.length);
  DIGEST_STORE_MAGIC.copy(bytes, 0);
  bytes.writeUInt16LE(DIGEST_STORE_VERSION, 8);
  bytes.writeUInt8(DIGEST_ALGORITHM_ID[algorithm], 10);
  bytes.writeBigUInt64LE(BigInt(count), 12);
  bytes.writeUInt32LE(descriptionBytes.length, 20);
  Buffer.from(checksum).copy(bytes, 24);
  descriptionBytes.copy(bytes, DIGEST_STORE_FIXED_HEADER);
  const hashedHeader = Buffer.concat([bytes.subarray(0, 24), descriptionBytes]);
  return { bytes, hashedHeader };
}

/** A typed refusal of a damaged store. */
export function storeError(path: string, what: string): PhmatchError {
  return new PhmatchError(
    "PHM_IGNORABLE_FORMAT",
    `${path}: ${what}; the digest store was not used (rebuild it from its source list)`,
    { path },
  );
}

/**
 * Checks the fixed header (the first {@link DIGEST_STORE_FIXED_HEADER} bytes) against the file's size and returns
 * the description's length and the body's geometry. Every field is hostile until checked: the size must be exactly
 * header + description + count * width, so a cut or padded file is refused before anything is read from its body.
 */
export function checkFixedHeader(
  fixed: Buffer,
  fileSize: number,
  path: string,
): { algorithm: DigestAlgorithm; count: number; descriptionLength: number; checksum: Buffer } {
  if (fixed.length < DIGEST_STORE_FIXED_HEADER) {
    if (fixed.length >= 8 && !fixed.subarray(0, 8).equals(DIGEST_STORE_MAGIC)) {
      throw storeError(path, "not a phmatch digest store (wrong magic)");
    }
    throw storeError(
      path,
      `truncated: ${fixed.length} bytes, shorter than the ${DIGEST_STORE_FIXED_HEADER}-byte header`,
    );
  }
  if (!fixed.subarray(0, 8).equals(DIGEST_STORE_MAGIC))
    throw storeError(path, "not a phmatch digest store (wrong magic)");
  const version = fixed.readUInt16LE(8);
  if (version !== DIGEST_STORE_VERSION) {
    throw storeError(path, `format version ${version} is not one this phmatch reads (${DIGEST_STORE_VERSION})`);
  }
  const algorithm = algorithmOfId(fixed.readUInt8(10));
  if (algorithm === undefined) throw storeError(path, `unknown algorithm byte ${fixed.readUInt8(10)}`);
  if (fixed.readUInt8(11) !== 0) throw storeError(path, "reserved header byte is not 0");
  const count64 = fixed.readBigUInt64LE(12);
  if (count64 > BigInt(Number.MAX_SAFE_INTEGER)) throw storeError(path, "absurd digest count in the header");
  const count = Number(count64);
  const descriptionLength = fixed.readUInt32LE(20);
  if (descriptionLength > DIGEST_STORE_MAX_DESCRIPTION) {
    throw storeError(
      path,
      `source description of ${descriptionLength} bytes (at most ${DIGEST_STORE_MAX_DESCRIPTION})`,
    );
  }
  const expected = DIGEST_STORE_FIXED_HEADER + descriptionLength + count * DIGEST_WIDTH[algorithm];
  if (fileSize < expected) {
    throw storeError(path, `truncated: ${fileSize} bytes where its header announces ${expected}`);
  }
  if (fileSize > expected) {
    throw storeError(path, `${fileSize - expected} bytes after the last digest its header announces`);
  }
  return { algorithm, count, descriptionLength, checksum: Buffer.from(fixed.subarray(24, 56)) };
}

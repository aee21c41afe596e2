import { decodeImage } from "../decode/decode-image.js";
import { readImageFile } from "../decode/read-file.js";
import { toPhmatchError } from "../errors/index.js";
import { PDQ, pdqHash } from "../hashers/pdq.js";
import type { HashRecord, HashedRecord } from "../record/hash-record.js";
import { bytesToHex } from "../record/hex.js";
import { FAST_MODE_MIN_LONG_SIDE, type HashOptions } from "./hash-options.js";

/**
 * Reads, decodes and hashes one file. Never throws for a bad file: the record carries its error code, so a
 * batch goes on with the next file. The image bytes and pixels stay in memory and are dropped on return.
 */
export async function hashFile(path: string, options: HashOptions = {}): Promise<HashRecord> {
  try {
    const bytes = await readImageFile(path, options.maxFileBytes);
    return await hashImageBytes(bytes, path, options);
  } catch (error) {
    return { path, error: toPhmatchError(error, path).toJSON() };
  }
}

/** Decodes and hashes an image held in memory (uploads); `path` only names it in the record and messages. */
export async function hashImageBytes(bytes: Uint8Array, path: string, options: HashOptions = {}): Promise<HashRecord> {
  try {
    const decoded = await decodeImage(
      bytes,
      {
        autoOrient: options.autoOrient,
        maxPixels: options.maxPixels,
        timeoutSeconds: options.decodeTimeoutSeconds,
        shrinkOnLoadTo: options.mode === "fast" ? FAST_MODE_MIN_LONG_SIDE : undefined,
      },
      path,
    );
    const record: HashedRecord = { path, hashes: {} };
    for (const algorithm of options.algorithms ?? [PDQ]) {
      if (algorithm === PDQ) {
        const pdq = pdqHash(decoded.pixels, { dihedral: options.dihedral });
        record.hashes[PDQ] = bytesToHex(pdq.bytes);
        (record.quality ??= {})[PDQ] = pdq.quality;
        if (pdq.dihedral !== undefined) (record.dihedral ??= {})[PDQ] = pdq.dihedral.map(bytesToHex);
      }
    }
    return record;
  } catch (error) {
    return { path, error: toPhmatchError(error, path).toJSON() };
  }
}

import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { PhmatchError } from "../errors/index.js";
import { DIGEST_WIDTH } from "./digest-algorithm.js";
import { FileDigestSet, type IgnorableDigestSet, MemoryDigestSet, PrefixTable } from "./digest-set.js";
import { checkFixedHeader, DESCRIPTION_CONTROL, DIGEST_STORE_FIXED_HEADER, storeError } from "./store-format.js";

/** How a digest store is opened. */
export interface OpenDigestStoreOptions {
  /**
   * Bodies up to this many bytes are loaded into memory (width bytes of RAM per digest: 16 MD5, 20 SHA-1, 32
   * SHA-256); larger ones are looked up in the file with positioned reads (about 576 KiB of RAM in all). Default
   * 512 MiB; 0 always reads from the file.
   */
  maxMemoryBytes?: number;
}

/** Default {@link OpenDigestStoreOptions.maxMemoryBytes}. */
export const DEFAULT_DIGEST_MEMORY_BYTES = 512 * 1024 * 1024;
const VERIFY_BLOCK_BYTES = 1024 * 1024;

/**
 * Opens a digest store after checking it whole: header fields against the file's size, the checksum over body and
 * header, and that the body is strictly ascending (so a binary search cannot miss a listed digest). Any failure is a
 * {@link PhmatchError} `PHM_IGNORABLE_FORMAT`, and nothing of the store is used. Reads the file once, in 1 MiB blocks.
 */
export async function openDigestStore(path: string, options: OpenDigestStoreOptions = {}): Promise<IgnorableDigestSet> {
  const maxMemory = options.maxMemoryBytes ?? DEFAULT_DIGEST_MEMORY_BYTES;
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === "ENOENT" ? "PHM_FILE_NOT_FOUND" : "PHM_FILE_UNREADABLE";
    throw new PhmatchError(code, `${path}: cannot open the digest store (${(error as Error).message})`, {
      path,
      cause: error,
    });
  }
  let keep = false;
  try {
    const stat = await file.stat({ bigint: true });
    if (!stat.isFile()) throw new PhmatchError("PHM_FILE_UNREADABLE", `${path}: not a regular file`, { path });
    const fixed = Buffer.alloc(DIGEST_STORE_FIXED_HEADER);
    const { bytesRead } = await file.read(fixed, 0, fixed.length, 0);
    const header = checkFixedHeader(fixed.subarray(0, bytesRead), Number(stat.size), path);
    const width = DIGEST_WIDTH[header.algorithm];
    const descriptionBytes = Buffer.alloc(header.descriptionLength);
    await readExactly(file, descriptionBytes, DIGEST_STORE_FIXED_HEADER, path);
    let description: string;
    try {
      description = new TextDecoder("utf-8", { fatal: true }).decode(descriptionBytes);
    } catch {
      throw storeError(path, "the source description is not UTF-8");
    }
    if (DESCRIPTION_CONTROL.test(description))
      throw storeError(path, "the source description holds control characters");
    const bodyOffset = DIGEST_STORE_FIXED_HEADER + header.descriptionLength;
    const bodyBytes = header.count * width;
    const inMemory = bodyBytes <= maxMemory;
    const body = inMemory ? Buffer.allocUnsafe(bodyBytes) : undefined;
    const hash = createHash("sha256");
    const prefixes = new PrefixTable();
    const block = Buffer.allocUnsafe(Math.floor(VERIFY_BLOCK_BYTES / width) * width);
    const previous = Buffer.alloc(width);
    // The first entry out of order, reported after the checksum: an altered store is named as such first.
    let unsortedAt = -1;
    for (let done = 0; done < bodyBytes; ) {
      const chunk = body
        ? body.subarray(done, Math.min(bodyBytes, done + block.length))
        : block.subarray(0, Math.min(block.length, bodyBytes - done));
      await readExactly(file, chunk, bodyOffset + done, path);
      hash.update(chunk);
      for (let at = 0; at < chunk.length; at += width) {
        if (unsortedAt < 0 && (done > 0 || at > 0) && previous.compare(chunk, at, at + width) >= 0) {
          unsortedAt = (done + at) / width;
        }
        chunk.copy(previous, 0, at, at + width);
        prefixes.add(chunk[at] as number, chunk[at + 1] as number);
      }
      done += chunk.length;
    }
    hash.update(fixed.subarray(0, 24));
    hash.update(descriptionBytes);
    if (!hash.digest().equals(header.checksum)) {
      throw storeError(path, "its checksum does not match its contents (altered or damaged)");
    }
    if (unsortedAt >= 0) {
      throw storeError(path, `digest ${unsortedAt} is not above the one before it (unsorted or repeated)`);
    }
    prefixes.finish();
    keep = !inMemory;
    if (body) return new MemoryDigestSet(header.algorithm, body, prefixes, description, path);
    // The file as it was before verification: a write during or after it changes size or ctime, seen at lookup.
    const verified = { size: stat.size, ctimeNs: stat.ctimeNs };
    return new FileDigestSet(header.algorithm, file, bodyOffset, header.count, prefixes, description, path, verified);
  } finally {
    if (!keep) await file.close();
  }
}

async function readExactly(
  file: Awaited<ReturnType<typeof open>>,
  into: Buffer,
  position: number,
  path: string,
): Promise<void> {
  let filled = 0;
  while (filled < into.length) {
    const { bytesRead } = await file.read(into, filled, into.length - filled, position + filled);
    if (bytesRead === 0) throw storeError(path, "truncated while being read");
    filled += bytesRead;
  }
}

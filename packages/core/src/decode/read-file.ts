import { constants, promises as fs } from "node:fs";
import { PhmatchError } from "../errors/index.js";
import { displayPath, type FilePath } from "../files/file-path.js";
import { StreamingDigests } from "../files/streaming-digests.js";

/** Default ceiling on the bytes of one file read for decoding (larger files are refused, not truncated). */
export const DEFAULT_MAX_FILE_BYTES = 512 * 1024 * 1024;

// O_NOATIME keeps evidence metadata untouched; the kernel allows it only to the file's owner (or CAP_FOWNER),
// so EPERM falls back to a plain read-only open.
const O_NOATIME: number = (constants as Record<string, number>).O_NOATIME ?? 0;

/**
 * Reads a whole file for decoding, read-only, without updating its access time where the kernel allows it.
 * Throws PHM_FILE_NOT_FOUND, PHM_FILE_UNREADABLE or PHM_FILE_TOO_LARGE.
 */
export async function readImageFile(path: string, maxFileBytes: number = DEFAULT_MAX_FILE_BYTES): Promise<Buffer> {
  const handle = await openReadOnly(path);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw new PhmatchError("PHM_FILE_UNREADABLE", `${path} is not a regular file`, { path });
    }
    if (stat.size > maxFileBytes) {
      throw new PhmatchError(
        "PHM_FILE_TOO_LARGE",
        `${path} is ${stat.size} bytes, over the ${maxFileBytes}-byte decode limit; raise \`maxFileBytes\` to hash it`,
        { path, optionNames: ["maxFileBytes"] },
      );
    }
    return await handle.readFile();
  } catch (error) {
    throw error instanceof PhmatchError ? error : fileError(error, path);
  } finally {
    await handle.close();
  }
}

// O_NONBLOCK: opening a named pipe for reading would otherwise wait for a writer, for ever on seized media or in
// an upload directory; open returns at once and the regular-file check refuses it. (Regular files ignore the flag.)
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** Opens a file read-only and non-blocking, its access time kept where the kernel allows it. */
export async function openReadOnly(file: FilePath, path: string = displayPath(file)): Promise<fs.FileHandle> {
  try {
    return await fs.open(file, READ_FLAGS | O_NOATIME);
  } catch (error) {
    if (O_NOATIME !== 0 && (error as NodeJS.ErrnoException).code === "EPERM") {
      try {
        return await fs.open(file, READ_FLAGS);
      } catch (retryError) {
        throw fileError(retryError, path);
      }
    }
    throw fileError(error, path);
  }
}

function fileError(error: unknown, path: string): PhmatchError {
  const errno = (error as NodeJS.ErrnoException).code;
  if (errno === "ENOENT" || errno === "ENOTDIR") {
    return new PhmatchError("PHM_FILE_NOT_FOUND", `${path} does not exist`, { path, cause: error });
  }
  const reason =
    errno === "EISDIR" ? "is a directory" : errno === "EACCES" ? "permission denied" : (errno ?? "I/O error");
  return new PhmatchError("PHM_FILE_UNREADABLE", `cannot read ${path}: ${reason}`, { path, cause: error });
}

/** Chunk size of streamed reads: memory stays flat whatever the file size. */
const STREAM_CHUNK_BYTES = 1024 * 1024;

/** What one read of a file yields: its digests, and its bytes when they were wanted and within the limit. */
export interface FileRead {
  size: number;
  digests: Record<string, string>;
  /** The whole file, when `keepBytes` was asked and the file is within `maxFileBytes`. */
  bytes?: Buffer;
  /** `keepBytes` was asked but the file is over `maxFileBytes`: digests only. */
  tooLarge: boolean;
}

/**
 * Reads a file once, read-only: digests of every byte, and the bytes themselves when `keepBytes` (for decoding)
 * and the file is within `maxFileBytes`. A file over the limit, or one whose bytes are not wanted, is streamed
 * in 1 MiB chunks, so a 4 GB video costs 1 MiB of memory. Throws PHM_FILE_NOT_FOUND or PHM_FILE_UNREADABLE.
 */
export async function readFileOnce(
  file: FilePath,
  options: { digests: readonly string[]; keepBytes: boolean; maxFileBytes?: number },
): Promise<FileRead> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const path = displayPath(file);
  const handle = await openReadOnly(file, path);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw new PhmatchError("PHM_FILE_UNREADABLE", `${path} is not a regular file`, { path });
    }
    const digests = new StreamingDigests(options.digests);
    const tooLarge = options.keepBytes && stat.size > maxFileBytes;
    if (options.keepBytes && !tooLarge) {
      const bytes = await handle.readFile();
      digests.update(bytes);
      return { size: bytes.length, digests: digests.digests(), bytes, tooLarge: false };
    }
    const chunk = Buffer.allocUnsafe(STREAM_CHUNK_BYTES);
    let size = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      digests.update(chunk.subarray(0, bytesRead));
      size += bytesRead;
    }
    return { size, digests: digests.digests(), tooLarge };
  } catch (error) {
    throw error instanceof PhmatchError ? error : fileError(error, path);
  } finally {
    await handle.close();
  }
}

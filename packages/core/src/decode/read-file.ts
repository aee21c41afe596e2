import { constants, promises as fs } from "node:fs";
import { PhmatchError } from "../errors/index.js";

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
        `${path} is ${stat.size} bytes, over the ${maxFileBytes}-byte decode limit; raise --max-file-bytes to hash it`,
        { path },
      );
    }
    return await handle.readFile();
  } catch (error) {
    throw error instanceof PhmatchError ? error : fileError(error, path);
  } finally {
    await handle.close();
  }
}

async function openReadOnly(path: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(path, constants.O_RDONLY | O_NOATIME);
  } catch (error) {
    if (O_NOATIME !== 0 && (error as NodeJS.ErrnoException).code === "EPERM") {
      try {
        return await fs.open(path, constants.O_RDONLY);
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
  const reason = errno === "EISDIR" ? "is a directory" : errno === "EACCES" ? "permission denied" : (errno ?? "I/O error");
  return new PhmatchError("PHM_FILE_UNREADABLE", `cannot read ${path}: ${reason}`, { path, cause: error });
}

import { promises as fs } from "node:fs";
import type { FilePath } from "./file-path.js";

/**
 * Yields the files under the given inputs: a file as given, a directory walked depth-first with entries in
 * byte order (reproducible output), one directory listing in memory at a time. Names are read as bytes: a name
 * that is not valid UTF-8 is yielded as a Buffer path, exactly as on disk. Symbolic links inside directories are
 * not followed (seized media can hold loops); an input that does not exist is yielded as is, so the caller
 * reports PHM_FILE_NOT_FOUND for it instead of dropping it.
 */
export async function* walkInputs(inputs: Iterable<FilePath>): AsyncGenerator<FilePath> {
  for (const input of inputs) {
    let stat;
    try {
      stat = await fs.stat(input);
    } catch {
      yield input;
      continue;
    }
    if (stat.isDirectory()) yield* walkDirectory(input);
    else yield input;
  }
}

async function* walkDirectory(dir: FilePath): AsyncGenerator<FilePath> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true, encoding: "buffer" });
  } catch {
    yield dir; // unreadable directory: reported by the hasher as PHM_FILE_UNREADABLE
    return;
  }
  entries.sort((a, b) => Buffer.compare(a.name, b.name));
  const base = typeof dir === "string" ? Buffer.from(dir, "utf8") : dir;
  const separator = base.length > 0 && base[base.length - 1] === 0x2f ? Buffer.alloc(0) : Buffer.from("/");
  for (const entry of entries) {
    const bytes = Buffer.concat([base, separator, entry.name]);
    const decoded = bytes.toString("utf8");
    // Keep a plain string wherever it is exact; a Buffer only where UTF-8 would lose bytes.
    const path: FilePath = typeof dir === "string" && Buffer.from(decoded, "utf8").equals(bytes) ? decoded : bytes;
    if (entry.isDirectory()) yield* walkDirectory(path);
    else if (entry.isFile()) yield path;
  }
}


import { promises as fs } from "node:fs";
import type { FilePath } from "./file-path.js";

/** How to walk inputs. */
export interface WalkOptions {
  /** Follow symbolic links inside directories (default false: seized media can hold loops and links out). */
  followSymlinks?: boolean;
}

/**
 * Yields the files under the given inputs: a file as given, a directory walked depth-first with entries in
 * byte order (reproducible output), one directory listing in memory at a time. Names are read as bytes: a name
 * that is not valid UTF-8 is yielded as a Buffer path, exactly as on disk. Symbolic links inside directories are
 * not followed unless asked; when followed, a directory already on the current path (same device and inode) is
 * not entered again, so loops end. An input that does not exist is yielded as is, so the caller reports
 * PHM_FILE_NOT_FOUND for it instead of dropping it. Named pipes, sockets and devices are yielded like files (the
 * hasher refuses them with PHM_FILE_UNREADABLE without waiting on them).
 */
export async function* walkInputs(inputs: Iterable<FilePath>, options: WalkOptions = {}): AsyncGenerator<FilePath> {
  for (const input of inputs) {
    let stat;
    try {
      stat = await fs.stat(input);
    } catch {
      yield input;
      continue;
    }
    if (stat.isDirectory()) yield* walkDirectory(input, options, new Set([`${stat.dev}:${stat.ino}`]));
    else yield input;
  }
}

async function* walkDirectory(dir: FilePath, options: WalkOptions, ancestors: Set<string>): AsyncGenerator<FilePath> {
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
    if (entry.isDirectory()) yield* enter(path, options, ancestors);
    // Named pipes, sockets and devices are yielded too: the hasher refuses them at once (PHM_FILE_UNREADABLE),
    // so the report accounts for every entry it was not told to pass over.
    else if (!entry.isSymbolicLink()) yield path;
    else if (options.followSymlinks === true) {
      let target;
      try {
        target = await fs.stat(path);
      } catch {
        continue; // a dangling link names no file
      }
      if (target.isDirectory()) yield* enter(path, options, ancestors);
      else if (target.isFile()) yield path;
    }
  }
}

async function* enter(path: FilePath, options: WalkOptions, ancestors: Set<string>): AsyncGenerator<FilePath> {
  const stat = await fs.stat(path).catch(() => undefined);
  const id = stat === undefined ? undefined : `${stat.dev}:${stat.ino}`;
  if (id !== undefined && ancestors.has(id)) return; // a loop back to a directory already being walked
  if (id !== undefined) ancestors.add(id);
  try {
    yield* walkDirectory(path, options, ancestors);
  } finally {
    if (id !== undefined) ancestors.delete(id);
  }
}

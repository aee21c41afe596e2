import { promises as fs } from "node:fs";
import { join } from "node:path";

/**
 * Yields the files under the given inputs: a file as given, a directory walked depth-first with entries in
 * byte order (reproducible output), one directory listing in memory at a time. Symbolic links inside
 * directories are not followed (seized media can hold loops); an input that does not exist is yielded as is,
 * so the caller reports PHM_FILE_NOT_FOUND for it instead of dropping it.
 */
export async function* walkInputs(inputs: Iterable<string>): AsyncGenerator<string> {
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

async function* walkDirectory(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    yield dir; // unreadable directory: reported by the hasher as PHM_FILE_UNREADABLE
    return;
  }
  entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walkDirectory(path);
    else if (entry.isFile()) yield path;
  }
}

import { type Dirent, promises as fs } from "node:fs";
import { displayPath, type FilePath } from "../files/file-path.js";
import type { AccessTimeWatch } from "./access-times.js";

/** How to walk inputs. */
export interface WalkOptions {
  /**
   * Follow symbolic links inside directories (default false: seized media can hold loops and links out). Each
   * target (device and inode) is followed once; a later link to it is reported, not followed again.
   */
  followSymlinks?: boolean;
  /** List directories and read links through this watch, which reports (and may set back) access times. */
  accessTimes?: AccessTimeWatch;
}

/**
 * One entry of a walk: a file to hash (`linkTarget` when it was reached through a followed symbolic link), or a
 * symbolic link recorded as such: its target as readlink gives it, never opened; `duplicateOf` when its target was
 * already reported under another path; `error` when the link itself could not be read.
 */
export type WalkEntry =
  | { kind: "file"; path: FilePath; linkTarget?: Buffer }
  | {
      kind: "symlink";
      path: FilePath;
      linkTarget?: Buffer;
      duplicateOf?: FilePath;
      note: string;
      error?: { code: "PHM_FILE_UNREADABLE"; message: string };
    };

/** Why a link was not followed, as its record's note says. */
export const SYMLINK_NOTES = {
  notFollowed: "symbolic link: recorded with its target, not followed (`followSymlinks` was not set)",
  followedDirectory: "symbolic link to a directory: followed, its entries are reported under this path",
  visited:
    "symbolic link: not followed again, " +
    "its target (same device and inode) was already reported under the path in duplicateOf",
  dangling: "symbolic link: its target does not exist (dangling), nothing to follow",
  loop: "symbolic link: its target cannot be resolved (too many levels of symbolic links, a loop)",
} as const;

/**
 * Yields every entry under the given inputs: a file as given, a directory walked depth-first with entries in byte
 * order (reproducible output), one directory listing in memory at a time. Names are read as bytes: a name that is
 * not valid UTF-8 is yielded as a Buffer path, exactly as on disk. Every symbolic link inside a directory is an
 * entry of its own, a dangling one too. Unless `followSymlinks`, a link is never followed; when followed, each
 * target (device and inode) is followed once, so links that double at every level of a tree cost one walk of it,
 * and loops end. An input that does not exist is yielded as is, so the caller reports PHM_FILE_NOT_FOUND for it
 * instead of dropping it. Named pipes, sockets and devices are yielded like files (the hasher refuses them with
 * PHM_FILE_UNREADABLE without waiting on them).
 */
export async function* walkEntries(inputs: Iterable<FilePath>, options: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  yield* new Walk(options, true).inputs(inputs);
}

/**
 * The files of {@link walkEntries} (what `phmatch hash` and `hashset build` read): links are passed over, and
 * their targets are not read (readlink would update a link's access time for nothing).
 */
export async function* walkInputs(inputs: Iterable<FilePath>, options: WalkOptions = {}): AsyncGenerator<FilePath> {
  for await (const entry of new Walk(options, false).inputs(inputs)) if (entry.kind === "file") yield entry.path;
}

class Walk {
  readonly #follow: boolean;
  readonly #watch: AccessTimeWatch | undefined;
  /** With followSymlinks: device:inode -> the first path under which a directory or a link's target was reported. */
  readonly #visited = new Map<string, FilePath>();
  /** Read each link's target (for its record); false when links are only passed over or followed. */
  readonly #targets: boolean;

  constructor(options: WalkOptions, targets: boolean) {
    this.#follow = options.followSymlinks === true;
    this.#watch = options.accessTimes;
    this.#targets = targets;
  }

  async *inputs(inputs: Iterable<FilePath>): AsyncGenerator<WalkEntry> {
    for (const input of inputs) {
      let stat;
      try {
        stat = await fs.stat(input);
      } catch {
        // A dangling link named on the command line is a link, not a missing file.
        const link = await fs.lstat(input).catch(() => undefined);
        yield link?.isSymbolicLink() === true && this.#targets
          ? await this.#danglingInput(input)
          : { kind: "file", path: input };
        continue;
      }
      const id = `${stat.dev}:${stat.ino}`;
      if (!stat.isDirectory()) yield { kind: "file", path: input };
      else {
        if (this.#follow && !this.#visited.has(id)) this.#visited.set(id, input);
        yield* this.#directory(input, new Set([id]));
      }
    }
  }

  async *#directory(dir: FilePath, ancestors: Set<string>): AsyncGenerator<WalkEntry> {
    let entries: Dirent<Buffer>[];
    try {
      entries =
        this.#watch !== undefined
          ? this.#watch.listDirectory(dir)
          : await fs.readdir(dir, { withFileTypes: true, encoding: "buffer" });
    } catch {
      yield { kind: "file", path: dir }; // unreadable directory: reported by the hasher as PHM_FILE_UNREADABLE
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
      if (entry.isDirectory()) yield* this.#enter(path, ancestors);
      else if (entry.isSymbolicLink()) yield* this.#symlink(path, ancestors);
      // Named pipes, sockets and devices are yielded too: the hasher refuses them at once (PHM_FILE_UNREADABLE),
      // so the report accounts for every entry it was not told to pass over.
      else yield { kind: "file", path };
    }
  }

  async *#enter(path: FilePath, ancestors: Set<string>): AsyncGenerator<WalkEntry> {
    const stat = await fs.lstat(path).catch(() => undefined);
    const id = stat === undefined ? undefined : `${stat.dev}:${stat.ino}`;
    if (id !== undefined && ancestors.has(id)) return; // a loop back to a directory already being walked (a bind mount)
    // A real directory is always walked under its own path, even when a link led into it first.
    if (id !== undefined && this.#follow && !this.#visited.has(id)) this.#visited.set(id, path);
    yield* this.#within(path, id, ancestors);
  }

  async *#within(path: FilePath, id: string | undefined, ancestors: Set<string>): AsyncGenerator<WalkEntry> {
    if (id !== undefined) ancestors.add(id);
    try {
      yield* this.#directory(path, ancestors);
    } finally {
      if (id !== undefined) ancestors.delete(id);
    }
  }

  async *#symlink(path: FilePath, ancestors: Set<string>): AsyncGenerator<WalkEntry> {
    if (!this.#targets && !this.#follow) return;
    let target: Buffer | undefined;
    try {
      if (this.#targets) target = await this.#readLink(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "I/O error";
      yield {
        kind: "symlink",
        path,
        note: "symbolic link: its target could not be read",
        error: { code: "PHM_FILE_UNREADABLE", message: `cannot read the symbolic link ${displayPath(path)}: ${code}` },
      };
      return;
    }
    if (!this.#follow) {
      yield {
        kind: "symlink",
        path,
        ...(target !== undefined && { linkTarget: target }),
        note: SYMLINK_NOTES.notFollowed,
      };
      return;
    }
    let stat;
    try {
      stat = await fs.stat(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      yield {
        kind: "symlink",
        path,
        linkTarget: target,
        note:
          code === "ELOOP"
            ? SYMLINK_NOTES.loop
            : code === "ENOENT" || code === "ENOTDIR"
              ? SYMLINK_NOTES.dangling
              : `symbolic link: its target cannot be reached (${code ?? "I/O error"})`,
      };
      return;
    }
    const id = `${stat.dev}:${stat.ino}`;
    const first = this.#visited.get(id);
    if (first !== undefined) {
      yield { kind: "symlink", path, linkTarget: target, duplicateOf: first, note: SYMLINK_NOTES.visited };
      return;
    }
    this.#visited.set(id, path);
    if (stat.isDirectory()) {
      yield { kind: "symlink", path, linkTarget: target, note: SYMLINK_NOTES.followedDirectory };
      yield* this.#within(path, id, ancestors);
    } else yield { kind: "file", path, linkTarget: target };
  }

  async #readLink(path: FilePath): Promise<Buffer> {
    return this.#watch !== undefined ? this.#watch.readLink(path) : await fs.readlink(path, { encoding: "buffer" });
  }

  async #danglingInput(path: FilePath): Promise<WalkEntry> {
    try {
      return { kind: "symlink", path, linkTarget: await this.#readLink(path), note: SYMLINK_NOTES.dangling };
    } catch {
      return { kind: "file", path };
    }
  }
}

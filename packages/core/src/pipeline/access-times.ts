import {
  type BigIntStats,
  closeSync,
  constants,
  type Dirent,
  fstatSync,
  futimesSync,
  lstatSync,
  lutimesSync,
  openSync,
  readdirSync,
  readlinkSync,
} from "node:fs";
import { type FilePath, reportPathFields } from "../files/file-path.js";

/** An entry whose access time is not as the scan found it. */
export interface AccessTimeChange {
  /** The entry's path (escaped as report paths are when not UTF-8). */
  path: string;
  /** Its exact bytes (base64) when the path is not valid UTF-8. */
  pathBytes?: string;
  entry: "directory" | "symlink";
  /** Its access time as first found by this run (ISO 8601, to the nanosecond). */
  atime: string;
  /** Why it is listed, and why it was not set back when that was asked. */
  why: string;
}

/** What reading directories and symbolic links did to their access times. */
export interface AccessTimeReport {
  /** Directories listed and symbolic links read (each counted once). */
  checked: number;
  /** Of those, entries whose access time the scan changed and set back exactly (`restore`). */
  restored: number;
  /** Entries whose access time is not as found: changed by this scan, or found already after the scan started. */
  changed: AccessTimeChange[];
}

/** How {@link AccessTimeWatch} works. */
export interface AccessTimeWatchOptions {
  /** When the scan started (a resumed scan: when its report was started). An access time found at or after it
   * may have been changed by an earlier, interrupted run: it is listed, not taken as the original. */
  since: Date;
  /** Set back an access time the scan changed, where its atime and mtime can be written back exactly (this sets
   * the entry's ctime, as any timestamp write does). Default false: no timestamp is written. */
  restore?: boolean;
}

// Node writes timestamps through libuv, which keeps microseconds (measured: an mtime of ...107974040 ns comes back
// ...107974000): a value with sub-microsecond digits cannot be written back exactly, and is not written at all.
const EXACT_UNIT = 1000n;

/**
 * Lists directories and reads symbolic links for a walk, watching their access times. Files are opened with
 * O_NOATIME (read-file.ts), but Node lists a directory only by path (opendir/scandir open it again, without
 * O_NOATIME) and has no readlink on a descriptor, so the kernel may update their atimes (on relatime mounts, when
 * the atime is older than a day or not after the mtime). Each entry is lstat-ed (to the nanosecond) before and after
 * it is read: one whose atime changed is reported with the atime found first, and is set back only when asked and
 * exact. Reads are synchronous so that two walks in one process (the scan and its progress count) never interleave
 * on one entry; each entry's first-found atime is kept (by device and inode) for the run.
 */
export class AccessTimeWatch {
  readonly #sinceNs: bigint;
  readonly #restore: boolean;
  /** dev:ino -> atime first found (ns). */
  readonly #seen = new Map<string, bigint>();
  readonly #changed = new Map<string, AccessTimeChange>();
  readonly #restored = new Set<string>();

  constructor(options: AccessTimeWatchOptions) {
    this.#sinceNs = BigInt(options.since.getTime()) * 1_000_000n;
    this.#restore = options.restore === true;
  }

  /** True when access times the scan changes are set back where exact. */
  get restores(): boolean {
    return this.#restore;
  }

  /** A directory's entries, names as bytes (throws as readdirSync does). */
  listDirectory(dir: FilePath): Dirent<Buffer>[] {
    return this.#watch(dir, "directory", () => readdirSync(dir, { withFileTypes: true, encoding: "buffer" }));
  }

  /** A symbolic link's target as bytes, as readlink gives it (throws as readlinkSync does). */
  readLink(link: FilePath): Buffer {
    return this.#watch(link, "symlink", () => readlinkSync(link, { encoding: "buffer" }));
  }

  /** What happened to access times so far. */
  report(): AccessTimeReport {
    return { checked: this.#seen.size, restored: this.#restored.size, changed: [...this.#changed.values()] };
  }

  #watch<T>(path: FilePath, entry: AccessTimeChange["entry"], read: () => T): T {
    const before = lstatQuiet(path);
    const result = read();
    if (before === undefined) return result;
    const id = `${before.dev}:${before.ino}`;
    let found = this.#seen.get(id);
    if (found === undefined) {
      found = before.atimeNs;
      this.#seen.set(id, found);
      if (found >= this.#sinceNs) {
        this.#changed.set(
          id,
          this.#change(
            path,
            entry,
            found,
            "its access time was already at or after the scan's start when first read " +
              "(an earlier, interrupted run of this scan or another reader may have changed it)",
          ),
        );
      }
    }
    const after = lstatQuiet(path);
    if (after === undefined || after.atimeNs === before.atimeNs || this.#changed.has(id)) return result;
    const why = "reading it changed its access time";
    if (!this.#restore) {
      this.#changed.set(id, this.#change(path, entry, found, why));
      return result;
    }
    const refused = this.#setBack(path, entry, found, before, after);
    if (refused === undefined) this.#restored.add(id);
    else {
      this.#restored.delete(id);
      this.#changed.set(id, this.#change(path, entry, found, `${why}; not set back: ${refused}`));
    }
    return result;
  }

  // Writes the first-found atime back with the entry's own mtime; returns why not when it cannot be exact.
  #setBack(
    path: FilePath,
    entry: AccessTimeChange["entry"],
    atimeNs: bigint,
    before: BigIntStats,
    after: BigIntStats,
  ): string | undefined {
    if (after.mtimeNs !== before.mtimeNs || after.ino !== before.ino) return "it was modified while it was read";
    if (atimeNs < 0n || after.mtimeNs < 0n || atimeNs % EXACT_UNIT !== 0n || after.mtimeNs % EXACT_UNIT !== 0n) {
      return "its atime or mtime has sub-microsecond digits, which Node cannot write (its mtime would change)";
    }
    try {
      if (entry === "symlink") lutimesSync(path, seconds(atimeNs), seconds(after.mtimeNs));
      else {
        // On the directory's own descriptor, so a directory put in its place meanwhile is not the one written.
        const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | (constants.O_NOFOLLOW ?? 0));
        try {
          const opened = fstatSync(fd, { bigint: true });
          if (opened.dev !== before.dev || opened.ino !== before.ino) return "it was replaced while it was read";
          futimesSync(fd, seconds(atimeNs), seconds(after.mtimeNs));
        } finally {
          closeSync(fd);
        }
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === "EPERM" || code === "EACCES"
        ? `${code} (only its owner or root may set its times)`
        : (code ?? "error");
    }
    const now = lstatQuiet(path);
    if (now === undefined || now.atimeNs !== atimeNs || now.mtimeNs !== after.mtimeNs)
      return "the times read back differ from those written";
    return undefined;
  }

  #change(path: FilePath, entry: AccessTimeChange["entry"], atimeNs: bigint, why: string): AccessTimeChange {
    return { ...reportPathFields(path), entry, atime: isoNs(atimeNs), why };
  }
}

function lstatQuiet(path: FilePath): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}

// Seconds as libuv takes them (a double, cut to whole microseconds): the middle of the microsecond, so that
// rounding in the double never falls into the one before.
function seconds(ns: bigint): number {
  return Number(ns / 1_000_000_000n) + (Number((ns % 1_000_000_000n) / 1000n) + 0.5) / 1e6;
}

/** ISO 8601 with nine fractional digits, from nanoseconds since the epoch. */
export function isoNs(ns: bigint): string {
  const second = ns >= 0n ? ns / 1_000_000_000n : -((-ns + 999_999_999n) / 1_000_000_000n);
  const fraction = String(ns - second * 1_000_000_000n).padStart(9, "0");
  return `${new Date(Number(second) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}

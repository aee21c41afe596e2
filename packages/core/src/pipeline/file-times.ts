import { type BigIntStats, statSync } from "node:fs";
import { lstat, stat } from "node:fs/promises";
import { release } from "node:os";
import type { FilePath } from "../files/file-path.js";
import { isoNs } from "./access-times.js";

/**
 * A file's times as a scan found them before reading it: ISO 8601 UTC with nine fractional digits (Node's
 * nanosecond stat; the file system's own resolution may be coarser: ext4 and tmpfs keep nanoseconds, FAT two
 * seconds for the modified time). `born` is absent where the platform or file system does not report a birth time.
 */
export interface FileTimes {
  /** Last change of the content (mtime). */
  modified: string;
  /** Last change of the inode: content, owner, mode, links or times (ctime). */
  changed: string;
  /** Last access (atime), as found before the scan read the file. */
  accessed: string;
  /** Creation (birth time: statx's btime on Linux, st_birthtime on macOS and BSD, creation time on Windows). */
  born?: string;
}

/**
 * The times of a file before it is read: lstat (stat for a file reached through a followed link: the times of what
 * is hashed), neither of which opens the file or changes its access time. Undefined when the file cannot be
 * stat-ed (it is gone, or its directory cannot be searched): the record's error then says why it was not read.
 */
export async function readFileTimes(file: FilePath, followLink = false): Promise<FileTimes | undefined> {
  try {
    return fileTimesOf(await (followLink ? stat : lstat)(file, { bigint: true }));
  } catch {
    return undefined;
  }
}

/** {@link FileTimes} from a nanosecond stat; a birth time the platform did not report is left out, not guessed. */
export function fileTimesOf(stats: BigIntStats, platform: BirthTimeSource = thisMachine()): FileTimes {
  const times: FileTimes = {
    modified: isoNs(stats.mtimeNs),
    changed: isoNs(stats.ctimeNs),
    accessed: isoNs(stats.atimeNs),
  };
  if (hasBirthTime(stats, platform)) times.born = isoNs(stats.birthtimeNs);
  return times;
}

/**
 * Where Node's `birthtime` comes from on this machine. `statx`: Linux from 4.11, where libuv asks statx for the
 * birth time and leaves 0 when the file system has none (ext2/3, some network file systems). `copied-ctime`:
 * Linux without statx (before 4.11, or a sandbox that forbids it), where libuv falls back to stat(2) and copies
 * the ctime into birthtime. `native`: macOS, BSD and Windows, whose stat has a creation time of its own.
 */
export type BirthTimeSource = "statx" | "copied-ctime" | "native";

/**
 * The {@link BirthTimeSource} of a platform and kernel release (os.release()); on Linux, `probes` (stats of paths
 * that exist on every system) tell a statx that works from libuv's fallback: the fallback's birthtime is the ctime,
 * to the nanosecond, every time; statx's is 0 (none) or a real birth time, which for `/` or the node binary
 * almost never equals their last inode change.
 */
export function birthTimeSource(
  platform: NodeJS.Platform,
  kernelRelease: string,
  probes: readonly BigIntStats[] = [],
): BirthTimeSource {
  if (platform !== "linux" && platform !== "android") return "native";
  const [major = 0, minor = 0] = kernelRelease.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  if (major < 4 || (major === 4 && minor < 11)) return "copied-ctime";
  // When unsure (every probe's birth equals its ctime), the fallback is assumed: no birth time is better than a
  // copied one.
  return probes.length > 0 && probes.every((s) => s.birthtimeNs !== 0n && s.birthtimeNs === s.ctimeNs)
    ? "copied-ctime"
    : "statx";
}

let birthSource: BirthTimeSource | undefined;

function thisMachine(): BirthTimeSource {
  birthSource ??= birthTimeSource(
    process.platform,
    release(),
    ["/", process.execPath].flatMap((path) => {
      try {
        return [statSync(path, { bigint: true })];
      } catch {
        return [];
      }
    }),
  );
  return birthSource;
}

// Node reports an unknown birth time as 0 (the epoch), and a libuv without statx copies ctime: neither is a birth
// time, so neither is written as one (a record saying a file was born in 1970, or when its inode last changed,
// would mislead a case file). Where the kernel lacks statx no birth time is written at all.
function hasBirthTime(stats: BigIntStats, source: BirthTimeSource): boolean {
  if (source === "copied-ctime") return false;
  return stats.birthtimeNs > 0n;
}

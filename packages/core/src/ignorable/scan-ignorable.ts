import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { open } from "node:fs/promises";
import { basename } from "node:path";
import { PhmatchError } from "../errors/index.js";
import type { IgnorableHit, ScanIgnorableList } from "../report/scan-report.js";
import { DIGEST_WIDTH, type DigestAlgorithm } from "./digest-algorithm.js";
import { openIgnorable } from "./digest-list.js";
import type { IgnorableDigestSet } from "./digest-set.js";
import { DIGEST_STORE_MAGIC } from "./store-format.js";
import type { OpenDigestStoreOptions } from "./store-reader.js";

/** An ignorable list as a scan uses it: the set, and what the report header says of it. */
export interface ScanIgnorable {
  /** The header's statement of it; records name it by `list.name`. */
  readonly list: ScanIgnorableList;
  readonly set: IgnorableDigestSet;
}

/** The digest algorithms, in the order a record's `hashes` holds them. */
const ALGORITHM_ORDER: readonly DigestAlgorithm[] = ["md5", "sha1", "sha256"];

/** SHA-256 (hex) and the first bytes of a file, in one streamed read. */
async function fileFacts(path: string): Promise<{ sha256: string; head: Buffer }> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    // Non-blocking, so a named pipe cannot hold the scan; then anything but a regular file (a device such as
    // /dev/zero, a pipe, a directory) is refused before a byte is read.
    file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    if (!(await file.stat()).isFile()) {
      await file.close();
      throw new PhmatchError("PHM_FILE_UNREADABLE", `${path}: an ignorable list must be a regular file`, { path });
    }
  } catch (error) {
    if (error instanceof PhmatchError) throw error;
    const code = (error as NodeJS.ErrnoException).code === "ENOENT" ? "PHM_FILE_NOT_FOUND" : "PHM_FILE_UNREADABLE";
    throw new PhmatchError(code, `${path}: cannot open the ignorable list (${(error as Error).message})`, { path });
  }
  try {
    const hash = createHash("sha256");
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    const head = Buffer.alloc(DIGEST_STORE_MAGIC.length);
    let seen = 0;
    for (;;) {
      const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      if (seen < head.length) chunk.copy(head, seen, 0, Math.min(bytesRead, head.length - seen));
      seen += bytesRead;
      hash.update(chunk.subarray(0, bytesRead));
    }
    return { sha256: hash.digest("hex"), head };
  } finally {
    await file.close();
  }
}

/**
 * Opens a scan's `--ignorable` files in the order given: each a digest store or a plain digest list (openIgnorable),
 * with the SHA-256 of its bytes (read before and after it is opened: a file that changed meanwhile is refused, so
 * the header's digest is of the bytes used) and a name unique within the scan (its base name, then `name#2`, ...).
 */
export async function openScanIgnorables(
  files: readonly string[],
  options: OpenDigestStoreOptions = {},
): Promise<ScanIgnorable[]> {
  const opened: ScanIgnorable[] = [];
  const names = new Set<string>();
  try {
    for (const file of files) {
      const before = await fileFacts(file);
      const set = await openIgnorable(file, options);
      let after: { sha256: string };
      try {
        after = await fileFacts(file);
      } catch (error) {
        await set.close();
        throw error;
      }
      if (after.sha256 !== before.sha256) {
        await set.close();
        throw new PhmatchError(
          "PHM_IGNORABLE_FORMAT",
          `${file}: the ignorable list changed while it was being read; it was not used (keep lists read-only)`,
          { path: file },
        );
      }
      const base = basename(file);
      let name = base;
      for (let n = 2; names.has(name); n++) name = `${base}#${n}`;
      names.add(name);
      const list: ScanIgnorableList = {
        name,
        file,
        kind: before.head.equals(DIGEST_STORE_MAGIC) ? "store" : "list",
        algorithm: set.algorithm,
        count: set.count,
        sha256: before.sha256,
        ...(set.source !== "" && { source: set.source }),
      };
      opened.push({ list, set });
    }
  } catch (error) {
    await closeScanIgnorables(opened);
    throw error;
  }
  return opened;
}

/** Closes the sets of {@link openScanIgnorables}. */
export async function closeScanIgnorables(ignorables: readonly ScanIgnorable[]): Promise<void> {
  await Promise.all(ignorables.map((i) => i.set.close()));
}

/** The digest algorithms a scan must compute for its ignorable lists, in `hashes` order. */
export function ignorableAlgorithms(ignorables: readonly ScanIgnorable[]): DigestAlgorithm[] {
  const wanted = new Set(ignorables.map((i) => i.set.algorithm));
  return ALGORITHM_ORDER.filter((a) => wanted.has(a));
}

/** Orders digest algorithm ids as a record's `hashes` holds them (md5, sha1, sha256), without repeats. */
export function digestOrder(algorithms: Iterable<string>): DigestAlgorithm[] {
  const wanted = new Set(algorithms);
  return ALGORITHM_ORDER.filter((a) => wanted.has(a));
}

/** Every ignorable list that holds one of a file's digests (hex, by algorithm), in the order the lists were given. */
export function ignorableHits(ignorables: readonly ScanIgnorable[], digests: Record<string, string>): IgnorableHit[] {
  const hits: IgnorableHit[] = [];
  for (const { list, set } of ignorables) {
    const hex = digests[set.algorithm];
    if (hex === undefined || hex.length !== DIGEST_WIDTH[set.algorithm] * 2) continue;
    if (set.has(Buffer.from(hex, "hex"))) hits.push({ list: list.name, algorithm: set.algorithm });
  }
  return hits;
}

/**
 * Whether two scans use the same ignorable lists: the same names and file contents (SHA-256), in the same order.
 * What `--resume` and a distributed worker require.
 */
export function sameIgnorableLists(
  a: readonly ScanIgnorableList[] | undefined,
  b: readonly ScanIgnorableList[] | undefined,
): boolean {
  const key = (lists: readonly ScanIgnorableList[] | undefined) =>
    JSON.stringify((lists ?? []).map((l) => [l.name, l.sha256]));
  return key(a) === key(b);
}

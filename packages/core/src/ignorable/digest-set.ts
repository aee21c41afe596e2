import { fstatSync, readSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { PhmatchError } from "../errors/index.js";
import { DIGEST_WIDTH, type DigestAlgorithm } from "./digest-algorithm.js";

/**
 * An exact set of file digests of one algorithm that a scan may set aside as ignorable (issue 22): a digest store
 * opened from disk or a plain text list. `has` is exact (no probabilistic filter: a false hit would skip a file).
 */
export interface IgnorableDigestSet {
  readonly algorithm: DigestAlgorithm;
  /** Distinct digests held. */
  readonly count: number;
  /** Where the digests came from (the store's source description, or the list's file name). */
  readonly source: string;
  /** The file it was read from. */
  readonly path: string;
  /** Whether the digests are in memory ("memory") or looked up with positioned reads of the file ("file"). */
  readonly residence: "memory" | "file";
  /** RAM held for lookups, in bytes (the digests when in memory, plus the 512 KiB prefix table). */
  readonly memoryBytes: number;
  /** True if `digest` (of this set's algorithm) is in the set. */
  has(digest: Uint8Array): boolean;
  /** Releases the file, if one is held; `has` must not be called after. */
  close(): Promise<void>;
}

/** Buckets of the prefix table: the first two bytes of a digest. */
const BUCKETS = 65536;
/** A bucket range up to this size is read whole with one positioned read; larger ones are bisected first. */
const READ_WHOLE_BYTES = 64 * 1024;

/**
 * Where each 2-byte prefix starts in a sorted body: `starts[p]` .. `starts[p + 1]` are the entries of prefix `p`.
 * A Float64Array, so counts beyond 2^32 stay exact; 512 KiB whatever the size.
 */
export class PrefixTable {
  readonly starts = new Float64Array(BUCKETS + 1);
  private seen = 0;

  /** Counts one more entry (entries must come in sorted order). */
  add(first: number, second: number): void {
    const slot = ((first << 8) | second) + 1;
    this.starts[slot] = (this.starts[slot] as number) + 1;
    this.seen++;
  }

  /** Turns the counts into start offsets; call once after the last add. */
  finish(): void {
    for (let p = 1; p <= BUCKETS; p++) this.starts[p] = (this.starts[p] as number) + (this.starts[p - 1] as number);
  }

  /** Entries counted. */
  get count(): number {
    return this.seen;
  }
}

function checkWidth(digest: Uint8Array, algorithm: DigestAlgorithm): void {
  if (digest.length !== DIGEST_WIDTH[algorithm]) {
    throw new PhmatchError(
      "PHM_USAGE",
      `a ${algorithm} digest has ${DIGEST_WIDTH[algorithm]} bytes; ${digest.length} were given`,
    );
  }
}

/** Binary search of `digest` among entries lo..hi of `body` (entry indexes relative to `body`'s start). */
function bisect(body: Buffer, digest: Uint8Array, width: number, lo: number, hi: number): boolean {
  let low = lo;
  let high = hi;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const c = body.compare(digest, 0, width, mid * width, mid * width + width);
    if (c === 0) return true;
    if (c < 0) low = mid + 1;
    else high = mid;
  }
  return false;
}

/** A sorted, deduplicated body held in memory: `width` bytes per entry, plus the prefix table. */
export class MemoryDigestSet implements IgnorableDigestSet {
  readonly residence = "memory";
  readonly count: number;
  private readonly width: number;

  constructor(
    readonly algorithm: DigestAlgorithm,
    private readonly body: Buffer,
    private readonly prefixes: PrefixTable,
    readonly source: string,
    readonly path: string,
  ) {
    this.width = DIGEST_WIDTH[algorithm];
    this.count = body.length / this.width;
  }

  get memoryBytes(): number {
    return this.body.length + this.prefixes.starts.byteLength;
  }

  has(digest: Uint8Array): boolean {
    checkWidth(digest, this.algorithm);
    const p = ((digest[0] as number) << 8) | (digest[1] as number);
    return bisect(
      this.body,
      digest,
      this.width,
      this.prefixes.starts[p] as number,
      this.prefixes.starts[p + 1] as number,
    );
  }

  async close(): Promise<void> {}
}

/**
 * A sorted body looked up in the file with positioned reads (the page cache does the caching): RAM is the prefix
 * table and one read buffer, whatever the count. The file was verified whole when opened and stays open, so a store
 * replaced by rename afterwards does not matter (the handle keeps the verified file); one written in place would,
 * so every lookup first checks that the file's size and change time (ctime, which no user can set back) are those
 * seen when it was verified, and refuses to answer otherwise. Limit: a same-size rewrite within the file system's
 * timestamp granularity (a few milliseconds on Linux) of verification keeps both; keep stores read-only, or in memory.
 */
export class FileDigestSet implements IgnorableDigestSet {
  readonly residence = "file";
  private readonly width: number;
  private readonly scratch: Buffer;
  private closed = false;

  constructor(
    readonly algorithm: DigestAlgorithm,
    private readonly file: FileHandle,
    private readonly bodyOffset: number,
    readonly count: number,
    private readonly prefixes: PrefixTable,
    readonly source: string,
    readonly path: string,
    /** Size and ctime (ns) of the file as verified. */
    private readonly verified: { size: bigint; ctimeNs: bigint },
  ) {
    this.width = DIGEST_WIDTH[algorithm];
    this.scratch = Buffer.allocUnsafe(Math.max(READ_WHOLE_BYTES, this.width));
  }

  get memoryBytes(): number {
    return this.prefixes.starts.byteLength + this.scratch.length;
  }

  has(digest: Uint8Array): boolean {
    checkWidth(digest, this.algorithm);
    if (this.closed) throw new PhmatchError("PHM_USAGE", `${this.path}: the digest set was closed`);
    const now = fstatSync(this.file.fd, { bigint: true });
    if (now.size !== this.verified.size || now.ctimeNs !== this.verified.ctimeNs) {
      throw new PhmatchError(
        "PHM_IGNORABLE_FORMAT",
        `${this.path}: the digest store was changed after it was verified; it is no longer used (open it again)`,
        { path: this.path },
      );
    }
    const w = this.width;
    const p = ((digest[0] as number) << 8) | (digest[1] as number);
    let low = this.prefixes.starts[p] as number;
    let high = this.prefixes.starts[p + 1] as number;
    // Bisect with one-entry reads until the range fits one read, then search that block in memory.
    while ((high - low) * w > this.scratch.length) {
      const mid = Math.floor((low + high) / 2);
      this.read(mid, 1);
      const c = this.scratch.compare(digest, 0, w, 0, w);
      if (c === 0) return true;
      if (c < 0) low = mid + 1;
      else high = mid;
    }
    if (high <= low) return false;
    this.read(low, high - low);
    return bisect(this.scratch, digest, w, 0, high - low);
  }

  private read(entry: number, entries: number): void {
    const bytes = entries * this.width;
    let filled = 0;
    while (filled < bytes) {
      const n = readSync(
        this.file.fd,
        this.scratch,
        filled,
        bytes - filled,
        this.bodyOffset + entry * this.width + filled,
      );
      if (n === 0) {
        throw new PhmatchError("PHM_IGNORABLE_FORMAT", `${this.path}: the digest store was cut while in use`, {
          path: this.path,
        });
      }
      filled += n;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.file.close();
  }
}

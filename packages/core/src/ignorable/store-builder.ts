import { createHash, randomBytes } from "node:crypto";
import { type FileHandle, mkdtemp, open, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { PhmatchError } from "../errors/index.js";
import { DIGEST_WIDTH, type DigestAlgorithm } from "./digest-algorithm.js";
import { sortUniqueDigests } from "./run-sort.js";
import { encodeDigestStoreHeader } from "./store-format.js";

/** How a digest store is built. */
export interface DigestStoreBuildOptions {
  algorithm: DigestAlgorithm;
  /** The store to write (replaced atomically: written beside it under a temporary name, then renamed). */
  output: string;
  /** Where the digests came from, kept in the header (at most 4096 UTF-8 bytes). */
  source: string;
  /**
   * The RAM the builder may hold for digests, in bytes (default 256 MiB). Each buffered digest costs its width plus a
   * 4-byte sort index; when the buffer is full it is sorted into a run file and the runs are merged at the end.
   */
  ramBudgetBytes?: number;
  /** Where run files go (default the OS temporary folder); a private folder (mode 0700) is made inside. */
  tempDir?: string;
}

/** What a build did. */
export interface DigestStoreBuildResult {
  path: string;
  algorithm: DigestAlgorithm;
  /** Distinct digests written. */
  count: number;
  /** Digests given, duplicates included. */
  added: number;
  /** Sorted runs spilled to disk (0: everything fitted in the budget). */
  runs: number;
  /** Hex SHA-256 checksum from the header. */
  checksum: string;
}

/** Default RAM budget of a build. */
export const DEFAULT_DIGEST_RAM_BUDGET = 256 * 1024 * 1024;
/** Runs merged at once; more runs are merged in passes (bounded open files and read buffers). */
const MAX_FAN_IN = 64;
/** Upper bound of one write or read block. */
const MAX_BLOCK_BYTES = 1024 * 1024;

/**
 * Builds a digest store from digests given in any order, within a stated RAM budget: an external sort in runs of
 * digests only (never media), merged with duplicates dropped. Use {@link buildDigestStore} for an iterable.
 */
export class DigestStoreBuilder {
  readonly algorithm: DigestAlgorithm;
  private readonly width: number;
  private readonly options: DigestStoreBuildOptions;
  private readonly budget: number;
  private readonly capacity: number;
  private buffer: Buffer;
  private buffered = 0;
  private added = 0;
  private runDir: string | undefined;
  private readonly runs: string[] = [];
  private done = false;

  constructor(options: DigestStoreBuildOptions) {
    this.options = options;
    this.algorithm = options.algorithm;
    this.width = DIGEST_WIDTH[options.algorithm];
    this.budget = options.ramBudgetBytes ?? DEFAULT_DIGEST_RAM_BUDGET;
    const perEntry = this.width + 4;
    if (!Number.isSafeInteger(this.budget) || this.budget < 2 * perEntry) {
      throw new PhmatchError(
        "PHM_USAGE",
        `ramBudgetBytes must be a whole number of at least ${2 * perEntry} bytes (two ${options.algorithm} digests)`,
        { optionNames: ["ramBudgetBytes"] },
      );
    }
    this.capacity = Math.floor(this.budget / perEntry);
    // Grown on demand up to the capacity, so that a small list does not take the whole budget.
    this.buffer = Buffer.allocUnsafe(Math.min(this.capacity, 4096) * this.width);
  }

  /** Adds one digest (its width must be the algorithm's); spills a sorted run when the budget is full. */
  async add(digest: Uint8Array): Promise<void> {
    if (this.done) throw new PhmatchError("PHM_USAGE", "the digest store was already finished or aborted");
    if (digest.length !== this.width) {
      throw new PhmatchError(
        "PHM_USAGE",
        `a ${this.algorithm} digest has ${this.width} bytes, this one has ${digest.length}`,
      );
    }
    if (this.buffered === this.capacity) await this.spill();
    if ((this.buffered + 1) * this.width > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.capacity, this.buffered * 2) * this.width);
      this.buffer.copy(grown, 0, 0, this.buffered * this.width);
      this.buffer = grown;
    }
    this.buffer.set(digest, this.buffered * this.width);
    this.buffered++;
    this.added++;
  }

  /** Sorts, deduplicates and writes the store; removes the run files. */
  async finish(): Promise<DigestStoreBuildResult> {
    if (this.done) throw new PhmatchError("PHM_USAGE", "the digest store was already finished or aborted");
    this.done = true;
    try {
      const sources: RunSource[] = [];
      if (this.runs.length > 0) {
        if (this.buffered > 0) await this.spill();
        this.buffer = Buffer.alloc(0);
        await this.reduceRuns();
        for (const run of this.runs)
          sources.push(await FileRun.open(run, this.width, this.blockBytes(this.runs.length)));
      } else {
        const sorted = sortUniqueDigests(this.buffer, this.buffered, this.width);
        this.buffer = Buffer.alloc(0);
        sources.push(new MemoryRun(sorted, this.width));
      }
      return await this.writeStore(sources);
    } finally {
      await this.removeRuns();
    }
  }

  /** Stops a build and removes its run files; nothing is written. */
  async abort(): Promise<void> {
    this.done = true;
    this.buffer = Buffer.alloc(0);
    await this.removeRuns();
  }

  /** Read and write block size when `fanIn` runs and one output share the budget. */
  private blockBytes(fanIn: number): number {
    const entries = Math.max(1, Math.floor(this.budget / ((fanIn + 1) * this.width)));
    return Math.min(entries * this.width, Math.floor(MAX_BLOCK_BYTES / this.width) * this.width);
  }

  private async spill(): Promise<void> {
    this.runDir ??= await mkdtemp(join(this.options.tempDir ?? tmpdir(), "phmatch-digests-"));
    const sorted = sortUniqueDigests(this.buffer, this.buffered, this.width);
    const path = join(this.runDir, `run-${this.runs.length}`);
    const file = await open(path, "wx", 0o600);
    try {
      await writeAll(file, sorted);
    } finally {
      await file.close();
    }
    this.runs.push(path);
    this.buffered = 0;
  }

  /** Merges runs in passes of at most {@link MAX_FAN_IN} until one pass can take them all. */
  private async reduceRuns(): Promise<void> {
    let pass = 0;
    while (this.runs.length > MAX_FAN_IN) {
      const group = this.runs.splice(0, MAX_FAN_IN);
      const path = join(this.runDir as string, `merge-${pass++}`);
      const sources = await Promise.all(
        group.map((run) => FileRun.open(run, this.width, this.blockBytes(group.length))),
      );
      const file = await open(path, "wx", 0o600);
      try {
        await mergeInto(sources, this.width, this.blockBytes(group.length), async (block) => writeAll(file, block));
      } finally {
        await file.close();
        await Promise.all(sources.map((source) => source.close()));
      }
      await Promise.all(group.map((run) => rm(run, { force: true })));
      this.runs.push(path);
    }
  }

  private async writeStore(sources: RunSource[]): Promise<DigestStoreBuildResult> {
    const { output, source } = this.options;
    const placeholder = encodeDigestStoreHeader(this.algorithm, 0, source);
    const temporary = join(dirname(output), `.${basename(output)}.${randomBytes(6).toString("hex")}.tmp`);
    const file = await open(temporary, "wx", 0o644);
    let renamed = false;
    try {
      await writeAll(file, placeholder.bytes);
      const hash = createHash("sha256");
      let count = 0;
      await mergeInto(sources, this.width, this.blockBytes(sources.length), async (block) => {
        hash.update(block);
        count += block.length / this.width;
        await writeAll(file, block);
      });
      const unsigned = encodeDigestStoreHeader(this.algorithm, count, source);
      hash.update(unsigned.hashedHeader);
      const checksum = hash.digest();
      const header = encodeDigestStoreHeader(this.algorithm, count, source, checksum);
      await file.write(header.bytes, 0, header.bytes.length, 0);
      await file.sync();
      await file.close();
      await rename(temporary, output);
      renamed = true;
      return {
        path: output,
        algorithm: this.algorithm,
        count,
        added: this.added,
        runs: this.runs.length,
        checksum: checksum.toString("hex"),
      };
    } finally {
      await Promise.all(sources.map((s) => s.close()));
      if (!renamed) {
        await file.close().catch(() => undefined);
        await rm(temporary, { force: true });
      }
    }
  }

  private async removeRuns(): Promise<void> {
    if (this.runDir !== undefined) await rm(this.runDir, { recursive: true, force: true });
    this.runDir = undefined;
  }
}

/** Builds a digest store from an iterable of digests (see {@link DigestStoreBuilder}). */
export async function buildDigestStore(
  options: DigestStoreBuildOptions,
  digests: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<DigestStoreBuildResult> {
  const builder = new DigestStoreBuilder(options);
  try {
    for await (const digest of digests) await builder.add(digest);
  } catch (error) {
    await builder.abort();
    throw error;
  }
  return builder.finish();
}

/** A sorted, deduplicated sequence of digests read block by block. */
interface RunSource {
  /** The current block and the read position in it; an empty block means the run is exhausted. */
  block: Buffer;
  at: number;
  next(): Promise<void>;
  close(): Promise<void>;
}

class MemoryRun implements RunSource {
  block: Buffer;
  at = 0;
  constructor(sorted: Buffer, _width: number) {
    this.block = sorted;
  }
  async next(): Promise<void> {
    this.block = Buffer.alloc(0);
    this.at = 0;
  }
  async close(): Promise<void> {}
}

class FileRun implements RunSource {
  block: Buffer = Buffer.alloc(0);
  at = 0;
  private position = 0;
  private constructor(
    private readonly file: FileHandle,
    private readonly scratch: Buffer,
  ) {}

  static async open(path: string, width: number, blockBytes: number): Promise<FileRun> {
    const run = new FileRun(await open(path, "r"), Buffer.allocUnsafe(Math.max(width, blockBytes)));
    await run.next();
    return run;
  }

  async next(): Promise<void> {
    let filled = 0;
    while (filled < this.scratch.length) {
      const { bytesRead } = await this.file.read(this.scratch, filled, this.scratch.length - filled, this.position);
      if (bytesRead === 0) break;
      filled += bytesRead;
      this.position += bytesRead;
    }
    this.block = this.scratch.subarray(0, filled);
    this.at = 0;
  }

  async close(): Promise<void> {
    await this.file.close().catch(() => undefined);
  }
}

/**
 * K-way merge of sorted runs through a binary min-heap, dropping digests equal to the last one written (runs are
 * each deduplicated, so equal digests can only come from different runs). Emits blocks of at most `blockBytes`.
 */
async function mergeInto(
  sources: RunSource[],
  width: number,
  blockBytes: number,
  emit: (block: Buffer) => Promise<void>,
): Promise<void> {
  const heap = sources.filter((s) => s.block.length > 0);
  const less = (a: RunSource, b: RunSource) => a.block.compare(b.block, b.at, b.at + width, a.at, a.at + width) < 0;
  const siftDown = (start: number) => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l] as RunSource, heap[m] as RunSource)) m = l;
      if (r < heap.length && less(heap[r] as RunSource, heap[m] as RunSource)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m] as RunSource, heap[i] as RunSource];
      i = m;
    }
  };
  for (let i = Math.floor(heap.length / 2) - 1; i >= 0; i--) siftDown(i);
  const out = Buffer.allocUnsafe(Math.max(width, blockBytes));
  let used = 0;
  // The last digest written, kept apart from `out` so that a repeat is caught across block boundaries too.
  const last = Buffer.alloc(width);
  let hasLast = false;
  while (heap.length > 0) {
    const top = heap[0] as RunSource;
    const isRepeat = hasLast && top.block.compare(last, 0, width, top.at, top.at + width) === 0;
    if (!isRepeat) {
      if (used + width > out.length) {
        await emit(Buffer.from(out.subarray(0, used)));
        used = 0;
      }
      top.block.copy(out, used, top.at, top.at + width);
      top.block.copy(last, 0, top.at, top.at + width);
      hasLast = true;
      used += width;
    }
    top.at += width;
    if (top.at >= top.block.length) {
      await top.next();
      if (top.block.length === 0) {
        const last = heap.pop() as RunSource;
        if (heap.length === 0) break;
        if (last !== top) heap[0] = last;
      }
    }
    siftDown(0);
  }
  if (used > 0) await emit(Buffer.from(out.subarray(0, used)));
}

async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) {
    const { bytesWritten } = await file.write(bytes, at, bytes.length - at);
    at += bytesWritten;
  }
}

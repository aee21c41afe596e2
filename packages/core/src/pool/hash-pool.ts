import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { PhmatchError } from "../errors/index.js";
import { displayPath, type FilePath, pathBytesOf } from "../files/file-path.js";
import type { HashOptions } from "../pipeline/hash-options.js";
import { validateHashOptions } from "../pipeline/hash-options.js";
import type { HashRecord } from "../record/hash-record.js";
import type { HashTask } from "./hash-worker.js";
import { orderedMap } from "./ordered-map.js";

/** Options of an in-process pool of hashing threads. */
export interface HashPoolOptions {
  /** Worker threads. Default: the machine's available parallelism. */
  threads?: number;
  /** What each file gets. */
  hashOptions?: HashOptions;
  /** V8 heap limit of each thread, MiB (native decoder memory is bounded by the supervisor, not here). */
  maxHeapMb?: number;
}

/**
 * Hashing on worker threads (piscina): each thread decodes and hashes, and returns only the record.
 * A native crash takes the whole process down: long jobs use {@link SupervisedHashPool}, which runs this pool
 * in a child process. Decoding runs on libuv's threadpool, 4 threads unless `UV_THREADPOOL_SIZE` is set before
 * the process starts; the supervised pool sets it for its child.
 */
export class HashPool {
  readonly threads: number;
  readonly hashOptions: HashOptions;
  #piscina: Piscina<HashTask, HashRecord>;

  constructor(options: HashPoolOptions = {}) {
    this.threads = options.threads ?? availableParallelism();
    this.hashOptions = options.hashOptions ?? {};
    validateHashOptions(this.hashOptions);
    this.#piscina = new Piscina<HashTask, HashRecord>({
      filename: new URL("./hash-worker.js", import.meta.url).href,
      minThreads: this.threads,
      maxThreads: this.threads,
      idleTimeout: 60_000,
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb ?? 1024 },
    });
  }

  /**
   * Hashes one file; resolves to a record (with an error code if it failed), never rejects. `options` replaces the
   * pool's hash options for this call.
   */
  async hash(path: FilePath, options: HashOptions = this.hashOptions): Promise<HashRecord> {
    return this.#run({ path, options }, displayPath(path), (error) => withPath(path, { error }));
  }

  /**
   * Hashes bytes held in memory (an upload) on a worker thread: they are copied to the thread, never written
   * anywhere. `options` replaces the pool's hash options for this call (e.g. the algorithms a list holds).
   */
  async hashBytes(bytes: Uint8Array, name: string, options: HashOptions = this.hashOptions): Promise<HashRecord> {
    // A view into a larger buffer would carry the whole buffer to the thread: send only its own bytes. A copy
    // made here is moved to the thread, not copied again; the caller's own buffer is copied (it stays theirs).
    if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
      return this.#run({ bytes, name, options }, name, (error) => ({ path: name, error }));
    }
    const own = new Uint8Array(bytes);
    return this.#run({ bytes: own, name, options }, name, (error) => ({ path: name, error }), [own.buffer]);
  }

  // Runs one task; a thread that dies or runs out of memory gives a record with the error's code, never a throw.
  async #run(
    task: HashTask,
    name: string,
    failed: (error: HashRecord["error"] & object) => HashRecord,
    transferList?: ArrayBuffer[],
  ): Promise<HashRecord> {
    try {
      return await this.#piscina.run(task, transferList === undefined ? {} : { transferList });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const code = /resource limits|out of memory/i.test(message) ? "PHM_WORKER_MEMORY" : "PHM_WORKER_CRASHED";
      return failed(new PhmatchError(code, `worker thread failed while hashing ${name}: ${message}`).toJSON());
    }
  }

  /** Hashes every path in order, keeping a bounded number in flight. */
  hashAll(paths: AsyncIterable<FilePath> | Iterable<FilePath>): AsyncGenerator<HashRecord> {
    return orderedMap(paths, this.threads * 4, (path) => this.hash(path));
  }

  /** Waits for running tasks and stops the threads. */
  async close(): Promise<void> {
    await this.#piscina.close();
  }
}

/** A record for `path` (readable form, and its exact bytes when they are not valid UTF-8). */
export function withPath(path: FilePath, rest: Omit<HashRecord, "path" | "pathBytes">): HashRecord {
  const record: HashRecord = { path: displayPath(path), ...rest };
  const bytes = pathBytesOf(path);
  if (bytes !== undefined) record.pathBytes = bytes;
  return record;
}

import { type ChildProcess, fork } from "node:child_process";
import { availableParallelism, totalmem } from "node:os";
import { type ErrorCode, PhmatchError } from "../errors/index.js";
import { displayPath, type FilePath } from "../files/file-path.js";
import { DEFAULT_ALGORITHMS, type HashOptions, validateHashOptions } from "../pipeline/hash-options.js";
import type { HashRecord } from "../record/hash-record.js";
import { withPath } from "./hash-pool.js";
import { orderedMap } from "./ordered-map.js";
import type { HostInput, HostMessage, SupervisorMessage } from "./protocol.js";

/** Default per-file limit, from dispatch to result. */
export const DEFAULT_FILE_TIMEOUT_MS = 120_000;

/** Options of {@link SupervisedHashPool}. */
export interface SupervisedHashPoolOptions {
  /** Worker threads in the child process. Default: available parallelism. */
  jobs?: number;
  hashOptions?: HashOptions;
  /**
   * Per-file time limit in ms, from the moment a thread starts the file to its result; on expiry the child is
   * killed and the file retried once (see retryTimedOut).
   */
  fileTimeoutMs?: number;
  /**
   * Retry a file that ran out the per-file time limit (default true: under a heavy load a file may just have been
   * slow). false: it is answered PHM_WORKER_TIMEOUT at once, since it would run out again; a server, where such an
   * upload is the client's doing and a retry would cost everyone as much again, does this.
   */
  retryTimedOut?: boolean;
  /** Resident memory limit of the child (all threads and native buffers), bytes. Default: half the machine. */
  memoryLimitBytes?: number;
}

/** Counters of what the supervisor had to do; a report can state them. */
export interface SupervisorStats {
  /** Child processes started, the first included. */
  starts: number;
  /** Deaths by cause. */
  crashes: number;
  timeouts: number;
  memoryKills: number;
  /** Files sent again after a death. */
  retries: number;
}

interface Task {
  id: number;
  input: HostInput;
  attempts: number;
  /** Settles the caller's promise; later calls do nothing (an abandoned task may still return or die). */
  resolve: (record: HashRecord) => void;
  /** The caller's promise is settled: the task is neither retried nor waited for. */
  settled: boolean;
  /** A thread has started it (once: a task interrupted by another's death is not dropped at the deadline). */
  started: boolean;
  /** When a thread started its current attempt. */
  startedAt?: number;
  control: HashCallControl;
  timer?: NodeJS.Timeout;
}

/** Per-call control of {@link SupervisedHashPool.hashBytes}. */
export interface HashCallControl {
  /**
   * The caller's deadline. When it fires before any thread has started the task (still queued, here or in the
   * worker process), the task is dropped and the call resolves at once with PHM_ABORTED: it waited too long for a
   * thread, which says the pool is saturated, not that the file is bad. A task already started runs on to its
   * result or to the per-file time limit (PHM_WORKER_TIMEOUT, which does say that the file costs too much). A
   * server passes a request's deadline here, so uploads nobody waits for any more do not pile up.
   */
  signal?: AbortSignal;
  /**
   * Whom the task is for (e.g. a token name and a client address): while any of `keys` has `maxRunning` tasks in
   * the worker process, this one waits and the tasks of others pass it. Among tasks that may go, one whose keys
   * have nothing in the worker process goes first.
   */
  client?: { keys: string[]; maxRunning: number };
  /**
   * This task's per-file time limit in ms, instead of the pool's `fileTimeoutMs` (a video upload, which may take
   * longer to decode than an image should).
   */
  timeoutMs?: number;
  /** Hears when a thread starts the task (again, if a death of the worker process interrupted it). */
  onStart?: () => void;
  /** Hears, once, how long a thread worked on the task: ms from its start to its result or its time limit. */
  onWorkerTime?: (ms: number) => void;
}

type DeathCause = { code: ErrorCode; culprit?: Task; detail: string };

/**
 * glibc's malloc settings for the worker process (unless the environment sets them): blocks up to the threshold
 * (64 MiB, less under a small memory limit) come from the heap and stay mapped when freed, instead of a fresh
 * mmap per decode whose pages the kernel must fault in and zero again for every image: on the CI machine that was
 * about a third of sharp's decode time (`npm run bench`). Kept to 1/16 of the memory limit (twice that for what
 * may stay mapped), so that memory held for reuse never takes a worker over its limit.
 */
export function mallocTuning(memoryLimitBytes: number): Record<string, string> {
  const threshold = Math.max(1024 * 1024, Math.min(64 * 1024 * 1024, Math.floor(memoryLimitBytes / 16)));
  return { MALLOC_MMAP_THRESHOLD_: String(threshold), MALLOC_TRIM_THRESHOLD_: String(threshold * 2) };
}

/** Consecutive deaths before `ready` after which the pool gives up (a broken install, not a bad file). */
const MAX_FAILED_STARTS = 3;

/**
 * Hashes files (and uploads held in memory) in a child process that runs a {@link HashPool}; this object is the
 * small supervisor. When the child dies (native crash, out of memory, killed) or a file exceeds its time or memory
 * limit, the child is replaced; files in flight are retried once, one at a time, so a second death names its
 * file, which is then reported with PHM_WORKER_CRASHED / PHM_WORKER_TIMEOUT / PHM_WORKER_MEMORY. Nothing is lost
 * and the run goes on: a decoder that segfaults costs a restart, not the scan or the server.
 */
export class SupervisedHashPool {
  readonly jobs: number;
  readonly fileTimeoutMs: number;
  readonly retryTimedOut: boolean;
  readonly memoryLimitBytes: number;
  readonly stats: SupervisorStats = { starts: 0, crashes: 0, timeouts: 0, memoryKills: 0, retries: 0 };
  readonly #hashOptions: HashOptions;
  #child: ChildProcess | undefined;

  /** The algorithms the pool computes for each file (its hash options', or the defaults). */
  get algorithms(): readonly string[] {
    return this.#hashOptions.algorithms ?? DEFAULT_ALGORITHMS;
  }
  #ready = false;
  #warm = false;
  #closed = false;
  #failedStarts = 0;
  #nextId = 1;
  #cause: DeathCause | undefined;
  readonly #pending: Task[] = [];
  readonly #suspects: Task[] = [];
  readonly #inflight = new Map<number, Task>();
  /** Tasks in the worker process (waiting for a thread there, or running), by client key. */
  readonly #inWorker = new Map<string, number>();

  constructor(options: SupervisedHashPoolOptions = {}) {
    this.jobs = options.jobs ?? availableParallelism();
    this.fileTimeoutMs = options.fileTimeoutMs ?? DEFAULT_FILE_TIMEOUT_MS;
    this.retryTimedOut = options.retryTimedOut ?? true;
    this.memoryLimitBytes = options.memoryLimitBytes ?? Math.floor(totalmem() / 2);
    this.#hashOptions = options.hashOptions ?? {};
    validateHashOptions(this.#hashOptions);
    if (!Number.isInteger(this.jobs) || this.jobs < 1) {
      throw new PhmatchError("PHM_USAGE", `jobs must be a positive integer, got ${String(options.jobs)}`);
    }
  }

  /**
   * Hashes one file; resolves to a record (with an error code if it failed), never rejects. `options` replaces the
   * pool's hash options for this call (as for {@link hashBytes}); `control` as for hashBytes.
   */
  hash(path: FilePath, options?: HashOptions, control: HashCallControl = {}): Promise<HashRecord> {
    return this.#submit(options === undefined ? { path } : { path, options }, control);
  }

  /**
   * Hashes bytes held in memory (an upload) in the child process: they travel over the IPC channel (one copy into
   * the message, one into the hashing thread), never through a file. `options` replaces the pool's hash options
   * for this call (e.g. the algorithms a list holds). Resolves to a record, never rejects.
   */
  hashBytes(
    bytes: Uint8Array,
    name: string,
    options: HashOptions = this.#hashOptions,
    control: HashCallControl = {},
  ): Promise<HashRecord> {
    return this.#submit({ bytes, name, options }, control);
  }

  #submit(input: HostInput, control: HashCallControl): Promise<HashRecord> {
    if (this.#closed)
      return Promise.resolve(
        failedRecord(input, new PhmatchError("PHM_POOL_CLOSED", `pool closed before ${nameOf(input)} was hashed`)),
      );
    const signal = control.signal;
    if (signal?.aborted === true) return Promise.resolve(abortedRecord(input));
    return new Promise((settle) => {
      const task: Task = {
        id: this.#nextId++,
        input,
        attempts: 0,
        settled: false,
        started: false,
        control,
        resolve: (record) => {
          if (task.settled) return;
          task.settled = true;
          signal?.removeEventListener("abort", onAbort);
          settle(record);
        },
      };
      const onAbort = () => {
        if (task.started) return;
        for (const queue of [this.#pending, this.#suspects]) {
          const at = queue.indexOf(task);
          if (at >= 0) queue.splice(at, 1);
        }
        // Sent to the worker process but waiting there for a thread: it is dropped there too ("cancelled"), or,
        // if a thread took it meanwhile, runs on unanswered ("started", then its result).
        if (this.#inflight.has(task.id)) this.#send({ type: "cancel", id: task.id });
        task.resolve(abortedRecord(input));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.push(task);
      this.#pump();
    });
  }

  /** Hashes every path, in input order, with a bounded number in flight. */
  hashAll(paths: AsyncIterable<FilePath> | Iterable<FilePath>): AsyncGenerator<HashRecord> {
    return orderedMap(paths, this.jobs * 4, (path) => this.hash(path));
  }

  /**
   * Starts the worker process now instead of at the first file, and keeps one running from then on, restarting
   * it after a death even when idle (a server does this, so no request waits for a start).
   */
  start(): void {
    this.#warm = true;
    this.#pump();
  }

  /** The child's process id while one runs (an operator or a test can kill it; the pool recovers). */
  get childPid(): number | undefined {
    return this.#child?.pid;
  }

  /** Stops the child after the files in flight; files still queued resolve with PHM_POOL_CLOSED. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const task of [...this.#pending.splice(0), ...this.#suspects.splice(0)]) {
      task.resolve(
        failedRecord(
          task.input,
          new PhmatchError("PHM_POOL_CLOSED", `pool closed before ${nameOf(task.input)} was hashed`),
        ),
      );
    }
    const child = this.#child;
    if (child === undefined) return;
    await new Promise<void>((resolve) => {
      const deadline = setTimeout(() => killGroup(child), 10_000);
      child.once("exit", () => {
        clearTimeout(deadline);
        resolve();
      });
      if (this.#inflight.size === 0) this.#send({ type: "close" });
    });
  }

  #pump(): void {
    if (this.#child === undefined) {
      const work = this.#pending.length > 0 || this.#suspects.length > 0;
      if (work || (this.#warm && !this.#closed && this.#failedStarts < MAX_FAILED_STARTS)) this.#start();
      return;
    }
    if (!this.#ready) return;
    if (this.#suspects.length > 0) {
      // Isolation: after a death, each file that was in flight runs alone, so a second death names it.
      if (this.#inflight.size === 0) this.#dispatch(this.#suspects.shift() as Task);
      return;
    }
    const limit = this.jobs * 2;
    while (this.#inflight.size < limit) {
      const task = this.#next();
      if (task === undefined) break;
      this.#dispatch(task);
    }
    if (this.#closed && this.#inflight.size === 0) this.#send({ type: "close" });
  }

  // The next pending task that may go to the worker process (its keys under their cap): first one whose keys have
  // nothing there (a client not being served yet), else the oldest. Without keys, plain FIFO order.
  #next(): Task | undefined {
    let oldest = -1;
    for (let i = 0; i < this.#pending.length; i++) {
      const client = (this.#pending[i] as Task).control.client;
      if (client === undefined) return this.#pending.splice(i, 1)[0];
      const counts = client.keys.map((key) => this.#inWorker.get(key) ?? 0);
      if (counts.some((n) => n >= client.maxRunning)) continue;
      if (counts.every((n) => n === 0)) return this.#pending.splice(i, 1)[0];
      if (oldest < 0) oldest = i;
    }
    return oldest < 0 ? undefined : this.#pending.splice(oldest, 1)[0];
  }

  #count(task: Task, by: 1 | -1): void {
    for (const key of task.control.client?.keys ?? []) {
      const n = (this.#inWorker.get(key) ?? 0) + by;
      if (n <= 0) this.#inWorker.delete(key);
      else this.#inWorker.set(key, n);
    }
  }

  // The task left the worker process (result, cancel or death).
  #leave(task: Task): void {
    clearTimeout(task.timer);
    if (this.#inflight.delete(task.id)) this.#count(task, -1);
  }

  #start(): void {
    this.stats.starts++;
    this.#ready = false;
    this.#cause = undefined;
    // sharp's work runs on libuv's threadpool (4 threads unless set before the process starts): size it to the
    // pool so that `jobs` decodes can really run at once.
    const uvThreads = Math.max(4, this.jobs + 1, Number(process.env.UV_THREADPOOL_SIZE ?? 0));
    // The child's stdout goes to our stderr: results travel over IPC, and nothing a library prints in a worker
    // may land among the records a command writes to stdout.
    // Its own process group (detached: setpgid, still our child and on our IPC channel), so that a kill takes the
    // whole group: the FFmpeg processes a video decode runs under it die with it, whatever killed it (a time or
    // memory limit, a crash: see #onExit), and are never left decoding for nobody.
    const child = fork(new URL("./pool-host.js", import.meta.url), [], {
      detached: true,
      stdio: ["ignore", 2, 2, "ipc"],
      serialization: "advanced",
      env: { ...mallocTuning(this.memoryLimitBytes), ...process.env, UV_THREADPOOL_SIZE: String(uvThreads) },
    });
    this.#child = child;
    child.on("message", (message: HostMessage) => this.#onMessage(child, message));
    child.on("exit", (code, signal) => this.#onExit(child, code, signal));
    child.on("error", () => killGroup(child));
    this.#send({ type: "init", threads: this.jobs, hashOptions: this.#hashOptions });
  }

  #send(message: SupervisorMessage): void {
    const child = this.#child;
    if (child?.connected) child.send(message);
  }

  #dispatch(task: Task): void {
    this.#inflight.set(task.id, task);
    this.#count(task, 1);
    task.startedAt = undefined;
    this.#send({ type: "hash", id: task.id, ...task.input });
  }

  #onMessage(child: ChildProcess, message: HostMessage): void {
    if (child !== this.#child) return;
    switch (message.type) {
      case "ready":
        this.#ready = true;
        this.#failedStarts = 0;
        this.#pump();
        break;
      case "started": {
        const task = this.#inflight.get(message.id);
        if (task === undefined) return;
        task.started = true;
        task.startedAt = performance.now();
        // Also for a task whose caller has gone: while it runs, its time limit protects the others.
        const limit = task.control.timeoutMs ?? this.fileTimeoutMs;
        task.timer = setTimeout(
          () =>
            this.#kill({
              code: "PHM_WORKER_TIMEOUT",
              culprit: task,
              detail: `no result within ${limit} ms`,
            }),
          limit,
        );
        if (!task.settled) task.control.onStart?.();
        break;
      }
      case "cancelled": {
        const task = this.#inflight.get(message.id);
        if (task === undefined) return;
        this.#leave(task);
        this.#pump();
        break;
      }
      case "result": {
        const task = this.#inflight.get(message.id);
        if (task === undefined) return;
        // Its time limit fired and its worker is being killed for it: the verdict stands, whatever the pipe still
        // held (on a busy machine the result and the timer can come in the same turn, in either order).
        if (this.#cause?.culprit === task) return;
        this.#leave(task);
        this.#workerTime(task);
        task.resolve(message.record);
        this.#pump();
        break;
      }
      case "memory":
        // Only a child that hashes is held to the limit: before `ready` it has loaded code, not input; a limit
        // below its idle size then shows as PHM_WORKER_MEMORY on the first file, naming both sizes.
        if (this.#ready && message.rss > this.memoryLimitBytes) {
          this.#kill({
            code: "PHM_WORKER_MEMORY",
            detail: `worker process used ${message.rss} bytes, over the ${this.memoryLimitBytes}-byte limit`,
          });
        }
        break;
    }
  }

  #kill(cause: DeathCause): void {
    if (this.#cause !== undefined || this.#child === undefined) return;
    this.#cause = cause;
    killGroup(this.#child);
  }

  #onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    // Whatever ended it, what it started (FFmpeg) goes with it: a crash or an outside kill takes only the worker.
    killGroup(child);
    if (child !== this.#child) return;
    this.#child = undefined;
    const wasReady = this.#ready;
    this.#ready = false;
    const cause: DeathCause = this.#cause ?? {
      code: "PHM_WORKER_CRASHED",
      detail:
        signal !== null ? `worker process killed by ${signal}` : `worker process exited with code ${String(code)}`,
    };
    this.#cause = undefined;
    const inflight = [...this.#inflight.values()];
    for (const task of inflight) this.#leave(task);
    // Tasks already answered (dropped at their deadline before starting) are neither retried nor counted against,
    // but the thread time one of them took is still told (a decode budget charges it).
    for (const task of inflight) if (task.settled) this.#workerTime(task);
    const tasks = inflight.filter((task) => !task.settled);
    if (this.#closed && tasks.length === 0) return;

    if (cause.code === "PHM_WORKER_TIMEOUT") this.stats.timeouts++;
    else if (cause.code === "PHM_WORKER_MEMORY") this.stats.memoryKills++;
    else this.stats.crashes++;

    if (!wasReady && ++this.#failedStarts >= MAX_FAILED_STARTS) {
      const all = [...tasks, ...this.#suspects.splice(0), ...this.#pending.splice(0)];
      for (const task of all)
        this.#fail(
          task,
          "PHM_WORKER_CRASHED",
          `the worker process could not start (${cause.detail}); check the installation`,
        );
      return;
    }
    // A timeout names its file; any other death blames every file in flight, each of which is retried alone.
    const blamed = cause.culprit !== undefined ? tasks.filter((task) => task === cause.culprit) : tasks;
    const innocent = tasks.filter((task) => !blamed.includes(task));
    this.#pending.unshift(...innocent);
    for (const task of blamed) {
      task.attempts++;
      if (cause.code === "PHM_WORKER_TIMEOUT" && !this.retryTimedOut) {
        this.#fail(
          task,
          cause.code,
          `${cause.detail} while hashing ${nameOf(task.input)}: ` +
            "it costs more than the per-file time limit, and would again; not retried",
        );
      } else if (task.attempts >= 2) {
        this.#fail(
          task,
          cause.code,
          `${cause.detail} while hashing ${nameOf(task.input)}, on the retry too; the file was skipped`,
        );
      } else {
        this.stats.retries++;
        this.#suspects.push(task);
      }
    }
    this.#pump();
  }

  // Tells the caller how long a thread worked on the task's last attempt, when one started it: also when the
  // caller stopped waiting meanwhile (the task ran on, and its time is spent all the same).
  #workerTime(task: Task): void {
    if (task.startedAt === undefined) return;
    const ms = performance.now() - task.startedAt;
    task.startedAt = undefined;
    task.control.onWorkerTime?.(ms);
  }

  #fail(task: Task, code: ErrorCode, message: string): void {
    this.#workerTime(task);
    task.resolve(failedRecord(task.input, new PhmatchError(code, message, { path: nameOf(task.input) })));
  }
}

function nameOf(input: HostInput): string {
  return "path" in input ? displayPath(input.path) : input.name;
}

function failedRecord(input: HostInput, error: PhmatchError): HashRecord {
  return "path" in input
    ? withPath(input.path, { error: error.toJSON() })
    : { path: input.name, error: error.toJSON() };
}

function abortedRecord(input: HostInput): HashRecord {
  return failedRecord(
    input,
    new PhmatchError("PHM_ABORTED", `the caller stopped waiting before ${nameOf(input)} was hashed`),
  );
}

/**
 * SIGKILL to the worker's process group (the worker and the FFmpeg children of its video decodes), or to the worker
 * alone if the group is gone. After the worker's exit the group holds only what it left behind, if anything.
 */
function killGroup(child: ChildProcess): void {
  const pid = child.pid;
  try {
    if (pid !== undefined) process.kill(-pid, "SIGKILL");
  } catch {
    // ESRCH: no process is left in the group.
  }
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

// Child process entry of SupervisedHashPool: hosts a HashPool and answers the supervisor over IPC.
// If this process dies (native crash, OOM, SIGKILL), the supervisor restarts it and retries the files in flight.
import { setDecoderConcurrency } from "../decode/decode-image.js";
import { fsPath } from "../files/file-path.js";
import { hashFile, hashImageBytes } from "../pipeline/hash-file.js";
import { type HashOptions, validateHashOptions } from "../pipeline/hash-options.js";
import { HashPool } from "./hash-pool.js";
import type { HostMessage, SupervisorMessage } from "./protocol.js";

type Hasher = Pick<HashPool, "hash" | "hashBytes" | "close">;

let pool: Hasher | undefined;
let threads = 1;
let running = 0;
// Tasks wait here, not in the thread pool's own queue, until a thread is free: the supervisor times each file from
// the moment a thread starts it ("started"), so a file is never timed while it waits behind another.
const waiting: Extract<SupervisorMessage, { type: "hash" }>[] = [];

// The supervisor may be gone at any moment (killed before its first record, or its reader closed the pipe): a
// message that cannot be sent ends this process quietly, never with an unhandled EPIPE stack trace on the
// terminal the two share. The callback form reports the failed write to it instead of as a process 'error' event.
function send(message: HostMessage): void {
  if (!process.connected || process.send === undefined) {
    orphaned();
    return;
  }
  process.send(message, undefined, {}, (error: Error | null) => {
    if (error !== null) orphaned();
  });
}

function orphaned(): never {
  // This process leads its own process group (the supervisor forks it detached): what it started (FFmpeg, for a
  // video) goes with it, also where setpriv's parent-death signal is not available.
  try {
    process.kill(-process.pid, "SIGKILL");
  } catch {
    // Not a group leader (started some other way): only this process ends.
  }
  process.exit(0);
}

function startWaiting(): void {
  const current = pool;
  if (current === undefined) return;
  while (running < threads && waiting.length > 0) {
    const message = waiting.shift() as Extract<SupervisorMessage, { type: "hash" }>;
    running++;
    send({ type: "started", id: message.id });
    // Bytes arrive as a view into the IPC message's buffer; hashBytes copies them once and moves that copy to
    // its thread.
    const hashed =
      "bytes" in message
        ? current.hashBytes(message.bytes, message.name, message.options)
        : current.hash(fsPath(message.path), message.options);
    void hashed.then((record) => {
      running--;
      send({ type: "result", id: message.id, record });
      startWaiting();
    });
  }
}

process.on("message", (message: SupervisorMessage) => {
  switch (message.type) {
    case "init": {
      threads = message.threads;
      const started =
        message.threads === 1
          ? ownThread(message.hashOptions)
          : new HashPool({ threads: message.threads, hashOptions: message.hashOptions });
      // Ready once every thread has loaded the hashing code (a task that decodes nothing): the supervisor times
      // each file from its start, and a thread's start-up is no file's fault.
      const warmUps = Array.from({ length: message.threads }, () =>
        started.hashBytes(new Uint8Array(0), "warm-up", { algorithms: ["md5"] }),
      );
      void Promise.all(warmUps).then(() => {
        pool = started;
        send({ type: "ready" });
        startWaiting();
      });
      break;
    }
    case "hash":
      if (pool === undefined) return;
      send({ type: "memory", rss: process.memoryUsage.rss() });
      waiting.push(message);
      startWaiting();
      break;
    case "cancel": {
      const at = waiting.findIndex((m) => m.id === message.id);
      if (at >= 0) {
        waiting.splice(at, 1);
        send({ type: "cancelled", id: message.id });
      }
      break;
    }
    case "close":
      void (pool?.close() ?? Promise.resolve()).finally(() => process.exit(0));
      break;
  }
});

/**
 * One thread: this process's own, as a worker thread would be. The supervisor's time and memory limits and its
 * restarts are the isolation either way; a worker thread inside would only add its start-up (a second load of the
 * hashing code, about 0.2 s on one core) and a copy of every record.
 */
function ownThread(hashOptions: HashOptions = {}): Hasher {
  validateHashOptions(hashOptions);
  setDecoderConcurrency(1);
  return {
    hash: (path, options = hashOptions) => hashFile(path, options),
    hashBytes: (bytes, name, options = hashOptions) => hashImageBytes(bytes, name, options),
    close: async () => undefined,
  };
}

// The supervisor enforces the memory limit on what this process reports (RSS covers all its threads and
// libvips' native buffers, which V8's heap limits do not see).
setInterval(() => send({ type: "memory", rss: process.memoryUsage.rss() }), 100).unref();

// Orphaned (supervisor gone): stop rather than hash for nobody.
process.on("disconnect", () => orphaned());
// The supervisor decides when this process ends: a Ctrl-C on the terminal reaches the whole process group, and
// the scan, which handles it, stops this process once the record in progress is written (or, killed, by the
// channel closing).
process.on("SIGINT", () => undefined);

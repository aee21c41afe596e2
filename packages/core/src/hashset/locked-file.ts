// Files several phmatch processes may write (the rollback state a gate's replicas share, a list's overrides): an
// O_EXCL lock file around each read-modify-write, and writes that replace a file whole or not at all.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { PhmatchError } from "../errors/index.js";

// A unique temporary file beside the target, written and fsynced, renamed over it, and the folder fsynced: a
// crash leaves the old file or the new one, never a mix, and the rename survives power loss.
export function writeAtomically(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o644);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw error;
  }
  try {
    const dir = openSync(dirname(file), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // some file systems refuse to fsync a folder; the rename is still atomic
  }
}

/** How long a writer waits for the state lock before giving up (the lock is held for one small read and write). */
export const STATE_LOCK_WAIT_MS = 30_000;
/** A lock file older than this whose holder cannot be checked (another host, no content) is taken as stale. */
export const STATE_LOCK_STALE_MS = 10_000;

interface LockOwner {
  pid: number;
  host: string;
  token: string;
}

/**
 * Runs `fn` holding the lock file `lock` (created with O_EXCL). A lock left by a process that died is taken over:
 * on this host when its pid is gone, otherwise (another host, or a lock without content) when it is older than
 * STATE_LOCK_STALE_MS. Taking a stale lock over is itself serialised by a second O_EXCL file, so two waiters never
 * both remove it.
 */
export function withLock<T>(
  lock: string,
  fn: () => T,
  options: { waitMs?: number; now?: () => number; what?: string } = {},
): T {
  const what = options.what ?? "the rollback state";
  const now = options.now ?? Date.now;
  const deadline = now() + (options.waitMs ?? STATE_LOCK_WAIT_MS);
  const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(8).toString("hex") };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(lock, "wx", 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new PhmatchError("PHM_USAGE", `cannot take the lock ${lock} of ${what}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (breakIfStale(lock, now)) continue;
      if (now() >= deadline) {
        throw new PhmatchError(
          "PHM_STATE_LOCKED",
          `the lock ${lock} of ${what} is held by ${describeOwner(lock)} ` +
            `and was not released in ${options.waitMs ?? STATE_LOCK_WAIT_MS} ms: nothing was read or written; ` +
            `if no phmatch is using ${what}, remove the lock file`,
        );
      }
      sleep(Math.min(50, 2 + attempt * 2));
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(owner));
    } finally {
      closeSync(fd);
    }
    try {
      return fn();
    } finally {
      releaseLock(lock, owner.token);
    }
  }
}

function readOwner(lock: string): { owner: Partial<LockOwner> | undefined; text: string; mtimeMs: number } | undefined {
  try {
    const mtimeMs = statSync(lock).mtimeMs;
    const text = readFileSync(lock, "utf8");
    let owner: Partial<LockOwner> | undefined;
    try {
      owner = JSON.parse(text) as Partial<LockOwner>;
    } catch {
      owner = undefined;
    }
    return { owner, text, mtimeMs };
  } catch {
    return undefined; // released meanwhile
  }
}

function describeOwner(lock: string): string {
  const seen = readOwner(lock)?.owner;
  return seen?.pid !== undefined ? `process ${seen.pid} on ${String(seen.host)}` : "another process";
}

function isStale(seen: { owner: Partial<LockOwner> | undefined; mtimeMs: number }, now: () => number): boolean {
  const { owner } = seen;
  if (owner !== undefined && owner.host === hostname() && Number.isSafeInteger(owner.pid)) {
    try {
      process.kill(owner.pid as number, 0);
      return false;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ESRCH";
    }
  }
  return now() - seen.mtimeMs > STATE_LOCK_STALE_MS;
}

// Removes the lock if it is stale and still the same lock that was judged stale; true if it was removed (or
// vanished), so the caller tries again at once.
function breakIfStale(lock: string, now: () => number): boolean {
  const seen = readOwner(lock);
  if (seen === undefined) return true;
  if (!isStale(seen, now)) return false;
  const breaker = `${lock}.break`;
  let fd: number;
  try {
    fd = openSync(breaker, "wx");
  } catch {
    // Someone else is breaking it; a breaker left by a crash is itself removed once old.
    try {
      if (now() - statSync(breaker).mtimeMs > STATE_LOCK_STALE_MS) unlinkSync(breaker);
    } catch {
      // gone already
    }
    return false;
  }
  closeSync(fd);
  try {
    const again = readOwner(lock);
    if (again !== undefined && again.text === seen.text) unlinkSync(lock);
    return true;
  } finally {
    unlinkSync(breaker);
  }
}

function releaseLock(lock: string, token: string): void {
  const seen = readOwner(lock);
  if (seen?.owner?.token === token) unlinkSync(lock);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

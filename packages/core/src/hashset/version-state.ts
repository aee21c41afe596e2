import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { PhmatchError } from "../errors/index.js";

/**
 * The rollback state folder: what one deployment (a gate and its replicas, a distributed scan) or one case has
 * already seen, so that an older release cannot be slipped in later. It holds three files, each an object merged
 * by maximum:
 * - `list-versions.json`: the highest version of each list id loaded;
 * - `overrides-releases.json`: the highest release of each signed overrides file, by the list ids it is bound to;
 * - `audit-heads.json`: the last head (seq and SHA-256) of each audit log, by host and path.
 *
 * There is no implicit per-user default: whoever loads lists names the folder (`stateDir`). Replicas may share one
 * folder: every write is read, merge (maximum), write, under a lock file taken with O_EXCL, and lands by rename
 * after an fsync, so concurrent writers never lose each other's maxima and a reader never sees half a file.
 */
export class RollbackState {
  /** The folder. */
  readonly dir: string;
  /** `list-versions.json` in it. */
  readonly file: string;

  /** Checks only: admits nothing, writes nothing (for `hashset verify`: would this release be refused here?). */
  readonly readOnly: boolean;

  constructor(stateDir: string, options: { readOnly?: boolean } = {}) {
    if (typeof stateDir !== "string" || stateDir.trim() === "") {
      throw new PhmatchError("PHM_USAGE", "the rollback state needs a folder (stateDir): give one per gate deployment, shared by its replicas, or one per case");
    }
    this.dir = resolve(stateDir);
    this.file = join(this.dir, LIST_VERSIONS);
    this.readOnly = options.readOnly === true;
  }

  /** Highest version seen of `listId`, if any. */
  highest(listId: string): number | undefined {
    return readCounts(this.file, "list version state", "list ids with whole-number versions")[listId];
  }

  /** Refuses releases older than the highest seen (PHM_HASHSET_ROLLBACK) unless `force`; records nothing. */
  check(lists: { listId: string; version: number }[], what: string, force = false): void {
    checkLists(readCounts(this.file, "list version state", "list ids with whole-number versions"), lists, what, force, this.dir);
  }

  /**
   * Refuses releases older than the highest seen (PHM_HASHSET_ROLLBACK) unless `force`; then records them. Call it
   * only with versions that are known to be the list's own (verified, decrypted): what it records is permanent.
   * Check and record happen under the folder's lock, so two replicas admitting at once both keep their maxima.
   */
  admit(lists: { listId: string; version: number }[], what: string, force = false): void {
    this.#update(LIST_VERSIONS, (file) => {
      const state = readCounts(file, "list version state", "list ids with whole-number versions");
      checkLists(state, lists, what, force, this.dir);
      let changed = false;
      for (const { listId, version } of lists) {
        if (state[listId] === undefined || version > (state[listId] as number)) {
          state[listId] = version;
          changed = true;
        }
      }
      return changed ? state : undefined;
    });
  }

  /** Highest release seen of the overrides bound to these list ids, if any. */
  overridesRelease(lists: readonly string[]): number | undefined {
    return readCounts(join(this.dir, OVERRIDES_RELEASES), "overrides release state", "bindings with whole-number releases")[bindingKey(lists)];
  }

  /**
   * Refuses an overrides release older than the highest seen for the same binding (PHM_HASHSET_ROLLBACK) unless
   * `force`; then records it. Only for overrides whose signature was verified.
   */
  admitOverrides(lists: readonly string[], release: number, what: string, force = false): void {
    const key = bindingKey(lists);
    this.#update(OVERRIDES_RELEASES, (file) => {
      const state = readCounts(file, "overrides release state", "bindings with whole-number releases");
      const highest = state[key];
      if (highest !== undefined && release < highest && !force) {
        throw new PhmatchError(
          "PHM_HASHSET_ROLLBACK",
          `${what} is release ${release} of the overrides of list(s) ${lists.join(", ")}, older than release ${highest} already loaded with the rollback state ${this.dir}: refused (an older signed overrides file replayed; --allow-rollback overrides)`,
        );
      }
      if (highest !== undefined && release <= highest) return undefined;
      state[key] = release;
      return state;
    });
  }

  /** The last head recorded for the audit log at `logPath` (on this host), if any. */
  auditHead(logPath: string): AuditHead | undefined {
    return readHeads(join(this.dir, AUDIT_HEADS))[auditLogKey(logPath)];
  }

  /** Records the audit log's head, unless one further along (a higher seq) is recorded already. */
  recordAuditHead(logPath: string, head: AuditHead): void {
    const key = auditLogKey(logPath);
    this.#update(AUDIT_HEADS, (file) => {
      const heads = readHeads(file);
      const seen = heads[key];
      if (seen !== undefined && seen.seq >= head.seq) return undefined;
      heads[key] = { seq: head.seq, head: head.head };
      return heads;
    });
  }

  // Read, change, write one file of the folder under its lock. `change` returns the new content, or undefined
  // when nothing changed (then nothing is written).
  #update(name: string, change: (file: string) => object | undefined): void {
    const file = join(this.dir, name);
    if (this.readOnly) {
      change(file);
      return;
    }
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (error) {
      throw new PhmatchError("PHM_USAGE", `cannot create the rollback state folder ${this.dir}: ${(error as Error).message}`, { cause: error });
    }
    withLock(join(this.dir, LOCK), () => {
      const next = change(file);
      if (next !== undefined) writeAtomically(file, JSON.stringify(next, null, 2) + "\n");
    });
  }
}

/** The former name of {@link RollbackState} (it now holds overrides releases and audit heads too). */
export const ListVersionState = RollbackState;
/** The former name of {@link RollbackState}. */
export type ListVersionState = RollbackState;

/** An audit log's head: the seq of its last record and that record's SHA-256. */
export interface AuditHead {
  seq: number;
  head: string;
}

const LIST_VERSIONS = "list-versions.json";
const OVERRIDES_RELEASES = "overrides-releases.json";
const AUDIT_HEADS = "audit-heads.json";
const LOCK = "state.lock";

/** The key of an overrides binding: its list ids, sorted, one per line. */
const bindingKey = (lists: readonly string[]): string => [...lists].sort().join("\n");

/**
 * The key of an audit log: host and resolved path. Replicas sharing one state folder each keep their own log (one
 * file cannot take two writers' chains), often at the same path on their own machines: the host tells them apart.
 */
export function auditLogKey(logPath: string): string {
  const absolute = resolve(logPath);
  let real = absolute;
  try {
    real = join(realpathSync(dirname(absolute)), basename(absolute));
  } catch {
    // the folder does not exist yet: nothing is recorded for it either
  }
  return `${hostname()}:${real}`;
}

function checkLists(state: Record<string, number>, lists: { listId: string; version: number }[], what: string, force: boolean, dir: string): void {
  for (const { listId, version } of lists) {
    const highest = state[listId];
    if (highest !== undefined && version < highest && !force) {
      throw new PhmatchError(
        "PHM_HASHSET_ROLLBACK",
        `${what} holds list "${listId}" version ${version}, older than version ${highest} already loaded with the rollback state ${dir}: refused (rollback protection; --allow-rollback overrides. An old case re-run with its own release: keep one state per case, e.g. scan -o into the case's folder without --state-dir)`,
      );
    }
  }
}

// An object of names and whole numbers >= 0; anything else would make the comparisons quietly wrong.
function readCounts(file: string, what: string, shape: string): Record<string, number> {
  const state = readJson(file, what);
  if (state === undefined) return Object.create(null) as Record<string, number>;
  const counts = Object.create(null) as Record<string, number>;
  const valid =
    typeof state === "object" &&
    state !== null &&
    !Array.isArray(state) &&
    Object.entries(state).every(([name, value]) => {
      counts[name] = value as number;
      return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
    });
  if (!valid) throw new PhmatchError("PHM_HASHSET_FORMAT", `the ${what} ${file} is not an object of ${shape}; fix or remove it`);
  return counts;
}

function readHeads(file: string): Record<string, AuditHead> {
  const state = readJson(file, "audit head state");
  const heads = Object.create(null) as Record<string, AuditHead>;
  if (state === undefined) return heads;
  const valid =
    typeof state === "object" &&
    state !== null &&
    !Array.isArray(state) &&
    Object.entries(state).every(([name, value]) => {
      const h = value as Partial<AuditHead> | null;
      heads[name] = h as AuditHead;
      return typeof h === "object" && h !== null && Number.isSafeInteger(h.seq) && (h.seq as number) >= 0 && typeof h.head === "string" && /^[0-9a-f]{64}$/.test(h.head);
    });
  if (!valid) throw new PhmatchError("PHM_HASHSET_FORMAT", `the audit head state ${file} is not an object of logs with a seq and a SHA-256 head; fix or remove it`);
  return heads;
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new PhmatchError("PHM_HASHSET_FORMAT", `the ${what} ${file} is unreadable (${(error as Error).message}); fix or remove it`, { cause: error });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PhmatchError("PHM_HASHSET_FORMAT", `the ${what} ${file} is not valid JSON; fix or remove it`, { cause: error });
  }
}

// A unique temporary file beside the target, written and fsynced, renamed over it, and the folder fsynced: a
// crash leaves the old file or the new one, never a mix, and the rename survives power loss.
function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o644);
  try {
    writeSync(fd, text);
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
export function withLock<T>(lock: string, fn: () => T, options: { waitMs?: number; now?: () => number } = {}): T {
  const now = options.now ?? Date.now;
  const deadline = now() + (options.waitMs ?? STATE_LOCK_WAIT_MS);
  const owner: LockOwner = { pid: process.pid, host: hostname(), token: randomBytes(8).toString("hex") };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(lock, "wx", 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new PhmatchError("PHM_USAGE", `cannot take the rollback state lock ${lock}: ${(error as Error).message}`, { cause: error });
      }
      if (breakIfStale(lock, now)) continue;
      if (now() >= deadline) {
        throw new PhmatchError("PHM_STATE_LOCKED", `the rollback state lock ${lock} is held by ${describeOwner(lock)} and was not released in ${options.waitMs ?? STATE_LOCK_WAIT_MS} ms: nothing was loaded; if no phmatch is running with this state folder, remove the lock file`);
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

import { mkdirSync, readFileSync, realpathSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { PhmatchError } from "../errors/index.js";
import { withLock, writeAtomically } from "./locked-file.js";

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
      throw new PhmatchError(
        "PHM_USAGE",
        "the rollback state needs a folder (stateDir): " +
          "give one per gate deployment, shared by its replicas, or one per case",
      );
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
    checkLists(
      readCounts(this.file, "list version state", "list ids with whole-number versions"),
      lists,
      what,
      force,
      this.dir,
    );
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
    return readCounts(
      join(this.dir, OVERRIDES_RELEASES),
      "overrides release state",
      "bindings with whole-number releases",
    )[bindingKey(lists)];
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
          `${what} is release ${release} of the overrides of list(s) ${lists.join(", ")}, older than release ` +
            `${highest} already loaded with the rollback state ${this.dir}: refused ` +
            "(an older signed overrides file replayed; `allowRollback` overrides)",
          { optionNames: ["allowRollback"] },
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
      throw new PhmatchError(
        "PHM_USAGE",
        `cannot create the rollback state folder ${this.dir}: ${(error as Error).message}`,
        { cause: error },
      );
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

function checkLists(
  state: Record<string, number>,
  lists: { listId: string; version: number }[],
  what: string,
  force: boolean,
  dir: string,
): void {
  for (const { listId, version } of lists) {
    const highest = state[listId];
    if (highest !== undefined && version < highest && !force) {
      throw new PhmatchError(
        "PHM_HASHSET_ROLLBACK",
        `${what} holds list "${listId}" version ${version}, older than version ${highest} already loaded with the ` +
          `rollback state ${dir}: refused (rollback protection; \`allowRollback\` overrides. ` +
          "An old case re-run with its own release: keep one state per case)",
        { optionNames: ["allowRollback"] },
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
  if (!valid)
    throw new PhmatchError("PHM_HASHSET_FORMAT", `the ${what} ${file} is not an object of ${shape}; fix or remove it`);
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
      return (
        typeof h === "object" &&
        h !== null &&
        Number.isSafeInteger(h.seq) &&
        (h.seq as number) >= 0 &&
        typeof h.head === "string" &&
        /^[0-9a-f]{64}$/.test(h.head)
      );
    });
  if (!valid)
    throw new PhmatchError(
      "PHM_HASHSET_FORMAT",
      `the audit head state ${file} is not an object of logs with a seq and a SHA-256 head; fix or remove it`,
    );
  return heads;
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new PhmatchError(
      "PHM_HASHSET_FORMAT",
      `the ${what} ${file} is unreadable (${(error as Error).message}); fix or remove it`,
      { cause: error },
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PhmatchError("PHM_HASHSET_FORMAT", `the ${what} ${file} is not valid JSON; fix or remove it`, {
      cause: error,
    });
  }
}

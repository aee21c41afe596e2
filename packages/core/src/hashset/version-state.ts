import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { PhmatchError } from "../errors/index.js";

/** Where phmatch keeps the highest release seen of each list: PHMATCH_STATE_DIR, else XDG state, else ~/.local/state. */
export function defaultStateDir(): string {
  return process.env.PHMATCH_STATE_DIR ?? join(process.env.XDG_STATE_HOME ?? join(homedir(), ".local", "state"), "phmatch");
}

/**
 * Rollback protection: the highest version of each list id ever loaded on this machine. Loading an older
 * release is refused unless forced (an attacker or a stale mirror must not bring withdrawn entries back, or hide
 * new ones).
 */
export class ListVersionState {
  readonly file: string;

  constructor(stateDir: string = defaultStateDir()) {
    this.file = join(stateDir, "list-versions.json");
  }

  #read(): Record<string, number> {
    let state: unknown;
    try {
      state = JSON.parse(readFileSync(this.file, "utf8"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw new PhmatchError("PHM_HASHSET_FORMAT", `the list version state ${this.file} is unreadable; fix or remove it`, { cause: error });
    }
    // Anything but list ids with whole-number versions would make the comparisons below quietly wrong.
    const versions = Object.create(null) as Record<string, number>;
    const valid =
      typeof state === "object" &&
      state !== null &&
      !Array.isArray(state) &&
      Object.entries(state).every(([listId, version]) => {
        versions[listId] = version as number;
        return typeof version === "number" && Number.isSafeInteger(version) && version >= 0;
      });
    if (!valid) throw new PhmatchError("PHM_HASHSET_FORMAT", `the list version state ${this.file} is not an object of list ids and whole-number versions; fix or remove it`);
    return versions;
  }

  /** Highest version seen of `listId`, if any. */
  highest(listId: string): number | undefined {
    return this.#read()[listId];
  }

  /** Refuses releases older than the highest seen (PHM_HASHSET_ROLLBACK) unless `force`; records nothing. */
  check(lists: { listId: string; version: number }[], what: string, force = false): void {
    this.#check(this.#read(), lists, what, force);
  }

  /**
   * Refuses releases older than the highest seen (PHM_HASHSET_ROLLBACK) unless `force`; then records them. Call it
   * only with versions that are known to be the list's own (verified, decrypted): what it records is permanent.
   */
  admit(lists: { listId: string; version: number }[], what: string, force = false): void {
    const state = this.#read();
    this.#check(state, lists, what, force);
    let changed = false;
    for (const { listId, version } of lists) {
      if (state[listId] === undefined || version > (state[listId] as number)) {
        state[listId] = version;
        changed = true;
      }
    }
    if (!changed) return;
    mkdirSync(join(this.file, ".."), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n");
    renameSync(tmp, this.file);
  }

  #check(state: Record<string, number>, lists: { listId: string; version: number }[], what: string, force: boolean): void {
    for (const { listId, version } of lists) {
      const highest = state[listId];
      if (highest !== undefined && version < highest && !force) {
        throw new PhmatchError(
          "PHM_HASHSET_ROLLBACK",
          `${what} holds list "${listId}" version ${version}, older than version ${highest} already loaded here: refused (rollback protection; --allow-rollback overrides)`,
        );
      }
    }
  }
}

import { type FSWatcher, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import {
  type Checker,
  type CheckerOptions,
  checkerFor,
  type LoadedHashSet,
  type LoadOptions,
  loadHashSet,
  PhmatchError,
} from "@phmatch/core";
import { isListUrl, toPhmatchError } from "@phmatch/core/internal";
import { CliError } from "../errors.js";

/** The lists a gate answers with now: one checker over one set of verified lists, swapped as a whole. */
export interface ListGeneration {
  checker: Checker;
  sets: LoadedHashSet[];
  loadedAt: Date;
}

/**
 * Holds the current list generation and replaces it on reload: the new lists are loaded and verified (signature,
 * integrity, rollback state) and a new checker built while the current one keeps answering; the swap is one
 * assignment, so a request in flight finishes with the generation it started with. A new list that fails to load,
 * or is older than the one loaded (or the same version with other content), or that would stop serving a list id
 * served now (another list, even one signed by the same key, put in a list file's place) unless `allowListChange`,
 * is refused and the current one stays. Overrides beside the lists are reloaded with them (an older release than
 * the one in use is refused).
 */
export class ListHolder {
  #current: ListGeneration | undefined;
  #reloading: Promise<unknown> = Promise.resolve();
  #watchers: FSWatcher[] = [];
  #debounce: NodeJS.Timeout | undefined;
  readonly #paths: string[];
  readonly #load: () => LoadOptions;
  readonly #checker: Omit<CheckerOptions, "hashsets" | "load">;
  readonly #allowListChange: boolean;
  readonly #onSwap: ((before: ListGeneration, after: ListGeneration) => void) | undefined;

  /** `onSwap` is told of each reload that swapped in other lists, with the generation it replaced. */
  constructor(
    paths: string[],
    load: () => LoadOptions,
    checker: Omit<CheckerOptions, "hashsets" | "load">,
    options: { allowListChange?: boolean; onSwap?: (before: ListGeneration, after: ListGeneration) => void } = {},
  ) {
    this.#paths = paths;
    this.#load = load;
    this.#checker = checker;
    this.#allowListChange = options.allowListChange === true;
    this.#onSwap = options.onSwap;
  }

  /** The generation answering now (undefined until the first load succeeded). */
  get current(): ListGeneration | undefined {
    return this.#current;
  }

  /** Loads the lists for the first time; throws if any fails. */
  async load(): Promise<void> {
    this.#current = this.#generation(await this.#loadSets());
  }

  /**
   * Loads the lists again and swaps them in if every one verifies and none is older than the one it replaces.
   * Reloads run one at a time. Resolves with the refusal, if there was one (the current lists stay).
   */
  reload(): Promise<{ ok: true; changed: boolean } | { ok: false; error: PhmatchError }> {
    const next = this.#reloading.then(async () => {
      try {
        // The lists are checked against those served before a checker (its indexes) is built: a touched or
        // re-signed file that changes nothing costs a load, not an index build.
        const sets = await this.#loadSets();
        const changed = this.#check(sets);
        const before = this.#current;
        if (changed) this.#current = this.#generation(sets);
        if (changed && before !== undefined) this.#onSwap?.(before, this.#current as ListGeneration);
        return { ok: true as const, changed };
      } catch (error) {
        return { ok: false as const, error: toPhmatchError(error) };
      }
    });
    this.#reloading = next;
    return next;
  }

  /**
   * Reloads (after a short pause, to let a copy finish) when a list file or its signature changes. Lists taken
   * from a URL are not watched: SIGHUP reloads them.
   */
  watch(onReload: (result: Awaited<ReturnType<ListHolder["reload"]>>) => void): void {
    const names = new Map<string, Set<string>>();
    for (const path of this.#paths.filter((p) => !isListUrl(p)).map((p) => resolve(p))) {
      const dir = dirname(path);
      const name = basename(path);
      names.set(
        dir,
        (names.get(dir) ?? new Set())
          .add(name)
          .add(`${name}.sig`)
          .add(`${name}.overrides.ndjson`)
          .add(`${name}.overrides.ndjson.sig`),
      );
    }
    for (const [dir, files] of names) {
      const watcher = watch(dir, (_event, file) => {
        if (file === null || !files.has(file.toString())) return;
        clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => void this.reload().then(onReload), 300);
      });
      watcher.unref();
      this.#watchers.push(watcher);
    }
  }

  /** Stops watching. */
  close(): void {
    clearTimeout(this.#debounce);
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
  }

  async #loadSets(): Promise<LoadedHashSet[]> {
    const load = this.#load();
    const sets: LoadedHashSet[] = [];
    for (const path of this.#paths) sets.push(await loadHashSet(path, load));
    return sets;
  }

  #generation(sets: LoadedHashSet[]): ListGeneration {
    return { checker: checkerFor(sets, this.#checker), sets, loadedAt: new Date() };
  }

  // Refuses a generation with a list older than the current one, or the same version with other content, or
  // without a list id served now (unless allowed), or with older overrides. Returns whether anything changed.
  #check(sets: LoadedHashSet[]): boolean {
    const current = this.#current;
    if (current === undefined) return true;
    const before = new Map(
      current.sets.flatMap((s) =>
        s.set.lists.map((l) => [l.listId, { version: l.version, sha: s.storeSha256 }] as const),
      ),
    );
    const after = new Set(sets.flatMap((s) => s.set.lists.map((l) => l.listId)));
    const dropped = [...before.keys()].filter((id) => !after.has(id));
    if (dropped.length > 0 && !this.#allowListChange) {
      const now = [...after].join(", ") || "none";
      throw new CliError(
        "PHM_HASHSET_LIST_CHANGE",
        `the reloaded lists no longer hold list(s) ${dropped.join(", ")} being served (they hold ${now}): ` +
          "refused, the served lists stay (restart with the new lists, or run serve --allow-list-change if " +
          "lists may be replaced on reload)",
      );
    }
    let changed = dropped.length > 0;
    const overridesBefore = new Map(current.sets.map((s) => [s.path, s.overridesProvenance] as const));
    for (const s of sets) {
      const was = overridesBefore.get(s.path);
      const now = s.overridesProvenance;
      if (was?.sha256 === now?.sha256) continue;
      if (was?.release !== undefined && now?.release !== undefined && now.release < was.release) {
        throw new PhmatchError(
          "PHM_HASHSET_ROLLBACK",
          `the overrides of ${s.path} went back from release ${was.release} to ${now.release}: refused, ` +
            `release ${was.release} stays`,
        );
      }
      changed = true;
    }
    for (const s of sets) {
      let newer = false;
      let sameContent = true;
      for (const l of s.set.lists) {
        const was = before.get(l.listId);
        if (was !== undefined && l.version < was.version) {
          throw new PhmatchError(
            "PHM_HASHSET_ROLLBACK",
            `list ${l.listId} version ${l.version} is older than the version ${was.version} being served: ` +
              `refused, version ${was.version} stays`,
          );
        }
        if (was === undefined || l.version > was.version) newer = true;
        else if (was.sha !== s.storeSha256) sameContent = false;
      }
      if (!newer && !sameContent) {
        throw new PhmatchError(
          "PHM_HASHSET_ROLLBACK",
          `${s.path} has other content under the same list versions: refused, the loaded lists stay (publish ` +
            "a new version)",
        );
      }
      changed ||= newer;
    }
    return changed || sets.length !== current.sets.length;
  }
}

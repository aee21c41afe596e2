import { PhmatchError } from "../errors/index.js";
import { hasherSpec } from "../hashers/registry.js";
import { HashSetBuilder } from "../hashset/builder.js";
import type { HashSet } from "../hashset/hash-set.js";
import { type LoadedHashSet, parseStore } from "../hashset/load.js";
import { serializeStore } from "../hashset/store-writer.js";
import { PackedValues } from "../index/packed-values.js";

/** One list of a release matched retroactively: its id, its version now, and the version it is compared with. */
export interface ReleaseStep {
  listId: string;
  version: number;
  /** The version of the earlier release (absent: the list is new in this release, or no earlier one was given). */
  since?: number;
}

/**
 * Checks that `after` is a later release of every list `before` holds, and says which steps it makes. Refused
 * (PHM_REMATCH_SINCE): the same store twice; a list of `before` that `after` lacks; a list at the same or an older
 * version in `after`; stores signed by different keys. Each of these would make the diff hide entries that are
 * new (an "earlier" release that already holds them), so the only safe answer is to refuse; matching against the
 * whole list (no earlier release) is always safe.
 */
export function releaseSteps(before: LoadedHashSet, after: LoadedHashSet): ReleaseStep[] {
  const refuse = (why: string) =>
    new PhmatchError(
      "PHM_REMATCH_SINCE",
      `${before.path} is not an earlier release of ${after.path}: ${why}. Nothing was matched; give the release ` +
        "the records were last matched against, or no earlier release (the records are then matched against the " +
        "whole list)",
      { path: before.path },
    );
  if (before.storeSha256 === after.storeSha256) throw refuse("they are the same store (the same bytes)");
  if (before.signedBy !== after.signedBy)
    throw refuse(
      `they are signed by different keys (${before.signedBy ?? "unverified"} and ${after.signedBy ?? "unverified"})`,
    );
  const versions = new Map(after.set.lists.map((l) => [l.listId, l.version]));
  for (const list of before.set.lists) {
    const now = versions.get(list.listId);
    if (now === undefined) throw refuse(`it holds list ${list.listId} (version ${list.version}), which the new lacks`);
    if (now <= list.version)
      throw refuse(
        `list ${list.listId} is at version ${now} in the new store and ${list.version} in the earlier one ` +
          `(${now === list.version ? "the same release" : "the new one is older"})`,
      );
  }
  const earlier = new Map(before.set.lists.map((l) => [l.listId, l.version]));
  return after.set.lists.map((l) => {
    const since = earlier.get(l.listId);
    return since === undefined
      ? { listId: l.listId, version: l.version }
      : { listId: l.listId, version: l.version, since };
  });
}

/**
 * The entries `after` added relative to `before` (as `diffHashSets` counts them: by list, algorithm and value)
 * as a loaded set of their own, which a Matcher then matches against: each hit keeps its list, version, entry id and
 * category, `after`'s withdrawals are carried (a withdrawn entry never matches) and `after`'s overrides apply, as
 * they would to `after` itself.
 */
export function addedEntries(before: LoadedHashSet, after: LoadedHashSet): { added: LoadedHashSet; count: number } {
  return addedSince(listedValues(before.set), after);
}

/**
 * The values a release lists, per list and algorithm (`<listId>\0<algorithm>`), packed: all a later diff needs of
 * it, and plain bytes, so they can go to another process (serve's retroactive run) when the release itself is about
 * to be let go. A store of one list gives its sections as they are (no entry's metadata is read).
 */
export function listedValues(set: HashSet): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  if (set.lists.length === 1) {
    const listId = (set.lists[0] as { listId: string }).listId;
    for (const algorithm of set.algorithms)
      out.set(`${listId}\0${algorithm}`, new Uint8Array(set.packed(algorithm).values));
    return out;
  }
  const grouped = new Map<string, Uint8Array[]>();
  for (const entry of set.entries()) {
    const key = `${entry.listId}\0${entry.algorithm}`;
    let values = grouped.get(key);
    if (values === undefined) grouped.set(key, (values = []));
    values.push(entry.value);
  }
  for (const [key, values] of grouped) out.set(key, Buffer.concat(values));
  return out;
}

/** {@link addedEntries} against the values an earlier release listed ({@link listedValues}). */
export function addedSince(
  before: ReadonlyMap<string, Uint8Array>,
  after: LoadedHashSet,
): { added: LoadedHashSet; count: number } {
  const held = new Map<string, PackedValues>();
  for (const [key, values] of before) {
    const bytes = hasherSpec(key.slice(key.indexOf("\0") + 1))?.bits;
    if (bytes !== undefined) held.set(key, PackedValues.over(values, bytes / 8));
  }
  const builder = new HashSetBuilder();
  for (const list of after.set.lists) builder.addList({ ...list });
  let count = 0;
  for (const entry of after.set.entries()) {
    const listed = held.get(`${entry.listId}\0${entry.algorithm}`);
    if (listed !== undefined && listed.indexOf(entry.value) >= 0) continue;
    if (builder.addEntry(entry)) count++;
  }
  for (const w of after.set.withdrawals()) builder.addWithdrawal(w);
  const set = parseStore(serializeStore(builder, after.set.header.createdAt), `${after.path} (added entries)`);
  const added: LoadedHashSet = {
    set,
    path: after.path,
    storeSha256: after.storeSha256,
    encrypted: after.encrypted,
    overrides: after.overrides,
  };
  if (after.overridesProvenance !== undefined) added.overridesProvenance = after.overridesProvenance;
  if (after.signedBy !== undefined) added.signedBy = after.signedBy;
  return { added, count };
}

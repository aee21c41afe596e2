import { PackedValues } from "../index/packed-values.js";
import type { HashSetEntry } from "./entry.js";
import type { HashSet } from "./hash-set.js";

/** One difference between two releases. */
export interface HashSetChange {
  change: "added" | "withdrawn";
  entry: HashSetEntry;
}

/**
 * What changed from `before` to `after`, per (list, algorithm, value): entries only in `after` are added; entries
 * only in `before`, or tombstoned in `after`, are withdrawn (releases are full, not cumulative).
 */
export function* diffHashSets(before: HashSet, after: HashSet): Generator<HashSetChange> {
  const index = (set: HashSet) => {
    const byKey = new Map<string, PackedValues>();
    for (const entry of set.entries()) {
      const key = `${entry.listId}\0${entry.algorithm}`;
      let values = byKey.get(key);
      if (values === undefined) byKey.set(key, (values = new PackedValues(entry.value.length)));
      values.add(entry.value);
    }
    return byKey;
  };
  const has = (idx: Map<string, PackedValues>, e: { listId: string; algorithm: string; value: Uint8Array }) =>
    (idx.get(`${e.listId}\0${e.algorithm}`)?.indexOf(e.value) ?? -1) >= 0;
  const beforeIndex = index(before);
  const afterIndex = index(after);
  for (const entry of after.entries()) if (!has(beforeIndex, entry)) yield { change: "added", entry };
  for (const entry of before.entries()) if (!has(afterIndex, entry)) yield { change: "withdrawn", entry };
  // Tombstones of values `before` did not hold (withdrawn in an earlier release) are reported too; values it held
  // are already reported above, since a full release no longer lists them.
  for (const w of after.withdrawals()) {
    // A withdrawal by entry id alone: the entries it removes are already reported above, if `before` held them.
    if (w.algorithm === undefined || w.value === undefined) continue;
    if (!has(beforeIndex, { ...w, algorithm: w.algorithm, value: w.value }))
      yield {
        change: "withdrawn",
        entry: {
          algorithm: w.algorithm,
          value: w.value,
          listId: w.listId,
          ...(w.entryId !== undefined && { entryId: w.entryId }),
        },
      };
  }
}

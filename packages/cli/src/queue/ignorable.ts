import type { ScanIgnorableList } from "@phmatch/core";
import type { ScanIgnorable } from "@phmatch/core/internal";
import { CliError } from "../errors.js";

/**
 * A worker's own copies of a distributed scan's ignorable lists, checked against the plan: the same number of
 * lists, each with the SHA-256 of the plan's list at its place (and so the same algorithm and digests), and named as
 * the plan names them, so its records are what the coordinator's local scan would write. Anything else is refused
 * (PHM_QUEUE_IGNORABLE_MISMATCH): a worker that set aside other files than the plan says would make a report whose
 * header does not describe it.
 */
export function planIgnorables(
  scan: string,
  planned: readonly ScanIgnorableList[] | undefined,
  loaded: readonly ScanIgnorable[],
): ScanIgnorable[] {
  const want = planned ?? [];
  const describe = (lists: readonly ScanIgnorableList[]) =>
    lists.map((l) => `${l.name} (${l.sha256.slice(0, 12)})`).join(", ") || "none";
  const same =
    want.length === loaded.length &&
    want.every((w, i) => {
      const mine = (loaded[i] as ScanIgnorable).list;
      return w.sha256 === mine.sha256 && w.algorithm === mine.algorithm && w.count === mine.count;
    });
  if (!same) {
    throw new CliError(
      "PHM_QUEUE_IGNORABLE_MISMATCH",
      `scan ${scan} sets files aside with the ignorable lists ${describe(want)}, but this worker loaded ` +
        `${describe(loaded.map((l) => l.list))}: give --ignorable the same files (same bytes), in the same order`,
    );
  }
  return loaded.map((l, i) => ({ set: l.set, list: want[i] as ScanIgnorableList }));
}

import { PhmatchError } from "../errors/index.js";
import { pathKey } from "../files/file-path.js";
import type { WalkEntry } from "../pipeline/walk.js";

/**
 * Yields the entries after the one whose pathKey is `last` (exclusive); refuses if it never comes (the tree
 * changed).
 */
export async function* after(entries: AsyncIterable<WalkEntry>, last: string | undefined): AsyncGenerator<WalkEntry> {
  let passed = last === undefined;
  for await (const entry of entries) {
    if (passed) yield entry;
    else if (pathKey(entry.path) === last) passed = true;
  }
  if (!passed)
    throw new PhmatchError(
      "PHM_USAGE",
      "cannot resume: the last reported file is no longer under the scanned paths " +
        "(the tree changed since the scan started)",
    );
}

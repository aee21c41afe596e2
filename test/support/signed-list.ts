// A signed release of a benign fixture list, written as a list distribution replaces it: the .sig first, then
// the .phs renamed into place, so a gate reading or watching the file never sees a store without its signature.
import { renameSync, writeFileSync } from "node:fs";
import { HashSetBuilder, hashFile, parseHashValue, serializeStore, signStore } from "@phmatch/core";
import { fixtures } from "./conformance.js";

/**
 * Writes list `listId` (default "hotline") at `version` holding the PDQ and MD5 of the given fixture images
 * (entry `E-<file>`, category A1) to `to`, signed.
 */
export async function writeSignedList(
  to: string,
  version: number,
  files: string[],
  privateKeyPem: string,
  listId = "hotline",
): Promise<void> {
  const builder = new HashSetBuilder();
  builder.addList({ listId, version });
  for (const f of files) {
    const record = await hashFile(fixtures(`images/${f}`), { algorithms: ["pdq", "md5"] });
    for (const [algorithm, hex] of Object.entries(record.hashes ?? {})) {
      const parsed = parseHashValue(algorithm, hex);
      if (parsed.ok) builder.addEntry({ algorithm, value: parsed.value, listId, entryId: `E-${f}`, category: "A1" });
    }
  }
  const bytes = serializeStore(builder);
  writeFileSync(`${to}.tmp`, bytes);
  writeFileSync(`${to}.sig.tmp`, signStore(bytes, privateKeyPem));
  renameSync(`${to}.sig.tmp`, `${to}.sig`);
  renameSync(`${to}.tmp`, to);
}

// The lists the robustness bench matches against, made from hash records of the known images: as a hotline ships
// them (the whole images' hashes) or as `hashset build --augment` stores them (plus each sub-window's perceptual
// hashes, as variants of the image's entry that name their window). One list per call, held in memory.
import { HashSetBuilder, Matcher, parseStore, serializeStore } from "@phmatch/core";

export const hexToBytes = (hex) => new Uint8Array(Buffer.from(hex, "hex"));

/**
 * The loaded hash set of `records` (entry id = the record's index) with the hashes of `algorithms`, and with the
 * records' `windows` too when `augment` is set; round-tripped through the store format, as a matcher loads it.
 */
export function listSet(records, { algorithms, augment = false, listId = "bench-known" }) {
  const builder = new HashSetBuilder();
  builder.addList({ listId, version: 1 });
  records.forEach((r, i) => {
    for (const a of algorithms)
      builder.addEntry({ algorithm: a, value: hexToBytes(r.hashes[a]), listId, entryId: String(i) });
    if (augment)
      for (const w of r.windows ?? [])
        for (const a of algorithms.filter((x) => w.hashes[x] !== undefined))
          builder.addEntry({
            algorithm: a,
            value: hexToBytes(w.hashes[a]),
            listId,
            entryId: String(i),
            fields: { window: w.window },
          });
  });
  return parseStore(serializeStore(builder), listId);
}

/** A matcher over {@link listSet}'s list; `options` are the Matcher's (policies, combined). */
export function listMatcher(records, { options = {}, ...list }) {
  const set = listSet(records, list);
  return new Matcher(
    [{ set, path: list.listId ?? "bench-known", storeSha256: "", encrypted: false, overrides: [] }],
    options,
  );
}

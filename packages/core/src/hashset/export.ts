import { PackedValues } from "../index/packed-values.js";
import type { HashSetEntry, Withdrawal } from "./entry.js";
import type { HashSet } from "./hash-set.js";

/**
 * What an export wrote: entries, and withdrawn entries left out; `videoFrames` counts the frames of listed videos
 * a format that cannot carry them left out (CSV), rather than write them as rows a reader would take for images.
 */
export interface ExportTally {
  entries: number;
  withdrawn: number;
  videoFrames?: number;
}

/**
 * How many listed videos (distinct list and entry id among entries with `fields.video`) and frames a set holds.
 * Frames are `pdq` entries; this decodes their metadata, so it is for info and export, not for matching.
 */
export function listedVideoCounts(set: HashSet): { videos: number; frames: number } {
  const videos = new Set<string>();
  let frames = 0;
  const count = set.packed("pdq").count;
  for (let i = 0; i < count; i++) {
    const entry = set.entry("pdq", i);
    if (entry.fields?.video === undefined) continue;
    frames++;
    videos.add(`${entry.listId}\0${entry.entryId ?? ""}`);
  }
  return { videos: videos.size, frames };
}

/**
 * A test for the entries of `set` that its own withdrawals withdraw (by value, or by entry id), as the matcher
 * applies them. Exports leave those entries out: a withdrawn entry never reappears as an active row or line.
 */
export function withdrawnIn(set: HashSet): (entry: HashSetEntry) => boolean {
  const ids = new Set<string>();
  const values = new Map<string, PackedValues>();
  for (const w of set.withdrawals()) {
    if (w.algorithm !== undefined && w.value !== undefined) {
      const key = `${w.listId}\0${w.algorithm}`;
      let packed = values.get(key);
      if (packed === undefined) values.set(key, (packed = new PackedValues(w.value.length)));
      packed.add(w.value);
    } else if (w.entryId !== undefined) ids.add(`${w.listId}\0${w.entryId}`);
  }
  return (e) =>
    (e.entryId !== undefined && ids.has(`${e.listId}\0${e.entryId}`)) ||
    (values.get(`${e.listId}\0${e.algorithm}`)?.indexOf(e.value) ?? -1) >= 0;
}

// The entries an export writes: every entry its withdrawals leave standing, counted.
function* activeEntries(set: HashSet, tally: ExportTally): Generator<HashSetEntry> {
  const withdrawn = withdrawnIn(set);
  for (const entry of set.entries()) {
    if (withdrawn(entry)) tally.withdrawn++;
    else {
      tally.entries++;
      yield entry;
    }
  }
}

/**
 * phmatch's NDJSON export: a header line with the lists' metadata, then one line per entry still listed and one
 * per withdrawal. Entries the store's withdrawals withdraw are left out (their withdrawals stay, so the values
 * stay withdrawn wherever the export is imported). `hashset import --format ndjson` reads it back into a store
 * that matches exactly as this one does.
 */
export function* exportNdjson(set: HashSet, tally: ExportTally = { entries: 0, withdrawn: 0 }): Generator<string> {
  yield JSON.stringify({ type: "hashset", format: "phmatch-hashset", formatVersion: 1, lists: set.lists });
  for (const entry of activeEntries(set, tally)) yield JSON.stringify(entryLine(entry));
  for (const w of set.withdrawals()) yield JSON.stringify(withdrawalLine(w));
}

function entryLine(e: HashSetEntry): object {
  return {
    type: "entry",
    algorithm: e.algorithm,
    hash: Buffer.from(e.value).toString("hex"),
    list: e.listId,
    ...(e.entryId !== undefined && { id: e.entryId }),
    ...(e.category !== undefined && { category: e.category }),
    ...(e.fields !== undefined && { fields: e.fields }),
  };
}

function withdrawalLine(w: Withdrawal): object {
  return {
    type: "withdrawal",
    ...(w.algorithm !== undefined && { algorithm: w.algorithm }),
    ...(w.value !== undefined && { hash: Buffer.from(w.value).toString("hex") }),
    list: w.listId,
    ...(w.entryId !== undefined && { id: w.entryId }),
  };
}

/**
 * CSV export for spreadsheets and other tools: algorithm, hash, list, id, category, then one column per
 * `fields.extra` key found in the set. Structured provenance other than `extra` (dates, tags, ...) is kept only
 * by the NDJSON export. Only entries still listed are written: a tool reading the rows as a hash list must not
 * get withdrawn values back (withdrawals themselves are not part of a CSV export). Frames of listed videos are left
 * out and counted in `tally.videoFrames`: a row has no place for where a frame sits in its video, and a reader would
 * take each for a listed image.
 */
export function* exportCsv(set: HashSet, tally: ExportTally = { entries: 0, withdrawn: 0 }): Generator<string> {
  const withdrawn = withdrawnIn(set);
  const extraKeys = new Set<string>();
  for (const entry of set.entries())
    if (!withdrawn(entry)) for (const key of Object.keys(entry.fields?.extra ?? {})) extraKeys.add(key);
  const extra = [...extraKeys].sort();
  yield ["algorithm", "hash", "list", "id", "category", ...extra].map(csvCell).join(",");
  for (const e of activeEntries(set, tally)) {
    if (e.fields?.video !== undefined) {
      tally.entries--;
      tally.videoFrames = (tally.videoFrames ?? 0) + 1;
      continue;
    }
    yield [
      e.algorithm,
      Buffer.from(e.value).toString("hex"),
      e.listId,
      e.entryId ?? "",
      e.category ?? "",
      ...extra.map((k) => e.fields?.extra?.[k] ?? ""),
    ]
      .map(csvCell)
      .join(",");
  }
}

/** One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled. */
export function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

import { PDQ_MIN_QUALITY } from "../hashers/pdq.js";
import { keptVideoFrames } from "../match/video-match.js";
import type { EntryFields, HashSetEntry } from "./entry.js";
import type { VpdqFrame } from "./vpdq-text.js";

/** Who a listed video is: its list, its id in the list, its category and provenance. */
export interface ListedVideoIdentity {
  listId: string;
  entryId: string;
  category?: string;
  fields?: Omit<EntryFields, "video" | "window">;
}

/**
 * The store entries of one listed video: one `pdq` entry per frame the reference keeps for matching (the first of
 * each identical hash, then quality >= 50), each carrying `fields.video` (frame number, timestamp, quality, and how
 * many frames are kept: the listed share's denominator). Frames below quality 50 can never match (the reference
 * drops them on both sides), so they are not stored; `dropped` says how many were left out, for the import report.
 * The entry id is required: it is what ties the frames of one video together.
 * @example listedVideoEntries({ listId: "l", entryId: "v1" }, parseVpdqText(text)).entries.length
 */
export function listedVideoEntries(
  video: ListedVideoIdentity,
  frames: readonly VpdqFrame[],
): { entries: HashSetEntry[]; dropped: { duplicate: number; lowQuality: number } } {
  if (video.entryId === "") throw new RangeError("a listed video needs an entry id");
  const kept = keptVideoFrames(frames, PDQ_MIN_QUALITY, `listed video ${video.entryId}`);
  const distinct = new Set(frames.map((f) => Buffer.from(f.hash.bytes).toString("hex"))).size;
  const entries = kept.map((frame): HashSetEntry => {
    const fields: EntryFields = {
      ...video.fields,
      video: { frame: frame.frame, timestamp: frame.timestamp, quality: frame.hash.quality, frames: kept.length },
    };
    const entry: HashSetEntry = {
      algorithm: "pdq",
      value: frame.hash.bytes,
      listId: video.listId,
      entryId: video.entryId,
      fields,
    };
    if (video.category !== undefined) entry.category = video.category;
    return entry;
  });
  return { entries, dropped: { duplicate: frames.length - distinct, lowQuality: distinct - kept.length } };
}

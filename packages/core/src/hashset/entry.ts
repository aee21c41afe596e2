/**
 * The hash-set entry model. Every entry keeps where it came from (its list) and what it is (category, entry id,
 * provenance fields), so that a match can say "matches list X, category Y, entry Z" and an entry can be disputed.
 */

/** Optional provenance of an entry, as lists carry it. Free text; absent fields are omitted. */
export interface EntryFields {
  /** When the entry was added to its list (ISO 8601 where the source gives a date). */
  added?: string;
  /** When it was last verified. */
  verified?: string;
  /** The organisation or member that submitted it (NCMEC member id, hotline). */
  source?: string;
  member?: string;
  /** Free tags (comma-free strings). */
  tags?: string[];
  /** The legal basis under which the entry is listed (quote the law's own words). */
  legalBasis?: string;
  /** Jurisdiction, e.g. an ISO 3166 country code. */
  jurisdiction?: string;
  /**
   * For a hash of part of the listed image (list-side augmentation), which part: e.g. `centre-90`, the centre
   * keeping 90% of each side. Absent for the whole image.
   */
  window?: string;
  /**
   * For a frame of a listed video (vPDQ): which frame it is. The entry's algorithm is `pdq` and its value the
   * frame's PDQ hash, so a still image taken from the video finds it like any listed image; every frame of one
   * video shares the entry's list, entry id and category. `frame` is the frame's number in the video (decode
   * order from 0), `timestamp` its time in seconds, `quality` its PDQ quality, `frames` how many frames of the
   * video the store keeps (the reference's kept frames: distinct hashes of quality >= 50), which is the
   * denominator of the listed video's matched share.
   */
  video?: ListedVideoFrame;
  /** Anything else the source format carries, kept verbatim (e.g. ICSE "Series name"). */
  extra?: Record<string, string>;
}

/** Where a listed frame sits in its video ({@link EntryFields.video}). */
export interface ListedVideoFrame {
  frame: number;
  timestamp: number;
  quality: number;
  frames: number;
}

/** One hash of a list. `value` is the hash bytes (hex only at the edges). */
export interface HashSetEntry {
  /** Registry algorithm id (pdq, md5, sha1, sha256, photodna, phash, ...). */
  algorithm: string;
  value: Uint8Array;
  /** The list this entry belongs to. */
  listId: string;
  /** The entry's id within its list (MediaID, Image ID, NCMEC id); may be absent in bare hash lists. */
  entryId?: string;
  /** Category or classification as the list gives it: Project VIC 0-4, UK A/B/C, NCMEC A1/A2/B1/B2, ... */
  category?: string;
  fields?: EntryFields;
}

/**
 * A withdrawal: the list no longer holds this value (NCMEC deletedImage/deletedVideo, or a later release). It
 * names a value (algorithm and value), or only an entry id, as deletion feeds often do: then every entry of the
 * list with that id is withdrawn.
 */
export interface Withdrawal {
  algorithm?: string;
  value?: Uint8Array;
  listId: string;
  entryId?: string;
}

/** What a reader yields, in file order. */
export type HashSetRecord =
  | { kind: "entry"; entry: HashSetEntry; line: number }
  | { kind: "withdrawal"; withdrawal: Withdrawal; line: number };

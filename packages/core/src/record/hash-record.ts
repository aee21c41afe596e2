import { readFileSync } from "node:fs";
import type { ErrorCode } from "../errors/index.js";

/** Version of the hash record shape; bumped only with a new schema file. */
export const HASH_RECORD_VERSION = 2;

/**
 * One line of `phmatch hash` output; see `schema/hash-record.schema.json`. Hex per algorithm id, quality where
 * the algorithm has one (PDQ), dihedral variants if asked, and `error` when something could not be computed:
 * a file that fails to decode still carries its digests.
 */
export interface HashRecord {
  /** The path, readable (a name that is not valid UTF-8 shows U+FFFD for its invalid bytes). */
  path: string;
  /** The path's exact bytes in base64, present only when they are not valid UTF-8. */
  pathBytes?: string;
  hashes?: Record<string, string>;
  quality?: Record<string, number>;
  dihedral?: Record<string, string[]>;
  /** With trimming on and uniform borders found: the hashes of the content inside them, and where it is. */
  trimmed?: TrimmedHashes;
  /** With rotation hypotheses on: the hashes of the image turned back by each small angle. */
  rotated?: RotatedHashes[];
  /**
   * With parts on: PDQ and pHash of each part of PART_WINDOWS (top, bottom, left, right 60% and 34%) and PART_MASKS
   * (each 2/3 corner block masked), as extra queries, so that an overlay in one region leaves a part to match; `box`
   * is in the image's pixels.
   */
  parts?: WindowHashes[];
  /** With augmentation on (list builders): the hashes of each sub-window of the image. */
  windows?: WindowHashes[];
  /** A video (schema version 2): its vPDQ hash, the frames hashed at `secondsPerHash` and what its headers say. */
  video?: VideoHash;
  error?: { code: ErrorCode; message: string };
}

/**
 * A vPDQ video hash as Meta's reference makes it (vpdq-hash-video -r secondsPerHash): one PDQ hash per hashed frame,
 * frame n in decode output order from 0, timestamp n / frameRate in seconds. `frameCount` is the header's (or, when
 * it declares none, the packets counted); `durationSeconds` the stream's, else the container's.
 */
export interface VideoHash {
  algorithm: "vpdq";
  secondsPerHash: number;
  container: string;
  codec: string;
  width: number;
  height: number;
  frameRate: number;
  durationSeconds: number;
  frameCount: number;
  frames: VideoFrameHash[];
}

/** One hashed frame of a {@link VideoHash}: PDQ as 64 lowercase hex, as in `hashes.pdq`. */
export interface VideoFrameHash {
  frame: number;
  pdq: string;
  quality: number;
  timestamp: number;
}

/** PDQ and pHash of an image turned back by `degrees` (a rotation hypothesis), as an extra query. */
export interface RotatedHashes {
  degrees: number;
  hashes: Record<string, string>;
  quality?: Record<string, number>;
  dihedral?: Record<string, string[]>;
}

/**
 * The pixel hashes of one sub-window of an image (`window` names it, e.g. centre-90; `box` as in trimmed). For a
 * masked part (`masked-top-left` ...) the hashes are of the whole image with `box` painted mid-grey.
 */
export interface WindowHashes {
  window: string;
  box: [number, number, number, number];
  hashes: Record<string, string>;
  quality?: Record<string, number>;
}

/** The pixel hashes of the content inside an image's uniform borders; `box` is [left, top, width, height]. */
export interface TrimmedHashes {
  box: [number, number, number, number];
  hashes: Record<string, string>;
  quality?: Record<string, number>;
  dihedral?: Record<string, string[]>;
}

/** A record without an error: everything asked for was computed. */
export type HashedRecord = HashRecord & { hashes: Record<string, string>; error?: undefined };
/** A record with an error (it may still carry the digests and hashes that could be computed). */
export type FailedRecord = HashRecord & { error: { code: ErrorCode; message: string } };

/** True if the record carries an error. */
export function isFailedRecord(record: HashRecord): record is FailedRecord {
  return record.error !== undefined;
}

let schema: object | undefined;

/**
 * The JSON Schema (draft 2020-12) of {@link HashRecord}, `$id` urn:phmatch:schema:hash-record:2; every version 1
 * record is a valid version 2 record (version 2 only adds `video`).
 */
export function hashRecordSchema(): object {
  schema ??= JSON.parse(
    readFileSync(new URL("../../schema/hash-record.schema.json", import.meta.url), "utf8"),
  ) as object;
  return schema;
}

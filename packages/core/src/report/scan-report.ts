import { readFileSync } from "node:fs";
import type { StoreProvenance } from "../hashset/store-format.js";
import type { MatchHit, MatchResult } from "../match/match-result.js";
import type { AccessTimeReport } from "../pipeline/access-times.js";
import type { FileTimes } from "../pipeline/file-times.js";

/**
 * Version of the scan report shape (schema/scan-report.schema.json); version 2 adds each file's `times`, version 3
 * the `ignorable` status and lists and the cluster section. Reports of earlier versions keep their own schema
 * (schema/scan-report.v1.schema.json, .v2.schema.json) and still verify.
 */
export const SCAN_REPORT_VERSION = 3;

/** The header's `schema` of a report of the given version. */
export function scanReportSchemaId(version: number = SCAN_REPORT_VERSION): string {
  return `urn:phmatch:schema:scan-report:${version}`;
}

/** First line of a report: what ran, against which lists, for which case. */
export interface ScanHeader {
  type: "header";
  schema: string;
  tool: string;
  version: string;
  startedAt: string;
  case?: string;
  examiner?: string;
  inputs: string[];
  /** How the inputs were walked and how the report writes paths (see {@link ScanWalkHeader}). */
  walk?: ScanWalkHeader;
  algorithms: string[];
  policies: string[];
  lists: {
    listId: string;
    version: number;
    store: string;
    storeSha256: string;
    signedBy?: string;
    provenance?: StoreProvenance[];
  }[];
  /** The overrides files beside the stores (absent when there are none): each could change outcomes. */
  overrides?: { store: string; count: number; release?: number; signedBy?: string; sha256: string }[];
  /**
   * Where the rollback state was kept for this scan: the folder given (`state-dir`), the case's folder beside the
   * report (`case`), or nowhere (`none`: an older list release would not have been noticed).
   */
  rollbackState?: { kind: "state-dir" | "case"; dir: string } | { kind: "none"; note: string };
  /** The `--ignorable` lists read (since version 3; absent when none): a file on one of them is not decoded. */
  ignorable?: ScanIgnorableList[];
  /** With `--cluster` (since version 3): how unseen images are grouped in the cluster section at the end. */
  cluster?: ScanClusterSettings;
}

/** An ignorable list as the header names it: records name it by `name`. */
export interface ScanIgnorableList {
  /** The name records use (the file's base name, made unique within the scan). */
  name: string;
  /** The path it was read from, as given. */
  file: string;
  /** A digest store (`.phd`, from hashset import --format nsrl or ignorable build) or a plain digest list. */
  kind: "store" | "list";
  algorithm: "md5" | "sha1" | "sha256";
  /** Distinct digests it holds. */
  count: number;
  /** SHA-256 of the file's bytes: a distributed scan's workers must read the same bytes. */
  sha256: string;
  /** Where its digests came from (a store's source description). */
  source?: string;
}

/** How a scan with `--cluster` groups its unseen images (the header's statement, checked on resume). */
export interface ScanClusterSettings {
  /** Leader (centre) linkage: every member within the distance of its cluster's centre, so no chaining. */
  linkage: "leader";
  pdqDistance: number;
  minPdqQuality: number;
  phashDistance: number;
}

/** A file named in the cluster section: its line in the report (header = line 1) and its path. */
export interface ScanClusterMember {
  line: number;
  path: string;
  pathBytes?: string;
}

/** One line of the cluster section: a cluster of near-duplicate unseen images, biggest first. */
export interface ScanClusterLine {
  type: "cluster";
  /** 1 for the biggest, then 2, ... */
  id: number;
  size: number;
  algorithm: "pdq" | "phash";
  centre: ScanClusterMember;
  /** Every member, the centre included, in report order. */
  members: ScanClusterMember[];
  /** A known file of this scan is within the clustering distance of a member: likely the same series. */
  touchesKnown: boolean;
  /** Known files within the distance of a member (at most 16). */
  known?: ScanClusterMember[];
}

/**
 * The cluster section's last line: what it holds and the SHA-256 of its cluster lines (each line's bytes and its
 * newline, in order), with a signature over that digest when the scan signs.
 */
export interface ScanClustersSeal {
  type: "clusters";
  linkage: "leader";
  clusters: number;
  /** Images in clusters of two or more. */
  clustered: number;
  /** Images with a usable hash and no near-duplicate. */
  singletons: number;
  /** Unseen images with no usable hash (no PDQ of enough quality, no pHash). */
  unclustered: number;
  sha256: string;
  signedBy?: string;
  signature?: string;
}

/** Where a file's digest was found on an ignorable list (a record of status `ignorable`). */
export interface IgnorableHit {
  /** The header's `ignorable[].name`. */
  list: string;
  algorithm: "md5" | "sha1" | "sha256";
}

/** The header's statement of how the scan walked its inputs and writes paths, so the report says it of itself. */
export interface ScanWalkHeader {
  /** "recorded": each symbolic link is a record with its target, never followed; "followed": each target once. */
  symlinks: "recorded" | "followed";
  /** How a path that is not valid UTF-8 is written (PATH_ESCAPE). */
  paths: string;
  /** What the scan does to access times, and where the report lists those it changed. */
  accessTimes: string;
}

/**
 * One line per entry: a file with its size and hashes (SHA-256 always, for chain of custody) and its match result,
 * or a symbolic link (status `symlink`) with its target, never hashed.
 */
export interface ScanFileRecord {
  type: "file";
  /** The path; when it is not valid UTF-8, escaped as PATH_ESCAPE says (and its bytes in pathBytes). */
  path: string;
  /** The path's exact bytes (base64) when they are not valid UTF-8. */
  pathBytes?: string;
  /**
   * A file: the earlier file with the same bytes (SHA-256), whose hashes and matches are repeated; not decoded
   * again. A symbolic link: the path under which its target (same device and inode) was already reported.
   */
  duplicateOf?: string;
  /** duplicateOf's exact bytes (base64) when they are not valid UTF-8. */
  duplicateOfBytes?: string;
  /** The entry is a symbolic link (followed when its status is not `symlink`): its target as readlink gives it. */
  linkTarget?: string;
  /** linkTarget's exact bytes (base64) when they are not valid UTF-8. */
  linkTargetBytes?: string;
  size?: number;
  hashes?: Record<string, string>;
  quality?: Record<string, number>;
  /**
   * The file was hashed as a video (vPDQ): its duration, frame rate, the seconds per hashed frame and how many frames
   * were hashed (the frame hashes are not repeated here: `phmatch hash` prints them). Its hits carry the segments.
   */
  video?: ScanVideo;
  /**
   * The match status of a file, `symlink` for a link recorded without being followed, or `ignorable` for a file
   * whose digest an `--ignorable` list holds and no list of known material does (not decoded).
   */
  status: MatchResult["status"] | "symlink" | "ignorable";
  /** Status `ignorable`: the lists holding the file's digest (since version 3). */
  ignorable?: IgnorableHit[];
  matches: MatchHit[];
  notes?: string[];
  error?: MatchResult["error"];
  /**
   * The file's modified, changed, accessed and (where the file system keeps it) birth times, read before it was
   * opened (since version 2; absent for a link recorded as such, and for a file that could not be stat-ed).
   */
  times?: FileTimes;
}

/** What a scan report says of a file hashed as a video. */
export interface ScanVideo {
  durationSeconds: number;
  frameRate: number;
  secondsPerHash: number;
  /** Frames hashed (one per `secondsPerHash`; fewer than promised when the video is cut short). */
  frames: number;
}

/** Last line: counts, per list and category, and errors by code. */
export interface ScanSummary {
  type: "summary";
  finishedAt: string;
  files: number;
  bytes: number;
  known: number;
  unseen: number;
  low_quality: number;
  error: number;
  /** Symbolic links recorded without being followed (or not followed again). */
  symlink: number;
  /** Files with the same bytes as an earlier file (reported, not decoded again). */
  duplicates: number;
  /** Files hashed as videos (records with `video`), whatever their status; absent in reports of earlier versions. */
  videos: number;
  /** Files set aside as ignorable (since version 3). */
  ignorable: number;
  /** Ignorable files per ignorable list (a file on two lists counts for both); absent when there were none. */
  ignorableLists?: Record<string, number>;
  /** Known files per list, and per category within it. */
  lists: Record<string, { files: number; categories: Record<string, number> }>;
  errors: Record<string, number>;
  /** What listing directories and reading links did to their access times (the walk's; absent for a manifest). */
  atimes?: AccessTimeReport;
}

/** Accumulates the summary as file records go by. */
export class ScanTally {
  readonly summary: ScanSummary = {
    type: "summary",
    finishedAt: "",
    files: 0,
    bytes: 0,
    known: 0,
    unseen: 0,
    low_quality: 0,
    error: 0,
    symlink: 0,
    duplicates: 0,
    videos: 0,
    ignorable: 0,
    lists: {},
    errors: {},
  };

  add(record: ScanFileRecord): void {
    const s = this.summary;
    s.files++;
    s.bytes += record.size ?? 0;
    s[record.status]++;
    if (record.duplicateOf !== undefined && record.status !== "symlink") s.duplicates++;
    if (record.video !== undefined) s.videos++;
    for (const hit of record.ignorable ?? []) {
      s.ignorableLists ??= {};
      s.ignorableLists[hit.list] = (s.ignorableLists[hit.list] ?? 0) + 1;
    }
    if (record.error !== undefined) s.errors[record.error.code] = (s.errors[record.error.code] ?? 0) + 1;
    const counted = new Set<string>();
    for (const hit of record.matches) {
      if (hit.override !== undefined) continue;
      const list = (s.lists[hit.list] ??= { files: 0, categories: {} });
      if (!counted.has(hit.list)) {
        counted.add(hit.list);
        list.files++;
      }
      const key = `${hit.list}\0${hit.category ?? "(none)"}`;
      if (!counted.has(key)) {
        counted.add(key);
        list.categories[hit.category ?? "(none)"] = (list.categories[hit.category ?? "(none)"] ?? 0) + 1;
      }
    }
  }

  /** The summary, stamped; with what the walk did to access times when it was watched. */
  finish(atimes?: AccessTimeReport): ScanSummary {
    this.summary.finishedAt = new Date().toISOString();
    if (atimes !== undefined) this.summary.atimes = atimes;
    return this.summary;
  }
}

const schemas = new Map<number, object>();

/**
 * JSON Schema of a scan report line (header, file or summary) of the given version (default: the one phmatch
 * writes, `$id` urn:phmatch:schema:scan-report:3). Reports of versions 1 and 2 validate against their own version
 * (version 1's records have no `times`; neither has `ignorable` or a cluster section).
 */
export function scanReportSchema(version: number = SCAN_REPORT_VERSION): object {
  if (!Number.isInteger(version) || version < 1 || version > SCAN_REPORT_VERSION)
    throw new RangeError(`no scan report schema version ${version} (1 to ${SCAN_REPORT_VERSION})`);
  let schema = schemas.get(version);
  if (schema === undefined) {
    // One literal URL per version: the CLI's bundler copies only files it can see named.
    const file =
      version === 1
        ? new URL("../../schema/scan-report.v1.schema.json", import.meta.url)
        : version === 2
          ? new URL("../../schema/scan-report.v2.schema.json", import.meta.url)
          : new URL("../../schema/scan-report.schema.json", import.meta.url);
    schema = JSON.parse(readFileSync(file, "utf8")) as object;
    schemas.set(version, schema);
  }
  return schema;
}

import { createHash, type Hash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import type { Writable } from "node:stream";
import { PhmatchError } from "../errors/index.js";
import { PATH_ESCAPE } from "../files/file-path.js";
import type { MatchHit } from "../match/match-result.js";
import type { FileTimes } from "../pipeline/file-times.js";
import {
  SCAN_REPORT_VERSION,
  type ScanClusterLine,
  type ScanFileRecord,
  type ScanHeader,
  type ScanSummary,
  scanReportSchemaId,
} from "./scan-report.js";

// What each field below stands on (the VICS 2.0 data model's CSDL, and the tools that write and read it) is in
// docs/reports/vics-structure.md: [C] confirmed there, [A] assumed.

/** The OData context of a VICS 2.0 document whose `value` is Media, under a categorisation scheme [C]. */
export function vicsContext(scheme: string): string {
  return `http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/${scheme}/$metadata#Media`;
}

/** The schemes seen in VICS 2.0 context URLs [C]; the scheme says what the numbers in `Category` mean. */
export const VICS_SCHEMES = ["Default", "US", "UK", "CUSTOM"] as const;

/** What {@link exportVics} is asked to do. */
export interface VicsExportOptions {
  /** Only the known files (what `scan --format vics` writes), not every file. */
  knownOnly?: boolean;
  /** The categorisation scheme named in the context URL (default `Default`). */
  scheme?: (typeof VICS_SCHEMES)[number];
  /**
   * The longest line read (default 256 MiB; a JavaScript string holds at most 512 MiB): a longer one is
   * PHM_REPORT_FORMAT, before it is held whole.
   */
  maxLineBytes?: number;
}

/** What {@link exportVics} wrote, counted. */
export interface VicsExportResult {
  /** The report's SHA-256 (as streamed, both passes). */
  sha256: string;
  /** The report's `.sha256` was beside it and matched; false when there was none (nothing to check against). */
  verified: boolean;
  /** Media written, by phmatch status. */
  media: Record<string, number>;
  /** Links recorded as such (status `symlink`): not files, so not Media. */
  links: number;
  /** Files left out by `knownOnly`. */
  skipped: number;
  /** Media given a cluster id from the report's cluster section. */
  clustered: number;
}

/**
 * Exports a finished scan report (schema version 1, 2 or 3) as VICS 2.0 JSON: every file a Media (not only the
 * known ones, unless `knownOnly`) with the hashes VICS defines, its size, path and times, its phmatch status and,
 * from a version 3 report's cluster section, its cluster id. Two streamed passes, never the whole report in memory:
 * the first checks the report (a header, JSON lines, a summary, the cluster section's seal, the `.sha256` beside
 * it when there is one) and keeps each clustered file's line and cluster id (8 bytes a member, and the ids of the
 * clusters that touch a known file); the second writes the Media. A report that is not one, or unfinished, is
 * PHM_REPORT_FORMAT; one that does not match its `.sha256` (or changes between the passes) is PHM_REPORT_ALTERED,
 * and the document is then left without its closing.
 *
 * ```ts
 * await exportVics("case-117.ndjson", createWriteStream("case-117.vics.json"));
 * ```
 */
export async function exportVics(
  report: string,
  out: Writable,
  options: VicsExportOptions = {},
): Promise<VicsExportResult> {
  const scheme = options.scheme ?? "Default";
  if (!VICS_SCHEMES.includes(scheme)) throw new PhmatchError("PHM_USAGE", `unknown VICS scheme ${String(scheme)}`);
  const recorded = recordedChecksum(report);
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const first = await survey(report, maxLineBytes);
  if (recorded !== undefined && recorded !== first.sha256) throw altered(report);

  const result: VicsExportResult = {
    sha256: first.sha256,
    verified: recorded !== undefined,
    media: {},
    links: 0,
    skipped: 0,
    clustered: 0,
  };
  const root =
    `{"@odata.context":${JSON.stringify(vicsContext(scheme))},` +
    `"@phmatch.pathEscape":${JSON.stringify(PATH_ESCAPE)},` +
    `"@phmatch.report":${JSON.stringify({
      file: basename(report),
      schema: first.header.schema,
      sha256: first.sha256,
      verified: result.verified,
    })},"value":[`;
  await write(out, root + "\n");

  const clusters = first.clusters;
  let next = 0; // the next (line, cluster) pair: lines are visited in increasing order
  let mediaId = 0;
  const hash = createHash("sha256");
  await eachLine(report, hash, maxLineBytes, async (line, number) => {
    if (number === 1 || number >= first.fileLinesEnd) return;
    let record: ScanFileRecord | null;
    try {
      record = JSON.parse(line) as ScanFileRecord | null;
    } catch {
      throw altered(report, true);
    }
    if (record === null || typeof record !== "object") throw altered(report, true);
    if (record.type !== "file") return;
    while (next < clusters.count && (clusters.lines[next] as number) < number) next++;
    const cluster = next < clusters.count && clusters.lines[next] === number ? clusters.ids[next] : undefined;
    if (record.status === "symlink") {
      result.links++;
      return;
    }
    if (options.knownOnly === true && record.status !== "known") {
      result.skipped++;
      return;
    }
    if (++mediaId > MAX_MEDIA_ID) {
      throw new PhmatchError("PHM_USAGE", `${report} holds more files than VICS numbers (MediaID is 32-bit)`);
    }
    const status = vicsStatus(record);
    result.media[status] = (result.media[status] ?? 0) + 1;
    if (cluster !== undefined) result.clustered++;
    const media = vicsMedia(record, mediaId, cluster, cluster !== undefined && clusters.nearKnown.has(cluster));
    await write(out, (mediaId > 1 ? "," : "") + JSON.stringify(media) + "\n");
  });
  // The same bytes as the first pass, or the Media written may not be the ones checked: the closing is withheld,
  // so what was written does not parse.
  if (hash.digest("hex") !== first.sha256) throw altered(report, true);
  await write(out, "]}\n");
  return result;
}

/** A Media's phmatch status: the record's, or `duplicate` for a copy of an earlier file (its `duplicateOf`). */
export function vicsStatus(record: ScanFileRecord): string {
  return record.duplicateOf !== undefined ? "duplicate" : record.status;
}

const MAX_MEDIA_ID = 2 ** 31 - 1; // MediaID is Edm.Int32 [C]
const DEFAULT_MAX_LINE_BYTES = 256 * 1024 * 1024;

/**
 * One file as a VICS 2.0 Media [C: every property named here is in the data model, except the `@phmatch.*`
 * annotations, which OData readers skip]. `nearKnown`: the file's cluster touches a known file (the section's
 * `touchesKnown`: likely the same series). MD5 and SHA1 as Media properties, SHA-256 as an alternative hash [A: the
 * name `SHA256`]; Category only for a known file whose matched entry's category is a number that fits Edm.Byte
 * [C]; the status, lists and cluster in Tags [A: a comma-separated string] and in annotations; the file as its one
 * MediaFile with the times under the names VICS gives them, and all four exactly in `@phmatch.times`.
 */
export function vicsMedia(
  record: ScanFileRecord,
  mediaId: number,
  cluster?: number,
  nearKnown = false,
): Record<string, unknown> {
  const hits = record.matches.filter((m) => m.override === undefined);
  const category = record.status === "known" ? numericCategory(hits) : undefined;
  const md5 = record.hashes?.md5?.toUpperCase();
  const status = vicsStatus(record);
  const tags = [
    `phmatch:status:${status}`,
    ...hits.map(
      (m) => `phmatch:${tag(m.list)}@${m.listVersion}${m.category !== undefined ? `:${tag(m.category)}` : ""}`,
    ),
    ...(record.ignorable ?? []).map((hit) => `phmatch:ignorable:${tag(hit.list)}`),
    ...(cluster !== undefined ? [`phmatch:cluster:${cluster}`] : []),
    ...(nearKnown ? ["phmatch:cluster-near-known"] : []),
  ];
  const file: Record<string, unknown> = {
    ...(md5 !== undefined && { MD5: md5 }),
    MediaFileID: 1,
    FileName: basename(record.path),
    FilePath: folderOf(record.path),
    ...(record.times !== undefined && vicsTimes(record.times)),
    ...(record.times !== undefined && { "@phmatch.times": record.times }),
  };
  const sha256 = record.hashes?.sha256;
  return {
    ...(md5 !== undefined && { MD5: md5 }),
    MediaID: mediaId,
    ...(category !== undefined && { Category: category }),
    ...(record.hashes?.sha1 !== undefined && { SHA1: record.hashes.sha1.toUpperCase() }),
    Tags: [...new Set(tags)].join(","),
    ...(record.size !== undefined && { MediaSize: record.size }),
    RelativeFilePath: record.path,
    ...(record.pathBytes !== undefined && { "RelativeFilePath@phmatch.pathBytes": record.pathBytes }),
    IsPrecategorized: category !== undefined,
    ...(category !== undefined && { PrecategorizationSource: precategorisedBy(hits, category) }),
    ...(sha256 !== undefined && {
      AlternativeHashes: [{ ...(md5 !== undefined && { MD5: md5 }), HashName: "SHA256", HashValue: sha256 }],
    }),
    MediaFiles: [file],
    "@phmatch.status": status,
    ...(cluster !== undefined && { "@phmatch.cluster": cluster }),
    ...(nearKnown && { "@phmatch.clusterNearKnown": true }),
    ...(record.duplicateOf !== undefined && { "@phmatch.duplicateOf": record.duplicateOf }),
    ...(record.duplicateOfBytes !== undefined && { "@phmatch.duplicateOfBytes": record.duplicateOfBytes }),
    ...(record.error !== undefined && { "@phmatch.error": record.error.code }),
  };
}

// Tags is one string of comma-separated tags [A]: a comma in a list's name or category is written %2C (and % as
// %25), so splitting at commas gives the tags back.
function tag(text: string): string {
  return text.replace(/%/g, "%25").replace(/,/g, "%2C");
}

// VICS's Category is Edm.Byte; its meaning depends on the scheme, and 0 is "uncategorised" in some readers and
// "not pertinent" in others, so a file no list categorised has no Category at all rather than 0.
function numericCategory(hits: MatchHit[]): number | undefined {
  for (const hit of hits) {
    if (hit.category !== undefined && /^\d{1,3}$/.test(hit.category) && Number(hit.category) <= 255)
      return Number(hit.category);
  }
  return undefined;
}

function precategorisedBy(hits: MatchHit[], category: number): string {
  const from = hits.filter((h) => h.category !== undefined && Number(h.category) === category);
  return [...new Set(from.map((h) => `phmatch:${tag(h.list)}@${h.listVersion}`))].join(",");
}

// MediaFile's times are Edm.DateTimeOffset [C]: Created is the birth time, Written the modified time, Accessed the
// access time [C: as the writers read them]; the inode change time has no VICS name. Seven fractional digits, the
// precision of .NET's DateTimeOffset that Griffeye reads them with [A], cut (not rounded) so a time never moves
// past the one the file system gave.
function vicsTimes(times: FileTimes): Record<string, string> {
  return {
    ...(times.born !== undefined && { Created: ticks(times.born) }),
    Written: ticks(times.modified),
    Accessed: ticks(times.accessed),
  };
}

function ticks(iso: string): string {
  return iso.replace(/^(.*\.\d{7})\d*Z$/, "$1Z");
}

function folderOf(path: string): string {
  const folder = dirname(path);
  return folder.endsWith("/") ? folder : `${folder}/`;
}

/** The `.sha256` beside a report, or undefined when there is none. */
function recordedChecksum(report: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(`${report}.sha256`, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new PhmatchError("PHM_REPORT_ALTERED", `${report}.sha256 cannot be read: ${(error as Error).message}`);
  }
  const digest = text.trim().split(/\s+/)[0] ?? "";
  if (!/^[0-9a-f]{64}$/.test(digest)) {
    throw new PhmatchError("PHM_REPORT_ALTERED", `${report}.sha256 holds no SHA-256: it was altered or damaged`);
  }
  return digest;
}

function altered(report: string, changed = false): PhmatchError {
  return new PhmatchError(
    "PHM_REPORT_ALTERED",
    changed
      ? `${report} changed while it was being exported: the export was left unfinished`
      : `${report} does not match ${basename(report)}.sha256: the report was altered or damaged`,
  );
}

/** Clustered files by report line, sorted by line: two parallel typed arrays, 8 bytes a member. */
interface ClusterIndex {
  lines: Uint32Array;
  ids: Uint32Array;
  count: number;
  /** Ids of the clusters the section says touch a known file (likely the same series). */
  nearKnown: Set<number>;
}

interface Survey {
  header: ScanHeader;
  sha256: string;
  /** The first line after the file records (the cluster section's or the summary's). */
  fileLinesEnd: number;
  clusters: ClusterIndex;
}

const SCHEMAS = new Set(Array.from({ length: SCAN_REPORT_VERSION }, (_, i) => scanReportSchemaId(i + 1)));

// The first pass: the report's shape, its SHA-256 and its cluster section.
async function survey(report: string, maxLineBytes: number): Promise<Survey> {
  const bad = (why: string) =>
    new PhmatchError("PHM_REPORT_FORMAT", `${report} is not a finished phmatch scan report: ${why}`);
  let header: ScanHeader | undefined;
  let summary: ScanSummary | undefined;
  let fileLinesEnd: number | undefined;
  let sealed = false;
  const sectionHash = createHash("sha256");
  let pairs: ClusterIndex = {
    lines: new Uint32Array(1024),
    ids: new Uint32Array(1024),
    count: 0,
    nearKnown: new Set(),
  };
  const hash = createHash("sha256");
  const { torn } = await eachLine(report, hash, maxLineBytes, (line, number) => {
    let parsed: { type?: unknown };
    try {
      parsed = JSON.parse(line) as { type?: unknown };
    } catch {
      throw bad(`line ${number} is not JSON (only NDJSON reports can be exported)`);
    }
    if (parsed === null || typeof parsed !== "object") throw bad(`line ${number} is not a JSON object`);
    if (number === 1) {
      const h = parsed as ScanHeader;
      if (h.type !== "header") throw bad("its first line is not a scan report header");
      if (!SCHEMAS.has(h.schema)) throw bad(`its schema ${String(h.schema)} is not one this phmatch reads`);
      header = h;
      return;
    }
    if (summary !== undefined) throw bad(`line ${number} follows the summary`);
    switch (parsed.type) {
      case "file":
        if (fileLinesEnd !== undefined) throw bad(`line ${number} is a file after the cluster section`);
        return;
      case "cluster": {
        if (sealed) throw bad(`line ${number} is a cluster after the section's seal`);
        fileLinesEnd ??= number;
        sectionHash.update(`${line}\n`);
        pairs = addMembers(pairs, parsed as ScanClusterLine, fileLinesEnd, number, bad);
        return;
      }
      case "clusters": {
        if (sealed) throw bad(`line ${number} is a second seal of the cluster section`);
        fileLinesEnd ??= number;
        sealed = true;
        const seal = parsed as { sha256?: unknown };
        if (seal.sha256 !== sectionHash.digest("hex")) {
          throw new PhmatchError(
            "PHM_REPORT_ALTERED",
            `${report}: the cluster section does not match its seal (line ${number}): it was altered or damaged`,
          );
        }
        return;
      }
      case "summary":
        fileLinesEnd ??= number;
        summary = parsed as ScanSummary;
        return;
      default:
        throw bad(`line ${number} is of no type a scan report has`);
    }
  });
  if (torn) throw bad("its last line is cut short: the scan was interrupted while writing it");
  if (header === undefined) throw bad("it is empty");
  if (summary === undefined) {
    throw bad("it has no summary: the scan was interrupted (finish it first: resume the scan or the collector)");
  }
  if (fileLinesEnd !== undefined && pairs.count > 0 && !sealed) throw bad("its cluster section has no seal");
  return {
    header,
    sha256: hash.digest("hex"),
    fileLinesEnd: fileLinesEnd ?? Number.MAX_SAFE_INTEGER,
    clusters: sortByLine(pairs),
  };
}

function addMembers(
  pairs: ClusterIndex,
  cluster: ScanClusterLine,
  fileLinesEnd: number,
  number: number,
  bad: (why: string) => PhmatchError,
): ClusterIndex {
  if (!Number.isInteger(cluster.id) || cluster.id < 1 || cluster.id > 0xffffffff || !Array.isArray(cluster.members))
    throw bad(`line ${number} is not a cluster line`);
  if (cluster.touchesKnown === true) pairs.nearKnown.add(cluster.id);
  let { lines, ids, count } = pairs;
  for (const member of cluster.members) {
    const at = (member as { line?: unknown } | null)?.line;
    // A member is a file line of this report: after the header, before the cluster section.
    if (typeof at !== "number" || !Number.isInteger(at) || at < 2 || at >= fileLinesEnd)
      throw bad(`line ${number} names a member that is not a file line of the report`);
    if (count === lines.length) {
      const grownLines = new Uint32Array(lines.length * 2);
      grownLines.set(lines);
      const grownIds = new Uint32Array(ids.length * 2);
      grownIds.set(ids);
      lines = grownLines;
      ids = grownIds;
    }
    lines[count] = at;
    ids[count] = cluster.id;
    count++;
  }
  return { lines, ids, count, nearKnown: pairs.nearKnown };
}

function sortByLine(pairs: ClusterIndex): ClusterIndex {
  const order = new Uint32Array(pairs.count);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => (pairs.lines[a] as number) - (pairs.lines[b] as number));
  const lines = new Uint32Array(pairs.count);
  const ids = new Uint32Array(pairs.count);
  for (const [i, from] of order.entries()) {
    lines[i] = pairs.lines[from] as number;
    ids[i] = pairs.ids[from] as number;
  }
  return { lines, ids, count: pairs.count, nearKnown: pairs.nearKnown };
}

/**
 * Streams a file's lines (numbered from 1, split at each newline byte only, as the report is written) to `each`,
 * and every byte into `hash`. `torn` when the file does not end with a newline: its last line was cut (the writer
 * stopped mid-line), and is not handed on. One line at a time is held, never the file.
 */
async function eachLine(
  file: string,
  hash: Hash,
  maxLineBytes: number,
  each: (line: string, number: number) => void | Promise<void>,
): Promise<{ torn: boolean }> {
  const stream = createReadStream(file);
  let pending: Buffer[] = [];
  let held = 0;
  let number = 0;
  const hold = (part: Buffer) => {
    held += part.length;
    if (held > maxLineBytes) {
      throw new PhmatchError(
        "PHM_REPORT_FORMAT",
        `${file}: line ${number + 1} is longer than ${maxLineBytes} bytes: not a line phmatch writes`,
      );
    }
    pending.push(part);
  };
  try {
    for await (const chunk of stream) {
      const bytes = chunk as Buffer;
      hash.update(bytes);
      let from = 0;
      for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, from)) {
        hold(bytes.subarray(from, at));
        const line = Buffer.concat(pending).toString("utf8");
        pending = [];
        held = 0;
        from = at + 1;
        await each(line, ++number);
      }
      if (from < bytes.length) hold(bytes.subarray(from));
    }
  } catch (error) {
    stream.destroy();
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      throw new PhmatchError("PHM_FILE_NOT_FOUND", `${file}: no such report`, { path: file, cause: error });
    throw error;
  }
  return { torn: pending.some((part) => part.length > 0) };
}

async function write(out: Writable, text: string): Promise<void> {
  // A stream that failed emits no drain: its error is thrown here instead of waiting for ever.
  if (out.errored !== null && out.errored !== undefined) throw out.errored;
  if (!out.write(text)) await once(out, "drain");
}

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { PhmatchError } from "../errors/index.js";
import { signStore } from "../hashset/signature.js";
import type { HammingIndex, IndexKind } from "../index/hamming-index.js";
import { buildIndex, chooseIndexKind } from "../index/index.js";
import type {
  ScanClusterLine,
  ScanClusterMember,
  ScanClusterSettings,
  ScanClustersSeal,
  ScanFileRecord,
} from "../report/scan-report.js";
import {
  CLUSTER_MIN_PDQ_QUALITY,
  CLUSTER_PDQ_DISTANCE,
  CLUSTER_PHASH_DISTANCE,
  type Cluster,
  clusterPacked,
  NO_PDQ,
} from "./cluster.js";

/** The settings a scan with `--cluster` states in its header when none are given: the match thresholds. */
export function defaultClusterSettings(): ScanClusterSettings {
  return {
    linkage: "leader",
    pdqDistance: CLUSTER_PDQ_DISTANCE,
    minPdqQuality: CLUSTER_MIN_PDQ_QUALITY,
    phashDistance: CLUSTER_PHASH_DISTANCE,
  };
}

/** Known files named on a cluster line, at most (the first in report order). */
export const CLUSTER_KNOWN_LISTED = 16;

/**
 * Bytes the collector keeps per image it may group or compare (unseen, low-quality and known files): PDQ 32, its
 * quality 1, pHash 8, pHash present 1, report line 4. No object and no path per image: paths are read back from
 * the report for the clustered files only, when the section is written. Columns grow by doubling, so up to twice
 * this while they grow.
 */
export const CLUSTER_BYTES_PER_IMAGE = 46;

/** What {@link ClusterCollector.finish} produces: the cluster lines, biggest first, and the section's seal. */
export interface ClusterSection {
  lines: ScanClusterLine[];
  seal: ScanClustersSeal;
}

/** Options of {@link ClusterCollector.finish}. */
export interface ClusterFinishOptions {
  /** The header's cluster settings. */
  settings: ScanClusterSettings;
  /** The report the records were written to (NDJSON, flushed): the members' paths are read back from it. */
  report: string;
  /** Ed25519 private key (PEM): the seal then carries a signature over the section's SHA-256. */
  signingKeyPem?: string;
  /** Forces the Hamming index (tests, benchmarks). */
  index?: IndexKind;
}

const PDQ_BYTES = 32;
const PHASH_BYTES = 8;
const PDQ_HEX = /^[0-9a-f]{64}$/;
const PHASH_HEX = /^[0-9a-f]{16}$/;

// Hashes in columns, one row per image, grown by doubling: PDQ, its quality (NO_PDQ: none), pHash, whether there is
// one, and the record's line in the report.
class HashColumns {
  count = 0;
  pdq = new Uint8Array(0);
  quality = new Uint8Array(0);
  phash = new Uint8Array(0);
  hasPhash = new Uint8Array(0);
  line = new Uint32Array(0);

  push(pdq: string | undefined, quality: number, phash: string | undefined, line: number): void {
    if (this.count === this.line.length) this.#grow(Math.max(1024, this.count * 2));
    const row = this.count++;
    if (pdq !== undefined) {
      Buffer.from(this.pdq.buffer, this.pdq.byteOffset + row * PDQ_BYTES, PDQ_BYTES).write(pdq, "hex");
      this.quality[row] = quality;
    } else this.quality[row] = NO_PDQ;
    if (phash !== undefined) {
      Buffer.from(this.phash.buffer, this.phash.byteOffset + row * PHASH_BYTES, PHASH_BYTES).write(phash, "hex");
      this.hasPhash[row] = 1;
    }
    this.line[row] = line;
  }

  get bytes(): number {
    return (
      this.pdq.byteLength +
      this.quality.byteLength +
      this.phash.byteLength +
      this.hasPhash.byteLength +
      this.line.byteLength
    );
  }

  pdqHex(row: number): string {
    return Buffer.from(this.pdq.buffer, this.pdq.byteOffset + row * PDQ_BYTES, PDQ_BYTES).toString("hex");
  }

  phashHex(row: number): string {
    return Buffer.from(this.phash.buffer, this.phash.byteOffset + row * PHASH_BYTES, PHASH_BYTES).toString("hex");
  }

  #grow(capacity: number): void {
    const grown = <T extends Uint8Array | Uint32Array>(old: T, make: (n: number) => T, width: number): T => {
      const next = make(capacity * width);
      next.set(old);
      return next;
    };
    this.pdq = grown(this.pdq, (n) => new Uint8Array(n), PDQ_BYTES);
    this.quality = grown(this.quality, (n) => new Uint8Array(n), 1);
    this.phash = grown(this.phash, (n) => new Uint8Array(n), PHASH_BYTES);
    this.hasPhash = grown(this.hasPhash, (n) => new Uint8Array(n), 1);
    this.line = grown(this.line, (n) => new Uint32Array(n), 1);
  }
}

/**
 * Gathers, record by record as a scan writes them, what `--cluster` needs to group the unseen images at the end: the
 * hashes of each unseen or low-quality file that is not a copy of an earlier one, and of each known file (a cluster
 * near a known file is likely the same series), in columns ({@link CLUSTER_BYTES_PER_IMAGE} bytes an image).
 * Records of other statuses, copies (`duplicateOf`), videos and errors are not kept. The same records in the same
 * order give the same section, whether they come from a local scan, a resumed report or the distributed collector.
 *
 * ```ts
 * const clusters = new ClusterCollector();
 * for (...) { await writer.record(record); clusters.add(record, ++lines); }
 * await flushed(out);
 * const { lines, seal } = await clusters.finish({ settings: header.cluster, report });
 * await writer.clusters(lines, seal);
 * ```
 */
export class ClusterCollector {
  readonly #unseen = new HashColumns();
  readonly #known = new HashColumns();
  // Unseen images with no hash at all (no PDQ, no pHash): counted, never grouped.
  #hashless = 0;
  #lastLine = 1;

  /** Images kept to be grouped (unseen and low-quality) and known files kept to be compared with them. */
  get size(): { unseen: number; known: number } {
    return { unseen: this.#unseen.count, known: this.#known.count };
  }

  /** Bytes the columns hold (their capacity, which grows by doubling): what the collector costs while a scan runs. */
  get bytes(): number {
    return this.#unseen.bytes + this.#known.bytes;
  }

  /**
   * One record as written, with its line in the report (the header is line 1); lines must increase. A record of a
   * resumed report counts as it was written (hashes that are not well-formed are not used, never trusted).
   */
  add(record: ScanFileRecord, line: number): void {
    if (!Number.isInteger(line) || line <= this.#lastLine || line > 0xffffffff) {
      throw new PhmatchError(
        "PHM_INTERNAL",
        `cluster: report line ${line} comes after line ${this.#lastLine}: records must be added in report order`,
      );
    }
    this.#lastLine = line;
    if (record.type !== "file" || record.duplicateOf !== undefined || record.error !== undefined) return;
    if (record.video !== undefined) return; // a video's frames are not an image
    const columns =
      record.status === "unseen" || record.status === "low_quality"
        ? this.#unseen
        : record.status === "known"
          ? this.#known
          : undefined;
    if (columns === undefined) return;
    const pdq = record.hashes?.pdq;
    const quality = record.quality?.pdq;
    const phash = record.hashes?.phash;
    const usablePdq =
      typeof pdq === "string" &&
      PDQ_HEX.test(pdq) &&
      typeof quality === "number" &&
      Number.isInteger(quality) &&
      quality >= 0 &&
      quality <= 100;
    const usablePhash = typeof phash === "string" && PHASH_HEX.test(phash);
    if (!usablePdq && !usablePhash) {
      if (columns === this.#unseen) this.#hashless++;
      return;
    }
    columns.push(usablePdq ? pdq : undefined, usablePdq ? quality : NO_PDQ, usablePhash ? phash : undefined, line);
  }

  /**
   * Groups the images kept (clusterPacked with the header's settings), finds the known files within the distance
   * of each cluster's members (one index over the larger side, searched from the smaller: near-linear), reads the
   * paths of the files named back from the report in one streamed pass, and seals the section: the SHA-256 of its
   * lines (each with its newline), signed with `signingKeyPem`.
   */
  async finish(options: ClusterFinishOptions): Promise<ClusterSection> {
    const { settings } = options;
    if (settings.linkage !== "leader")
      throw new PhmatchError("PHM_USAGE", `cluster: unknown linkage ${JSON.stringify(settings.linkage)}`);
    const u = this.#unseen;
    const clustering = clusterPacked(
      {
        count: u.count,
        pdq: u.pdq.subarray(0, u.count * PDQ_BYTES),
        pdqQuality: u.quality.subarray(0, u.count),
        phash: u.phash.subarray(0, u.count * PHASH_BYTES),
        hasPhash: u.hasPhash.subarray(0, u.count),
      },
      {
        pdqDistance: settings.pdqDistance,
        minPdqQuality: settings.minPdqQuality,
        phashDistance: settings.phashDistance,
        ...(options.index !== undefined && { index: options.index }),
      },
    );
    const known = this.#knownNear(clustering.clusters, settings, options.index);

    // Every line the section names, read back from the report in one pass.
    const wanted = new Map<number, { row: number; columns: HashColumns; algorithm: Cluster["algorithm"] }>();
    clustering.clusters.forEach((cluster, c) => {
      for (const row of cluster.members)
        wanted.set(u.line[row] as number, { row, columns: u, algorithm: cluster.algorithm });
      for (const row of known[c] ?? [])
        wanted.set(this.#known.line[row] as number, { row, columns: this.#known, algorithm: cluster.algorithm });
    });
    const named = await readMembers(options.report, wanted);

    const member = (columns: HashColumns, row: number) => named.get(columns.line[row] as number) as ScanClusterMember;
    const lines: ScanClusterLine[] = clustering.clusters.map((cluster, c) => {
      const near = known[c] ?? [];
      const line: ScanClusterLine = {
        type: "cluster",
        id: cluster.id,
        size: cluster.size,
        algorithm: cluster.algorithm,
        centre: member(u, cluster.centre),
        members: cluster.members.map((row) => member(u, row)),
        touchesKnown: near.length > 0,
      };
      if (near.length > 0) line.known = near.map((row) => member(this.#known, row));
      return line;
    });
    const sha256 = clusterSectionSha256(lines);
    const seal: ScanClustersSeal = {
      type: "clusters",
      linkage: "leader",
      clusters: lines.length,
      clustered: lines.reduce((n, l) => n + l.size, 0),
      singletons: clustering.singletons,
      unclustered: clustering.unclustered + this.#hashless,
      sha256,
    };
    if (options.signingKeyPem !== undefined) {
      const sig = JSON.parse(signStore(Buffer.from(sha256, "hex"), options.signingKeyPem)) as {
        keyId: string;
        signature: string;
      };
      seal.signedBy = sig.keyId;
      seal.signature = sig.signature;
    }
    return { lines, seal };
  }

  // Per cluster, the rows of the known files within its distance of a member: at most CLUSTER_KNOWN_LISTED, the
  // first in report order. A known file is compared by the cluster's algorithm: PDQ when its quality reaches the
  // floor (a low-quality PDQ is noise), pHash when it has one.
  #knownNear(clusters: Cluster[], settings: ScanClusterSettings, kind: IndexKind | undefined): number[][] {
    const near: Set<number>[] = clusters.map(() => new Set<number>());
    const k = this.#known;
    const u = this.#unseen;
    for (const algorithm of ["pdq", "phash"] as const) {
      const bytes = algorithm === "pdq" ? PDQ_BYTES : PHASH_BYTES;
      const distance = algorithm === "pdq" ? settings.pdqDistance : settings.phashDistance;
      const memberRows: number[] = [];
      const memberCluster: number[] = [];
      clusters.forEach((cluster, c) => {
        if (cluster.algorithm !== algorithm) return;
        for (const row of cluster.members) {
          memberRows.push(row);
          memberCluster.push(c);
        }
      });
      const knownRows: number[] = [];
      for (let row = 0; row < k.count; row++) {
        const q = k.quality[row] as number;
        const usable = algorithm === "pdq" ? q !== NO_PDQ && q >= settings.minPdqQuality : k.hasPhash[row] === 1;
        if (usable) knownRows.push(row);
      }
      if (memberRows.length === 0 || knownRows.length === 0) continue;
      const column = (columns: HashColumns) => (algorithm === "pdq" ? columns.pdq : columns.phash);
      const packed = (columns: HashColumns, rows: number[]) => {
        const values = new Uint8Array(rows.length * bytes);
        const from = column(columns);
        rows.forEach((row, i) => {
          values.set(from.subarray(row * bytes, (row + 1) * bytes), i * bytes);
        });
        return { values, bytesPerValue: bytes, count: rows.length };
      };
      const members = packed(u, memberRows);
      const knowns = packed(k, knownRows);
      // Index the larger side and search from the smaller: searches are what cost.
      const indexKnown = knownRows.length >= memberRows.length;
      const indexed = indexKnown ? knowns : members;
      const queries = indexKnown ? members : knowns;
      const index: HammingIndex = buildIndex(kind ?? chooseIndexKind(indexed, distance, true), indexed, distance);
      for (let q = 0; q < queries.count; q++) {
        const query = queries.values.subarray(q * bytes, (q + 1) * bytes);
        for (const hit of index.search(query, distance)) {
          const [m, kn] = indexKnown ? [q, hit.index] : [hit.index, q];
          near[memberCluster[m] as number]?.add(knownRows[kn] as number);
        }
      }
    }
    // Rows are in report order, so the smallest rows are the first known files in the report.
    return near.map((rows) => [...rows].sort((a, b) => a - b).slice(0, CLUSTER_KNOWN_LISTED));
  }
}

/** SHA-256 (hex) of a cluster section's lines as the report holds them: each line's JSON and its newline, in order. */
export function clusterSectionSha256(lines: readonly ScanClusterLine[]): string {
  const hash = createHash("sha256");
  for (const line of lines) hash.update(`${JSON.stringify(line)}\n`);
  return hash.digest("hex");
}

// The path (and path bytes) of each wanted line of the report, read in one streamed pass; each line must still be
// the file record whose hash was kept (the report is the scan's own, being written: anything else means it was
// changed under the scan, and the section would name the wrong files).
async function readMembers(
  report: string,
  wanted: Map<number, { row: number; columns: HashColumns; algorithm: Cluster["algorithm"] }>,
): Promise<Map<number, ScanClusterMember>> {
  const named = new Map<number, ScanClusterMember>();
  if (wanted.size === 0) return named;
  const lines = Uint32Array.from(wanted.keys()).sort();
  let next = 0; // index in `lines` of the next line wanted
  let line = 1; // line number of the bytes being read
  let pieces: Buffer[] = [];
  const take = (text: string, at: number) => {
    const { row, columns, algorithm } = wanted.get(at) as { row: number; columns: HashColumns; algorithm: string };
    let record: ScanFileRecord | undefined;
    try {
      record = JSON.parse(text) as ScanFileRecord;
    } catch {
      record = undefined;
    }
    const expected = algorithm === "pdq" ? columns.pdqHex(row) : columns.phashHex(row);
    if (
      record?.type !== "file" ||
      typeof record.path !== "string" ||
      record.hashes?.[algorithm] !== expected ||
      (record.pathBytes !== undefined && typeof record.pathBytes !== "string")
    ) {
      throw new PhmatchError(
        "PHM_REPORT_ALTERED",
        `${report} line ${at} is not the file record the scan kept for its clusters: the report was changed while ` +
          "the scan wrote it; start a new report",
      );
    }
    named.set(at, {
      line: at,
      path: record.path,
      ...(record.pathBytes !== undefined && { pathBytes: record.pathBytes }),
    });
  };
  for await (const chunk of createReadStream(report, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    while (next < lines.length) {
      const end = chunk.indexOf(10, start);
      const target = lines[next] as number;
      if (end < 0) {
        if (line === target) pieces.push(chunk.subarray(start));
        break;
      }
      if (line === target) {
        pieces.push(chunk.subarray(start, end));
        take(Buffer.concat(pieces).toString("utf8"), line);
        pieces = [];
        next++;
      }
      line++;
      start = end + 1;
    }
    if (next >= lines.length) break;
  }
  if (next < lines.length) {
    throw new PhmatchError(
      "PHM_REPORT_ALTERED",
      `${report} ends before line ${lines[next]}, which the scan wrote: the report was cut while the scan wrote it`,
    );
  }
  return named;
}

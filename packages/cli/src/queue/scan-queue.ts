import { createHash } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { FilePath, ScanFileRecord, ScanHeader, WalkEntry } from "@phmatch/core";
import { reportPathFields, symlinkRecord, type VideoLimits } from "@phmatch/core/internal";
import { type JobsOptions, Queue } from "bullmq";
import type { Redis } from "ioredis";
import { CliError } from "../errors.js";
import { redisOptions } from "./connection.js";
import type { ListRelease, QueueAddress } from "./names.js";

/**
 * The model a distributed scan shares between its coordinator, workers and collector, all in one Redis database:
 *
 * - `phmatch:<scan>:meta` (hash): `plan` (what to compute, against which list releases, and the report header),
 *   `enqueued` (batches added so far), `total` (files, set once the walk is over), `state`.
 * - BullMQ queue `phmatch-<scan>`: jobs are batches of {seq, path, size}; the job id is derived from the paths
 *   and sizes, so a coordinator that restarts adds no second copy of a batch still queued. Never file bytes.
 * - `phmatch:<scan>:results` (stream): one entry per finished batch, its file records with their walk positions;
 *   a batch re-run after a worker died adds them again, and the collector keeps the first of each position.
 * - `phmatch:<scan>:done` (bitmap): bit `seq` set once that file's record is in the stream; BITCOUNT is progress.
 * - `phmatch:<scan>:dead` (hash seq -> JSON): the dead-letter list, files whose single-file job failed every
 *   attempt; each is also reported, once, as an error record with PHM_QUEUE_DEAD_LETTER.
 * - `phmatch:<scan>:stats` (hash): batches restarted after a stall or error, batches split, dead letters.
 */
/**
 * An entry as queued: its position in the walk, its path (escaped, and its bytes in base64, when not UTF-8) and its
 * size then; a file reached through a followed link also has the link's target (base64 of its bytes), and a link
 * recorded as such comes as its finished record (built by the coordinator as a local scan builds it: no hashing).
 */
export interface QueuedFile {
  seq: number;
  path: string;
  pathBytes?: string;
  size: number;
  linkTarget?: string;
  record?: ScanFileRecord;
}

/** The data of one job. */
export interface BatchData {
  files: QueuedFile[];
}

/** How a distributed scan's workers hash videos: the coordinator's limits and frame rate of hashing. */
export type PlanVideo = VideoLimits & { secondsPerHash: number };

/** What every worker computes, written once by the coordinator. */
export interface ScanPlan {
  header: ScanHeader;
  lists: ListRelease[];
  /**
   * `video`: the scan's video limits and frame rate of hashing (each worker finds its own FFmpeg); absent in plans of
   * earlier versions, whose workers answer a video PHM_DECODE_UNSUPPORTED as their scan did.
   */
  hash: { algorithms: string[]; trim: boolean; rotations: boolean; parts: boolean; video?: PlanVideo };
  batchSize: number;
}

/** Redis keys of a scan. */
export function scanKeys(scan: string): {
  meta: string;
  results: string;
  done: string;
  dead: string;
  stats: string;
  sweep: string;
} {
  const base = `phmatch:${scan}`;
  return {
    meta: `${base}:meta`,
    results: `${base}:results`,
    done: `${base}:done`,
    dead: `${base}:dead`,
    stats: `${base}:stats`,
    sweep: `${base}:sweep`,
  };
}

/** The BullMQ queue of a scan. */
export function openQueue(address: QueueAddress, scan: string): Queue<BatchData> {
  return new Queue<BatchData>(`phmatch-${scan}`, { connection: redisOptions(address, `phmatch-${scan}-queue`) });
}

/** Retries with backoff for a batch that errs; a stalled batch (its worker died) is moved back by BullMQ. */
export const JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: true,
  removeOnFail: false,
};

/** Stalls (worker died with the batch) a job may have before it counts as failed and is split or dead-lettered. */
export const MAX_STALLED = 2;

/** "id v3 (sha256 1a2b3c4d...), ..." for messages. */
export function describeReleases(lists: ListRelease[]): string {
  return lists.map((l) => `${l.listId} v${l.version} (${l.storeSha256.slice(0, 12)})`).join(", ") || "(none)";
}

/** True when two sets of releases are the same lists, versions and store files. */
export function sameReleases(a: ListRelease[], b: ListRelease[]): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A queued entry from a walked one (or a manifest's path). */
export function queuedFile(seq: number, entry: WalkEntry | FilePath, size: number): QueuedFile {
  const walked: WalkEntry =
    typeof entry === "string" || entry instanceof Uint8Array ? { kind: "file", path: entry } : entry;
  const file: QueuedFile = { seq, ...reportPathFields(walked.path), size };
  if (walked.kind === "symlink") file.record = symlinkRecord(walked);
  else if (walked.linkTarget !== undefined) file.linkTarget = Buffer.from(walked.linkTarget).toString("base64");
  return file;
}

/** The path to open for a queued file (its exact bytes when it has them). */
export function queuedPath(file: QueuedFile): FilePath {
  return file.pathBytes !== undefined ? Buffer.from(file.pathBytes, "base64") : file.path;
}

/** The job id of a batch: from its files' paths and sizes (and the scan), so the same batch is never queued twice. */
export function batchJobId(scan: string, files: QueuedFile[]): string {
  const hash = createHash("sha256").update(scan).update("\0");
  for (const f of files) hash.update(`${f.pathBytes ?? Buffer.from(f.path).toString("base64")}\0${f.size}\n`);
  return `${files.length === 1 ? "f" : "b"}${hash.digest("hex").slice(0, 40)}`;
}

/** Reads a scan's plan, or undefined when no scan of that name exists in the database. */
export async function readPlan(redis: Redis, scan: string): Promise<ScanPlan | undefined> {
  const text = await redis.hget(scanKeys(scan).meta, "plan");
  return text === null ? undefined : (JSON.parse(text) as ScanPlan);
}

/**
 * The plan of a scan, waiting for it to appear: workers and the collector may start before the coordinator.
 * Gives up with PHM_QUEUE_UNAVAILABLE after `waitMs`, if given.
 */
export async function waitForPlan(
  redis: Redis,
  address: QueueAddress,
  scan: string,
  who: string,
  waitMs?: number,
): Promise<ScanPlan> {
  const started = Date.now();
  let said = false;
  for (;;) {
    const plan = await readPlan(redis, scan);
    if (plan !== undefined) return plan;
    if (waitMs !== undefined && Date.now() - started > waitMs) {
      throw new CliError(
        "PHM_QUEUE_UNAVAILABLE",
        `no scan ${scan} on ${address.display} after ${waitMs} ms: start it with phmatch scan ... --queue ` +
          `${address.display} --enqueue`,
      );
    }
    if (!said) process.stderr.write(`phmatch ${who}: waiting for scan ${scan} on ${address.display}\n`);
    said = true;
    await sleep(500);
  }
}

/** The state of a scan: files enqueued, total once the walk ended, files with a record, and the counters. */
export interface ScanState {
  total?: number;
  done: number;
  state: string;
  restarted: number;
  split: number;
  dead: number;
}

export async function readState(redis: Redis, scan: string): Promise<ScanState> {
  const keys = scanKeys(scan);
  const [meta, done, stats] = await Promise.all([
    redis.hgetall(keys.meta),
    redis.bitcount(keys.done),
    redis.hgetall(keys.stats),
  ]);
  // A collected scan's done bitmap is removed with its queue: every position was written.
  const collected = meta.state === "collected" && meta.total !== undefined;
  const state: ScanState = {
    done: collected ? Number(meta.total) : done,
    state: meta.state ?? "none",
    restarted: Number(stats.restarted ?? 0),
    split: Number(stats.split ?? 0),
    dead: Number(stats.dead ?? 0),
  };
  if (meta.total !== undefined) state.total = Number(meta.total);
  return state;
}

/**
 * Adds the records of a batch to the results stream and marks their positions done, in one transaction, so the
 * done bitmap never runs ahead of the stream.
 */
export async function publishRecords(
  redis: Redis,
  scan: string,
  worker: string,
  lists: ListRelease[],
  records: [number, ScanFileRecord][],
): Promise<void> {
  const keys = scanKeys(scan);
  const bits = records.flatMap(([seq]) => ["SET", "u1", String(seq), "1"]);
  const result = await redis
    .multi()
    .xadd(keys.results, "*", "w", worker, "l", JSON.stringify(lists), "r", JSON.stringify(records))
    .call("BITFIELD", keys.done, ...bits)
    .exec();
  const failed = result?.find(([error]) => error !== null);
  if (result === null || failed !== undefined)
    throw new CliError(
      "PHM_QUEUE_UNAVAILABLE",
      `could not store results in ${keys.results}: ${failed?.[0]?.message ?? "transaction aborted"}`,
    );
}

/**
 * Handles batches that failed every attempt: a batch of several files is split into one job per file (so one file
 * that kills its worker does not take the others with it); a single file is dead-lettered, reported as an error
 * record once. Any process may sweep (workers when idle, the collector); a short lock keeps two from doing it at
 * once, and what a sweep writes is idempotent (job ids, HSETNX on the dead-letter list) if one dies halfway.
 */
export async function sweepFailed(redis: Redis, queue: Queue<BatchData>, scan: string, plan: ScanPlan): Promise<void> {
  const keys = scanKeys(scan);
  if ((await redis.set(keys.sweep, String(process.pid), "PX", 10_000, "NX")) !== "OK") return;
  try {
    for (const job of await queue.getFailed(0, 99)) {
      const files = (job.data as BatchData).files;
      if (files.length > 1) {
        await queue.addBulk(
          files.map((f) => ({
            name: "file",
            data: { files: [f] },
            opts: { ...JOB_OPTIONS, jobId: batchJobId(scan, [f]) },
          })),
        );
        await redis.hincrby(keys.stats, "split", 1);
      } else if (files.length === 1) {
        const file = files[0] as QueuedFile;
        const reason = job.failedReason || "failed";
        if (
          (await redis.hsetnx(
            keys.dead,
            String(file.seq),
            JSON.stringify({
              path: file.path,
              ...(file.pathBytes !== undefined && { pathBytes: file.pathBytes }),
              size: file.size,
              attempts: job.attemptsStarted,
              reason,
            }),
          )) === 1
        ) {
          await redis.hincrby(keys.stats, "dead", 1);
        }
        await publishRecords(redis, scan, "dead-letter", plan.lists, [
          [file.seq, deadLetterRecord(file, job.attemptsStarted, reason)],
        ]);
      }
      await job.remove().catch(() => undefined);
    }
  } finally {
    await redis.del(keys.sweep);
  }
}

/** The report record of a dead-lettered file: an error, so the file is still accounted for. */
export function deadLetterRecord(file: QueuedFile, attempts: number, reason: string): ScanFileRecord {
  const record: ScanFileRecord = {
    type: "file",
    path: file.path,
    status: "error",
    matches: [],
    ...(file.pathBytes !== undefined && { pathBytes: file.pathBytes }),
    error: {
      code: "PHM_QUEUE_DEAD_LETTER",
      message:
        `${file.path}: its job failed ${attempts} times (last: ${reason}); it is on the scan's dead-letter ` +
        "list, scan it alone to see why",
    },
  };
  if (file.size >= 0) record.size = file.size;
  return record;
}

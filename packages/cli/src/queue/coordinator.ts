import { createReadStream } from "node:fs";
import { lstat } from "node:fs/promises";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { type FilePath, PhmatchError, type WalkEntry } from "@phmatch/core";
import { AccessTimeWatch, sameIgnorableLists, walkEntries } from "@phmatch/core/internal";
import { CliError } from "../errors.js";
import { connectRedis } from "./connection.js";
import type { QueueAddress } from "./names.js";
import {
  batchJobId,
  describeReleases,
  JOB_OPTIONS,
  openQueue,
  type QueuedFile,
  queuedFile,
  readPlan,
  readState,
  type ScanPlan,
  type ScanState,
  sameReleases,
  scanKeys,
} from "./scan-queue.js";

/** What the coordinator enqueues and how. */
export interface EnqueueOptions {
  address: QueueAddress;
  scan: string;
  plan: ScanPlan;
  /** Paths to walk, or (with `manifest`) ignored. */
  inputs: string[];
  /** A file of paths, one a line, read instead of walking (object keys mounted as files, a list from another tool). */
  manifest?: string;
  followSymlinks: boolean;
  /** Set back access times the walk changes where exact (the walk's report of them goes to the collector). */
  restoreAtimes: boolean;
  /** Batches waiting in the queue above which the walk pauses, so Redis holds a window of the scan, not all of it. */
  maxQueued: number;
  /** Stay and show progress until every file has a record. */
  wait: boolean;
  quiet: boolean;
}

/** What the coordinator saw. */
export interface EnqueueSummary {
  scan: string;
  files: number;
  batches: number;
  state: ScanState;
}

// Batches added per round trip.
const ADD_CHUNK = 32;

/**
 * Walks the inputs (or reads a manifest) in the same order as a local scan and enqueues batches of {seq, path,
 * size}: paths only, never bytes. The plan is written first and must match a scan of the same name already in
 * the database (a restarted coordinator resumes adding after the batches already added; batch ids are derived
 * from paths and sizes, so a batch still queued is never added twice). The walk pauses while more than
 * `maxQueued` batches wait, so Redis memory is bounded however large the scan. With `wait`, shows files done across all
 * workers, the rate and an ETA until the scan is complete.
 */
export async function enqueueScan(options: EnqueueOptions): Promise<EnqueueSummary> {
  const redis = await connectRedis(options.address, "phmatch-coordinator");
  const keys = scanKeys(options.scan);
  const queue = openQueue(options.address, options.scan);
  try {
    const plan = JSON.stringify(options.plan);
    let startedAt = options.plan.header.startedAt;
    if ((await redis.hsetnx(keys.meta, "plan", plan)) === 0) {
      const existing = (await readPlan(redis, options.scan)) as ScanPlan;
      startedAt = existing.header.startedAt;
      if (!sameReleases(existing.lists, options.plan.lists)) {
        throw new CliError(
          "PHM_QUEUE_LIST_MISMATCH",
          `scan ${options.scan} already runs with ${describeReleases(existing.lists)}, not ` +
            `${describeReleases(options.plan.lists)}: a scan never mixes list versions; use another --scan name`,
        );
      }
      if (
        JSON.stringify(existing.header.inputs) !== JSON.stringify(options.plan.header.inputs) ||
        JSON.stringify(existing.header.walk) !== JSON.stringify(options.plan.header.walk) ||
        JSON.stringify(existing.hash) !== JSON.stringify(options.plan.hash) ||
        !sameIgnorableLists(existing.header.ignorable, options.plan.header.ignorable) ||
        existing.batchSize !== options.plan.batchSize
      ) {
        throw new PhmatchError(
          "PHM_USAGE",
          `scan ${options.scan} already exists with other inputs or options: use another --scan name, or the ` +
            "same command to resume it",
        );
      }
    } else {
      await redis.hset(keys.meta, "state", "enqueueing", "createdAt", new Date().toISOString());
    }
    const meta = await redis.hgetall(keys.meta);
    let files = meta.total !== undefined ? Number(meta.total) : 0;
    let batches = Number(meta.batches ?? 0);
    if (meta.total === undefined) {
      // A restarted coordinator walks again (the walk is deterministic) and adds only the batches after those added.
      const already = Number(meta.enqueued ?? 0);
      let batch: QueuedFile[] = [];
      let pending: QueuedFile[][] = [];
      batches = 0;
      const flush = async () => {
        if (pending.length === 0) return;
        while ((await queue.getJobCountByTypes("waiting", "delayed", "prioritized")) > options.maxQueued)
          await sleep(500);
        const fresh = pending.filter((_, i) => batches - pending.length + i >= already);
        if (fresh.length > 0)
          await queue.addBulk(
            fresh.map((b) => ({
              name: "batch",
              data: { files: b },
              opts: { ...JOB_OPTIONS, jobId: batchJobId(options.scan, b) },
            })),
          );
        await redis.hset(keys.meta, "enqueued", String(batches));
        pending = [];
      };
      // A restarted coordinator flags access times found changed since the scan's start (its first walk's doing).
      const accessTimes = new AccessTimeWatch({ since: new Date(startedAt), restore: options.restoreAtimes });
      const walk = walkEntries(options.inputs, { followSymlinks: options.followSymlinks, accessTimes });
      for await (const entry of options.manifest !== undefined ? manifestPaths(options.manifest) : walk) {
        const size = await lstat(entry.path).then(
          (s) => s.size,
          () => -1,
        );
        batch.push(queuedFile(files++, entry, size));
        if (batch.length >= options.plan.batchSize) {
          pending.push(batch);
          batches++;
          batch = [];
          if (pending.length >= Math.min(ADD_CHUNK, options.maxQueued)) await flush();
        }
      }
      if (batch.length > 0) {
        pending.push(batch);
        batches++;
      }
      await flush();
      // What the walk did to access times goes into the report's summary, written by the collector.
      const atimes = options.manifest === undefined ? ["atimes", JSON.stringify(accessTimes.report())] : [];
      await redis.hset(keys.meta, "total", String(files), "batches", String(batches), "state", "running", ...atimes);
    }
    if (!options.quiet)
      process.stderr.write(
        `phmatch scan: ${files} files in ${batches} batches queued as scan ${options.scan} on ` +
          `${options.address.display}\n`,
      );
    let state = await readState(redis, options.scan);
    if (options.wait) state = await showProgress(options, redis, queue, files);
    return { scan: options.scan, files, batches, state };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

// Progress across all workers: the done bitmap's count, the rate over the last minute, an ETA, workers connected.
async function showProgress(
  options: EnqueueOptions,
  redis: Awaited<ReturnType<typeof connectRedis>>,
  queue: ReturnType<typeof openQueue>,
  total: number,
): Promise<ScanState> {
  const tty = process.stderr.isTTY === true;
  const samples: [number, number][] = [];
  let last = 0;
  for (;;) {
    const state = await readState(redis, options.scan);
    const now = Date.now();
    samples.push([now, state.done]);
    while (samples.length > 2 && now - (samples[0] as [number, number])[0] > 60_000) samples.shift();
    const finished = state.done >= total || state.state === "collected";
    if (!options.quiet && (finished || now - last >= (tty ? 500 : 5000))) {
      last = now;
      const [t0, d0] = samples[0] as [number, number];
      const rate = now > t0 ? ((state.done - d0) * 1000) / (now - t0) : 0;
      const workers = await queue.getWorkersCount().catch(() => 0);
      const eta = finished || rate <= 0 ? "" : `, ETA ${formatSeconds((total - state.done) / rate)}`;
      const extra =
        `${state.restarted > 0 ? `, ${state.restarted} batches restarted` : ""}` +
        `${state.dead > 0 ? `, ${state.dead} dead letters` : ""}`;
      const line = `${state.done} of ${total} files (${rate.toFixed(1)}/s, ${workers} workers)${extra}${eta}`;
      process.stderr.write(
        tty
          ? `\r\x1b[K${finished ? "phmatch scan done: " : ""}${line}${finished ? "\n" : ""}`
          : `${finished ? "phmatch scan done: " : ""}${line}\n`,
      );
    }
    if (finished) return state;
    await sleep(500);
  }
}

// A manifest: one path a line, as given (relative paths as the workers will see them); blank lines skipped.
async function* manifestPaths(manifest: string): AsyncGenerator<WalkEntry> {
  const lines = createInterface({ input: createReadStream(manifest, "utf8"), crlfDelay: Infinity });
  try {
    for await (const line of lines) if (line.trim() !== "") yield { kind: "file", path: line as FilePath };
  } catch (error) {
    throw new PhmatchError("PHM_USAGE", `--manifest ${manifest}: ${(error as Error).message}`, { cause: error });
  }
}

function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
      : `${s}s`;
}

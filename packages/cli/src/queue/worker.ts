import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { type LoadedHashSet, Matcher, type ScanFileRecord, SupervisedHashPool } from "@phmatch/core";
import {
  buildHashOptions,
  createEntryScanner,
  MemoryFirstCopies,
  orderedMap,
  type ScanIgnorable,
  withSize,
} from "@phmatch/core/internal";
import { type Job, Worker } from "bullmq";
import { CliError } from "../errors.js";
import { connectRedis, redisOptions } from "./connection.js";
import { planIgnorables } from "./ignorable.js";
import { listReleases, type QueueAddress } from "./names.js";
import {
  type BatchData,
  describeReleases,
  MAX_STALLED,
  openQueue,
  publishRecords,
  type QueuedFile,
  queuedPath,
  readState,
  sameReleases,
  scanKeys,
  sweepFailed,
  waitForPlan,
} from "./scan-queue.js";

/** How a worker runs. */
export interface WorkerRunOptions {
  address: QueueAddress;
  scan: string;
  sets: LoadedHashSet[];
  /** Hashing threads. */
  jobs: number;
  /** Batches in flight at once (two keep the pool busy while one batch's results are stored). */
  concurrency: number;
  /** How long a batch's lock lasts without renewal: a worker that died is noticed after about this long. */
  lockMs: number;
  name?: string;
  /** A line on stderr per batch started and finished. */
  verbose: boolean;
  /** Give up waiting for the scan to appear after this long (default: wait for ever). */
  waitMs?: number;
  /** This machine's copies of the scan's --ignorable lists (checked against the plan's SHA-256s). */
  ignorable?: readonly ScanIgnorable[];
}

/** What one worker did. */
export interface WorkerRunSummary {
  worker: string;
  batches: number;
  files: number;
  lists: string;
}

// Distinct files a worker remembers by SHA-256 so that a copy is not decoded again (about 1.9 KB each: see scanFiles).
const MAX_REMEMBERED = 100_000;

/**
 * Consumes a distributed scan's batches until every file of the scan has a record: the same hashing, matching and
 * error handling as a local scan (the supervised pool, the scan's own record building), with the scan's
 * algorithms and query options from its plan, and only if this machine's lists are the releases the scan started
 * with. Each batch's records go to the results stream in one transaction; a batch is never half-reported.
 */
export async function runWorker(options: WorkerRunOptions): Promise<WorkerRunSummary> {
  const name = options.name ?? `${hostname()}-${process.pid}`;
  const redis = await connectRedis(options.address, `phmatch-worker-${name}`);
  const keys = scanKeys(options.scan);
  try {
    const plan = await waitForPlan(redis, options.address, options.scan, "worker", options.waitMs);
    const releases = listReleases(options.sets);
    if (!sameReleases(releases, plan.lists)) {
      throw new CliError(
        "PHM_QUEUE_LIST_MISMATCH",
        `scan ${options.scan} matches with ${describeReleases(plan.lists)}, but this worker loaded ` +
          `${describeReleases(releases)}: load the scan's releases (a scan never mixes list versions), or start ` +
          "a new scan",
      );
    }
    const ignorable = planIgnorables(options.scan, plan.header.ignorable, options.ignorable ?? []);
    const matcher = new Matcher(options.sets);
    const algorithms = plan.hash.algorithms;
    const { trim, rotations, parts, video } = plan.hash;
    // The plan's video limits and frame rate, as the coordinator's local scan would hash; FFmpeg is this machine's.
    const hashOptions = buildHashOptions({ algorithms, trim, rotations, parts, ...(video !== undefined && { video }) });
    const pool = new SupervisedHashPool({ jobs: options.jobs, hashOptions });
    const scanEntry = createEntryScanner(pool, matcher, {
      firsts: new MemoryFirstCopies(MAX_REMEMBERED),
      ignorable,
      digestOnly: pool.algorithms,
    });
    const summary: WorkerRunSummary = { worker: name, batches: 0, files: 0, lists: describeReleases(releases) };

    // The local scan's per-file step. A link recorded as such comes recorded by the coordinator's walk: nothing to
    // read but its size, as a local scan sizes every record. A copy of a file this worker hashed comes back as its
    // duplicate; the collector decides which copy is the first in walk order and marks the others duplicateOf.
    const scanOne = async (file: QueuedFile): Promise<[number, ScanFileRecord]> => {
      if (file.record !== undefined) return [file.seq, await withSize(file.record)];
      const linkTarget = file.linkTarget === undefined ? undefined : Buffer.from(file.linkTarget, "base64");
      const entry = { kind: "file" as const, path: queuedPath(file), ...(linkTarget !== undefined && { linkTarget }) };
      const record = await scanEntry(entry);
      delete record.duplicateOf;
      delete record.duplicateOfBytes;
      return [file.seq, record];
    };

    const processBatch = async (job: Job<BatchData>): Promise<number> => {
      const files = job.data.files;
      if (job.attemptsStarted > 1) await redis.hincrby(keys.stats, "restarted", 1);
      if (options.verbose)
        process.stderr.write(
          `phmatch worker ${name}: batch ${job.id} started (${files.length} files, attempt ${job.attemptsStarted})\n`,
        );
      const records: [number, ScanFileRecord][] = [];
      for await (const entry of orderedMap(files, pool.jobs * 2, scanOne)) records.push(entry);
      await publishRecords(redis, options.scan, name, releases, records);
      summary.batches++;
      summary.files += records.length;
      if (options.verbose) process.stderr.write(`phmatch worker ${name}: batch ${job.id} done\n`);
      return records.length;
    };

    const worker = new Worker<BatchData, number>(`phmatch-${options.scan}`, processBatch, {
      connection: redisOptions(options.address, `phmatch-worker-${name}-bull`),
      name,
      concurrency: options.concurrency,
      lockDuration: options.lockMs,
      stalledInterval: Math.max(500, Math.floor(options.lockMs / 2)),
      maxStalledCount: MAX_STALLED,
    });
    worker.on("error", (error) => process.stderr.write(`phmatch worker ${name}: queue error: ${error.message}\n`));
    const queue = openQueue(options.address, options.scan);
    let stopping = false;
    const stop = () => {
      stopping = true;
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    process.stderr.write(
      `phmatch worker ${name}: consuming scan ${options.scan} on ${options.address.display} with ${summary.lists}\n`,
    );
    try {
      // The scan is over when every position has a record (the done bitmap is full), or a collector finished it.
      for (let tick = 0; !stopping; tick++) {
        await sleep(500);
        const state = await readState(redis, options.scan);
        if (state.state === "collected" || (state.total !== undefined && state.done >= state.total)) break;
        if (tick % 4 === 0) await sweepFailed(redis, queue, options.scan, plan);
      }
    } finally {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      await worker.close();
      await queue.close();
      await pool.close();
    }
    return summary;
  } finally {
    redis.disconnect();
  }
}

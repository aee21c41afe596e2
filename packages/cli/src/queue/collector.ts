import { createWriteStream, existsSync, fsync as fsyncCallback } from "node:fs";
import { promisify } from "node:util";
import { createReportWriter, PhmatchError, type ScanFileRecord, type ScanSummary, ScanTally } from "@phmatch/core";
import {
  type AccessTimeReport,
  ClusterCollector,
  duplicateRecord,
  type FirstCopies,
  readScanProgress,
  recordPath,
  SpillFirstCopies,
} from "@phmatch/core/internal";
import { CliError } from "../errors.js";
import { connectRedis } from "./connection.js";
import type { ListRelease, QueueAddress } from "./names.js";
import {
  describeReleases,
  openQueue,
  readState,
  sameReleases,
  scanKeys,
  sweepFailed,
  waitForPlan,
} from "./scan-queue.js";

/** How the collector runs. */
export interface CollectOptions {
  address: QueueAddress;
  scan: string;
  out: string;
  quiet: boolean;
  /** Finish the report at `out` that an earlier collector left unfinished (it was killed or lost Redis). */
  resume: boolean;
  /** Give up if the scan does not appear within this long (default: wait for it). */
  waitMs?: number;
  /** Leave the scan's queue, stream and counters in Redis when done (default: removed once the report is written). */
  keep: boolean;
  /** Ed25519 private key (PEM) that signs the cluster section's seal (a scan enqueued with --cluster). */
  signingKeyPem?: string;
}

/** What the collector saw besides the report's own summary. */
export interface CollectSummary {
  summary: ScanSummary;
  distributed: {
    scan: string;
    /** Records taken from each worker ("dead-letter": written by a sweep for a file that failed every attempt). */
    workers: Record<string, number>;
    /** Records that arrived again for a position already reported (a batch re-run after its worker died). */
    repeatsDropped: number;
    restartedBatches: number;
    splitBatches: number;
    deadLetters: { path: string; reason: string }[];
    /** CPU time this collector used (user + system), ms: what one collector costs per file. */
    collectorCpuMs: number;
  };
}

const fsync = promisify(fsyncCallback);

// Entries read from the stream per call.
const READ_COUNT = 256;

/**
 * Drains a distributed scan's results stream into one NDJSON report, the same as a local scan's: the plan's
 * header, one record per file in walk order, the summary. Each position is written once: a record for a position
 * already written is dropped (a batch re-run after its worker died), and records that come early wait until the
 * ones before them are in. Copies (same SHA-256) are marked duplicateOf the first in walk order, as a local scan
 * marks them. A stream entry from a worker with other list releases than the scan's is refused. Failed batches
 * are swept while collecting (split, then dead-lettered), so the report ends even if every worker has stopped.
 */
export async function collectScan(options: CollectOptions): Promise<CollectSummary> {
  const cpu = process.cpuUsage();
  const redis = await connectRedis(options.address, "phmatch-collector");
  const keys = scanKeys(options.scan);
  const queue = openQueue(options.address, options.scan);
  const resuming = options.resume && existsSync(options.out);
  if (!resuming && existsSync(options.out))
    throw new PhmatchError(
      "PHM_USAGE",
      `${options.out} exists: use --resume to finish that report, or write a new one`,
    );
  // Records already written, for the cluster section of a scan enqueued with --cluster (the plan, read below, says
  // whether it was: if not, they are dropped).
  let clusters: ClusterCollector | undefined = resuming ? new ClusterCollector() : undefined;
  const progress = resuming
    ? await readScanProgress(options.out, { onRecord: (record, line) => clusters?.add(record, line) })
    : undefined;
  // The first copy of each content (what grows with the scan): on disk, closed however the collector ends.
  const firsts: FirstCopies = progress?.firsts ?? new SpillFirstCopies();
  const out = createWriteStream(options.out, { flags: resuming ? "a" : "wx" });
  const fd = await new Promise<number>((ready, fail) =>
    out
      .once("open", (fd) => ready(fd))
      .once("error", (error) =>
        fail(new PhmatchError("PHM_USAGE", `--out ${options.out}: ${error.message}`, { cause: error })),
      ),
  );
  try {
    const plan = await waitForPlan(redis, options.address, options.scan, "report collect", options.waitMs);
    if (progress !== undefined && JSON.stringify(progress.header) !== JSON.stringify(plan.header)) {
      throw new PhmatchError(
        "PHM_USAGE",
        `${options.out} is the report of another scan than ${options.scan} on ${options.address.display}: ` +
          "--resume finishes only the report this scan began",
      );
    }
    const writer = createReportWriter(out, "ndjson");
    if (progress === undefined) await writer.begin(plan.header);
    const settings = plan.header.cluster;
    clusters = settings === undefined ? undefined : (clusters ?? new ClusterCollector());
    const tally = progress?.tally ?? new ScanTally();
    const distributed: CollectSummary["distributed"] = {
      scan: options.scan,
      workers: {},
      repeatsDropped: 0,
      restartedBatches: 0,
      splitBatches: 0,
      deadLetters: [],
      collectorCpuMs: 0,
    };
    const early = new Map<number, ScanFileRecord>();
    // Records are written in walk order, one per position, so the report's own record count is the next position.
    let next = progress?.tally.summary.files ?? 0;
    let lastId = "0-0";
    // Stream entries read whose records are all written (or repeats), with the highest position each held: once
    // the report is on disk up to them, they are deleted, so Redis holds only what is not yet in the report.
    let consumed: { id: string; top: number }[] = [];
    let lastTrim = Date.now();
    const trim = async () => {
      await new Promise<void>((done, fail) => out.write("", (error) => (error ? fail(error) : done())));
      await fsync(fd);
      const written = consumed.filter((e) => e.top < next);
      consumed = consumed.filter((e) => e.top >= next);
      for (let i = 0; i < written.length; i += 500)
        await redis.xdel(keys.results, ...written.slice(i, i + 500).map((e) => e.id));
    };
    let lastSweep = 0;
    let lastProgress = Date.now();
    const started = Date.now();
    const emit = async (record: ScanFileRecord) => {
      const line = collectedLine(record, firsts);
      tally.add(line);
      await writer.record(line);
      clusters?.add(line, 1 + tally.summary.files); // the header is line 1
    };
    for (;;) {
      if (progress?.complete === true) break;
      const reply = (await redis.xread("COUNT", READ_COUNT, "BLOCK", 500, "STREAMS", keys.results, lastId)) as
        | [string, [string, string[]][]][]
        | null;
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        lastId = id;
        const entry = fieldsOf(fields);
        const lists = JSON.parse(entry.l ?? "[]") as ListRelease[];
        if (!sameReleases(lists, plan.lists)) {
          throw new CliError(
            "PHM_QUEUE_LIST_MISMATCH",
            `worker ${entry.w} matched with ${describeReleases(lists)}, but scan ${options.scan} runs with ` +
              `${describeReleases(plan.lists)}: its records are refused and the report is not finished`,
          );
        }
        const batch = JSON.parse(entry.r ?? "[]") as [number, ScanFileRecord][];
        consumed.push({ id, top: Math.max(-1, ...batch.map(([seq]) => seq)) });
        for (const [seq, record] of batch) {
          if (seq < next || early.has(seq)) {
            distributed.repeatsDropped++;
            continue;
          }
          early.set(seq, record);
          distributed.workers[entry.w ?? "?"] = (distributed.workers[entry.w ?? "?"] ?? 0) + 1;
        }
        for (let record = early.get(next); record !== undefined; record = early.get(next)) {
          early.delete(next++);
          await emit(record);
        }
      }
      const state = await readState(redis, options.scan);
      if (state.total !== undefined && next >= state.total) break;
      const now = Date.now();
      if (now - lastTrim > 2000) {
        lastTrim = now;
        await trim();
      }
      if (now - lastSweep > 2000) {
        lastSweep = now;
        await sweepFailed(redis, queue, options.scan, plan);
      }
      if (!options.quiet && now - lastProgress > 5000) {
        lastProgress = now;
        process.stderr.write(
          `phmatch report collect: ${next}${state.total === undefined ? "" : ` of ${state.total}`} files ` +
            `written (${((next * 1000) / (now - started)).toFixed(1)}/s)\n`,
        );
      }
    }
    const final = await readState(redis, options.scan);
    distributed.restartedBatches = final.restarted;
    distributed.splitBatches = final.split;
    const dead = Object.entries(await redis.hgetall(keys.dead)).sort(([a], [b]) => Number(a) - Number(b));
    for (const [, text] of dead) {
      const letter = JSON.parse(text) as { path: string; reason: string };
      distributed.deadLetters.push({ path: letter.path, reason: letter.reason });
    }
    const atimes = await redis.hget(keys.meta, "atimes");
    const summary =
      progress?.complete === true
        ? progress.tally.summary
        : tally.finish(atimes === null ? undefined : (JSON.parse(atimes) as AccessTimeReport));
    if (progress?.complete !== true && clusters !== undefined && settings !== undefined) {
      // The same section a local scan writes: the members' paths are read back from the report, flushed first.
      await new Promise<void>((done, fail) => out.write("", (error) => (error ? fail(error) : done())));
      const section = await clusters.finish({
        settings,
        report: options.out,
        ...(options.signingKeyPem !== undefined && { signingKeyPem: options.signingKeyPem }),
      });
      await writer.clusters(section.lines, section.seal);
    }
    if (progress?.complete !== true) await writer.end(summary);
    await new Promise<void>((done, fail) => out.end((error?: Error | null) => (error ? fail(error) : done())));
    await redis.hset(keys.meta, "state", "collected", "collectedAt", new Date().toISOString());
    if (!options.keep) {
      // The report is written: the scan's queue and results are no longer needed (the plan and state stay, so
      // workers and a restarted coordinator see the scan is over).
      await queue.obliterate({ force: true }).catch(() => undefined);
      await redis.del(keys.results, keys.done, keys.dead);
    }
    const used = process.cpuUsage(cpu);
    distributed.collectorCpuMs = Math.round((used.user + used.system) / 1000);
    if (!options.quiet)
      process.stderr.write(
        `phmatch report collect done: ${summary.files} files, ${summary.known} known, ${summary.error} ` +
          `errors, ${distributed.repeatsDropped} repeats dropped, ${distributed.deadLetters.length} dead ` +
          "letters\n",
      );
    return { summary, distributed };
  } catch (error) {
    // What is written stays: the stream entries it holds are gone from Redis, so --resume finishes it.
    out.destroy();
    throw error;
  } finally {
    firsts.close();
    await queue.close();
    redis.disconnect();
  }
}

/**
 * The report line of a record a worker stored, in walk order: as a local scan writes it (its keys in that order), a
 * later copy of a file already written (`firsts`: that file's line without size and times) as its duplicate with
 * its own size, link and times.
 */
export function collectedLine(record: ScanFileRecord, firsts: FirstCopies): ScanFileRecord {
  const digest = record.hashes?.sha256;
  const first = digest === undefined ? undefined : firsts.get(digest);
  if (record.status === "symlink") return record; // recorded by the coordinator's walk as a local scan records it
  if (first !== undefined) {
    const line = duplicateRecord(first, recordPath(record));
    if (record.linkTarget !== undefined) line.linkTarget = record.linkTarget;
    if (record.linkTargetBytes !== undefined) line.linkTargetBytes = record.linkTargetBytes;
    if (record.size !== undefined) line.size = record.size;
    if (record.times !== undefined) line.times = record.times; // the copy's own, as its worker read them
    return line;
  }
  const line = canonical(record);
  if (digest !== undefined && record.error === undefined) {
    const { size: _size, times: _times, ...reference } = line;
    firsts.set(digest, reference);
  }
  return line;
}

function fieldsOf(fields: string[]): Record<string, string> {
  const entry: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) entry[fields[i] as string] = fields[i + 1] as string;
  return entry;
}

// A record with its keys in the order a local scan writes them (JSON line for line, not only equal as objects).
function canonical(r: ScanFileRecord): ScanFileRecord {
  return {
    type: "file",
    path: r.path,
    status: r.status,
    matches: r.matches,
    ...(r.pathBytes !== undefined && { pathBytes: r.pathBytes }),
    ...(r.hashes !== undefined && { hashes: r.hashes }),
    ...(r.ignorable !== undefined && { ignorable: r.ignorable }),
    ...(r.quality !== undefined && { quality: r.quality }),
    ...(r.video !== undefined && { video: r.video }),
    ...(r.notes !== undefined && { notes: r.notes }),
    ...(r.error !== undefined && { error: r.error }),
    ...(r.linkTarget !== undefined && { linkTarget: r.linkTarget }),
    ...(r.linkTargetBytes !== undefined && { linkTargetBytes: r.linkTargetBytes }),
    ...(r.size !== undefined && { size: r.size }),
    ...(r.times !== undefined && { times: r.times }),
  };
}

import { createWriteStream } from "node:fs";
import { unlink } from "node:fs/promises";
import { PhmatchError, ScanTally, duplicateRecord, recordPath, type ScanFileRecord, type ScanSummary } from "@phmatch/core";
import { writeLine } from "../output.js";
import { connectRedis, type QueueAddress } from "./connection.js";
import { describeReleases, openQueue, readState, waitForPlan, sameReleases, scanKeys, sweepFailed, type ListRelease } from "./scan-queue.js";

/** How the collector runs. */
export interface CollectOptions {
  address: QueueAddress;
  scan: string;
  out: string;
  quiet: boolean;
  /** Give up if the scan does not appear within this long (default: wait for it). */
  waitMs?: number;
  /** Leave the scan's queue, stream and counters in Redis when done (default: removed once the report is written). */
  keep: boolean;
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
  };
}

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
  const redis = await connectRedis(options.address, "phmatch-collector");
  const keys = scanKeys(options.scan);
  const queue = openQueue(options.address, options.scan);
  const out = createWriteStream(options.out, { flags: "wx" });
  await new Promise<void>((ready, fail) => out.once("open", () => ready()).once("error", (error) => fail(new PhmatchError("PHM_USAGE", `--out ${options.out}: ${error.message}`, { cause: error }))));
  try {
    const plan = await waitForPlan(redis, options.address, options.scan, "report collect", options.waitMs);
    await writeLine(out, JSON.stringify(plan.header));
    const tally = new ScanTally();
    const distributed: CollectSummary["distributed"] = { scan: options.scan, workers: {}, repeatsDropped: 0, restartedBatches: 0, splitBatches: 0, deadLetters: [] };
    const early = new Map<number, ScanFileRecord>();
    const firsts = new Map<string, string>();
    let next = 0;
    let lastId = "0-0";
    let lastSweep = 0;
    let lastProgress = Date.now();
    const started = Date.now();
    const emit = async (record: ScanFileRecord) => {
      const digest = record.hashes?.sha256;
      const first = digest === undefined ? undefined : firsts.get(digest);
      let line: ScanFileRecord;
      if (first !== undefined) {
        line = duplicateRecord(JSON.parse(first) as ScanFileRecord, recordPath(record));
        if (record.size !== undefined) line.size = record.size;
      } else {
        line = canonical(record);
        if (digest !== undefined && record.error === undefined) {
          const { size: _size, ...reference } = line;
          firsts.set(digest, JSON.stringify(reference));
        }
      }
      tally.add(line);
      await writeLine(out, JSON.stringify(line));
    };
    for (;;) {
      const reply = (await redis.xread("COUNT", READ_COUNT, "BLOCK", 500, "STREAMS", keys.results, lastId)) as [string, [string, string[]][]][] | null;
      for (const [id, fields] of reply?.[0]?.[1] ?? []) {
        lastId = id;
        const entry = fieldsOf(fields);
        const lists = JSON.parse(entry.l ?? "[]") as ListRelease[];
        if (!sameReleases(lists, plan.lists)) {
          throw new PhmatchError("PHM_QUEUE_LIST_MISMATCH", `worker ${entry.w} matched with ${describeReleases(lists)}, but scan ${options.scan} runs with ${describeReleases(plan.lists)}: its records are refused and the report is not finished`);
        }
        for (const [seq, record] of JSON.parse(entry.r ?? "[]") as [number, ScanFileRecord][]) {
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
      if (state.total !== undefined && next >= state.total) {
        distributed.restartedBatches = state.restarted;
        distributed.splitBatches = state.split;
        break;
      }
      const now = Date.now();
      if (now - lastSweep > 2000) {
        lastSweep = now;
        await sweepFailed(redis, queue, options.scan, plan);
      }
      if (!options.quiet && now - lastProgress > 5000) {
        lastProgress = now;
        process.stderr.write(`phmatch report collect: ${next}${state.total === undefined ? "" : ` of ${state.total}`} files written (${((next * 1000) / (now - started)).toFixed(1)}/s)\n`);
      }
    }
    const dead = Object.entries(await redis.hgetall(keys.dead)).sort(([a], [b]) => Number(a) - Number(b));
    for (const [, text] of dead) {
      const letter = JSON.parse(text) as { path: string; reason: string };
      distributed.deadLetters.push({ path: letter.path, reason: letter.reason });
    }
    const summary = tally.finish();
    await writeLine(out, JSON.stringify(summary));
    await new Promise<void>((done, fail) => out.end((error?: Error | null) => (error ? fail(error) : done())));
    await redis.hset(keys.meta, "state", "collected", "collectedAt", new Date().toISOString());
    if (!options.keep) {
      // The report is written: the scan's queue and results are no longer needed (the plan and state stay, so
      // workers and a restarted coordinator see the scan is over).
      await queue.obliterate({ force: true }).catch(() => undefined);
      await redis.del(keys.results, keys.done, keys.dead);
    }
    if (!options.quiet) process.stderr.write(`phmatch report collect done: ${summary.files} files, ${summary.known} known, ${summary.error} errors, ${distributed.repeatsDropped} repeats dropped, ${distributed.deadLetters.length} dead letters\n`);
    return { summary, distributed };
  } catch (error) {
    // An unfinished report is of no use (collect again: the results stay in Redis until a report is complete).
    out.destroy();
    await unlink(options.out).catch(() => undefined);
    throw error;
  } finally {
    await queue.close();
    redis.disconnect();
  }
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
    ...(r.quality !== undefined && { quality: r.quality }),
    ...(r.notes !== undefined && { notes: r.notes }),
    ...(r.error !== undefined && { error: r.error }),
    ...(r.size !== undefined && { size: r.size }),
  };
}

import { createWriteStream, existsSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { isAbsolute, relative, resolve } from "node:path";
import type { Writable } from "node:stream";
import {
  AuditLog,
  createReportWriter,
  decide,
  Matcher,
  PhmatchError,
  type ScanFileRecord,
  type ScanHeader,
  ScanTally,
  SupervisedHashPool,
  scanFiles,
  writeReportIntegrity,
} from "@phmatch/core";
import {
  AccessTimeWatch,
  buildHashOptions,
  ClusterCollector,
  closeScanIgnorables,
  defaultClusterSettings,
  openScanIgnorables,
  partsCanMatch,
  readScanProgress,
  sameIgnorableLists,
  scanAlgorithms,
  scanHeader,
  scanWalkHeader,
  walkEntries,
} from "@phmatch/core/internal";
import { Command, Option } from "commander";
import { CommandExit, EXIT_CODES } from "../exit-codes.js";
import { parseAlgorithms, parsePositiveInt } from "../parse.js";
import { checkScanName, DEFAULT_BATCH_SIZE, DEFAULT_SCAN_NAME, listReleases, parseQueueUrl } from "../queue/names.js";
import type { PlanVideo } from "../queue/scan-queue.js";
import { type VideoCommandOptions, videoOptionsOf, withVideoOptions } from "../video-options.js";
import {
  deploymentState,
  loadHashSets,
  readText,
  runState,
  type StateOptions,
  type TrustOptions,
  withHashsetOption,
  withQueryViewOptions,
  withStateOptions,
  withTrustOptions,
} from "./hashset/options.js";

interface ScanOptions extends TrustOptions, StateOptions, VideoCommandOptions {
  rotations: boolean;
  parts: boolean;
  hashset: string[];
  algorithms?: string[];
  out?: string;
  format: "ndjson" | "csv" | "vics";
  jobs?: number;
  fileTimeout: number;
  memoryLimit?: number;
  case?: string;
  examiner?: string;
  quiet: boolean;
  resume: boolean;
  sign?: string;
  followSymlinks: boolean;
  restoreAtimes: boolean;
  auditLog?: string;
  auditKey?: string;
  trim: boolean;
  queue?: string;
  enqueue: boolean;
  manifest?: string;
  scan: string;
  batchSize: number;
  maxQueued: number;
  wait: boolean;
  ignorable?: string[];
  cluster: boolean;
}

/** `phmatch scan`: every file under the inputs accounted for, read-only, in one report. */
export function scanCommand(): Command {
  return withStateOptions(
    withTrustOptions(
      withVideoOptions(withQueryViewOptions(withHashsetOption(new Command("scan"))))
        .description(
          "scan files and directories (read-only) against hash lists; one report line per file, with a header " +
            "and a summary",
        )
        .argument(
          "[paths...]",
          "files and directories to scan (walked recursively; each symbolic link is a record with its target, " +
            "not followed)",
        )
        .option(
          "-a, --algorithms <ids>",
          "algorithms to compute (default: those the lists hold; sha256 always)",
          parseAlgorithms,
        )
        .option(
          "--ignorable <file>",
          "a list of known files to set aside (repeat for several): a digest store (.phd, from hashset import " +
            "--format nsrl) or a plain MD5/SHA-1/SHA-256 list; a file whose digest it holds and no --hashset list " +
            "holds is reported ignorable, not decoded",
          (v: string, all: string[] = []) => [...all, v],
        )
        .option("-o, --out <file>", "write the report here (and its SHA-256 beside it); default stdout")
        .addOption(
          new Option(
            "-f, --format <format>",
            "report format: ndjson (resumable), csv, or vics (the known files as Project VIC VICS JSON; " +
              "`phmatch report vics` exports every file of an NDJSON report)",
          )
            .choices(["ndjson", "csv", "vics"])
            .default("ndjson"),
        )
        .option("-j, --jobs <n>", "worker threads (default: available cores)", parsePositiveInt)
        .option(
          "--file-timeout <seconds>",
          "per-file time limit; a file over it is retried once, then reported PHM_WORKER_TIMEOUT",
          parsePositiveInt,
          120,
        )
        .option(
          "--memory-limit <MiB>",
          "worker process memory limit; a file that takes it over is retried once, then reported " +
            "PHM_WORKER_MEMORY (default: half the machine)",
          parsePositiveInt,
        )
        .option("--case <id>", "case identifier, recorded in the report header")
        .option("--examiner <name>", "examiner, recorded in the report header")
        .option("-q, --quiet", "no progress lines on stderr", false)
        .option(
          "--resume",
          "finish an interrupted scan: append to --out after its last complete record (every file reported once)",
          false,
        )
        .option(
          "--follow-symlinks",
          "follow symbolic links inside directories, each target (device and inode) once: a later link to it " +
            "is a record naming the path it was reported under",
          false,
        )
        .option(
          "--restore-atimes",
          "set back the access time of a directory or symbolic link that the scan's reading changed, where " +
            "its atime and mtime can be written back exactly (this sets its ctime); by default no timestamp is " +
            "written and the summary lists them with their access time as found",
          false,
        )
        .option(
          "--sign <key>",
          "sign the finished report with this Ed25519 private key (PEM): <report>.sig, checked by phmatch " +
            "report verify",
        )
        .option(
          "--cluster",
          "group the unseen images into near-duplicate clusters (PDQ, pHash for low-quality PDQ; leader linkage), " +
            "written in a sealed section at the report's end (needs -o FILE and --format ndjson)",
          false,
        )
        .option("--audit-log <file>", "also append each file's decision to this hash-chained audit log (as serve does)")
        .option("--audit-key <file>", "Ed25519 private key (PEM) that signs the audit log's checkpoints")
        .option(
          "--queue <url>",
          "distributed scan: the Redis queue, redis://HOST:PORT/N (with --enqueue; phmatch worker consumes, " +
            "phmatch report collect writes the report)",
        )
        .option(
          "--enqueue",
          "with --queue: walk the paths (or read --manifest) and enqueue batches of paths for workers, then " +
            "show progress",
          false,
        )
        .option(
          "--manifest <file>",
          "with --enqueue: read the paths to scan from this file, one a line, instead of walking",
        )
        .option(
          "--scan <name>",
          "with --queue: name of the distributed scan (several can share a database)",
          DEFAULT_SCAN_NAME,
        )
        .option("--batch-size <n>", "with --enqueue: files per queued job", parsePositiveInt, DEFAULT_BATCH_SIZE)
        .option(
          "--max-queued <n>",
          "with --enqueue: batches waiting in the queue above which the walk pauses (bounds Redis memory)",
          parsePositiveInt,
          4096,
        )
        .option(
          "--no-wait",
          "with --enqueue: return once everything is queued instead of showing progress until the scan is done",
        )
        .addHelpText(
          "after",
          "\nExample:\n  phmatch scan /mnt/evidence --hashset pvic.phs --trusted-keys keys.pem --case " +
            "2026-117 --examiner 'J. Doe' -o case-117.ndjson\n  phmatch scan /mnt/evidence --hashset pvic.phs " +
            "--queue redis://10.0.0.5:6379/0 --enqueue --case 2026-117 --state-dir /var/lib/phmatch\n",
        ),
    ),
    "the rollback state folder (or PHMATCH_STATE_DIR); without it, a scan with -o keeps its state with the " +
      "case, in .phmatch-state beside the report, and one to stdout has none (said on stderr and in the " +
      "header); required with --enqueue",
  ).action(
    interruptible(async (paths: string[], options: ScanOptions, interruption: Interruption) => {
      if (options.queue !== undefined || options.enqueue) return enqueue(paths, options);
      interruption.arm();
      if (options.manifest !== undefined)
        throw new PhmatchError("PHM_USAGE", "--manifest is for a distributed scan (--queue ... --enqueue)");
      if (paths.length === 0) throw new PhmatchError("PHM_USAGE", "scan needs at least one path");
      if (options.out !== undefined) refuseInsideTree(options.out, paths);
      if (options.auditLog !== undefined) refuseInsideTree(options.auditLog, paths);
      if (options.resume && options.out === undefined)
        throw new PhmatchError("PHM_USAGE", "--resume needs --out: the report is what is resumed");
      if (options.sign !== undefined && options.out === undefined)
        throw new PhmatchError("PHM_USAGE", "--sign needs --out: the report file is what is signed");
      const seal = options.sign === undefined ? {} : { signingKeyPem: readText(options.sign, "--sign") };
      refuseClusterWithout(options);
      if (options.out !== undefined && existsSync(options.out) && !options.resume) {
        throw new PhmatchError(
          "PHM_USAGE",
          `${options.out} exists: use --resume to finish that scan, or write a new report`,
        );
      }
      const rollback = runState(options, "scan", options.out);
      const sets = await loadHashSets(options, rollback.state);
      const matcher = new Matcher(sets);
      const algorithms = clusterAlgorithms(scanAlgorithms(sets, options.algorithms), options.cluster);
      matcher.requireMatchable(algorithms);
      const policies = algorithms
        .map((a) => matcher.policies.get(a)?.id)
        .filter((id): id is string => id !== undefined);
      const walk = scanWalkHeader({ followSymlinks: options.followSymlinks, restoreAtimes: options.restoreAtimes });
      const ignorable = await openScanIgnorables(options.ignorable ?? []);
      const header = scanHeader({
        inputs: paths,
        sets,
        algorithms,
        policies,
        walk,
        rollbackState: rollback.header,
        ignorable: ignorable.map((i) => i.list),
        ...(options.case !== undefined && { case: options.case }),
        ...(options.examiner !== undefined && { examiner: options.examiner }),
      });
      if (options.cluster) header.cluster = defaultClusterSettings();
      // With --cluster, each record's hashes as written (a resumed report's too), grouped when the walk is done.
      const clusters = options.cluster ? new ClusterCollector() : undefined;
      const resuming = options.resume && options.out !== undefined && existsSync(options.out);
      const progress = resuming
        ? await readScanProgress(options.out as string, {
            ...(clusters !== undefined && { onRecord: (record, line) => clusters.add(record, line) }),
          })
        : undefined;
      if (progress !== undefined) {
        refuseDifferentScan(progress.header, header);
        if (progress.complete) {
          progress.firsts.close();
          await writeReportIntegrity(options.out as string, seal);
          process.stderr.write(
            `${options.out} is already complete (${progress.tally.summary.files} files); its SHA-256 is beside it\n`,
          );
          throw new CommandExit(progress.tally.summary.error > 0 ? EXIT_CODES.INPUT_FAILED : EXIT_CODES.OK);
        }
        if (options.format !== "ndjson") throw new PhmatchError("PHM_USAGE", "only NDJSON reports can be resumed");
      }
      if (interruption.signal !== undefined) interruption.leave("before the report was opened: this run wrote nothing");
      // The audit log first: one refused (cut back behind its head) leaves no report file behind.
      const audit =
        options.auditLog === undefined
          ? undefined
          : AuditLog.open(options.auditLog, {
              ...(rollback.state !== undefined && { state: rollback.state }),
              ...(options.auditKey !== undefined && { signingKeyPem: readText(options.auditKey, "--audit-key") }),
            });
      const out: Writable =
        options.out !== undefined ? createWriteStream(options.out, { flags: resuming ? "a" : "wx" }) : process.stdout;
      const auditLists = header.lists.map((l) => ({ listId: l.listId, version: l.version }));
      const pool = new SupervisedHashPool({
        jobs: options.jobs,
        hashOptions: buildHashOptions({
          algorithms,
          trim: options.trim,
          rotations: options.rotations,
          parts: options.parts && partsCanMatch(sets),
          video: videoOptionsOf(options, options.fileTimeout),
        }),
        fileTimeoutMs: options.fileTimeout * 1000,
        ...(options.memoryLimit !== undefined && { memoryLimitBytes: options.memoryLimit * 1024 * 1024 }),
      });
      const tally = progress?.tally ?? new ScanTally();
      // One watch for the scan's walk and the progress count's, so an entry's access time is the one first found; a
      // resumed scan flags what it finds changed since the report was started.
      const accessTimes = new AccessTimeWatch({
        since: new Date((progress?.header ?? header).startedAt),
        restore: options.restoreAtimes,
      });
      const display = options.quiet
        ? undefined
        : new ProgressDisplay(tally, paths, options.followSymlinks, accessTimes);
      const startFiles = tally.summary.files;
      let written = 0;
      try {
        const writer = createReportWriter(out, options.format);
        if (progress === undefined) await writer.begin(header);
        const resume = {
          followSymlinks: options.followSymlinks,
          accessTimes,
          ignorable,
          ...(progress !== undefined && {
            firsts: progress.firsts,
            ...(progress.lastPath !== undefined && { after: progress.lastPath }),
          }),
        };
        const records = scanFiles(paths, pool, matcher, tally, resume)[Symbol.asyncIterator]();
        // Records this run wrote: what an interruption reports. Not the tally, which counts a record when the scan
        // produces it: one produced after the signal won the race below is counted there but never written.
        for (;;) {
          // A signal stops the scan between records: the one being written is finished (never half a line), and no
          // record is waited for after it.
          const next = await interruption.race(records.next());
          if (next === undefined || next.done === true) break;
          const record = next.value;
          await writer.record(record);
          written++;
          clusters?.add(record, 1 + startFiles + written); // the header is line 1
          if (audit !== undefined) auditRecord(audit, record, auditLists);
          display?.tick();
          if (interruption.signal !== undefined) break;
        }
        if (interruption.signal === undefined && clusters !== undefined && header.cluster !== undefined) {
          // The members' paths are read back from the report: what was written must be on disk first.
          await new Promise<void>((done, fail) => out.write("", (error) => (error ? fail(error) : done())));
          const section = await clusters.finish({ settings: header.cluster, report: options.out as string, ...seal });
          // Stopped while grouping: no section, no summary (--resume groups again). Stopped while it is written:
          // the section has no summary after it, and --resume cuts it off.
          if (interruption.signal === undefined) await writer.clusters(section.lines, section.seal);
        }
        if (interruption.signal === undefined) {
          await writer.end(tally.finish(accessTimes.report()));
        }
      } finally {
        audit?.close();
        progress?.firsts.close(); // the spill file of the first copies read back (a new scan's closes with the scan)
        // Interrupted: the pool is not waited for (its files in flight are not reported); it ends with this process.
        if (interruption.signal === undefined) {
          await pool.close();
          await closeScanIgnorables(ignorable);
        }
        if (out !== process.stdout)
          await new Promise<void>((done, fail) => out.end((error?: Error | null) => (error ? fail(error) : done())));
        else await new Promise<void>((done) => out.write("", () => done()));
      }
      if (interruption.signal !== undefined) {
        display?.clear();
        interruption.leave(stoppedMessage(options, startFiles + written, written));
      }
      if (options.out !== undefined) {
        await writeReportIntegrity(options.out, seal);
        // The report went to a file, so stdout is free for the summary as JSON (for scripts and case notes).
        process.stdout.write(JSON.stringify(tally.summary) + "\n");
      }
      display?.done();
      throw new CommandExit(tally.summary.error > 0 ? EXIT_CODES.INPUT_FAILED : EXIT_CODES.OK);
    }),
  );
}

/**
 * The first SIGINT or SIGTERM of a scan: the scan finishes the record it is writing, flushes the report, says what
 * was written and how to finish it, and exits 128 + the signal's number (130, 143). A second signal leaves at once.
 */
export class Interruption {
  signal: NodeJS.Signals | undefined;
  // Who waits for the first signal now: one waiter a record at most. (Racing each record against one promise that
  // settles at the signal would leave a reaction on it per record, each holding its record: about 1 KB a file for
  // the whole scan.)
  readonly #waiting = new Set<() => void>();
  readonly #onSignal = (signal: NodeJS.Signals) => {
    if (this.signal !== undefined) {
      process.stderr.write(`\nphmatch scan: second ${signal}: leaving now; a torn last line is cut off by --resume\n`);
      process.exit(exitCodeOf(signal));
    }
    this.signal = signal;
    for (const wake of this.#waiting) wake();
    this.#waiting.clear();
  };

  /** `next`'s value, or undefined as soon as a signal came (at once if one came before). */
  race<T>(next: Promise<T>): Promise<T | undefined> {
    if (this.signal !== undefined) return Promise.resolve(undefined);
    return new Promise<T | undefined>((settle, fail) => {
      const wake = () => settle(undefined);
      this.#waiting.add(wake);
      next.then(
        (value) => {
          this.#waiting.delete(wake);
          settle(value);
        },
        (error: unknown) => {
          this.#waiting.delete(wake);
          fail(error);
        },
      );
    });
  }

  /** From now on a signal stops the scan this way (a distributed scan's coordinator keeps the default). */
  arm(): void {
    process.on("SIGINT", this.#onSignal);
    process.on("SIGTERM", this.#onSignal);
  }

  /** Says why the scan stopped and exits with the signal's code. */
  leave(what: string): never {
    const signal = this.signal as NodeJS.Signals;
    process.stderr.write(`phmatch scan: ${signal}: ${what}\n`);
    process.exit(exitCodeOf(signal));
  }

  dispose(): void {
    process.off("SIGINT", this.#onSignal);
    process.off("SIGTERM", this.#onSignal);
  }
}

// The scan action with its Interruption, whose handlers are removed however the action ends.
function interruptible(
  action: (paths: string[], options: ScanOptions, interruption: Interruption) => Promise<void>,
): (paths: string[], options: ScanOptions) => Promise<void> {
  return async (paths, options) => {
    const interruption = new Interruption();
    try {
      await action(paths, options, interruption);
    } finally {
      interruption.dispose();
    }
  };
}

function exitCodeOf(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 0);
}

// What an interrupted scan left, and the command that finishes it: the same command line with --resume.
function stoppedMessage(options: ScanOptions, records: number, thisRun: number): string {
  const where = options.out ?? "standard output";
  const written =
    `stopped after the record in progress: ${records} records are in ` +
    `${where}${records !== thisRun ? ` (${thisRun} written by this run)` : ""}, with no summary yet`;
  if (options.out === undefined)
    return `${written}; a report on standard output cannot be resumed: run the scan again with -o FILE`;
  if (options.format !== "ndjson")
    return (
      `${written} ` +
      `(${options.format === "vics" ? "the VICS JSON is unfinished" : "the CSV has no end marker: it is incomplete"}` +
      "); " +
      "only NDJSON reports can be resumed: run the scan again with -o and a new file"
    );
  const args = process.argv.slice(2);
  if (!args.includes("--resume")) args.push("--resume");
  return `${written}; finish it with:\n  phmatch ${args.map(shellQuote).join(" ")}`;
}

function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

// A distributed scan's coordinator: the same lists, algorithms and header as a local scan, written as the plan
// every worker follows; the report is written by phmatch report collect.
async function enqueue(paths: string[], options: ScanOptions): Promise<void> {
  if (options.queue === undefined || !options.enqueue)
    throw new PhmatchError("PHM_USAGE", "a distributed scan needs both --queue <url> and --enqueue");
  for (const [flag, given] of [
    ["--out", options.out],
    ["--resume", options.resume || undefined],
    ["--sign", options.sign],
    ["--audit-log", options.auditLog],
    ["--jobs", options.jobs],
  ] as const) {
    if (given !== undefined)
      throw new PhmatchError(
        "PHM_USAGE",
        `${flag} does not apply to --enqueue: the report is written (and signed) by phmatch report collect, ` +
          "hashing threads are set on each phmatch worker",
      );
  }
  if (options.format !== "ndjson") throw new PhmatchError("PHM_USAGE", "a distributed scan's report is NDJSON");
  if (options.manifest === undefined && paths.length === 0)
    throw new PhmatchError("PHM_USAGE", "scan --enqueue needs paths to walk, or --manifest");
  if (options.manifest !== undefined && paths.length > 0)
    throw new PhmatchError("PHM_USAGE", "give paths or --manifest, not both");
  const address = parseQueueUrl(options.queue);
  const scan = checkScanName(options.scan);
  const state = deploymentState(options, "scan --enqueue");
  const sets = await loadHashSets(options, state);
  const matcher = new Matcher(sets);
  const algorithms = clusterAlgorithms(scanAlgorithms(sets, options.algorithms), options.cluster);
  matcher.requireMatchable(algorithms);
  const policies = algorithms.map((a) => matcher.policies.get(a)?.id).filter((id): id is string => id !== undefined);
  const inputs = options.manifest !== undefined ? [`manifest:${options.manifest}`] : paths;
  // The lists are opened for the header only (their SHA-256s bind the workers); each worker reads its own copies.
  const ignorable = await openScanIgnorables(options.ignorable ?? []);
  await closeScanIgnorables(ignorable);
  const walk = scanWalkHeader({
    followSymlinks: options.followSymlinks,
    restoreAtimes: options.restoreAtimes,
    manifest: options.manifest !== undefined,
  });
  const header = scanHeader({
    inputs,
    sets,
    algorithms,
    policies,
    walk,
    rollbackState: { kind: "state-dir", dir: state.dir },
    ignorable: ignorable.map((i) => i.list),
    ...(options.case !== undefined && { case: options.case }),
    ...(options.examiner !== undefined && { examiner: options.examiner }),
  });
  // phmatch report collect writes the cluster section from the records, as a local scan does.
  if (options.cluster) header.cluster = defaultClusterSettings();
  const plan = {
    header,
    lists: listReleases(sets),
    hash: {
      algorithms,
      trim: options.trim,
      rotations: options.rotations,
      parts: options.parts && partsCanMatch(sets),
      video: planVideo(options),
    },
    batchSize: options.batchSize,
  };
  const { enqueueScan } = await import("../queue/coordinator.js"); // not at the top: see program.ts
  const result = await enqueueScan({
    address,
    scan,
    plan,
    inputs: paths,
    ...(options.manifest !== undefined && { manifest: options.manifest }),
    followSymlinks: options.followSymlinks,
    restoreAtimes: options.restoreAtimes,
    maxQueued: options.maxQueued,
    wait: options.wait,
    quiet: options.quiet,
  });
  process.stdout.write(
    JSON.stringify({
      scan: result.scan,
      files: result.files,
      batches: result.batches,
      done: result.state.done,
      restartedBatches: result.state.restarted,
      splitBatches: result.state.split,
      deadLetters: result.state.dead,
    }) + "\n",
  );
}

// The video part of a distributed scan's plan: limits and frame rate of hashing, never this machine's FFmpeg paths.
function planVideo(options: ScanOptions): PlanVideo {
  const {
    ffmpegPath: _ffmpeg,
    ffprobePath: _ffprobe,
    videoTimeoutSeconds: _timeout,
    ...video
  } = videoOptionsOf(options, options.fileTimeout);
  return { ...video, secondsPerHash: options.secondsPerHash };
}

// One file's decision in the audit log: hashes and matched entries only for matches (the log is kept beside
// the report, which holds everything). A symbolic link recorded as such is no decision: it is in the report only;
// nor is a file set aside as ignorable (not matched: the report names the list that says so).
function auditRecord(audit: AuditLog, record: ScanFileRecord, lists: { listId: string; version: number }[]): void {
  if (record.status === "symlink" || record.status === "ignorable") return;
  const result = decide({
    path: record.path,
    status: record.status,
    matches: record.matches,
    checked: [],
    ...(record.error !== undefined && { error: record.error }),
  });
  audit.record({
    source: "scan",
    path: record.path,
    decision: result.decision,
    reasonCode: result.reason_code,
    lists,
    matches: record.matches,
    ...(result.decision === "match" && { hashes: record.hashes ?? {} }),
    ...(record.error !== undefined && { errorCode: record.error.code }),
  });
}

// --cluster reads the members' paths back from the report when the walk is done, and seals the section's NDJSON
// lines: it needs a report file in NDJSON.
function refuseClusterWithout(options: ScanOptions): void {
  if (!options.cluster) return;
  if (options.out === undefined)
    throw new PhmatchError(
      "PHM_USAGE",
      "--cluster needs -o FILE: the cluster section names its members' paths, read back from the report file " +
        "at the end (no path is kept in memory per image)",
    );
  if (options.format !== "ndjson")
    throw new PhmatchError(
      "PHM_USAGE",
      `--cluster needs --format ndjson: a ${options.format} report has no place for the sealed cluster section`,
    );
}

// Clustering needs PDQ and pHash (for pictures whose PDQ quality is low) of every image, whatever the lists hold.
function clusterAlgorithms(algorithms: string[], cluster: boolean): string[] {
  return cluster ? [...new Set(["pdq", "phash", ...algorithms])] : algorithms;
}

// A report is resumed only by the scan that started it: same inputs, same lists and releases, the same walk (links
// recorded or followed, paths escaped alike, access times watched alike), so its records continue as they began.
function refuseDifferentScan(started: ScanHeader, now: ScanHeader): void {
  const lists = (h: ScanHeader) => JSON.stringify(h.lists.map((l) => [l.listId, l.version, l.storeSha256]));
  // First: --cluster also adds algorithms, so this is the difference to name.
  if (JSON.stringify(started.cluster) !== JSON.stringify(now.cluster)) {
    const said = (h: ScanHeader) =>
      h.cluster === undefined ? "no --cluster" : `--cluster ${JSON.stringify(h.cluster)}`;
    throw new PhmatchError(
      "PHM_USAGE",
      `--resume must group as the scan that wrote the report did (it ran with ${said(started)}, this run with ` +
        `${said(now)}): use the same --cluster setting, or start a new report`,
    );
  }
  if (
    JSON.stringify(started.inputs) !== JSON.stringify(now.inputs) ||
    lists(started) !== lists(now) ||
    JSON.stringify(started.algorithms) !== JSON.stringify(now.algorithms)
  ) {
    throw new PhmatchError(
      "PHM_USAGE",
      "--resume must name the same paths, lists and algorithms as the scan that wrote the report",
    );
  }
  if (!sameIgnorableLists(started.ignorable, now.ignorable)) {
    const named = (h: ScanHeader) =>
      h.ignorable?.map((l) => `${l.name} (${l.sha256.slice(0, 12)})`).join(", ") || "none";
    throw new PhmatchError(
      "PHM_USAGE",
      `--resume must set files aside with the same --ignorable lists (names and contents) as the scan that wrote ` +
        `the report: it used ${named(started)}, this run ${named(now)}`,
    );
  }
  if (JSON.stringify(started.walk) !== JSON.stringify(now.walk)) {
    const walk =
      started.walk === undefined ? "none, an earlier phmatch version" : `symbolic links ${started.walk.symlinks}`;
    throw new PhmatchError(
      "PHM_USAGE",
      `--resume must walk as the scan that wrote the report did (its header's walk: ${walk}): ` +
        "use the same --follow-symlinks and --restore-atimes, or start a new report",
    );
  }
}

// The evidence is never written to: a report path inside a scanned directory is refused.
function refuseInsideTree(out: string, paths: string[]): void {
  const target = resolve(out);
  for (const p of paths) {
    const rel = relative(resolve(p), target);
    if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))) {
      throw new PhmatchError(
        "PHM_USAGE",
        `the report ${out} would be written inside the scanned path ${p}; write it elsewhere (phmatch never ` +
          "writes to the scanned tree)",
      );
    }
  }
}

// Progress on stderr: on a terminal one line redrawn five times a second, otherwise a plain line every five
// seconds. The ETA comes from counting the inputs' files alongside (directory reads only, no file is opened).
class ProgressDisplay {
  readonly #started = Date.now();
  readonly #startFiles: number;
  readonly #tty = process.stderr.isTTY === true;
  #last = 0;
  #total: number | undefined;

  constructor(
    readonly tally: ScanTally,
    paths: string[],
    readonly followSymlinks: boolean,
    accessTimes: AccessTimeWatch,
  ) {
    this.#startFiles = tally.summary.files;
    void (async () => {
      let n = 0;
      for await (const _ of walkEntries(paths, { followSymlinks: this.followSymlinks, accessTimes })) n++;
      this.#total = n;
    })().catch(() => undefined);
  }

  /** Clears a redrawn progress line before other words go to stderr. */
  clear(): void {
    if (this.#tty) process.stderr.write("\r\x1b[K");
  }

  tick(): void {
    const now = Date.now();
    if (now - this.#last < (this.#tty ? 200 : 5000)) return;
    this.#last = now;
    process.stderr.write(this.#tty ? `\r\x1b[K${this.#line()}` : `${this.#line()}\n`);
  }

  done(): void {
    process.stderr.write(`${this.#tty ? "\r\x1b[K" : ""}phmatch scan done: ${this.#line(true)}\n`);
  }

  #line(final = false): string {
    const s = this.tally.summary;
    const seconds = Math.max(0.001, (Date.now() - this.#started) / 1000);
    const rate = (s.files - this.#startFiles) / seconds;
    const left = this.#total === undefined ? undefined : Math.max(0, this.#total - s.files);
    const eta = final || left === undefined || rate <= 0 ? "" : `, ETA ${formatSeconds(left / rate)}`;
    const of = this.#total === undefined ? "" : ` of ${this.#total}`;
    return (
      `${s.files}${of} files (${rate.toFixed(1)}/s): ${s.known} known, ${s.unseen} unseen, ${s.low_quality} ` +
      `low quality, ${s.error} errors${s.symlink > 0 ? `, ${s.symlink} links` : ""}` +
      `${s.ignorable > 0 ? `, ${s.ignorable} ignorable` : ""}${eta}`
    );
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

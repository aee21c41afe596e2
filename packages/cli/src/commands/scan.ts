import { createWriteStream, existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, relative, resolve, isAbsolute } from "node:path";
import type { Writable } from "node:stream";
import { Command, Option } from "commander";
import { AuditLog, Matcher, PhmatchError, ScanTally, decide, SupervisedHashPool, csvCell, readFileOnce, readScanProgress, scanAlgorithms, scanFiles, scanHeader, signStore, walkInputs, type ScanFileRecord, type ScanHeader } from "@phmatch/core";
import { EXIT_CODES, setCommandExitCode } from "../exit-codes.js";
import { writeLine } from "../output.js";
import { parseAlgorithms, parsePositiveInt } from "../parse.js";
import { deploymentState, loadHashSets, readText, runState, withHashsetOption, withStateOptions, withTrustOptions, type StateOptions, type TrustOptions } from "./hashset/options.js";
import { parseQueueUrl } from "../queue/connection.js";
import { enqueueScan } from "../queue/coordinator.js";
import { DEFAULT_BATCH_SIZE, DEFAULT_SCAN_NAME, checkScanName, listReleases } from "../queue/scan-queue.js";

interface ScanOptions extends TrustOptions, StateOptions {
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
}

/** `phmatch scan`: every file under the inputs accounted for, read-only, in one report. */
export function scanCommand(): Command {
  return withStateOptions(withTrustOptions(
    withHashsetOption(new Command("scan"))
      .description("scan files and directories (read-only) against hash lists; one report line per file, with a header and a summary")
      .argument("[paths...]", "files and directories to scan (walked recursively; symlinks not followed)")
      .option("-a, --algorithms <ids>", "algorithms to compute (default: those the lists hold; sha256 always)", parseAlgorithms)
      .option("-o, --out <file>", "write the report here (and its SHA-256 beside it); default stdout")
      .addOption(new Option("-f, --format <format>", "report format: ndjson (resumable), csv, or vics (the known files as Project VIC VICS JSON)").choices(["ndjson", "csv", "vics"]).default("ndjson"))
      .option("-j, --jobs <n>", "worker threads (default: available cores)", parsePositiveInt)
      .option("--file-timeout <seconds>", "per-file time limit; a file over it is retried once, then reported PHM_WORKER_TIMEOUT", parsePositiveInt, 120)
      .option("--memory-limit <MiB>", "worker process memory limit; a file that takes it over is retried once, then reported PHM_WORKER_MEMORY (default: half the machine)", parsePositiveInt)
      .option("--case <id>", "case identifier, recorded in the report header")
      .option("--examiner <name>", "examiner, recorded in the report header")
      .option("-q, --quiet", "no progress lines on stderr", false)
      .option("--resume", "finish an interrupted scan: append to --out after its last complete record (every file reported once)", false)
      .option("--follow-symlinks", "follow symbolic links inside directories (loops are detected and not re-entered)", false)
      .option("--sign <key>", "sign the finished report with this Ed25519 private key (PEM): <report>.sig, checked by phmatch report verify")
      .option("--no-rotations", "do not also match the image turned back by small angles (+-2 to 8 degrees: 5-degree rotations)")
      .option("--no-parts", "do not also match the top, bottom, left and right 60% of the image (logos and captions over one region)")
      .option("--no-trim", "do not also match the content inside uniform borders (letterboxing, frames, screenshot padding)")
      .option("--audit-log <file>", "also append each file's decision to this hash-chained audit log (as serve does)")
      .option("--audit-key <file>", "Ed25519 private key (PEM) that signs the audit log's checkpoints")
      .option("--queue <url>", "distributed scan: the Redis queue, redis://HOST:PORT/N (with --enqueue; phmatch worker consumes, phmatch report collect writes the report)")
      .option("--enqueue", "with --queue: walk the paths (or read --manifest) and enqueue batches of paths for workers, then show progress", false)
      .option("--manifest <file>", "with --enqueue: read the paths to scan from this file, one a line, instead of walking")
      .option("--scan <name>", "with --queue: name of the distributed scan (several can share a database)", DEFAULT_SCAN_NAME)
      .option("--batch-size <n>", "with --enqueue: files per queued job", parsePositiveInt, DEFAULT_BATCH_SIZE)
      .option("--max-queued <n>", "with --enqueue: batches waiting in the queue above which the walk pauses (bounds Redis memory)", parsePositiveInt, 4096)
      .option("--no-wait", "with --enqueue: return once everything is queued instead of showing progress until the scan is done")
      .addHelpText("after", "\nExample:\n  phmatch scan /mnt/evidence --hashset pvic.phs --trusted-keys keys.pem --case 2026-117 --examiner 'J. Doe' -o case-117.ndjson\n  phmatch scan /mnt/evidence --hashset pvic.phs --queue redis://10.0.0.5:6379/0 --enqueue --case 2026-117 --state-dir /var/lib/phmatch\n"),
  ), "the rollback state folder (or PHMATCH_STATE_DIR); without it, a scan with -o keeps its state with the case, in .phmatch-state beside the report, and one to stdout has none (said on stderr and in the header); required with --enqueue").action(async (paths: string[], options: ScanOptions) => {
    if (options.queue !== undefined || options.enqueue) return enqueue(paths, options);
    if (options.manifest !== undefined) throw new PhmatchError("PHM_USAGE", "--manifest is for a distributed scan (--queue ... --enqueue)");
    if (paths.length === 0) throw new PhmatchError("PHM_USAGE", "scan needs at least one path");
    if (options.out !== undefined) refuseInsideTree(options.out, paths);
    if (options.auditLog !== undefined) refuseInsideTree(options.auditLog, paths);
    if (options.resume && options.out === undefined) throw new PhmatchError("PHM_USAGE", "--resume needs --out: the report is what is resumed");
    if (options.sign !== undefined && options.out === undefined) throw new PhmatchError("PHM_USAGE", "--sign needs --out: the report file is what is signed");
    const signingKey = options.sign === undefined ? undefined : readText(options.sign, "--sign");
    if (options.out !== undefined && existsSync(options.out) && !options.resume) {
      throw new PhmatchError("PHM_USAGE", `${options.out} exists: use --resume to finish that scan, or write a new report`);
    }
    const rollback = runState(options, "scan", options.out);
    const sets = await loadHashSets(options, rollback.state);
    const matcher = new Matcher(sets);
    const algorithms = scanAlgorithms(sets, options.algorithms);
    const policies = algorithms.map((a) => matcher.policies.get(a)?.id).filter((id): id is string => id !== undefined);
    const header = scanHeader({ inputs: paths, sets, algorithms, policies, rollbackState: rollback.header, ...(options.case !== undefined && { case: options.case }), ...(options.examiner !== undefined && { examiner: options.examiner }) });
    const resuming = options.resume && options.out !== undefined && existsSync(options.out);
    const progress = resuming ? await readScanProgress(options.out as string) : undefined;
    if (progress !== undefined) {
      refuseDifferentScan(progress.header, header);
      if (progress.complete) {
        await writeChecksum(options.out as string, signingKey);
        process.stderr.write(`${options.out} is already complete (${progress.tally.summary.files} files); its SHA-256 is beside it\n`);
        setCommandExitCode(progress.tally.summary.error > 0 ? EXIT_CODES.INPUT_FAILED : EXIT_CODES.OK);
        return;
      }
      if (options.format !== "ndjson") throw new PhmatchError("PHM_USAGE", "only NDJSON reports can be resumed");
    }
    // The audit log first: one refused (cut back behind its head) leaves no report file behind.
    const audit = options.auditLog === undefined ? undefined : AuditLog.open(options.auditLog, { ...(rollback.state !== undefined && { state: rollback.state }), ...(options.auditKey !== undefined && { signingKeyPem: readText(options.auditKey, "--audit-key") }) });
    const out: Writable = options.out !== undefined ? createWriteStream(options.out, { flags: resuming ? "a" : "wx" }) : process.stdout;
    const auditLists = header.lists.map((l) => ({ listId: l.listId, version: l.version }));
    const pool = new SupervisedHashPool({
      jobs: options.jobs,
      hashOptions: { algorithms, dihedral: algorithms.includes("pdq"), trim: options.trim, rotations: options.rotations, parts: options.parts },
      fileTimeoutMs: options.fileTimeout * 1000,
      ...(options.memoryLimit !== undefined && { memoryLimitBytes: options.memoryLimit * 1024 * 1024 }),
    });
    const tally = progress?.tally ?? new ScanTally();
    const display = options.quiet ? undefined : new ProgressDisplay(tally, paths, options.followSymlinks);
    try {
      const vics = new VicsWriter(out);
      if (progress === undefined) {
        if (options.format === "ndjson") await writeLine(out, JSON.stringify(header));
        else if (options.format === "csv") await writeLine(out, CSV_COLUMNS.join(","));
        else await vics.begin();
      }
      const resume = {
        followSymlinks: options.followSymlinks,
        ...(progress !== undefined && { firsts: progress.firsts, ...(progress.lastPath !== undefined && { after: progress.lastPath }) }),
      };
      for await (const record of scanFiles(paths, pool, matcher, tally, resume)) {
        if (options.format === "ndjson") await writeLine(out, JSON.stringify(record));
        else if (options.format === "csv") await writeLine(out, csvLine(record));
        else await vics.add(record);
        if (audit !== undefined) auditRecord(audit, record, auditLists);
        display?.tick();
      }
      const summary = tally.finish();
      if (options.format === "ndjson") await writeLine(out, JSON.stringify(summary));
      if (options.format === "vics") await vics.end();
    } finally {
      audit?.close();
      await pool.close();
      if (out !== process.stdout) await new Promise<void>((done, fail) => out.end((error?: Error | null) => (error ? fail(error) : done())));
    }
    if (options.out !== undefined) {
      await writeChecksum(options.out, signingKey);
      // The report went to a file, so stdout is free for the summary as JSON (for scripts and case notes).
      process.stdout.write(JSON.stringify(tally.summary) + "\n");
    }
    display?.done();
    setCommandExitCode(tally.summary.error > 0 ? EXIT_CODES.INPUT_FAILED : EXIT_CODES.OK);
  });
}

// A distributed scan's coordinator: the same lists, algorithms and header as a local scan, written as the plan
// every worker follows; the report is written by phmatch report collect.
async function enqueue(paths: string[], options: ScanOptions): Promise<void> {
  if (options.queue === undefined || !options.enqueue) throw new PhmatchError("PHM_USAGE", "a distributed scan needs both --queue <url> and --enqueue");
  for (const [flag, given] of [["--out", options.out], ["--resume", options.resume || undefined], ["--sign", options.sign], ["--audit-log", options.auditLog], ["--jobs", options.jobs]] as const) {
    if (given !== undefined) throw new PhmatchError("PHM_USAGE", `${flag} does not apply to --enqueue: the report is written (and signed) by phmatch report collect, hashing threads are set on each phmatch worker`);
  }
  if (options.format !== "ndjson") throw new PhmatchError("PHM_USAGE", "a distributed scan's report is NDJSON");
  if (options.manifest === undefined && paths.length === 0) throw new PhmatchError("PHM_USAGE", "scan --enqueue needs paths to walk, or --manifest");
  if (options.manifest !== undefined && paths.length > 0) throw new PhmatchError("PHM_USAGE", "give paths or --manifest, not both");
  const address = parseQueueUrl(options.queue);
  const scan = checkScanName(options.scan);
  const state = deploymentState(options, "scan --enqueue");
  const sets = await loadHashSets(options, state);
  const matcher = new Matcher(sets);
  const algorithms = scanAlgorithms(sets, options.algorithms);
  const policies = algorithms.map((a) => matcher.policies.get(a)?.id).filter((id): id is string => id !== undefined);
  const inputs = options.manifest !== undefined ? [`manifest:${options.manifest}`] : paths;
  const header = scanHeader({ inputs, sets, algorithms, policies, rollbackState: { kind: "state-dir", dir: state.dir }, ...(options.case !== undefined && { case: options.case }), ...(options.examiner !== undefined && { examiner: options.examiner }) });
  const plan = { header, lists: listReleases(sets), hash: { algorithms, trim: options.trim, rotations: options.rotations, parts: options.parts }, batchSize: options.batchSize };
  const result = await enqueueScan({ address, scan, plan, inputs: paths, ...(options.manifest !== undefined && { manifest: options.manifest }), followSymlinks: options.followSymlinks, maxQueued: options.maxQueued, wait: options.wait, quiet: options.quiet });
  process.stdout.write(JSON.stringify({ scan: result.scan, files: result.files, batches: result.batches, done: result.state.done, restartedBatches: result.state.restarted, splitBatches: result.state.split, deadLetters: result.state.dead }) + "\n");
}

// Report integrity: the report's SHA-256 beside it (sha256sum format), so an examiner can show it is unaltered.
// One file's decision in the audit log: hashes and matched entries only for matches (the log is kept beside
// the report, which holds everything).
function auditRecord(audit: AuditLog, record: ScanFileRecord, lists: { listId: string; version: number }[]): void {
  const result = decide({ path: record.path, status: record.status, matches: record.matches, checked: [], ...(record.error !== undefined && { error: record.error }) });
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

// With a key, also a detached Ed25519 signature over the report's bytes, so alteration is attributable.
/** Writes a report's .sha256 beside it, and its .sig with a key (also used by phmatch report collect). */
export async function writeChecksum(report: string, signingKey?: string): Promise<void> {
  const { digests } = await readFileOnce(report, { digests: ["sha256"], keepBytes: false });
  writeFileSync(`${report}.sha256`, `${digests.sha256 as string}  ${basename(report)}\n`);
  if (signingKey !== undefined) writeFileSync(`${report}.sig`, signStore(readFileSync(report), signingKey));
}

// A report is resumed only by the scan that started it: same inputs, same lists and releases.
function refuseDifferentScan(started: ScanHeader, now: ScanHeader): void {
  const lists = (h: ScanHeader) => JSON.stringify(h.lists.map((l) => [l.listId, l.version, l.storeSha256]));
  if (JSON.stringify(started.inputs) !== JSON.stringify(now.inputs) || lists(started) !== lists(now) || JSON.stringify(started.algorithms) !== JSON.stringify(now.algorithms)) {
    throw new PhmatchError("PHM_USAGE", "--resume must name the same paths, lists and algorithms as the scan that wrote the report");
  }
}

// The evidence is never written to: a report path inside a scanned directory is refused.
function refuseInsideTree(out: string, paths: string[]): void {
  const target = resolve(out);
  for (const p of paths) {
    const rel = relative(resolve(p), target);
    if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))) {
      throw new PhmatchError("PHM_USAGE", `the report ${out} would be written inside the scanned path ${p}; write it elsewhere (phmatch never writes to the scanned tree)`);
    }
  }
}

// Project VIC VICS JSON for Griffeye, IPED or Autopsy: the known files as Media objects, written as they come.
// Category is the matched entry's category when it is a number (Project VIC's 0-4 scale); other category
// names (UK A/B/C, NCMEC A1...) go to Tags with the list, so nothing is recoded by guesswork.
const VICS_HASH_NAMES = new Set(["md5", "sha1", "sha256", "pdq"]);

class VicsWriter {
  #count = 0;

  constructor(readonly out: Writable) {}

  async begin(): Promise<void> {
    await writeLine(this.out, '{"value":[');
  }

  async add(record: ScanFileRecord): Promise<void> {
    if (record.status !== "known") return;
    const hits = record.matches.filter((m) => m.override === undefined);
    const numeric = hits.map((m) => m.category).find((c) => c !== undefined && /^\d+$/.test(c));
    const media: Record<string, unknown> = {
      MediaID: ++this.#count,
      ...(numeric !== undefined && { Category: Number(numeric) }),
      ...(record.hashes?.md5 !== undefined && { MD5: record.hashes.md5.toUpperCase() }),
      ...(record.hashes?.sha1 !== undefined && { SHA1: record.hashes.sha1.toUpperCase() }),
      ...(record.size !== undefined && { MediaSize: record.size }),
      RelativeFilePath: record.path,
      FileName: basename(record.path),
      Tags: [...new Set(hits.map((m) => `phmatch:${m.list}@${m.listVersion}${m.category !== undefined ? `:${m.category}` : ""}`))].join(","),
      // Only hash types VICS defines; perceptual hashes phmatch computed for matching stay in phmatch's report.
      Hashes: Object.entries(record.hashes ?? {})
        .filter(([name]) => VICS_HASH_NAMES.has(name))
        .map(([name, value]) => ({ HashName: name.toUpperCase(), HashValue: value })),
    };
    await writeLine(this.out, (this.#count > 1 ? "," : "") + JSON.stringify(media));
  }

  async end(): Promise<void> {
    await writeLine(this.out, "]}");
  }
}

const CSV_COLUMNS = ["path", "size", "sha256", "status", "lists", "categories", "best_algorithm", "best_distance", "error"];

function csvLine(r: ScanFileRecord): string {
  const hits = r.matches.filter((m) => m.override === undefined);
  const best = [...hits].sort((a, b) => a.distance - b.distance)[0];
  const cells = [r.path, String(r.size ?? ""), r.hashes?.sha256 ?? "", r.status, [...new Set(hits.map((m) => `${m.list}@${m.listVersion}`))].join(";"), [...new Set(hits.map((m) => m.category ?? ""))].filter((c) => c !== "").join(";"), best?.algorithm ?? "", best === undefined ? "" : String(best.distance), r.error?.code ?? ""];
  return cells.map(csvCell).join(",");
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
  ) {
    this.#startFiles = tally.summary.files;
    void (async () => {
      let n = 0;
      for await (const _ of walkInputs(paths, { followSymlinks: this.followSymlinks })) n++;
      this.#total = n;
    })().catch(() => undefined);
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
    return `${s.files}${of} files (${rate.toFixed(1)}/s): ${s.known} known, ${s.unseen} unseen, ${s.low_quality} low quality, ${s.error} errors${eta}`;
  }
}

function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

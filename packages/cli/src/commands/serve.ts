import { createPublicKey } from "node:crypto";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { AuditLog, type LoadOptions, PhmatchError, SupervisedHashPool } from "@phmatch/core";
import {
  DEFAULT_CHECK_MAX_BYTES,
  DEFAULT_CHECK_MAX_PIXELS,
  DEFAULT_REJECT_THRESHOLD,
  FeedbackState,
  keyId,
} from "@phmatch/core/internal";
import { Command, InvalidArgumentError } from "commander";
import type { FastifyInstance } from "fastify";
import { parseIndex, parsePositiveInt } from "../parse.js";
import { DEFAULT_DECODE_BUDGET_SECONDS, DecodeBudget } from "../serve/budgets.js";
import { TrustedProxies } from "../serve/client-address.js";
import { DEFAULT_MAX_CONNECTIONS_PER_IP, DEFAULT_REQUEST_TIMEOUT_MS } from "../serve/connections.js";
import { GateFeedback } from "../serve/feedback.js";
import { OnMatchHook } from "../serve/hook.js";
import { DEFAULT_JOURNAL_DAYS, journalKey, RecordJournal } from "../serve/journal.js";
import { ListHolder } from "../serve/lists.js";
import { GateMetrics } from "../serve/metrics.js";
import { runRetroactive } from "../serve/retroactive.js";
import { TokenAuth } from "../serve/tokens.js";
import { type VideoCommandOptions, videoOptionsOf, withVideoOptions } from "../video-options.js";
import {
  deploymentState,
  loadOptions,
  readText,
  type StateOptions,
  type TrustOptions,
  withHashsetOption,
  withQueryViewOptions,
  withStateOptions,
  withTrustOptions,
} from "./hashset/options.js";

interface ServeOptions extends TrustOptions, StateOptions, VideoCommandOptions {
  rotations: boolean;
  parts: boolean;
  hashset: string[];
  host: string;
  port: number;
  tokens?: string;
  auth: boolean;
  maxBytes: number;
  maxConcurrent: number;
  timeoutMs: number;
  videoTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnectionsPerIp: number;
  maxPixels?: number;
  decodeBudget: number;
  trustedProxies?: string;
  auditLog?: string;
  auditKey?: string;
  onMatchUrl?: string;
  onMatchCommand?: string;
  watch: boolean;
  threads: number;
  memoryLimit?: number;
  trim: boolean;
  allowListChange: boolean;
  feedbackDir?: string;
  rejectThreshold: number;
  quarantineClients?: number;
  quarantineWindow?: number;
  autoOverride?: string;
  recordJournal?: string;
  recordJournalKey?: string;
  recordJournalDays: number;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/**
 * A video upload's time in its worker thread (--video-timeout-ms): a minute of decoding and hashing; images keep
 * --timeout-ms.
 */
const DEFAULT_VIDEO_TIMEOUT_MS = 60_000;

/** `phmatch serve`: the upload gate, a stateless HTTP service that checks uploads in memory. */
export function serveCommand(): Command {
  return withStateOptions(
    withTrustOptions(
      withVideoOptions(withQueryViewOptions(withHashsetOption(new Command("serve"))), "--max-bytes")
        .description(
          "run the upload gate: POST /v1/check (an image or a video) and /v1/match (hashes) answer match / " +
            "no_match / low_quality / error",
        )
        .option("--host <address>", "address to listen on", "127.0.0.1")
        .option("--port <n>", "port (0: any free port, printed on stderr)", (v) => Number(v), 8080)
        .option(
          "--tokens <file>",
          "bearer tokens, JSON " +
            '{"tokens":[{"name","token"|"sha256","detail":"full"|"decision","ratePerMinute","matchAlgorithms"}]} ' +
            "(or PHMATCH_TOKENS)",
        )
        .option("--no-auth", "answer without tokens (only on a loopback address)")
        .option(
          "--max-bytes <n>",
          `largest upload in bytes; 413 above (default ${DEFAULT_CHECK_MAX_BYTES})`,
          parsePositiveInt,
          DEFAULT_CHECK_MAX_BYTES,
        )
        .option(
          "--max-concurrent <n>",
          "checks answered at once; more wait their turn, fairly between clients, up to --timeout-ms (503 + " +
            "Retry-After past that, or past as many waiting per client)",
          parsePositiveInt,
          Math.max(2, cpus().length * 2),
        )
        .option(
          "--timeout-ms <n>",
          "time an upload may wait for a worker thread (503 TIMEOUT + Retry-After), and then hash in it (422 " +
            "PHM_WORKER_TIMEOUT: too costly, not retried)",
          parsePositiveInt,
          10_000,
        )
        .option(
          "--video-timeout-ms <n>",
          "time a video upload may hash in its worker thread, instead of --timeout-ms (422 PHM_WORKER_TIMEOUT " +
            "after it; the decode budget charges it like any upload)",
          parsePositiveInt,
          DEFAULT_VIDEO_TIMEOUT_MS,
        )
        .option(
          "--request-timeout-ms <n>",
          "time for a whole request (headers and body) to arrive; 408 after it (raise it for large uploads " +
            "over slow links)",
          parsePositiveInt,
          DEFAULT_REQUEST_TIMEOUT_MS,
        )
        .option(
          "--max-connections-per-ip <n>",
          "connections one client address (IPv6: /64) may hold open, more are closed; 0: no limit (behind a " +
            "reverse proxy)",
          parseIndex,
          DEFAULT_MAX_CONNECTIONS_PER_IP,
        )
        .option(
          "--threads <n>",
          "hashing threads, in the worker process (default: available cores)",
          parsePositiveInt,
          availableParallelism(),
        )
        .option(
          "--memory-limit <MiB>",
          "worker process memory limit; an upload that takes it over gets PHM_WORKER_MEMORY (default: half " +
            "the machine)",
          parsePositiveInt,
        )
        .option(
          "--max-pixels <n>",
          "pixels an upload may declare: JPEG and WebP over it are hashed at reduced size, other formats " +
            `refused from the header, 422 PHM_DECODE_TOO_MANY_PIXELS (default ${DEFAULT_CHECK_MAX_PIXELS})`,
          parsePositiveInt,
        )
        .option(
          "--decode-budget <seconds>",
          "worker seconds a minute one token and one client address may spend beyond each upload's first; 429 " +
            "DECODE_BUDGET + Retry-After once spent; 0: none",
          parseIndex,
          DEFAULT_DECODE_BUDGET_SECONDS,
        )
        .option(
          "--trusted-proxies <cidr,...>",
          "proxies whose X-Forwarded-For names the client (for budgets and the audit log); default none: the " +
            "peer is the client",
        )
        .option("--audit-log <file>", "append every answer (decisions and refusals) to this hash-chained NDJSON log")
        .option("--audit-key <file>", "Ed25519 private key (PEM) that signs the audit log's checkpoints")
        .option("--on-match-url <url>", "POST each match result (never the media) here, with retries")
        .option(
          "--on-match-command <cmd>",
          "run this shell command with each match result as JSON on stdin, with retries",
        )
        .option("--no-watch", "do not reload when a list file changes (SIGHUP still reloads)")
        .option(
          "--allow-list-change",
          "let a reload stop serving a list id (another list put in a list file's place); refused by default",
          false,
        )
        // Issue 21 part 2: reviewers' verdicts (POST /v1/feedback), proposals and quarantine.
        .option(
          "--feedback-dir <dir>",
          "where verdicts, proposals and held entries are kept (default <state-dir>/feedback)",
        )
        .option(
          "--reject-threshold <n>",
          "distinct reviewer tokens whose rejections of one entry propose a disable override and hold the entry",
          parsePositiveInt,
          DEFAULT_REJECT_THRESHOLD,
        )
        .option(
          "--quarantine-clients <n>",
          "hold an entry matched by more than n distinct clients (token and address) within --quarantine-window; " +
            "off unless set",
          parsePositiveInt,
        )
        .option("--quarantine-window <duration>", "the window of --quarantine-clients: 90s, 30m, 6h, 2d", parseWindow)
        .option(
          "--auto-override <key.pem>",
          "sign proposals into the overrides file at once with this overrides key (off by default: review them " +
            "with phmatch feedback proposals, apply with phmatch feedback apply)",
        )
        // Record journal (issue 21): accepted uploads kept, encrypted, for retroactive matching.
        .option(
          "--record-journal <dir>",
          "keep the hash records of accepted uploads (no_match, low_quality) that carry an X-Content-Id here, " +
            "encrypted, for phmatch rematch; GET /v1/journal (full tokens) reads them",
        )
        .option(
          "--record-journal-key <file>",
          "the journal's AES-256 key, 64 hex digits or base64 (or PHMATCH_JOURNAL_KEY); required with " +
            "--record-journal",
        )
        .option(
          "--record-journal-days <n>",
          "days the journal keeps records; older files are deleted at start and every hour",
          parsePositiveInt,
          DEFAULT_JOURNAL_DAYS,
        ),
    ),
    "the rollback state folder of this gate deployment, shared by its replicas (required; or " +
      "PHMATCH_STATE_DIR): highest list and overrides releases, audit log heads",
  )
    .addHelpText(
      "after",
      "\nExample:\n  phmatch serve --hashset lists/hotline.phs --trusted-keys hotline.pub --tokens " +
        "tokens.json --state-dir /var/lib/phmatch --audit-log /var/log/phmatch/decisions.ndjson --audit-key " +
        "gate.pem\n  curl -H 'Authorization: Bearer ...' --data-binary @upload.jpg -H 'Content-Type: " +
        "image/jpeg' http://127.0.0.1:8080/v1/check\n\nVideos (MP4/MOV, MKV/WebM, AVI, sent as " +
        "application/octet-stream, video/* or a multipart file) are\nmatched as vPDQ, decoded by FFmpeg in the " +
        "worker process within --video-timeout-ms and the --max-video-* limits.\n",
    )
    .action(async (options: ServeOptions) => {
      const state = deploymentState(options, "serve");
      loadOptions(options); // trusted keys and list key checked before anything starts
      // The journal's key is checked before anything starts too: a journal is never written in the clear.
      const journalKeyBytes = options.recordJournal === undefined ? undefined : journalKey(options.recordJournalKey);
      const tokensJson =
        options.tokens !== undefined ? readText(options.tokens, "--tokens") : process.env.PHMATCH_TOKENS;
      let auth: TokenAuth | undefined;
      if (!options.auth) {
        if (!LOOPBACK.has(options.host))
          throw new PhmatchError("PHM_USAGE", `--no-auth is allowed only on a loopback address, not ${options.host}`);
        if (tokensJson !== undefined && tokensJson.trim() !== "")
          throw new PhmatchError("PHM_USAGE", "--no-auth and --tokens together: choose one");
      } else {
        if (tokensJson === undefined || tokensJson.trim() === "")
          throw new PhmatchError(
            "PHM_USAGE",
            "serve needs --tokens (or PHMATCH_TOKENS), or --no-auth on a loopback address",
          );
        auth = new TokenAuth(tokensJson, options.tokens ?? "PHMATCH_TOKENS");
      }
      if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
        throw new PhmatchError("PHM_USAGE", `--port takes 0-65535, got ${options.port}`);
      // One byte limit for the body and the video in it: the body is refused (413) before it is read above
      // --max-bytes, so a video limit above it could never be reached, and one below it refuses a video (422
      // PHM_VIDEO_LIMIT) before FFmpeg sees it.
      if (options.maxVideoBytes !== undefined && options.maxVideoBytes > options.maxBytes)
        throw new PhmatchError(
          "PHM_USAGE",
          `--max-video-bytes ${options.maxVideoBytes} is over --max-bytes ${options.maxBytes}, the largest body the ` +
            "gate reads: raise --max-bytes too",
        );
      const video = videoOptionsOf(
        { ...options, maxVideoBytes: options.maxVideoBytes ?? options.maxBytes },
        Math.ceil(options.videoTimeoutMs / 1000),
      );
      const trustedProxies =
        options.trustedProxies === undefined ? undefined : new TrustedProxies(options.trustedProxies);
      const budget =
        options.decodeBudget === 0 ? undefined : new DecodeBudget({ secondsPerMinute: options.decodeBudget });
      // Uploads are hashed on worker threads in a supervised child process (held in memory, sent over IPC), so
      // every core works and a decoder crash or out-of-memory costs a worker restart, not the gate. An upload
      // still hashing --timeout-ms after a thread started it is killed with the worker and answered
      // PHM_WORKER_TIMEOUT, not retried: it would run out the time again, at everyone's cost (the others in
      // flight are retried).
      const pool = new SupervisedHashPool({
        jobs: options.threads,
        fileTimeoutMs: options.timeoutMs,
        retryTimedOut: false,
        ...(options.memoryLimit !== undefined && { memoryLimitBytes: options.memoryLimit * 1024 * 1024 }),
      });
      const hook =
        options.onMatchUrl === undefined && options.onMatchCommand === undefined
          ? undefined
          : new OnMatchHook({
              ...(options.onMatchUrl !== undefined && { url: options.onMatchUrl }),
              ...(options.onMatchCommand !== undefined && { command: options.onMatchCommand }),
            });
      const metrics = new GateMetrics({ workers: () => pool.stats });
      const autoOverrideKeyPem =
        options.autoOverride === undefined ? undefined : readText(options.autoOverride, "--auto-override");
      if (autoOverrideKeyPem !== undefined) checkAutoOverrideKey(autoOverrideKeyPem, loadOptions(options));
      if ((options.quarantineClients === undefined) !== (options.quarantineWindow === undefined))
        throw new PhmatchError("PHM_USAGE", "--quarantine-clients and --quarantine-window go together: give both");
      const lists = new ListHolder(
        options.hashset,
        () => ({ ...loadOptions(options), versionState: state, allowRollback: options.allowRollback === true }),
        {
          pool,
          trim: options.trim,
          rotations: options.rotations,
          parts: options.parts,
          maxBytes: options.maxBytes,
          hash: { ...(options.maxPixels !== undefined && { maxPixels: options.maxPixels }), video },
        },
        {
          allowListChange: options.allowListChange,
          // With a journal, what a reload added is matched against it in a low-priority child process; hits go out
          // through the hook, marked retroactive. The swap is never held up by it.
          onSwap: (before, after) => {
            if (journal === undefined || journalKeyBytes === undefined || options.recordJournal === undefined) return;
            const listKeyBytes = loadOptions(options).key;
            void runRetroactive({
              before: before.sets,
              after: after.sets,
              journal: { writer: journal, dir: options.recordJournal, key: journalKeyBytes },
              ...(listKeyBytes !== undefined && { listKey: listKeyBytes }),
              ...(hook !== undefined && { hook }),
              ...(audit !== undefined && { audit }),
            });
          },
        },
      );
      // Until the gate listens, a failure (a list that fails verification, an audit log refused because it was cut
      // back behind the head kept in the state, a port taken) ends the command with its error and exit code, as
      // scan does: nothing may keep the process alive, so the worker process starts only once the lists are
      // loaded, and is stopped again on the way out.
      let audit: AuditLog | undefined;
      let journal: RecordJournal | undefined;
      let app: FastifyInstance | undefined;
      let address: string;
      try {
        await lists.load();
        audit =
          options.auditLog === undefined
            ? undefined
            : AuditLog.open(options.auditLog, {
                state,
                ...(options.auditKey !== undefined && { signingKeyPem: readText(options.auditKey, "--audit-key") }),
              });
        const feedback = new GateFeedback({
          state: new FeedbackState(options.feedbackDir ?? join(state.dir, "feedback")),
          rejectThreshold: options.rejectThreshold,
          ...(options.quarantineClients !== undefined && { quarantineClients: options.quarantineClients }),
          ...(options.quarantineWindow !== undefined && { quarantineWindowMs: options.quarantineWindow }),
          ...(autoOverrideKeyPem !== undefined && { autoOverrideKeyPem, onOverride: () => void lists.reload() }),
          ...(audit && { audit }),
          ...(hook && { hook }),
        });
        if (options.recordJournal !== undefined && journalKeyBytes !== undefined)
          journal = new RecordJournal({
            dir: options.recordJournal,
            key: journalKeyBytes,
            days: options.recordJournalDays,
          });
        pool.start();
        const { createGate } = await import("../serve/server.js"); // not at the top: see program.ts
        app = await createGate({
          lists,
          auth,
          maxBytes: options.maxBytes,
          maxConcurrent: options.maxConcurrent,
          timeoutMs: options.timeoutMs,
          requestTimeoutMs: options.requestTimeoutMs,
          maxConnectionsPerIp: options.maxConnectionsPerIp,
          metrics,
          threads: options.threads,
          ...(budget && { budget }),
          ...(trustedProxies && { trustedProxies }),
          ...(audit && { audit }),
          ...(hook && { hook }),
          feedback,
          ...(journal &&
            journalKeyBytes && {
              journal: { writer: journal, dir: options.recordJournal as string, key: journalKeyBytes },
            }),
        });
        address = await app.listen({ host: options.host, port: options.port }).catch((error: NodeJS.ErrnoException) => {
          throw new PhmatchError(
            "PHM_USAGE",
            `cannot listen on ${options.host} port ${options.port}: ${error.code ?? error.message}; choose ` +
              "another --host or --port",
          );
        });
      } catch (error) {
        await app?.close();
        await pool.close();
        audit?.close();
        journal?.close();
        throw error;
      }
      // Overrides made about another release than the one loaded are not applied (fail closed): said at each load.
      const warnNotApplied = () => {
        for (const s of lists.current?.sets ?? [])
          for (const why of s.overridesNotApplied ?? []) process.stderr.write(`phmatch serve: warning: ${why}\n`);
      };
      warnNotApplied();
      const describe = () => lists.current?.checker.lists.map((l) => `${l.listId} v${l.version}`).join(", ") ?? "";
      const onReload = (result: Awaited<ReturnType<ListHolder["reload"]>>) => {
        metrics.reload(result.ok);
        if (result.ok && result.changed) warnNotApplied();
        if (result.ok)
          process.stderr.write(
            result.changed ? `phmatch serve: lists reloaded: ${describe()}\n` : "phmatch serve: lists unchanged\n",
          );
        else
          process.stderr.write(
            `phmatch serve: reload refused, still serving ${describe()}: ${result.error.code}: ` +
              `${result.error.message}\n`,
          );
      };
      if (options.watch) lists.watch(onReload);
      const onHup = () => void lists.reload().then(onReload);
      process.on("SIGHUP", onHup);
      // The stop handlers first, then the line that says the gate is up: a supervisor may send SIGTERM as soon as
      // it reads that line, and a signal before its handler would end the gate without closing the audit log.
      const stopped = new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGTERM", stop);
          process.off("SIGINT", stop);
          process.off("SIGHUP", onHup);
          lists.close();
          void app
            .close()
            .then(() => hook?.drain())
            .then(() => pool.close())
            .then(() => {
              journal?.close();
              if (audit !== undefined) {
                audit.close();
                process.stderr.write(
                  `phmatch serve: audit log closed, head ${audit.head} (keep it: phmatch audit verify --head)\n`,
                );
              }
              resolve();
            });
        };
        process.on("SIGTERM", stop);
        process.on("SIGINT", stop);
      });
      process.stderr.write(
        `phmatch serve: listening on ${address} with ` +
          `${describe()}${auth === undefined ? " (no auth, loopback only)" : ""}\n`,
      );
      await stopped;
    });
}

// A window: a number and a unit (s, m, h, d), in ms.
function parseWindow(value: string): number {
  const m = /^\s*(\d+)\s*(s|m|h|d)\s*$/i.exec(value);
  const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  const ms = m === null ? Number.NaN : Number(m[1]) * (units[(m[2] as string).toLowerCase()] as number);
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw new InvalidArgumentError(`--quarantine-window takes a duration such as 90s, 30m, 6h or 2d, not ${value}`);
  return ms;
}

// --auto-override signs overrides the gate must then load: the key must be an overrides key (never a list key), and
// under list keys one the gate trusts for overrides, or the reload after the first proposal would refuse the lists.
function checkAutoOverrideKey(pem: string, load: LoadOptions): void {
  let id: string;
  try {
    id = keyId(createPublicKey(pem));
  } catch (error) {
    throw new PhmatchError(
      "PHM_USAGE",
      `--auto-override: not an Ed25519 private key (PEM): ${(error as Error).message}`,
    );
  }
  if ((load.trustedKeys ?? []).some((k) => keyId(k) === id))
    throw new PhmatchError(
      "PHM_USAGE",
      `--auto-override key ${id} is a list key (--trusted-keys): use an overrides key`,
    );
  if (load.trustedKeys !== undefined && !(load.trustedOverrideKeys ?? []).some((k) => keyId(k) === id))
    throw new PhmatchError(
      "PHM_USAGE",
      `--auto-override key ${id} is not among --trusted-override-keys: the overrides it signs would be refused; ` +
        "add its public key there",
    );
}

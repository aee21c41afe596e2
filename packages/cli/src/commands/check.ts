import {
  type CheckResult,
  checkerFor,
  DEFAULT_MAX_PIXELS,
  type MatchResult,
  PhmatchError,
  SupervisedHashPool,
} from "@phmatch/core";
import { DEFAULT_MAX_FILE_BYTES } from "@phmatch/core/internal";
import { Command } from "commander";
import { CommandExit } from "../exit-codes.js";
import { ISOLATE_HELP, inProcessAllowed } from "../in-process.js";
import { cliMessage } from "../output.js";
import { parseCombined, parsePositiveInt } from "../parse.js";
import { type VideoCommandOptions, videoOptionsOf, withVideoOptions } from "../video-options.js";
import {
  loadHashSets,
  runState,
  type StateOptions,
  type TrustOptions,
  withHashsetOption,
  withQueryViewOptions,
  withStateOptions,
  withTrustOptions,
} from "./hashset/options.js";

/** Exit codes of `phmatch check`, like grep's: 0 no match, 1 match, 2 error (of any kind). */
export const CHECK_EXIT = { NO_MATCH: 0, MATCH: 1, ERROR: 2 } as const;

interface CheckOptions extends TrustOptions, StateOptions, VideoCommandOptions {
  rotations: boolean;
  parts: boolean;
  combined?: { pdq: number; phash16: number };
  hashset: string[];
  json: boolean;
  trim: boolean;
  maxFileBytes?: number;
  fileTimeout: number;
  memoryLimit?: number;
  isolate: boolean;
}

/** `phmatch check`: one file (or stdin) against lists, for upload pipelines. */
export function checkCommand(): Command {
  return withStateOptions(
    withTrustOptions(
      withVideoOptions(withQueryViewOptions(withHashsetOption(new Command("check"))))
        .description(
          "check one file (or - for stdin) against hash lists; exit 0 no match, 1 match, 2 error (like grep)",
        )
        .argument("<file>", "the image or video file, or - to read it from stdin (held in memory only)")
        .option("--json", "print the full match result as JSON", false)
        .option(
          "--combined <pdq,phash16>",
          "opt in to the combined policy: PDQ and the 256-bit pHash of one entry both within these distances " +
            "(e.g. 64,64)",
          parseCombined,
        )
        .option("--max-file-bytes <n>", "refuse larger input (default 536870912)", parsePositiveInt)
        .option("--file-timeout <seconds>", "time limit for hashing the file", parsePositiveInt, 120)
        .option(
          "--memory-limit <MiB>",
          "memory limit of the worker process that decodes it (default: half the machine)",
          parsePositiveInt,
        )
        .option("--isolate", ISOLATE_HELP, false),
    ),
  )
    .addHelpText(
      "after",
      "\nExample:\n  phmatch check upload.jpg --hashset list.phs --trusted-keys keys.pem && echo accept || " +
        "echo refuse-or-review\n\nVideos (MP4/MOV, MKV/WebM, AVI) are matched as vPDQ (their frames against the " +
        "listed videos' and images'),\ndecoded by FFmpeg in the worker process: install it with apt-get install " +
        "ffmpeg.\n",
    )
    .action(async (file: string, options: CheckOptions) => {
      // Every failure, usage or list verification included, is exit 2 here: a pipeline reads 1 as "refuse".
      try {
        const sets = await loadHashSets(options, runState(options, "check").state);
        // One small image is decoded here (an upload pipeline runs check once per upload: the worker process's
        // start-up would be most of its time); a decoder crash then ends check with a signal, which is not 0, so
        // not "accept". Anything else (stdin, a large file, --isolate, --memory-limit) is hashed in a supervised
        // worker process, as scan and serve do: a decoder crash, a hang or an image that takes the worker over
        // --memory-limit is exit 2 with its code (PHM_WORKER_*).
        const pool =
          file !== "-" && (await inProcessAllowed(file, options))
            ? undefined
            : new SupervisedHashPool({
                jobs: 1,
                fileTimeoutMs: options.fileTimeout * 1000,
                ...(options.memoryLimit !== undefined && { memoryLimitBytes: options.memoryLimit * 1024 * 1024 }),
              });
        let checked: CheckResult;
        try {
          // The operator's own file: the limits of hash and scan (not a gate's, which takes files from anyone).
          const checker = checkerFor(sets, {
            ...(pool !== undefined && { pool }),
            maxBytes: options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES,
            hash: {
              maxPixels: DEFAULT_MAX_PIXELS,
              oversize: "refuse",
              ...(pool === undefined && { decodeTimeoutSeconds: options.fileTimeout }),
              video: videoOptionsOf(options, options.fileTimeout),
            },
            trim: options.trim,
            rotations: options.rotations,
            parts: options.parts,
            // One query (tens of needles) per process: one flat pass over each list costs less than building its
            // multi-index, which pays off only over many queries (serve, scan); docs/benchmarks.md, the start-up
            // rows. The answers are the same: both are exact.
            matcher: { index: "flat", ...(options.combined !== undefined && { combined: options.combined }) },
          });
          checked = file === "-" ? await checker.check(process.stdin, { name: "-" }) : await checker.checkFile(file);
        } finally {
          await pool?.close();
        }
        const { decision, reason_code: _reason, ...result } = checked;
        process.stdout.write(options.json ? JSON.stringify(result) + "\n" : summaryLine(result));
        const { MATCH, ERROR, NO_MATCH } = CHECK_EXIT;
        throw new CommandExit(decision === "match" ? MATCH : decision === "error" ? ERROR : NO_MATCH);
      } catch (error) {
        if (error instanceof CommandExit) throw error;
        const e =
          error instanceof PhmatchError
            ? error
            : new PhmatchError("PHM_INTERNAL", error instanceof Error ? error.message : String(error));
        process.stderr.write(`phmatch check: ${e.code}: ${cliMessage(e)}\n`);
        throw new CommandExit(CHECK_EXIT.ERROR);
      }
    });
}

// A video hit's shares (of the query's and the listed video's kept frames), or the second a listed image shows at.
function videoPart(m: MatchResult["matches"][number]): string {
  if (m.video !== undefined)
    return `${m.video.queryPercent.toFixed(2)}% of this video, ${m.video.targetPercent.toFixed(2)}% of the listed, `;
  return m.timestamp !== undefined ? `at ${m.timestamp} s, ` : "";
}

/** "known: matches list X (version), category Y, ..." or the status with its notes: never a verdict about a person. */
function summaryLine(result: MatchResult): string {
  if (result.status === "known") {
    const hits = result.matches
      .filter((m) => m.override === undefined)
      .map(
        (m) =>
          `list ${m.list} ` +
          `v${m.listVersion}${m.category !== undefined ? `, category ${m.category}` : ""}` +
          `${m.entryId !== undefined ? `, entry ${m.entryId}` : ""} ` +
          `(${m.algorithm} distance ` +
          `${m.distance}${m.variant !== undefined && m.variant !== "original" ? `, ${m.variant}` : ""}, ` +
          `${videoPart(m)}${m.policy})`,
      );
    return `${result.path}: known: matches ${hits.join("; ")}\n`;
  }
  const why =
    result.error !== undefined
      ? ` (${result.error.code})`
      : result.notes !== undefined
        ? ` (${result.notes.join("; ")})`
        : "";
  return `${result.path}: ${result.status}${why}\n`;
}

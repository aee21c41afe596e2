import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import {
  type HashRecord,
  hasherSpec,
  type IndexKind,
  Matcher,
  type MatchResult,
  PhmatchError,
  SUPPORTED_ALGORITHMS,
} from "@phmatch/core";
import { videoFramesReadable } from "@phmatch/core/internal";
import { Command, Option } from "commander";
import { CommandExit, EXIT_CODES } from "../exit-codes.js";
import { writeLine } from "../output.js";
import { parseCombined, parseVideoShare } from "../parse.js";
import {
  loadHashSets,
  runState,
  type StateOptions,
  type TrustOptions,
  withHashsetOption,
  withStateOptions,
  withTrustOptions,
} from "./hashset/options.js";

interface MatchCommandOptions extends TrustOptions, StateOptions {
  combined?: { pdq: number; phash16: number };
  hashset: string[];
  maxDistance?: Record<string, number>;
  minQuality?: number;
  index?: IndexKind;
  videoShare?: { minTargetPercent: number; minQueryPercent: number };
}

/** `phmatch match`: hash records (NDJSON, as `phmatch hash` prints) in, one match result per record out. */
export function matchCommand(): Command {
  return withStateOptions(
    withTrustOptions(
      withHashsetOption(new Command("match"))
        .description(
          "match hash records (NDJSON from phmatch hash, stdin or files) against hash lists; one result per line",
        )
        .addHelpText(
          "after",
          "\nExamples:\n  phmatch hash --dihedral -a pdq,md5 ./media | phmatch match --hashset list.phs " +
            "--trusted-keys keys.pem\n" +
            "  phmatch hash clip.mp4 | phmatch match --hashset videos.phs --video-share 80,0\n",
        )
        .argument("[inputs...]", "NDJSON files of hash records (default: stdin)")
        .option("--max-distance <alg=n,...>", "change a policy's distance, e.g. pdq=24,phash=6", parseDistances)
        .option("--min-quality <n>", "change PDQ's quality floor (default 50)", (v) => Number(v))
        .addOption(
          new Option("--index <kind>", "force an index kind (default: chosen per algorithm)").choices([
            "flat",
            "mih",
            "bktree",
          ]),
        )
        .option(
          "--combined <pdq,phash16>",
          "opt in to the combined policy: PDQ and the 256-bit pHash of one entry both within these distances " +
            "(e.g. 64,64)",
          parseCombined,
        )
        .option(
          "--video-share <listed,query>",
          "a video matches a listed video when these shares (percent) of the listed video's and the query's " +
            "frames match (default 80,0)",
          parseVideoShare,
        ),
    ),
  ).action(async (inputs: string[], options: MatchCommandOptions) => {
    const sets = await loadHashSets(options, runState(options, "match").state);
    const policies: Record<string, { maxDistance?: number; minQuality?: number }> = {};
    for (const [algorithm, maxDistance] of Object.entries(options.maxDistance ?? {}))
      policies[algorithm] = { maxDistance };
    if (options.minQuality !== undefined) policies.pdq = { ...policies.pdq, minQuality: options.minQuality };
    const matcher = new Matcher(sets, {
      policies,
      ...(options.index !== undefined && { index: options.index }),
      ...(options.combined !== undefined && { combined: options.combined }),
      ...(options.videoShare !== undefined && { video: options.videoShare }),
    });
    matcher.requireMatchable(SUPPORTED_ALGORITHMS);
    let invalid = 0;
    const sources =
      inputs.length === 0
        ? [{ name: "stdin", stream: process.stdin }]
        : inputs.map((f) => ({ name: f, stream: createReadStream(f) }));
    for (const source of sources) {
      let line = 0;
      for await (const text of createInterface({ input: source.stream, crlfDelay: Infinity })) {
        line++;
        if (text.trim() === "") continue;
        const record = parseRecord(text);
        let result: MatchResult;
        if (record === undefined) {
          invalid++;
          const message = `${source.name}:${line}: not a phmatch hash record`;
          result = {
            path: `${source.name}:${line}`,
            status: "error",
            matches: [],
            checked: [],
            error: new PhmatchError("PHM_MATCH_INPUT", message).toJSON(),
          };
        } else {
          result = matcher.match(record);
        }
        await writeLine(process.stdout, JSON.stringify(result));
      }
    }
    throw new CommandExit(invalid > 0 ? EXIT_CODES.INPUT_FAILED : EXIT_CODES.OK);
  });
}

function parseRecord(text: string): HashRecord | undefined {
  try {
    const value = JSON.parse(text) as HashRecord;
    if (typeof value !== "object" || value === null || typeof value.path !== "string") return undefined;
    if (
      value.hashes !== undefined &&
      (typeof value.hashes !== "object" ||
        Object.values(value.hashes).some((h) => typeof h !== "string" || !/^[0-9a-f]+$/i.test(h)))
    )
      return undefined;
    if (value.video !== undefined && !videoFramesReadable(value.video)) return undefined;
    return value;
  } catch {
    return undefined;
  }
}

function parseDistances(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of text.split(",")) {
    const [algorithm = "", n = ""] = pair.split("=").map((s) => s.trim());
    if (hasherSpec(algorithm) === undefined || !/^\d+$/.test(n))
      throw new PhmatchError("PHM_USAGE", `--max-distance takes alg=n pairs, got "${pair}"`);
    out[algorithm] = Number(n);
  }
  return out;
}

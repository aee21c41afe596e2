import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import {
  type FilePath,
  type HashMode,
  type HashOptions,
  type HashRecord,
  hashFile,
  isFailedRecord,
  PhmatchError,
  SUPPORTED_ALGORITHMS,
  SupervisedHashPool,
  walkInputs,
} from "@phmatch/core";
import { buildHashOptions, formatVpdqText, hexToBytes, PDQ, PDQ_DIHEDRAL_VARIANTS } from "@phmatch/core/internal";
import { Command, Option } from "commander";
import { CommandExit, EXIT_CODES } from "../exit-codes.js";
import { ISOLATE_HELP, inProcessAllowed } from "../in-process.js";
import { cliText, writeLine } from "../output.js";
import { parseAlgorithms, parsePositiveInt } from "../parse.js";
import { type VideoCommandOptions, videoOptionsOf, withVideoOptions } from "../video-options.js";

interface HashCommandOptions extends VideoCommandOptions {
  rotations: boolean;
  parts: boolean;
  algorithms: string[];
  mode: HashMode;
  autoOrient: boolean;
  dihedral: boolean;
  trim: boolean;
  format: "ndjson" | "tsv" | "vpdq";
  jobs?: number;
  pathsFrom?: string;
  maxPixels?: number;
  maxFileBytes?: number;
  fileTimeout: number;
  memoryLimit?: number;
  isolate: boolean;
  quiet: boolean;
}

/** `phmatch hash`: one record per input file, in input order. */
export function hashCommand(): Command {
  return withVideoOptions(
    new Command("hash")
      .addHelpText(
        "after",
        "\nExamples:\n  phmatch hash --dihedral -a pdq,md5,sha1 ./photos > hashes.ndjson\n" +
          "  phmatch hash --format vpdq clip.mp4 > clip.vpdq.txt\n\n" +
          "Videos (MP4/MOV, MKV/WebM, AVI) get a vPDQ hash (`video` in the record: a PDQ hash per frame at\n" +
          "--seconds-per-hash), decoded by FFmpeg in the worker process: install it with apt-get install ffmpeg.\n",
      )
      .description("hash images and videos (files or directories) and print one record per file")
      .argument("[paths...]", "image or video files, or directories (walked recursively, symlinks not followed)")
      .option(
        "-a, --algorithms <ids>",
        `comma-separated algorithm ids, or "all": ${SUPPORTED_ALGORITHMS.join(", ")}`,
        parseAlgorithms,
        ["pdq"],
      )
      .addOption(
        new Option("-m, --mode <mode>", "exact: full resolution, the reference convention; fast: shrink on load first")
          .choices(["exact", "fast"])
          .default("exact"),
      )
      .option("--auto-orient", "apply the EXIF orientation before hashing (the reference does not)", false)
      .option("--no-auto-orient", "hash the pixels as stored (default)")
      .option("--dihedral", "also print PDQ's 8 dihedral variants (rotations and flips)", false)
      .option("--rotations", "also hash the image turned back by small angles (+-2 to 8 degrees), as rotated", false)
      .option(
        "--parts",
        "also hash the top, bottom, left and right 60% and 34% of the image and the image with each 2/3 corner " +
          "block masked, as parts",
        false,
      )
      .option(
        "--trim",
        "also hash the content inside uniform borders and caption bars (letterboxing, frames, memes), as trimmed",
        false,
      )
      .addOption(
        new Option(
          "-f, --format <format>",
          "output format; vpdq: the vPDQ reference's text format (frame,quality,hash,timestamp) of one video",
        )
          .choices(["ndjson", "tsv", "vpdq"])
          .default("ndjson"),
      ),
  )
    .option("-j, --jobs <n>", "worker threads (default: available cores)", parsePositiveInt)
    .option("--paths-from <file>", "read input paths from a file, one per line ('-' for stdin)")
    .option("--max-pixels <n>", "refuse images declaring more pixels than this (default 100000000)", parsePositiveInt)
    .option("--max-file-bytes <n>", "refuse files larger than this (default 536870912)", parsePositiveInt)
    .option("--file-timeout <seconds>", "per-file time limit", parsePositiveInt, 120)
    .option("--memory-limit <MiB>", "worker process memory limit (default: half the machine)", parsePositiveInt)
    .option("--isolate", ISOLATE_HELP, false)
    .option("-q, --quiet", "no summary on stderr", false)
    .action(async (paths: string[], options: HashCommandOptions) => {
      if (paths.length === 0 && options.pathsFrom === undefined) {
        throw new PhmatchError("PHM_USAGE", "no input: give paths or --paths-from");
      }
      if (options.format === "vpdq" && (paths.length !== 1 || options.pathsFrom !== undefined)) {
        throw new PhmatchError("PHM_USAGE", "--format vpdq writes the hash of one video: give exactly one file");
      }
      const video = videoOptionsOf(options, options.fileTimeout);
      const hashOptions = buildHashOptions({
        algorithms: options.algorithms,
        mode: options.mode,
        dihedral: options.dihedral,
        trim: options.trim,
        rotations: options.rotations,
        parts: options.parts,
        autoOrient: options.autoOrient,
        maxPixels: options.maxPixels,
        maxFileBytes: options.maxFileBytes,
        video,
      });
      const inputs =
        options.pathsFrom === undefined
          ? walkInputs(paths)
          : concat(readPathList(options.pathsFrom), walkInputs(paths));
      const single = options.pathsFrom === undefined && paths.length === 1 ? paths[0] : undefined;
      const pool =
        single !== undefined && (await inProcessAllowed(single, options))
          ? ownProcess({ ...hashOptions, decodeTimeoutSeconds: options.fileTimeout })
          : new SupervisedHashPool({
              jobs: options.jobs,
              hashOptions,
              fileTimeoutMs: options.fileTimeout * 1000,
              memoryLimitBytes: options.memoryLimit === undefined ? undefined : options.memoryLimit * 1024 * 1024,
            });
      const format =
        options.format === "tsv" ? tsvFormat(options) : options.format === "vpdq" ? vpdqFormat : ndjsonFormat;
      const failures = new Map<string, number>();
      let total = 0;
      try {
        if (format.header !== undefined) await writeLine(process.stdout, format.header);
        for await (const record of pool.hashAll(inputs)) {
          total++;
          if (isFailedRecord(record)) failures.set(record.error.code, (failures.get(record.error.code) ?? 0) + 1);
          const line = format.line(record);
          if (line !== undefined) await writeLine(process.stdout, line);
          else if (!isFailedRecord(record)) failures.set("not a video", (failures.get("not a video") ?? 0) + 1);
        }
      } finally {
        await pool.close();
      }
      const failed = [...failures.values()].reduce((a, b) => a + b, 0);
      if (!options.quiet) {
        const detail = [...failures].map(([code, n]) => `${code} ${n}`).join(", ");
        process.stderr.write(
          `phmatch hash: ${total - failed} of ${total} files ` +
            `hashed${failed > 0 ? `, ${failed} failed (${detail})` : ""}\n`,
        );
      }
      throw new CommandExit(failed > 0 ? EXIT_CODES.INPUT_FAILED : EXIT_CODES.OK);
    });
}

// Hashing on this thread, one file after another, behind the pool's interface.
function ownProcess(hashOptions: HashOptions): Pick<SupervisedHashPool, "hashAll" | "close"> {
  return {
    async *hashAll(inputs: AsyncIterable<FilePath> | Iterable<FilePath>) {
      for await (const input of inputs) yield await hashFile(input, hashOptions);
    },
    close: async () => undefined,
  };
}

interface RecordFormat {
  header?: string;
  /** The line(s) for a record, without the final newline; undefined writes nothing. */
  line(record: HashRecord): string | undefined;
}

// The vPDQ reference's text format of the one video asked for (formatVpdqText, byte-identical to vpdq-hash-video's
// files); a failed record or a file that is not a video writes nothing, and says why on stderr.
const vpdqFormat: RecordFormat = {
  line(record) {
    if (record.error !== undefined || record.video === undefined) {
      const why =
        record.error === undefined
          ? `${record.path} is not a video (MP4/MOV, MKV/WebM or AVI): --format vpdq writes video hashes only`
          : `${record.error.code}: ${cliText(record.error.message)}`;
      process.stderr.write(`phmatch hash: ${why}\n`);
      return undefined;
    }
    const frames = record.video.frames.map((f) => ({
      frame: f.frame,
      timestamp: f.timestamp,
      hash: { algorithm: PDQ as typeof PDQ, bytes: hexToBytes(f.pdq, 32), quality: f.quality },
    }));
    return formatVpdqText(frames).slice(0, -1);
  },
};

const ndjsonFormat: RecordFormat = { line: (record) => JSON.stringify(record) };

// Columns: path, then per algorithm its hex; PDQ has its quality first and, with --dihedral, its 8 variants in
// the reference order instead of one hash; then the error code (empty when everything was computed). With
// pdq alone and --dihedral this is the layout of the reference's dihedral TSVs plus the error column.
function tsvFormat(options: HashCommandOptions): RecordFormat {
  const columns: string[] = ["path"];
  const cells: ((record: HashRecord) => string)[] = [(record) => tsvCell(record.path)];
  for (const algorithm of options.algorithms) {
    if (algorithm === PDQ) {
      columns.push("pdq_quality");
      cells.push((record) => String(record.quality?.[PDQ] ?? ""));
    }
    if (algorithm === PDQ && options.dihedral) {
      PDQ_DIHEDRAL_VARIANTS.forEach((variant, i) => {
        columns.push(`pdq_${variant}`);
        cells.push((record) => record.dihedral?.[PDQ]?.[i] ?? "");
      });
    } else {
      columns.push(algorithm);
      cells.push((record) => record.hashes?.[algorithm] ?? "");
    }
  }
  columns.push("error");
  cells.push((record) => record.error?.code ?? "");
  return { header: columns.join("\t"), line: (record) => cells.map((cell) => cell(record)).join("\t") };
}

// Tabs and newlines in a file name would break the row: escape them as \t, \n, \\ .
function tsvCell(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => ({ "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" })[c] as string);
}

async function* readPathList(file: string): AsyncGenerator<FilePath> {
  const input = file === "-" ? process.stdin : createReadStream(file);
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (line.length > 0) yield* walkInputs([line]);
  }
}

async function* concat<T>(...sources: AsyncIterable<T>[]): AsyncGenerator<T> {
  for (const source of sources) yield* source;
}

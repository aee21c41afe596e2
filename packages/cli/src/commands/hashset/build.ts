import { statSync } from "node:fs";
import { posix } from "node:path";
import {
  type FilePath,
  HashSetBuilder,
  type HashSetEntry,
  hasherSpec,
  PHMATCH_VERSION,
  PhmatchError,
  parseHashValue,
  type StoreProvenance,
  SupervisedHashPool,
  walkInputs,
} from "@phmatch/core";
import {
  buildHashOptions,
  degenerateValue,
  type EntryFields,
  hexToBytes,
  listedVideoEntries,
  PDQ,
  PDQ_MIN_QUALITY,
  recordPath,
  type VideoHash,
  type VpdqFrame,
} from "@phmatch/core/internal";
import { Command } from "commander";
import { CommandExit, EXIT_CODES } from "../../exit-codes.js";
import { parseAlgorithms, parsePositiveInt } from "../../parse.js";
import { type VideoCommandOptions, videoOptionsOf, withVideoOptions } from "../../video-options.js";
import { writeStore } from "./write-store.js";

interface BuildOptions extends VideoCommandOptions {
  listId: string;
  listVersion: number;
  listName?: string;
  category?: string;
  algorithms: string[];
  output: string;
  jobs?: number;
  fileTimeout: number;
  encrypt: boolean;
  keyFile?: string;
  augment: boolean;
  root?: string;
  allowEmpty: boolean;
}

/** `phmatch hashset build`: hash images and videos (read only, never copied) into a store of a list you make. */
export function buildCommand(): Command {
  const command = new Command("build")
    .description("hash images and videos into a new .phs list (files are read, never copied)")
    .addHelpText(
      "after",
      "\nEntry ids are the images' paths relative to the build root (POSIX separators), never absolute: the deepest\n" +
        "directory holding every input, or --root. Featureless images (PDQ quality below 50) get no perceptual\n" +
        "entries, and degenerate values (the digests of an empty file, a flat image's hash) are never listed.\n" +
        "\nExample:\n  phmatch hashset build ./known --list-id unit-7 --category A --augment -o unit-7.phs\n",
    )
    .argument("<paths...>", "image or video files, or directories")
    .requiredOption("--list-id <id>", "the list's id")
    .option("--list-version <n>", "this release's version", parsePositiveInt, 1)
    .option("--list-name <name>", "the list's name")
    .option("--category <category>", "category given to every entry")
    .option(
      "-a, --algorithms <ids>",
      "algorithms to store (default pdq,phash16,md5,sha1: bench/robustness measured the 256-bit pHash adding " +
        "recall at no false positive)",
      parseAlgorithms,
      ["pdq", "phash16", "md5", "sha1"],
    )
    .requiredOption("-o, --output <file>", "the .phs store to write")
    .option("-j, --jobs <n>", "worker threads", parsePositiveInt)
    .option("--file-timeout <seconds>", "per-file time limit (a long video needs more)", parsePositiveInt, 120)
    .option(
      "--augment",
      "also store the hashes of sub-windows of each image (crops keeping 97, 94 and 90% of each side at the " +
        "corners, along the edges and inside, 85 and 80% at the centre; the left, right, top and bottom 88, 85, 82, " +
        "60 and 34%; the image with each 2/3 corner block masked; those of PDQ quality below 50 left out) as " +
        "variants of its entry, so crops taken anywhere, one-sided cuts and overlaid copies of it match",
      false,
    )
    .option(
      "--root <dir>",
      "the directory entry ids are relative to (default: the deepest directory holding every input)",
    )
    .option("--encrypt", "encrypt the store with --key-file or PHMATCH_LIST_KEY", false)
    .option("--key-file <file>", "key for --encrypt")
    .option("--allow-empty", "write the store even when no entry was taken (it then matches nothing)", false);
  return withVideoOptions(command).action(async (paths: string[], options: BuildOptions) => {
    const ids = new EntryIds(paths, options.root);
    const builder = new HashSetBuilder();
    builder.addList({
      listId: options.listId,
      version: options.listVersion,
      createdAt: new Date().toISOString(),
      ...(options.listName !== undefined && { name: options.listName }),
    });
    const stored = new Set(options.algorithms);
    const perceptual = options.algorithms.some((a) => hasherSpec(a)?.input === "pixels");
    // PDQ's quality says whether an image has features at all: it is computed whenever a perceptual hash is
    // stored, even when PDQ itself is not (and then not stored).
    const hashed = perceptual && !stored.has("pdq") ? [...options.algorithms, "pdq"] : options.algorithms;
    const pool = new SupervisedHashPool({
      jobs: options.jobs,
      fileTimeoutMs: options.fileTimeout * 1000,
      hashOptions: buildHashOptions({
        algorithms: hashed,
        augment: options.augment,
        dihedral: false,
        video: videoOptionsOf(options, options.fileTimeout),
      }),
    });
    const provenance: StoreProvenance = {
      step: "build",
      at: new Date().toISOString(),
      by: `phmatch ${PHMATCH_VERSION}`,
      lists: [options.listId],
      read: 0,
      taken: 0,
      withdrawals: 0,
      duplicate: 0,
      refused: {},
    };
    const refuse = (reason: string) => (provenance.refused[reason] = (provenance.refused[reason] ?? 0) + 1);
    let failed = 0;
    let featureless = 0;
    const failures = new Map<string, number>();
    const videos = { listed: 0, frames: 0 };
    const add = (
      path: string,
      algorithm: string,
      hex: string,
      entry: { entryId: string; fields?: EntryFields },
    ): void => {
      const parsed = parseHashValue(algorithm, hex);
      if (!parsed.ok) throw new PhmatchError("PHM_INTERNAL", `hash of ${path} did not parse: ${parsed.reason}`);
      if (degenerateValue(algorithm, parsed.value) !== undefined) {
        refuse("degenerate");
        return;
      }
      const fields = entry.fields !== undefined && Object.keys(entry.fields).length > 0 ? { fields: entry.fields } : {};
      if (
        builder.addEntry({
          algorithm,
          value: parsed.value,
          listId: options.listId,
          entryId: entry.entryId,
          ...fields,
          ...(options.category !== undefined && { category: options.category }),
        })
      )
        provenance.taken++;
      else provenance.duplicate++;
    };
    try {
      for await (const record of pool.hashAll(walkInputs(paths))) {
        provenance.read++;
        if (record.error !== undefined) {
          failed++;
          refuse("failed-files");
          failures.set(record.error.code, (failures.get(record.error.code) ?? 0) + 1);
          process.stderr.write(`${record.path}: ${record.error.code} ${record.error.message}\n`);
        }
        const id = ids.of(recordPath(record));
        const lowQuality = (record.quality?.pdq ?? PDQ_MIN_QUALITY) < PDQ_MIN_QUALITY;
        if (lowQuality) featureless++;
        for (const [algorithm, hex] of Object.entries(record.hashes ?? {})) {
          if (!stored.has(algorithm)) continue;
          if (lowQuality && hasherSpec(algorithm)?.input === "pixels") {
            refuse("low-quality");
            continue;
          }
          add(record.path, algorithm, hex, id);
        }
        if (record.video !== undefined && stored.has(PDQ)) {
          const listed = listVideo(record.video, { listId: options.listId, ...id, category: options.category });
          provenance.duplicate += listed.duplicate;
          for (let i = 0; i < listed.lowQuality; i++) refuse("low-quality");
          if (listed.entries.length === 0) {
            refuse("empty-video");
            process.stderr.write(`${record.path}: no frame of PDQ quality ${PDQ_MIN_QUALITY} or more: not listed\n`);
          } else videos.listed++;
          for (const entry of listed.entries) {
            if (builder.addEntry(entry)) {
              provenance.taken++;
              videos.frames++;
            } else provenance.duplicate++;
          }
        }
        // Sub-windows: perceptual hashes only, each an entry of the same id that says which window it covers.
        for (const window of record.windows ?? []) {
          for (const [algorithm, hex] of Object.entries(window.hashes)) {
            if (stored.has(algorithm))
              add(`${record.path} (${window.window})`, algorithm, hex, {
                entryId: id.entryId,
                fields: { ...id.fields, window: window.window },
              });
          }
        }
      }
    } finally {
      await pool.close();
    }
    builder.provenance.push(provenance);
    const left = [
      featureless > 0
        ? `${featureless} featureless (PDQ quality below ${PDQ_MIN_QUALITY}): their perceptual hashes left out`
        : "",
      provenance.refused.degenerate !== undefined
        ? `${provenance.refused.degenerate} degenerate values left out (an empty file's digests, a flat ` +
          "image's hashes)"
        : "",
    ].filter((s) => s !== "");
    const codes = [...failures].map(([code, n]) => `${code} ${n}`).join(", ");
    const listedVideos = videos.listed > 0 ? ` (${videos.listed} videos listed as ${videos.frames} frames)` : "";
    const line =
      `${provenance.read} files${listedVideos}, ${failed} failed${failed > 0 ? ` (${codes})` : ""}` +
      `${left.length > 0 ? `; ${left.join("; ")}` : ""}`;
    if (builder.entryCount === 0 && !options.allowEmpty) process.stderr.write(`${line}\n`);
    await writeStore(builder, options.output, options, ` from ${paths.join(", ")} (${line})`);
    process.stderr.write(`${line}; ${builder.entryCount} entries in ${options.output}\n`);
    throw new CommandExit(failed > 0 ? EXIT_CODES.INPUT_FAILED : EXIT_CODES.OK);
  });
}

/**
 * The store entries of a hashed video, through listedVideoEntries as every listed video is made: its frames of
 * quality >= 50, first of each hash, under the video's entry id; how many frames it left out, for the provenance.
 */
function listVideo(
  video: VideoHash,
  identity: { listId: string; entryId: string; fields?: EntryFields; category?: string | undefined },
): { entries: HashSetEntry[]; duplicate: number; lowQuality: number } {
  const frames: VpdqFrame[] = video.frames.map((f) => ({
    frame: f.frame,
    timestamp: f.timestamp,
    hash: { algorithm: PDQ, bytes: hexToBytes(f.pdq, 32), quality: f.quality },
  }));
  const { entries, dropped } = listedVideoEntries(
    {
      listId: identity.listId,
      entryId: identity.entryId,
      ...(identity.category !== undefined && { category: identity.category }),
      ...(identity.fields !== undefined && { fields: identity.fields }),
    },
    frames,
  );
  return { entries, ...dropped };
}

/**
 * Entry ids of a build: each image's path relative to the build root, with "/" between names, never absolute
 * (ids reach every client that sees a match, and a full path tells them about the machine that built the list).
 * The root is --root, or the deepest directory holding every input. Paths are worked on as bytes (latin1 strings
 * hold one byte per character), so a name that is not UTF-8 keeps its bytes: its id is the readable form
 * (invalid bytes as U+FFFD) and `fields.extra.pathBytes` the exact relative path in base64.
 */
class EntryIds {
  readonly #root: string;

  constructor(inputs: string[], root: string | undefined) {
    const absolute = inputs.map((input) => bytesPath(input));
    if (root !== undefined) {
      this.#root = bytesPath(root);
      const outside = inputs.find((_, i) => !inside(this.#root, absolute[i] as string));
      if (outside !== undefined)
        throw new PhmatchError(
          "PHM_USAGE",
          `${outside} is not inside --root ${root}: entry ids are paths relative to the root`,
        );
      return;
    }
    const dirs = absolute.map((path, i) => (isDirectory(inputs[i] as string) ? path : posix.dirname(path)));
    this.#root = dirs.reduce(commonAncestor);
  }

  of(path: FilePath): { entryId: string; fields?: EntryFields } {
    const absolute = bytesPath(path);
    const relative = posix.relative(this.#root, absolute) || posix.basename(absolute);
    const bytes = Buffer.from(relative, "latin1");
    const entryId = bytes.toString("utf8");
    if (Buffer.from(entryId, "utf8").equals(bytes)) return { entryId };
    return { entryId, fields: { extra: { pathBytes: bytes.toString("base64") } } };
  }
}

// A path as an absolute, normalised latin1 string of its bytes (so path functions work on names that are not UTF-8).
function bytesPath(path: FilePath): string {
  const bytes = typeof path === "string" ? Buffer.from(path, "utf8") : Buffer.from(path);
  return posix.resolve(Buffer.from(process.cwd(), "utf8").toString("latin1"), bytes.toString("latin1"));
}

function inside(root: string, path: string): boolean {
  const relative = posix.relative(root, path);
  return relative === "" || (!relative.startsWith("../") && relative !== ".." && !posix.isAbsolute(relative));
}

function commonAncestor(a: string, b: string): string {
  const x = a.split("/");
  const y = b.split("/");
  let n = 0;
  while (n < x.length && n < y.length && x[n] === y[n]) n++;
  return x.slice(0, n).join("/") || "/";
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // a missing input: the walk reports it (PHM_FILE_NOT_FOUND)
  }
}

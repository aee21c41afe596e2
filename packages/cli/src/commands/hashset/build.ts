import { Command } from "commander";
import { HashSetBuilder, PhmatchError, SupervisedHashPool, parseHashValue, walkInputs } from "@phmatch/core";
import { EXIT_CODES, setCommandExitCode } from "../../exit-codes.js";
import { parseAlgorithms, parsePositiveInt } from "../../parse.js";
import { writeStore } from "./write-store.js";

interface BuildOptions {
  listId: string;
  listVersion: number;
  listName?: string;
  category?: string;
  algorithms: string[];
  output: string;
  jobs?: number;
  encrypt: boolean;
  keyFile?: string;
  augment: boolean;
}

/** `phmatch hashset build`: hash images (read only, never copied) into a store of a list you make. */
export function buildCommand(): Command {
  return new Command("build")
    .description("hash images into a new .phs list (images are read, never copied)")
    .addHelpText("after", "\nExample:\n  phmatch hashset build ./known --list-id unit-7 --category A --augment -o unit-7.phs\n")
    .argument("<paths...>", "image files or directories")
    .requiredOption("--list-id <id>", "the list's id")
    .option("--list-version <n>", "this release's version", parsePositiveInt, 1)
    .option("--list-name <name>", "the list's name")
    .option("--category <category>", "category given to every entry")
    .option("-a, --algorithms <ids>", "algorithms to store (default pdq,phash16,md5,sha1: bench/robustness measured the 256-bit pHash adding recall at no false positive)", parseAlgorithms, ["pdq", "phash16", "md5", "sha1"])
    .requiredOption("-o, --output <file>", "the .phs store to write")
    .option("-j, --jobs <n>", "worker threads", parsePositiveInt)
    .option("--augment", "also store the hashes of sub-windows of each image (centre crops at 97-80%, corners at 90%, the top, bottom, left and right 60%; those of PDQ quality below 50 left out) as variants of its entry, so crops and overlaid copies of it match", false)
    .option("--encrypt", "encrypt the store with --key-file or PHMATCH_LIST_KEY", false)
    .option("--key-file <file>", "key for --encrypt")
    .action(async (paths: string[], options: BuildOptions, command: Command) => {
      const builder = new HashSetBuilder();
      builder.addList({ listId: options.listId, version: options.listVersion, createdAt: new Date().toISOString(), ...(options.listName !== undefined && { name: options.listName }) });
      const pool = new SupervisedHashPool({ jobs: options.jobs, hashOptions: { algorithms: options.algorithms, augment: options.augment } });
      let files = 0;
      let failed = 0;
      try {
        for await (const record of pool.hashAll(walkInputs(paths))) {
          files++;
          if (record.error !== undefined) {
            failed++;
            process.stderr.write(`${record.path}: ${record.error.code} ${record.error.message}\n`);
          }
          for (const [algorithm, hex] of Object.entries(record.hashes ?? {})) {
            const parsed = parseHashValue(algorithm, hex);
            if (!parsed.ok) throw new PhmatchError("PHM_INTERNAL", `hash of ${record.path} did not parse: ${parsed.reason}`);
            builder.addEntry({ algorithm, value: parsed.value, listId: options.listId, entryId: record.path, ...(options.category !== undefined && { category: options.category }) });
          }
          // Sub-windows: perceptual hashes only, each an entry of the same id that says which window it covers.
          for (const window of record.windows ?? []) {
            for (const [algorithm, hex] of Object.entries(window.hashes)) {
              const parsed = parseHashValue(algorithm, hex);
              if (!parsed.ok) throw new PhmatchError("PHM_INTERNAL", `hash of ${record.path} (${window.window}) did not parse: ${parsed.reason}`);
              builder.addEntry({ algorithm, value: parsed.value, listId: options.listId, entryId: record.path, fields: { window: window.window }, ...(options.category !== undefined && { category: options.category }) });
            }
          }
        }
      } finally {
        await pool.close();
      }
      await writeStore(builder, options.output, options);
      process.stderr.write(`${files} files, ${failed} failed; ${builder.entryCount} entries in ${options.output}\n`);
      setCommandExitCode(failed > 0 ? EXIT_CODES.INPUT_FAILED : EXIT_CODES.OK);
    });
}

import { writeFile } from "node:fs/promises";
import {
  HASH_SET_FORMATS,
  HashSetBuilder,
  type HashSetFormat,
  type ImportReport,
  importHashSet,
  PhmatchError,
} from "@phmatch/core";
import { isDigestAlgorithm } from "@phmatch/core/internal";
import { Command, Option } from "commander";
import { CommandExit, EXIT_CODES } from "../../exit-codes.js";
import { cliText } from "../../output.js";
import { parsePositiveInt } from "../../parse.js";
import { writeStore } from "./write-store.js";

interface ImportCommandOptions {
  format?: HashSetFormat | "nsrl";
  ramBudget?: number;
  algorithm?: string;
  listId?: string;
  listVersion: number;
  listName?: string;
  source?: string;
  usageTerms?: string;
  columns?: string;
  category?: string;
  entryId?: string;
  strict: boolean;
  output: string;
  encrypt: boolean;
  keyFile?: string;
  report?: string;
  allowEmpty: boolean;
}

/** `phmatch hashset import`: a list file (any supported format) to a .phs store, with a full report. */
export function importCommand(): Command {
  return new Command("import")
    .description(
      "import a hash list (text, pytx, csv, ndjson, vics, icse, ncmec, vpdq, threatexchange) into a .phs store, " +
        "or NIST's NSRL RDS v3 (--format nsrl) into a .phd digest store of known-good files for scan --ignorable",
    )
    .addHelpText(
      "after",
      "\nExample:\n  phmatch hashset import vics.json --list-id pvic --list-version 7 -o pvic.phs --report " +
        "import.json\n  phmatch hashset import clip.vpdq.txt --list-id unit-7 --category A -o clip.phs\n" +
        "\nA vPDQ text file (frame,quality,hash,timestamp lines) is one video, listed as its frames of PDQ quality\n" +
        "50 or more; its entry id is the file's name without .vpdq.txt unless --entry-id names it. Several videos:\n" +
        "import each, then `phmatch hashset merge`. ThreatExchange/HMA records (one JSON object per line) and pytx\n" +
        "`vpdq <signal>` lines hold many videos, each with its own id.\n" +
        "\nNSRL (known-good files, never known material): phmatch hashset import --format nsrl RDS.db -o nsrl.phd\n" +
        "  [--algorithm sha256|sha1|md5] [--ram-budget 256] [--source 'NSRL RDS 2024.12.1 modern']\n",
    )
    .argument("<file>", "the list file")
    .addOption(
      new Option("--format <format>", "the list's format (default: detected from the content, and reported)").choices([
        ...HASH_SET_FORMATS,
        "nsrl",
      ]),
    )
    .option("--algorithm <id>", "algorithm of bare values (text lists; CSV without an algorithm column)")
    .option("--list-id <id>", "the list's id (kept with every entry; required but with --format nsrl)")
    .option("--list-version <n>", "this release's version (only grows)", parsePositiveInt, 1)
    .option("--list-name <name>", "the list's name")
    .option("--source <who>", "who supplies the list")
    .option("--usage-terms <text>", "usage terms or confidentiality conditions")
    .option("--columns <map>", "CSV column names, e.g. hash=MD5,category=Cat,id=FileID,algorithm=Type,list=List")
    .option("--category <category>", "category of the entries whose record gives none (text, pytx, vpdq lists)")
    .option("--entry-id <id>", "vpdq: the entry id of the video (default: the file's name without .vpdq.txt)")
    .option("--strict", "any invalid line is fatal", false)
    .requiredOption("-o, --output <file>", "the .phs store to write (.phd digest store with --format nsrl)")
    .option(
      "--ram-budget <MiB>",
      "--format nsrl: RAM for sorting digests (default 256); more digests are sorted in runs on disk",
      parsePositiveInt,
    )
    .option("--encrypt", "encrypt the store (AES-256-GCM) with --key-file or PHMATCH_LIST_KEY", false)
    .option("--key-file <file>", "key for --encrypt")
    .option("--report <file>", "write the import report (counts, every problem with its line) as JSON")
    .option("--allow-empty", "write the store even when no entry was taken (it then matches nothing)", false)
    .action(async (file: string, options: ImportCommandOptions) => {
      if (options.format === "nsrl") return importNsrlCommand(file, options);
      if (options.ramBudget !== undefined)
        throw new PhmatchError("PHM_USAGE", "--ram-budget is for --format nsrl (a .phd digest store)");
      if (options.listId === undefined)
        throw new PhmatchError("PHM_USAGE", "hashset import needs --list-id (the list's id, kept with every entry)");
      const builder = new HashSetBuilder();
      const list: Record<string, unknown> = { version: options.listVersion, createdAt: new Date().toISOString() };
      if (options.listName !== undefined) list.name = options.listName;
      if (options.source !== undefined) list.source = options.source;
      if (options.usageTerms !== undefined) list.usageTerms = options.usageTerms;
      const report = await importHashSet(builder, file, {
        listId: options.listId,
        list: list as { version: number },
        strict: options.strict,
        ...(options.format !== undefined && { format: options.format }),
        ...(options.algorithm !== undefined && { algorithm: options.algorithm }),
        ...(options.columns !== undefined && { columns: parseColumns(options.columns) }),
        ...(options.category !== undefined && { category: options.category }),
        ...(options.entryId !== undefined && { entryId: options.entryId }),
      });
      // The report is written whatever happens next: it is what says why nothing was taken.
      if (options.report !== undefined) await writeFile(options.report, JSON.stringify(report, null, 2) + "\n");
      process.stderr.write(summary(report));
      await writeStore(builder, options.output, options, refusedWhy(report));
      process.stderr.write(`  wrote ${options.output}\n`);
      throw new CommandExit(report.invalid > 0 ? EXIT_CODES.INPUT_FAILED : EXIT_CODES.OK);
    });
}

// NSRL RDS v3 into a .phd digest store: known-good files for scan --ignorable, never a list of known material, so
// the options of a .phs list (id, version, category, encryption) do not apply and are refused rather than ignored.
async function importNsrlCommand(file: string, options: ImportCommandOptions): Promise<void> {
  const misplaced = [
    ["--list-id", options.listId],
    ["--list-version", options.listVersion !== 1 ? options.listVersion : undefined],
    ["--list-name", options.listName],
    ["--usage-terms", options.usageTerms],
    ["--columns", options.columns],
    ["--category", options.category],
    ["--entry-id", options.entryId],
    ["--strict", options.strict || undefined],
    ["--encrypt", options.encrypt || undefined],
    ["--key-file", options.keyFile],
    ["--allow-empty", options.allowEmpty || undefined],
  ].filter(([, given]) => given !== undefined);
  if (misplaced.length > 0)
    throw new PhmatchError(
      "PHM_USAGE",
      `${misplaced.map(([flag]) => flag).join(", ")} do(es) not apply to --format nsrl: it writes a .phd store of ` +
        "known-good digests for scan --ignorable, not a list of known material",
    );
  const algorithm = options.algorithm ?? "sha256";
  if (!isDigestAlgorithm(algorithm))
    throw new PhmatchError("PHM_USAGE", `--format nsrl reads md5, sha1 or sha256 digests, not ${algorithm}`);
  const { importNsrl } = await import("../../nsrl/import-nsrl.js"); // its SQLite (WASM) loaded only here
  const result = await importNsrl(file, {
    algorithm,
    output: options.output,
    ...(options.source !== undefined && { source: options.source }),
    ...(options.ramBudget !== undefined && { ramBudgetBytes: options.ramBudget * 1024 * 1024 }),
  });
  const report = {
    file,
    format: "nsrl",
    table: result.table,
    column: result.column,
    rows: result.rows,
    malformed: result.malformed,
    malformedRows: result.malformedRows,
    distinct: result.count,
    runs: result.runs,
    output: result.path,
    checksum: result.checksum,
  };
  if (options.report !== undefined) await writeFile(options.report, JSON.stringify(report, null, 2) + "\n");
  process.stderr.write(
    `${file}: NSRL RDS v3, ${algorithm} from ${result.table}.${result.column}: ${result.rows} rows, ` +
      `${result.count} distinct digests` +
      (result.malformed > 0
        ? `; ${result.malformed} rows not a ${algorithm} digest were skipped (rows ${result.malformedRows.join(", ")}` +
          `${result.malformed > result.malformedRows.length ? ", ..." : ""})`
        : "") +
      `\n  wrote ${result.path}\n`,
  );
  throw new CommandExit(result.malformed > 0 ? EXIT_CODES.INPUT_FAILED : EXIT_CODES.OK);
}

function parseColumns(text: string): Record<string, string> {
  return Object.fromEntries(text.split(",").map((pair) => pair.split("=").map((s) => s.trim()) as [string, string]));
}

/** The human summary: format and why, what was read, counts, how the input ended, the first problems. */
export function summary(report: ImportReport): string {
  const lines = [
    `${report.file}: format ${report.format} ` +
      `(${cliText(report.detectedBy)}` +
      `)${report.source !== undefined ? `, ${report.source.bytes} bytes, sha256 ${report.source.sha256}` : ""}`,
    `  read ${report.read}, imported ${report.imported}, withdrawn ${report.withdrawn}, duplicate ` +
      `${report.duplicate}, invalid ${report.invalid}, degenerate (refused) ${report.degenerate}, not ` +
      `computable (carried) ${report.notComputable}`,
  ];
  if (report.videos + report.lowQuality + report.emptyVideos > 0)
    lines.push(
      `  videos ${report.videos}; frames left out: ${report.lowQuality} below ` +
        `PDQ quality 50, repeated frames among the duplicates; ${report.emptyVideos} videos with no frame to match`,
    );
  const unrecognised = Object.entries(report.unrecognised);
  if (unrecognised.length > 0)
    lines.push(`  unrecognised hash types: ${unrecognised.map(([n, c]) => `${n} (${c})`).join(", ")}`);
  if (report.ending !== "complete") {
    const problem = report.endingProblem;
    const at = problem !== undefined ? ` at line ${problem.line}: ${cliText(problem.reason)}` : "";
    lines.push(`  input ${report.ending}${at}`);
  }
  for (const p of report.problems.slice(0, 10)) lines.push(`  ${p.file}:${p.line}: ${cliText(p.reason)}`);
  const listed = report.invalid + report.degenerate + report.emptyVideos;
  if (listed > 10) lines.push(`  ... ${listed - 10} more refused (see --report)`);
  return lines.join("\n") + "\n";
}

// What the import read and refused, for the message when it took nothing: the counts and the first reason.
function refusedWhy(report: ImportReport): string {
  const refused = Object.entries(report.refused).map(([reason, n]) => `${reason} ${n}`);
  const first = report.problems[0];
  return (
    ` from ${report.file} (read ` +
    `${report.read}${refused.length > 0 ? `; refused: ${refused.join(", ")}` : ""}` +
    `${first !== undefined ? `; line ${first.line}: ${cliText(first.reason)}` : ""})`
  );
}

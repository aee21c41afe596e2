import { createReadStream } from "node:fs";
import { type LoadedHashSet, loadHashSet, Matcher, PhmatchError, SUPPORTED_ALGORITHMS } from "@phmatch/core";
import {
  addedEntries,
  type ReleaseStep,
  type RematchSummary,
  releaseSteps,
  rematchRecords,
} from "@phmatch/core/internal";
import { Command } from "commander";
import { CommandExit, EXIT_CODES } from "../exit-codes.js";
import { writeLine } from "../output.js";
import { journalKey, readJournal } from "../serve/journal.js";
import {
  loadOptions,
  runState,
  type StateOptions,
  type TrustOptions,
  withStateOptions,
  withTrustOptions,
} from "./hashset/options.js";

interface RematchCommandOptions extends TrustOptions, StateOptions {
  records?: string;
  journal?: string;
  recordJournalKey?: string;
  hashset: string;
  since?: string;
}

/**
 * `phmatch rematch`: the stored hash records of accepted uploads against what a new list release added (or, without
 * an earlier release, against the whole list); one line per record that a list now matches.
 */
export function rematchCommand(): Command {
  return withStateOptions(
    withTrustOptions(
      new Command("rematch")
        .description(
          "match the stored hash records of accepted uploads against what a new list release added; " +
            "one line per record that now matches",
        )
        .addHelpText(
          "after",
          "\nExamples:\n  phmatch rematch --records accepted.ndjson --hashset hotline-8.phs --since hotline-7.phs " +
            "--trusted-keys keys.pem --state-dir /var/lib/phmatch\n" +
            "  zcat accepted.ndjson.gz | phmatch rematch --records - --hashset hotline-1.phs\n",
        )
        .option(
          "--records <file>",
          "NDJSON of accepted uploads: a hash record as phmatch hash prints it, plus contentId and uploadedAt " +
            "(- for stdin)",
        )
        .option("--journal <dir>", "instead of --records: the record journal serve --record-journal keeps")
        .option(
          "--record-journal-key <file>",
          "the journal's key (or PHMATCH_JOURNAL_KEY), as serve --record-journal-key",
        )
        .requiredOption("-s, --hashset <store>", "the new list release (.phs)")
        .option(
          "--since <store>",
          "the release the records were last matched against: only what the new release added is matched " +
            "(refused unless every list in it is at an older version in --hashset)",
        ),
    ),
  ).action(async (options: RematchCommandOptions) => {
    if ((options.records === undefined) === (options.journal === undefined))
      throw new PhmatchError(
        "PHM_USAGE",
        "rematch reads --records <file> (or --records - for stdin) or --journal <dir>: give one of them",
      );
    const started = process.hrtime.bigint();
    // The key first: a journal that cannot be read stops the run before any list is loaded.
    const key = options.journal === undefined ? undefined : journalKey(options.recordJournalKey);
    const { matcher, steps } = await releaseMatcher(options, "rematch");
    const input =
      options.journal !== undefined && key !== undefined
        ? journalLines(options.journal, key)
        : options.records === "-"
          ? process.stdin
          : createReadStream(options.records as string);
    const summary = await rematchRecords(
      input,
      matcher,
      steps,
      (hit) => writeLine(process.stdout, JSON.stringify(hit)),
      (failure) => process.stderr.write(`phmatch rematch: line ${failure.line}: ${failure.code}: ${failure.why}\n`),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stderr.write(`${JSON.stringify(summaryLine(summary, seconds))}\n`);
    throw new CommandExit(summary.failed > 0 ? EXIT_CODES.INPUT_FAILED : EXIT_CODES.OK);
  });
}

/**
 * The matcher of a retroactive run: over what `--hashset` added since `--since` (both loaded with the same trust
 * options; the earlier one read-only, as `hashset diff` reads it, so it neither trips nor moves the rollback state),
 * or over the whole of `--hashset` when no earlier release is given.
 */
export async function releaseMatcher(
  options: RematchCommandOptions,
  command: string,
): Promise<{ matcher: Matcher; steps: ReleaseStep[]; added: number }> {
  const load = { ...loadOptions(options), allowRollback: options.allowRollback === true };
  const state = runState(options, command).state;
  const after = await loadHashSet(options.hashset, state === undefined ? load : { ...load, versionState: state });
  if (options.since === undefined) {
    const matcher = new Matcher([after]);
    matcher.requireMatchable(SUPPORTED_ALGORITHMS);
    const steps = after.set.lists.map((l) => ({ listId: l.listId, version: l.version }));
    return { matcher, steps, added: after.set.size };
  }
  if (load.trustedKeys === undefined)
    process.stderr.write(
      `phmatch ${command}: no trusted keys: neither store's signature is checked, so an earlier release that ` +
        "already holds new entries would hide them (give --trusted-keys)\n",
    );
  const before: LoadedHashSet = await loadHashSet(options.since, loadOptions(options));
  const steps = releaseSteps(before, after);
  const { added, count } = addedEntries(before, after);
  process.stderr.write(`phmatch ${command}: ${count} entries added by ${steps.map(describeStep).join(", ")}\n`);
  return { matcher: new Matcher([added]), steps, added: count };
}

// The journal's records, one line each (decrypted and authenticated as they are read; damage throws).
async function* journalLines(dir: string, key: Buffer): AsyncGenerator<string> {
  for (const text of readJournal(dir, key)) yield `${text}\n`;
}

function describeStep(step: ReleaseStep): string {
  return `${step.listId} ${step.since === undefined ? "(new list)" : `${step.since} ->`} ${step.version}`;
}

function summaryLine(summary: RematchSummary, seconds: number) {
  return {
    summary: "rematch",
    read: summary.read,
    failed: summary.failed,
    matched: summary.matched,
    seconds: Math.round(seconds * 1000) / 1000,
    ...(summary.failed > 0 && { failures: summary.failures }),
  };
}

import { availableParallelism } from "node:os";
import { closeScanIgnorables, openScanIgnorables } from "@phmatch/core/internal";
import { Command } from "commander";
import { parsePositiveInt } from "../parse.js";
import { checkScanName, DEFAULT_SCAN_NAME, parseQueueUrl } from "../queue/names.js";
import {
  deploymentState,
  loadHashSets,
  type StateOptions,
  type TrustOptions,
  withHashsetOption,
  withStateOptions,
  withTrustOptions,
} from "./hashset/options.js";

interface WorkerOptions extends TrustOptions, StateOptions {
  hashset: string[];
  queue: string;
  scan: string;
  jobs: number;
  concurrency: number;
  lockMs: number;
  name?: string;
  verbose: boolean;
  waitMs?: number;
  ignorable?: string[];
}

/** `phmatch worker`: one of any number of machines consuming a distributed scan's batches. */
export function workerCommand(): Command {
  return withStateOptions(
    withTrustOptions(
      withHashsetOption(new Command("worker"))
        .description(
          "consume a distributed scan's batches from a Redis queue: hash, match, and store each file's record " +
            "for phmatch report collect; exits when the scan is done",
        )
        .requiredOption("--queue <url>", "the scan's Redis queue, redis://HOST:PORT/N")
        .option("--scan <name>", "name of the distributed scan", DEFAULT_SCAN_NAME)
        .option(
          "-j, --jobs <n>",
          "hashing threads (default: available cores)",
          parsePositiveInt,
          availableParallelism(),
        )
        .option("--concurrency <n>", "batches in flight at once", parsePositiveInt, 2)
        .option(
          "--lock-ms <n>",
          "a batch's lock; a worker that died is noticed and its batch re-run after about this long",
          parsePositiveInt,
          30_000,
        )
        .option("--name <name>", "this worker's name in the report collector's summary (default host-pid)")
        .option(
          "--wait-ms <n>",
          "give up if the scan does not appear within this long (default: wait)",
          parsePositiveInt,
        )
        .option(
          "--ignorable <file>",
          "this machine's copy of one of the scan's --ignorable lists (repeat, in the scan's order): refused " +
            "unless its bytes (SHA-256) are the plan's",
          (v: string, all: string[] = []) => [...all, v],
        )
        .option("-v, --verbose", "a line on stderr per batch", false)
        .addHelpText(
          "after",
          "\nExample:\n  phmatch worker --queue redis://10.0.0.5:6379/0 --hashset /mnt/lists/pvic.phs " +
            "--trusted-keys keys.pem --state-dir /var/lib/phmatch\n",
        ),
    ),
    "the rollback state folder of this scan deployment (required; or PHMATCH_STATE_DIR): one per deployment, " +
      "shared by its workers",
  ).action(async (options: WorkerOptions) => {
    const state = deploymentState(options, "worker");
    const address = parseQueueUrl(options.queue);
    const scan = checkScanName(options.scan);
    const sets = await loadHashSets(options, state);
    const ignorable = await openScanIgnorables(options.ignorable ?? []);
    const { runWorker } = await import("../queue/worker.js"); // not at the top: see program.ts
    let summary: Awaited<ReturnType<typeof runWorker>>;
    try {
      summary = await runWorker({
        ignorable,
        address,
        scan,
        sets,
        jobs: options.jobs,
        concurrency: options.concurrency,
        lockMs: options.lockMs,
        verbose: options.verbose,
        ...(options.name !== undefined && { name: options.name }),
        ...(options.waitMs !== undefined && { waitMs: options.waitMs }),
      });
    } finally {
      await closeScanIgnorables(ignorable);
    }
    process.stderr.write(
      `phmatch worker ${summary.worker}: done, ${summary.files} files in ${summary.batches} batches\n`,
    );
    process.stdout.write(JSON.stringify(summary) + "\n");
  });
}

import { closeSync, constants, createWriteStream, fsyncSync, openSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Writable } from "node:stream";
import { finished } from "node:stream/promises";
import { PhmatchError } from "@phmatch/core";
import { exportVics, type VicsExportOptions, type VicsExportResult } from "@phmatch/core/internal";

/** The options of `phmatch report vics`. */
export interface VicsCommandOptions {
  out?: string;
  knownOnly: boolean;
  scheme: VicsExportOptions["scheme"];
}

/**
 * `phmatch report vics`: the export on stdout, or in `--out` (written beside it under a temporary name, then
 * renamed, so a refused or interrupted export never leaves a file that looks finished; an existing file is never
 * overwritten). What was written, counted, goes to stdout with `--out`, to stderr without.
 */
export async function exportVicsTo(report: string, options: VicsCommandOptions): Promise<void> {
  const exportOptions: VicsExportOptions = {
    knownOnly: options.knownOnly,
    ...(options.scheme && { scheme: options.scheme }),
  };
  const unverified = () => {
    process.stderr.write(
      `phmatch: no ${report}.sha256 beside the report: exported without checking it (its SHA-256 is in the export)\n`,
    );
  };
  if (options.out === undefined) {
    const result = await exportVics(report, process.stdout, exportOptions);
    if (!result.verified) unverified();
    process.stderr.write(`${JSON.stringify(counts(result))}\n`);
    return;
  }
  const out = options.out;
  const partial = join(dirname(out), `.${basename(out)}.${process.pid}.partial`);
  let fd: number;
  try {
    fd = openSync(out, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    throw new PhmatchError("PHM_USAGE", `--out ${out}: ${(error as Error).message} (an export never overwrites)`, {
      cause: error,
    });
  }
  // The name is claimed (so a second export cannot take it); the bytes go to the partial file until they are whole.
  closeSync(fd);
  try {
    const stream = createWriteStream("", { fd: openSync(partial, "wx", 0o600) });
    stream.on("error", () => undefined); // seen by exportVics (errored) and by finished() below
    const result = await exportVics(report, stream, exportOptions);
    await finish(stream);
    const done = openSync(partial, "r");
    fsyncSync(done);
    closeSync(done);
    renameSync(partial, out);
    if (!result.verified) unverified();
    process.stdout.write(`${JSON.stringify({ out, ...counts(result) })}\n`);
  } catch (error) {
    rmSync(partial, { force: true });
    rmSync(out, { force: true });
    throw error;
  }
}

function counts(result: VicsExportResult): Record<string, unknown> {
  return {
    sha256: result.sha256,
    verified: result.verified,
    media: result.media,
    links: result.links,
    skipped: result.skipped,
    clustered: result.clustered,
  };
}

async function finish(stream: Writable): Promise<void> {
  stream.end();
  await finished(stream);
}

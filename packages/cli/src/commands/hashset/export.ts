import { createWriteStream } from "node:fs";
import { loadHashSet } from "@phmatch/core";
import { type ExportTally, exportCsv, exportNdjson } from "@phmatch/core/internal";
import { Command, Option } from "commander";
import { writeLine } from "../../output.js";
import { loadOptions, type TrustOptions, withTrustOptions } from "./options.js";

/** `phmatch hashset export`: a store back to text (NDJSON is lossless; CSV for spreadsheets). */
export function exportCommand(): Command {
  return withTrustOptions(
    new Command("export")
      .description(
        "export a store as NDJSON (imports back to a store that matches the same) or CSV; withdrawn entries " +
          "are left out of both",
      )
      .addHelpText("after", "\nExample:\n  phmatch hashset export pvic.phs --format csv -o pvic.csv\n")
      .argument("<store>", "the .phs store")
      .addOption(new Option("--format <format>", "output format").choices(["ndjson", "csv"]).default("ndjson"))
      .option("-o, --output <file>", "write here instead of stdout"),
  ).action(async (store: string, options: TrustOptions & { format: "ndjson" | "csv"; output?: string }) => {
    const { set } = await loadHashSet(store, loadOptions(options));
    const out = options.output !== undefined ? createWriteStream(options.output) : process.stdout;
    const tally: ExportTally = { entries: 0, withdrawn: 0 };
    for (const line of options.format === "csv" ? exportCsv(set, tally) : exportNdjson(set, tally))
      await writeLine(out, line);
    if (out !== process.stdout)
      await new Promise<void>((resolve, reject) =>
        out.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
    const kept = options.format === "ndjson" ? "; their withdrawals are exported" : "";
    const frames =
      tally.videoFrames !== undefined
        ? `; left out ${tally.videoFrames} frames of listed videos (CSV has no place for them; use --format ndjson)`
        : "";
    process.stderr.write(
      `exported ${tally.entries} ` +
        `entries${tally.withdrawn > 0 ? `; left out ${tally.withdrawn} withdrawn entries${kept}` : ""}${frames}\n`,
    );
  });
}

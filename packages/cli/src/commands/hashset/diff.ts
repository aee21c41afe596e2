import { loadHashSet } from "@phmatch/core";
import { diffHashSets } from "@phmatch/core/internal";
import { Command } from "commander";
import { writeLine } from "../../output.js";
import { loadOptions, type TrustOptions, withTrustOptions } from "./options.js";

/** `phmatch hashset diff A B`: what a new release adds and withdraws. */
export function diffCommand(): Command {
  return withTrustOptions(
    new Command("diff")
      .description("show entries added and withdrawn from release A to release B (NDJSON)")
      .argument("<a>", "earlier store")
      .argument("<b>", "later store")
      .addHelpText("after", "\nExample:\n  phmatch hashset diff pvic-6.phs pvic-7.phs > changes.ndjson\n"),
  ).action(async (a: string, b: string, options: TrustOptions) => {
    // Diff reads two releases side by side: rollback state is not consulted.
    const load = { ...loadOptions(options), versionState: undefined };
    const [before, after] = [await loadHashSet(a, load), await loadHashSet(b, load)];
    const counts = { added: 0, withdrawn: 0 };
    for (const { change, entry } of diffHashSets(before.set, after.set)) {
      counts[change]++;
      await writeLine(
        process.stdout,
        JSON.stringify({
          change,
          algorithm: entry.algorithm,
          hash: Buffer.from(entry.value).toString("hex"),
          list: entry.listId,
          ...(entry.entryId !== undefined && { id: entry.entryId }),
          ...(entry.category !== undefined && { category: entry.category }),
        }),
      );
    }
    process.stderr.write(`${a} -> ${b}: ${counts.added} added, ${counts.withdrawn} withdrawn\n`);
  });
}

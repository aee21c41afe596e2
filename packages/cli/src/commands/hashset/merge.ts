import { HashSetBuilder, loadHashSet, PHMATCH_VERSION, type StoreProvenance } from "@phmatch/core";
import { degenerateValue } from "@phmatch/core/internal";
import { Command } from "commander";
import { loadOptions, type TrustOptions, withTrustOptions } from "./options.js";
import { writeStore } from "./write-store.js";

/** `phmatch hashset merge`: several stores into one, every entry keeping its list. */
export function mergeCommand(): Command {
  return withTrustOptions(
    new Command("merge")
      .description("merge stores into one; every entry keeps its list id, category and provenance")
      .addHelpText("after", "\nExample:\n  phmatch hashset merge pvic.phs ncmec.phs -o all.phs\n")
      .argument("<stores...>", ".phs stores")
      .requiredOption("-o, --output <file>", "the merged store")
      .option("--encrypt", "encrypt the merged store", false)
      .option("--allow-empty", "write the store even when the stores hold no entry (it then matches nothing)", false),
  ).action(
    async (stores: string[], options: TrustOptions & { output: string; encrypt: boolean; allowEmpty: boolean }) => {
      const builder = new HashSetBuilder();
      const load = loadOptions(options);
      // The merged store keeps what each store says it was made from, then says it merged them.
      const merge: StoreProvenance = {
        step: "merge",
        at: new Date().toISOString(),
        by: `phmatch ${PHMATCH_VERSION}`,
        lists: [],
        stores: [],
        read: 0,
        taken: 0,
        withdrawals: 0,
        duplicate: 0,
        refused: {},
      };
      for (const store of stores) {
        const { set, storeSha256 } = await loadHashSet(store, load);
        builder.provenance.push(...(set.header.provenance ?? []));
        merge.stores?.push({ store, sha256: storeSha256 });
        for (const list of set.lists) builder.addList(list);
        for (const entry of set.entries()) {
          merge.read++;
          // A store made before build and import refused degenerate values may list them: they are not carried on.
          if (degenerateValue(entry.algorithm, entry.value) !== undefined)
            merge.refused.degenerate = (merge.refused.degenerate ?? 0) + 1;
          else if (builder.addEntry(entry)) merge.taken++;
          else merge.duplicate++;
        }
        for (const withdrawal of set.withdrawals()) if (builder.addWithdrawal(withdrawal)) merge.withdrawals++;
      }
      merge.lists = builder.lists.map((l) => l.listId);
      builder.provenance.push(merge);
      await writeStore(builder, options.output, options, ` from ${stores.join(", ")}`);
      const refused =
        merge.refused.degenerate === undefined
          ? ""
          : `; ${merge.refused.degenerate} degenerate values left out (an empty file's digest, a flat image's hash)`;
      process.stderr.write(
        `merged ${stores.length} stores ` +
          `(${builder.lists.map((l) => `${l.listId} v${l.version}`).join(", ")}): ${builder.entryCount} entries ` +
          `in ${options.output}${refused}\n`,
      );
    },
  );
}

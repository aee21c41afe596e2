import { Command } from "commander";
import { HashSetBuilder, loadHashSet } from "@phmatch/core";
import { loadOptions, withTrustOptions, type TrustOptions } from "./options.js";
import { writeStore } from "./write-store.js";

/** `phmatch hashset merge`: several stores into one, every entry keeping its list. */
export function mergeCommand(): Command {
  return withTrustOptions(
    new Command("merge")
      .description("merge stores into one; every entry keeps its list id, category and provenance")
      .addHelpText("after", "\nExample:\n  phmatch hashset merge pvic.phs ncmec.phs -o all.phs\n")
      .argument("<stores...>", ".phs stores")
      .requiredOption("-o, --output <file>", "the merged store")
      .option("--encrypt", "encrypt the merged store", false),
  ).action(async (stores: string[], options: TrustOptions & { output: string; encrypt: boolean }) => {
    const builder = new HashSetBuilder();
    const load = loadOptions(options);
    for (const store of stores) {
      const { set } = await loadHashSet(store, load);
      for (const list of set.lists) builder.addList(list);
      for (const entry of set.entries()) builder.addEntry(entry);
      for (const withdrawal of set.withdrawals()) builder.addWithdrawal(withdrawal);
    }
    await writeStore(builder, options.output, options);
    process.stderr.write(`merged ${stores.length} stores (${builder.lists.map((l) => `${l.listId} v${l.version}`).join(", ")}): ${builder.entryCount} entries in ${options.output}\n`);
  });
}

import { Command, Option } from "commander";
import { PhmatchError, addOverride, hexToBytes, hasherSpec, readOverrides, removeOverride, type Override } from "@phmatch/core";
import { parseIndex } from "../../parse.js";

/** `phmatch hashset override add|list|remove`: local decisions beside a list, never editing it. */
export function overrideCommand(): Command {
  const override = new Command("override")
    .description("local overrides beside a list: disable an entry, or allow a value (who, when and why recorded)")
    .addHelpText("after", "\nExample:\n  phmatch hashset override add pvic.phs --action disable --algorithm md5 --hash <hex> --who 'J. Doe' --why 'appeal 12 upheld'\n");
  override
    .command("add")
    .argument("<store>", "the .phs store the override sits beside")
    .addOption(new Option("--action <action>", "disable: the entry stops matching; allow: the value is accepted despite the list").choices(["disable", "allow"]).makeOptionMandatory())
    .requiredOption("--algorithm <id>", "algorithm of the value")
    .requiredOption("--hash <hex>", "the value")
    .option("--list-id <id>", "only this list")
    .option("--entry-id <id>", "the entry's id, for the record")
    .requiredOption("--who <name>", "who decided")
    .requiredOption("--why <reason>", "why (e.g. a confirmed false positive, an upheld appeal, its reference)")
    .action(async (store: string, o: { action: Override["action"]; algorithm: string; hash: string; listId?: string; entryId?: string; who: string; why: string }) => {
      const spec = hasherSpec(o.algorithm);
      if (spec === undefined) throw new PhmatchError("PHM_USAGE", `unknown algorithm "${o.algorithm}"`);
      hexToBytes(o.hash, spec.bits / 8);
      const entry: Override = { action: o.action, algorithm: o.algorithm, hash: o.hash.toLowerCase(), who: o.who, when: new Date().toISOString(), why: o.why };
      if (o.listId !== undefined) entry.listId = o.listId;
      if (o.entryId !== undefined) entry.entryId = o.entryId;
      await addOverride(store, entry);
      process.stdout.write(`override added beside ${store}: ${o.action} ${o.algorithm} ${entry.hash}\n`);
    });
  override
    .command("list")
    .argument("<store>", "the .phs store")
    .action(async (store: string) => {
      const overrides = await readOverrides(store);
      overrides.forEach((o, i) => process.stdout.write(`#${i} ${JSON.stringify(o)}\n`));
      if (overrides.length === 0) process.stdout.write(`no overrides beside ${store}\n`);
    });
  override
    .command("remove")
    .argument("<store>", "the .phs store")
    .argument("<index>", "number shown by override list", parseIndex)
    .action(async (store: string, index: number) => {
      const removed = await removeOverride(store, index);
      process.stdout.write(`removed override #${index}: ${JSON.stringify(removed)}\n`);
    });
  return override;
}

import { Command } from "commander";
import { PhmatchError, loadHashSet } from "@phmatch/core";
import { loadOptions, withTrustOptions, type TrustOptions } from "./options.js";

/** `phmatch hashset verify`: load a store exactly as matching would, and say whether it may be used. */
export function verifyCommand(): Command {
  return withTrustOptions(
    new Command("verify")
      .description("check a store's integrity, signature (with trusted keys) and version; exit 3 if it must not be used")
      .argument("<store>", "the .phs store")
      .addHelpText("after", "\nExample:\n  phmatch hashset verify pvic.phs --trusted-keys keys.pem || echo 'do not use this list'\n"),
  ).action(async (store: string, options: TrustOptions) => {
    const load = loadOptions(options);
    if (load.trustedKeys === undefined) {
      throw new PhmatchError("PHM_USAGE", "verify needs trusted keys (--trusted-keys or PHMATCH_TRUSTED_KEYS): without them a list's origin cannot be checked");
    }
    const loaded = await loadHashSet(store, load);
    const lists = loaded.set.lists.map((l) => `${l.listId} v${l.version}`).join(", ");
    process.stdout.write(`${store}: OK, signed by key ${String(loaded.signedBy)}, ${loaded.set.size} entries (${lists})${loaded.encrypted ? ", encrypted" : ""}\n`);
  });
}

import { loadHashSet, PhmatchError, RollbackState } from "@phmatch/core";
import { Command } from "commander";
import {
  describeOverrides,
  loadOptions,
  type StateOptions,
  stateDirOf,
  type TrustOptions,
  withStateOptions,
  withTrustOptions,
} from "./options.js";

/** `phmatch hashset verify`: load a store exactly as matching would, and say whether it may be used. */
export function verifyCommand(): Command {
  return withStateOptions(
    withTrustOptions(
      new Command("verify")
        .description(
          "check a store's integrity, signature (with trusted keys), overrides and version; exit 3 if it must " +
            "not be used",
        )
        .argument("<store>", "the .phs store")
        .addHelpText(
          "after",
          "\nExample:\n  phmatch hashset verify pvic.phs --trusted-keys keys.pem --state-dir /var/lib/phmatch " +
            "|| echo 'do not use this list'\n",
        ),
    ),
    "also check (never move) the rollback state in this folder: would a deployment using it refuse this " +
      "release? (or PHMATCH_STATE_DIR)",
  ).action(async (store: string, options: TrustOptions & StateOptions) => {
    const load = loadOptions(options);
    if (load.trustedKeys === undefined) {
      throw new PhmatchError(
        "PHM_USAGE",
        "verify needs trusted keys (--trusted-keys or PHMATCH_TRUSTED_KEYS): without them a list's origin " +
          "cannot be checked",
      );
    }
    const dir = stateDirOf(options);
    if (dir !== undefined) load.versionState = new RollbackState(dir, { readOnly: true });
    load.allowRollback = options.allowRollback === true;
    const loaded = await loadHashSet(store, load);
    const lists = loaded.set.lists.map((l) => `${l.listId} v${l.version}`).join(", ");
    const state = dir === undefined ? "" : `; not older than the rollback state ${dir}`;
    process.stdout.write(
      `${store}: OK, signed by key ${String(loaded.signedBy)}, ${loaded.set.size} entries ` +
        `(${lists})${loaded.encrypted ? ", encrypted" : ""}; ${describeOverrides(loaded)}${state}\n`,
    );
  });
}

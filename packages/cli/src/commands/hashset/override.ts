import { readFile } from "node:fs/promises";
import { type Override, PhmatchError, parseStore, verifyStore } from "@phmatch/core";
import {
  addOverride,
  decryptStore,
  isEncryptedStore,
  isListUrl,
  type OverridesWritten,
  readOverridesFile,
  removeOverride,
  signOverrides,
} from "@phmatch/core/internal";
import { Command, Option } from "commander";
import { parseIndex } from "../../parse.js";
import { loadOptions, readText, type TrustOptions, withTrustOptions } from "./options.js";

interface WriteOptions extends TrustOptions {
  signKey?: string;
}

/** `phmatch hashset override add|list|remove|sign`: local decisions beside a list, never editing it. */
export function overrideCommand(): Command {
  const override = new Command("override")
    .description(
      "local overrides beside a list: disable an entry, or allow a value (who, when and why recorded); each " +
        "change is a new release, signed with --sign-key",
    )
    .addHelpText(
      "after",
      "\nExample:\n  phmatch hashset override add pvic.phs --action disable --algorithm md5 --hash <hex> " +
        "--who 'J. Doe' --why 'appeal 12 upheld' --sign-key overrides.pem\n" +
        "\nUnder trusted keys (--trusted-keys), overrides must be signed by a trusted key, or the list is refused.\n",
    );
  withWriteOptions(
    override
      .command("add")
      .argument("<store>", "the .phs store the override sits beside")
      .addOption(
        new Option(
          "--action <action>",
          "disable: the entry stops matching; allow: the value is accepted despite the list",
        )
          .choices(["disable", "allow"])
          .makeOptionMandatory(),
      )
      .requiredOption("--algorithm <id>", "algorithm of the value")
      .requiredOption("--hash <hex>", "the value")
      .option("--list-id <id>", "only this list")
      .option("--entry-id <id>", "the entry's id, for the record")
      .requiredOption("--who <name>", "who decided")
      .requiredOption("--why <reason>", "why (e.g. a confirmed false positive, an upheld appeal, its reference)"),
  ).action(
    async (
      store: string,
      o: WriteOptions & {
        action: Override["action"];
        algorithm: string;
        hash: string;
        listId?: string;
        entryId?: string;
        who: string;
        why: string;
      },
    ) => {
      // addOverride checks the override (algorithm, value, list id against the store's lists) and says what is wrong.
      const held = await storeLists(store, o);
      const lists = held.map((l) => l.listId);
      // Each override names the list and the release it was decided about (issue 21): from --list-id, or the
      // store's only list; it applies only while that release is loaded.
      if (o.listId === undefined && held.length > 1)
        throw new PhmatchError(
          "PHM_USAGE",
          `${store} holds lists ${lists.join(", ")}: name the one the override is about with --list-id`,
        );
      const about = held.find((l) => l.listId === (o.listId ?? held[0]?.listId));
      const entry: Override = {
        action: o.action,
        algorithm: o.algorithm,
        hash: o.hash.toLowerCase(),
        who: o.who,
        when: new Date().toISOString(),
        why: o.why,
      };
      if (o.listId !== undefined) entry.listId = o.listId;
      else if (about !== undefined) entry.listId = about.listId;
      if (about !== undefined && about.listId === entry.listId) entry.listVersion = about.version;
      if (o.entryId !== undefined) entry.entryId = o.entryId;
      const written = await addOverride(store, entry, writeOptions(o, lists));
      process.stdout.write(
        `override added beside ${store}: ${o.action} ${o.algorithm} ${entry.hash}; ${describeWrite(written)}\n`,
      );
    },
  );
  override
    .command("list")
    .argument("<store>", "the .phs store")
    .action(async (store: string) => {
      const file = await readOverridesFile(store);
      if (file?.header !== undefined)
        process.stdout.write(`release ${file.header.release}, bound to list(s) ${file.header.lists.join(", ")}\n`);
      (file?.overrides ?? []).forEach((o, i) => {
        process.stdout.write(`#${i} ${JSON.stringify(o)}\n`);
      });
      if ((file?.overrides.length ?? 0) === 0) process.stdout.write(`no overrides beside ${store}\n`);
    });
  withWriteOptions(
    override
      .command("remove")
      .argument("<store>", "the .phs store")
      .argument("<index>", "number shown by override list", parseIndex),
  ).action(async (store: string, index: number, o: WriteOptions) => {
    const lists = await storeListIds(store, o);
    const file = await readOverridesFile(store);
    const removed = await removeOverride(store, index, writeOptions(o, lists));
    const after = await readOverridesFile(store);
    const signed = after?.header !== undefined && o.signKey !== undefined;
    process.stdout.write(
      `removed override #${index}: ${JSON.stringify(removed)}; release ` +
        `${after?.header?.release ?? "-"}${signed ? ", signed" : file !== undefined ? ", unsigned" : ""}\n`,
    );
  });
  withTrustOptions(
    override
      .command("sign")
      .description(
        "sign the overrides file as it is (a file without a header gets one: release 1, bound to the store's lists)",
      )
      .argument("<store>", "the .phs store")
      .requiredOption("--key <file>", "Ed25519 private key (PEM)"),
  ).action(async (store: string, o: TrustOptions & { key: string }) => {
    const lists = await storeListIds(store, o);
    const written = await signOverrides(store, readText(o.key, "--key"), lists);
    process.stdout.write(`signed ${written.path} -> ${written.path}.sig: ${describeWrite(written)}\n`);
  });
  return override;
}

function withWriteOptions(command: Command): Command {
  return withTrustOptions(
    command.option(
      "--sign-key <file>",
      "Ed25519 private key (PEM) that signs the new release of the overrides (required for them to be used " +
        "under --trusted-keys)",
    ),
  );
}

function writeOptions(o: WriteOptions, lists: string[]): { lists: string[]; signingKeyPem?: string } {
  return { lists, ...(o.signKey !== undefined && { signingKeyPem: readText(o.signKey, "--sign-key") }) };
}

function describeWrite(w: OverridesWritten): string {
  const release = w.release === undefined ? "" : `release ${w.release}, `;
  if (w.signedBy !== undefined) return `${release}signed by key ${w.signedBy}`;
  return (
    `${release}unsigned${w.unsigned ? " (the old signature no longer matched and was removed)" : ""}: lists ` +
    "loaded with trusted keys refuse unsigned overrides; sign with --sign-key or phmatch hashset override " +
    "sign"
  );
}

// The list ids of a store: the binding of its overrides. The store is read as a load would (its signature checked
// with trusted keys, decrypted with its key), without its overrides, which are what is being changed.
async function storeListIds(store: string, options: TrustOptions): Promise<string[]> {
  return (await storeLists(store, options)).map((l) => l.listId);
}

// The lists of a store with their versions (read as storeListIds reads them).
async function storeLists(store: string, options: TrustOptions): Promise<{ listId: string; version: number }[]> {
  if (isListUrl(store))
    throw new PhmatchError("PHM_USAGE", "overrides sit beside a local store file, not a list server's URL");
  const bytes = await readFile(store).catch((error: Error) => {
    throw new PhmatchError(
      "PHM_FILE_NOT_FOUND",
      `cannot read the store ${store} the overrides are for: ${error.message}`,
      { path: store, cause: error },
    );
  });
  const load = loadOptions(options);
  if (load.trustedKeys !== undefined) {
    verifyStore(bytes, await readFile(`${store}.sig`, "utf8").catch(() => undefined), load.trustedKeys, store);
  }
  const plain = isEncryptedStore(bytes) ? decryptStore(bytes, load.key, store) : bytes;
  return parseStore(plain, store).lists.map((l) => ({ listId: l.listId, version: l.version }));
}

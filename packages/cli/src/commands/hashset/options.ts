import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { ListVersionState, PhmatchError, loadHashSet, parseListKey, parseTrustedKeys, type LoadedHashSet, type LoadOptions } from "@phmatch/core";

/** Options that say how a store is trusted and opened, shared by every command that loads one. */
export interface TrustOptions {
  trustedKeys?: string;
  keyFile?: string;
  stateDir?: string;
  allowRollback?: boolean;
}

/** Adds --trusted-keys, --key-file, --state-dir and --allow-rollback to a command. */
export function withTrustOptions(command: Command): Command {
  return command
    .option("--trusted-keys <file>", "PEM public keys whose signatures are trusted (or PHMATCH_TRUSTED_KEYS); when set, unsigned or wrongly signed lists are refused")
    .option("--key-file <file>", "key of encrypted lists (or PHMATCH_LIST_KEY): 64 hex digits or base64")
    .option("--state-dir <dir>", "where the highest version of each list is remembered (default PHMATCH_STATE_DIR or ~/.local/state/phmatch)")
    .option("--allow-rollback", "accept an older release of a list than one already loaded", false);
}

/** Adds the repeatable, required -s/--hashset option (the lists a command matches against). */
export function withHashsetOption(command: Command): Command {
  return command.requiredOption("-s, --hashset <store>", "a .phs list (repeat for several)", (v: string, all: string[] = []) => [...all, v]);
}

/** Loads every --hashset list, verified as the trust options say. */
export async function loadHashSets(options: TrustOptions & { hashset: string[] }): Promise<LoadedHashSet[]> {
  const load = loadOptions(options);
  const sets: LoadedHashSet[] = [];
  for (const store of options.hashset) sets.push(await loadHashSet(store, load));
  return sets;
}

/** LoadOptions from the command line and environment. */
export function loadOptions(options: TrustOptions): LoadOptions {
  const load: LoadOptions = { versionState: new ListVersionState(options.stateDir), allowRollback: options.allowRollback === true };
  const trusted = trustedKeysPem(options.trustedKeys);
  if (trusted !== undefined) load.trustedKeys = parseTrustedKeys(trusted);
  const key = listKey(options.keyFile);
  if (key !== undefined) load.key = key;
  return load;
}

/** The trusted public keys' PEM from --trusted-keys or PHMATCH_TRUSTED_KEYS; undefined when neither gives any. */
export function trustedKeysPem(file: string | undefined): string | undefined {
  const pem = file !== undefined ? readText(file, "--trusted-keys") : process.env.PHMATCH_TRUSTED_KEYS;
  return pem === undefined || pem.trim() === "" ? undefined : pem;
}

/** The list key from --key-file or PHMATCH_LIST_KEY, if any. */
export function listKey(keyFile: string | undefined): Buffer | undefined {
  const text = keyFile !== undefined ? readText(keyFile, "--key-file") : process.env.PHMATCH_LIST_KEY;
  return text === undefined || text.trim() === "" ? undefined : parseListKey(text);
}

export function readText(file: string, option: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new PhmatchError("PHM_USAGE", `${option} ${file}: ${(error as Error).message}`);
  }
}

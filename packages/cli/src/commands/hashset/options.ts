import type { KeyObject } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
  type LoadedHashSet,
  type LoadOptions,
  loadHashSet,
  PhmatchError,
  parseListKey,
  parseTrustedKeys,
  RollbackState,
  type ScanHeader,
} from "@phmatch/core";
import { checkKeyRoles } from "@phmatch/core/internal";
import type { Command } from "commander";

/** Options that say how a store is trusted and opened, shared by every command that loads one. */
export interface TrustOptions {
  trustedKeys?: string;
  trustedOverrideKeys?: string;
  keyFile?: string;
}

/** Options of the rollback state, for the commands that match against lists (and verify, which only checks it). */
export interface StateOptions {
  stateDir?: string;
  allowRollback?: boolean;
}

/** Adds --trusted-keys and --key-file to a command. */
export function withTrustOptions(command: Command): Command {
  return command
    .option(
      "--trusted-keys <file>",
      "PEM public keys whose signatures are trusted (or PHMATCH_TRUSTED_KEYS); when set, unsigned or wrongly " +
        "signed lists and overrides are refused, and a file without a usable key is an error",
    )
    .option(
      "--trusted-override-keys <file>",
      "PEM public keys trusted to sign the overrides beside lists (or PHMATCH_TRUSTED_OVERRIDE_KEYS): a role of " +
        "its own, never a --trusted-keys key; with --trusted-keys, signed overrides need it",
    )
    .option("--key-file <file>", "key of encrypted lists (or PHMATCH_LIST_KEY): 64 hex digits or base64");
}

/** Adds --no-rotations, --no-parts and --no-trim: the query views every matching command (check, scan, serve) has. */
export function withQueryViewOptions(command: Command): Command {
  return command
    .option(
      "--no-rotations",
      "do not also match the image turned back by small angles (+-2 to 8 degrees: 5-degree rotations)",
    )
    .option(
      "--no-parts",
      "do not also match the parts of the image: its top, bottom, left and right 60% and 34%, and the image " +
        "with each 2/3 corner block masked (logos and captions over one region)",
    )
    .option(
      "--no-trim",
      "do not also match the content inside uniform borders and caption bars (letterboxing, frames, memes)",
    );
}

/** Adds --state-dir and --allow-rollback to a command. */
export function withStateOptions(
  command: Command,
  what = "where the highest release of each list (and of signed overrides, and audit log heads) is remembered (or " +
    "PHMATCH_STATE_DIR)",
): Command {
  return command
    .option("--state-dir <dir>", what)
    .option(
      "--allow-rollback",
      "accept an older release of a list (or of signed overrides) than the rollback state has seen",
      false,
    );
}

/** Adds the repeatable, required -s/--hashset option (the lists a command matches against). */
export function withHashsetOption(command: Command): Command {
  return command.requiredOption(
    "-s, --hashset <store>",
    "a .phs list (repeat for several)",
    (v: string, all: string[] = []) => [...all, v],
  );
}

/** Loads every --hashset list, verified as the trust options say, against the rollback state if there is one. */
export async function loadHashSets(
  options: TrustOptions & StateOptions & { hashset: string[] },
  state: RollbackState | undefined,
): Promise<LoadedHashSet[]> {
  const load: LoadOptions = { ...loadOptions(options), allowRollback: options.allowRollback === true };
  if (state !== undefined) load.versionState = state;
  const sets: LoadedHashSet[] = [];
  for (const store of options.hashset) {
    const loaded = await loadHashSet(store, load);
    // An override about another release of its list is not applied (fail closed): said, never silently.
    for (const why of loaded.overridesNotApplied ?? []) process.stderr.write(`phmatch: warning: ${why}\n`);
    sets.push(loaded);
  }
  return sets;
}

/**
 * LoadOptions from the command line and environment, without rollback state: what the read-only commands (info,
 * diff, export, merge) use, which read an older release on purpose and must neither trip nor move the state.
 */
export function loadOptions(options: TrustOptions): LoadOptions {
  const load: LoadOptions = {};
  const trusted = trustedKeys(options.trustedKeys);
  if (trusted !== undefined) load.trustedKeys = trusted;
  const overrideKeys = trustedOverrideKeys(options.trustedOverrideKeys);
  if (overrideKeys !== undefined) load.trustedOverrideKeys = overrideKeys;
  checkKeyRoles(load); // a key in both roles: PHM_USAGE before anything starts
  const key = listKey(options.keyFile);
  if (key !== undefined) load.key = key;
  return load;
}

/**
 * The state folder from --state-dir or PHMATCH_STATE_DIR, undefined when neither is given; set but empty is an
 * error.
 */
export function stateDirOf(options: StateOptions): string | undefined {
  if (options.stateDir !== undefined) {
    if (options.stateDir.trim() === "") throw new PhmatchError("PHM_USAGE", "--state-dir is empty: name a folder");
    return options.stateDir;
  }
  const env = process.env.PHMATCH_STATE_DIR;
  if (env === undefined) return undefined;
  if (env.trim() === "")
    throw new PhmatchError(
      "PHM_USAGE",
      "PHMATCH_STATE_DIR is set but empty: set it to a folder, or unset it (an empty value never means a default)",
    );
  return env;
}

/**
 * The rollback state of a deployment (serve, worker, the distributed scan's coordinator): required, one folder per
 * deployment, shared by its replicas, so a restarted or added replica cannot be handed an older release.
 */
export function deploymentState(options: StateOptions, command: string): RollbackState {
  const dir = stateDirOf(options);
  if (dir === undefined) {
    throw new PhmatchError(
      "PHM_USAGE",
      `${command} needs a rollback state folder: give one --state-dir per gate deployment, shared by its ` +
        "replicas (or PHMATCH_STATE_DIR)",
    );
  }
  return new RollbackState(dir);
}

/** Where a one-off run keeps its rollback state, as the report header records it. */
export type RollbackStateChoice = {
  state: RollbackState | undefined;
  header: NonNullable<ScanHeader["rollbackState"]>;
};

/** What is said when a run has no rollback state. */
export const NO_ROLLBACK_STATE = "rollback state: none; give --state-dir (an older list release would not be noticed)";

/**
 * The rollback state of a one-off run (scan, check, match): the folder given; else, for a scan writing its report
 * to a file, the case's own state beside the report (`<report dir>/.phmatch-state`), so re-running an old case in
 * its folder with its release works and an older release in that case is refused; else none, said on stderr
 * (and in the report header), never silently.
 */
export function runState(options: StateOptions, command: string, report?: string): RollbackStateChoice {
  const dir = stateDirOf(options);
  if (dir !== undefined) return { state: new RollbackState(dir), header: { kind: "state-dir", dir: resolve(dir) } };
  if (report !== undefined) {
    const caseDir = join(dirname(resolve(report)), ".phmatch-state");
    return { state: new RollbackState(caseDir), header: { kind: "case", dir: caseDir } };
  }
  process.stderr.write(`phmatch ${command}: ${NO_ROLLBACK_STATE}\n`);
  return { state: undefined, header: { kind: "none", note: NO_ROLLBACK_STATE } };
}

/**
 * The trusted keys from --trusted-keys or PHMATCH_TRUSTED_KEYS (undefined only when neither is given), each usable.
 * Given but holding no PEM public key (an empty file, PHMATCH_TRUSTED_KEYS=' ') is PHM_USAGE: asking for signature
 * checks with nothing to check against must never turn them off.
 */
export function trustedKeys(file: string | undefined): KeyObject[] | undefined {
  const source = trustedKeysSource(file);
  return source === undefined ? undefined : parseTrustedKeys(source.pem, source.what);
}

/** The overrides keys from --trusted-override-keys or PHMATCH_TRUSTED_OVERRIDE_KEYS (undefined when neither). */
export function trustedOverrideKeys(file: string | undefined): KeyObject[] | undefined {
  if (file !== undefined)
    return parseTrustedKeys(readText(file, "--trusted-override-keys"), `--trusted-override-keys ${file}`);
  const env = process.env.PHMATCH_TRUSTED_OVERRIDE_KEYS;
  return env === undefined ? undefined : parseTrustedKeys(env, "PHMATCH_TRUSTED_OVERRIDE_KEYS");
}

function trustedKeysSource(file: string | undefined): { pem: string; what: string } | undefined {
  if (file !== undefined) return { pem: readText(file, "--trusted-keys"), what: `--trusted-keys ${file}` };
  const env = process.env.PHMATCH_TRUSTED_KEYS;
  return env === undefined ? undefined : { pem: env, what: "PHMATCH_TRUSTED_KEYS" };
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

/** "overrides: none", or how many, which release, and who signed them (or that nobody did). */
export function describeOverrides(loaded: LoadedHashSet): string {
  const o = loaded.overridesProvenance;
  if (o === undefined) return "overrides: none";
  const release = o.release === undefined ? "" : `, release ${o.release}`;
  const signature =
    o.signedBy !== undefined
      ? `, signed by key ${o.signedBy}`
      : existsSync(`${o.path}.sig`)
        ? ", signature present, not verified (no trusted keys given)"
        : ", unsigned";
  const actions = o.count === 0 ? "" : ` (${countActions(loaded)})`;
  return `overrides: ${o.count}${actions}${release}${signature}`;
}

function countActions(loaded: LoadedHashSet): string {
  const allow = loaded.overrides.filter((o) => o.action === "allow").length;
  return `${allow} allow, ${loaded.overrides.length - allow} disable`;
}

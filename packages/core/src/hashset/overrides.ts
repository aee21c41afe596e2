import { createHash, type KeyObject } from "node:crypto";
import { readFileSync, unlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { PhmatchError } from "../errors/index.js";
import { hasherSpec, hexDigits } from "../hashers/index.js";
import { withLock, writeAtomically } from "./locked-file.js";
import { keyId, signStore, verifyStore } from "./signature.js";
import type { RollbackState } from "./version-state.js";

/**
 * A local decision about one list entry, kept beside the list (`<store>.overrides.ndjson`), never editing it:
 * `disable` stops an entry from matching (a wrong entry under dispute), `allow` accepts a value even though a
 * list holds it (a confirmed false positive, an upheld appeal). Who, when and why are recorded; every match
 * result later says when an override applied.
 */
export interface Override {
  action: "disable" | "allow";
  algorithm: string;
  /** Hex value the override applies to. */
  hash: string;
  /** Limit to one list (default: every list holding the value). */
  listId?: string;
  /**
   * The release (version) of `listId` the decision was made about: applied only while that version is loaded (an
   * override naming another is not applied, and the load says so), so a decision about one release never weakens
   * another. Absent in overrides written before releases were named (applied to any version, as before).
   */
  listVersion?: number;
  entryId?: string;
  who: string;
  /** ISO 8601. */
  when: string;
  why: string;
}

/**
 * The first line of an overrides file: which release of the decisions it is (counting up with every change) and
 * the list ids it is bound to. A signature over the file covers it, so a signed file cannot be moved beside other
 * lists, nor an older signed release put back (the rollback state keeps the highest release seen).
 */
export interface OverridesHeader {
  type: "overrides";
  release: number;
  lists: string[];
}

/** An overrides file as read: its header (absent in files written before releases), its overrides, its bytes. */
export interface OverridesFile {
  path: string;
  header?: OverridesHeader;
  overrides: Override[];
  bytes: Buffer;
}

/** How the overrides beside a loaded store were checked (reports and answers name them). */
export interface OverridesProvenance {
  /** The overrides file. */
  path: string;
  count: number;
  /** Its release, from its header (absent in a file without one). */
  release?: number;
  /** The list ids it is bound to. */
  lists?: string[];
  /** The key whose signature was verified (only with trusted keys). */
  signedBy?: string;
  /** SHA-256 of the file's bytes. */
  sha256: string;
}

/** The overrides file of a store. */
export const overridesPath = (storePath: string): string => `${storePath}.overrides.ndjson`;
/** Its detached signature. */
export const overridesSignaturePath = (storePath: string): string => `${overridesPath(storePath)}.sig`;

/**
 * The overrides beside a store (undefined when the file does not exist). Each line is checked: the matcher indexes
 * them by algorithm and value, so a line that is not an override is PHM_HASHSET_PARSE naming the line, never a
 * TypeError when the lists are loaded.
 */
export async function readOverridesFile(storePath: string): Promise<OverridesFile | undefined> {
  return readOverridesFileNow(storePath);
}

// readOverridesFile, synchronously: inside the lock of a read-modify-write (the file is small).
function readOverridesFileNow(storePath: string): OverridesFile | undefined {
  const path = overridesPath(storePath);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new PhmatchError(
      "PHM_FILE_UNREADABLE",
      `cannot read the overrides of ${storePath} (${path}): ${(error as Error).message}`,
      { path, cause: error },
    );
  }
  const overrides: Override[] = [];
  let header: OverridesHeader | undefined;
  let first = true;
  bytes
    .toString("utf8")
    .split("\n")
    .forEach((line, i) => {
      if (line.trim() === "") return;
      const wrong = (why: string) =>
        new PhmatchError("PHM_HASHSET_PARSE", `${path}:${i + 1}: ${why}; fix the overrides file`, { path });
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw wrong("not valid JSON");
      }
      const isHeader =
        typeof value === "object" && value !== null && (value as { type?: unknown }).type === "overrides";
      if (isHeader) {
        if (!first) throw wrong("a header line after the first line");
        const why = headerProblem(value);
        if (why !== undefined) throw wrong(why);
        header = value as OverridesHeader;
      } else {
        const why = overrideProblem(value);
        if (why !== undefined) throw wrong(why);
        overrides.push(value as Override);
      }
      first = false;
    });
  return { path, ...(header !== undefined && { header }), overrides, bytes };
}

/** The overrides beside a store (none when the file does not exist); see {@link readOverridesFile}. */
export async function readOverrides(storePath: string): Promise<Override[]> {
  return (await readOverridesFile(storePath))?.overrides ?? [];
}

function headerProblem(value: unknown): string | undefined {
  const h = value as Record<string, unknown>;
  if (!Number.isSafeInteger(h.release) || (h.release as number) < 1)
    return 'the header\'s "release" is not a whole number from 1';
  if (!Array.isArray(h.lists) || h.lists.length === 0 || !h.lists.every((l) => typeof l === "string" && l !== ""))
    return 'the header\'s "lists" is not a non-empty array of list ids';
  if (new Set(h.lists).size !== h.lists.length) return 'the header\'s "lists" names a list twice';
  return undefined;
}

/** What makes `value` not an override, or undefined. */
function overrideProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not an override (a JSON object)";
  const o = value as Record<string, unknown>;
  if (o.action !== "disable" && o.action !== "allow")
    return `"action" is ${JSON.stringify(o.action)}, not "disable" or "allow"`;
  const spec = typeof o.algorithm === "string" ? hasherSpec(o.algorithm) : undefined;
  if (spec === undefined) return `"algorithm" ${JSON.stringify(o.algorithm)} is not a known algorithm`;
  if (typeof o.hash !== "string" || !/^[0-9a-fA-F]+$/.test(o.hash) || o.hash.length !== hexDigits(spec))
    return `"hash" is not ${hexDigits(spec)} hex digits of ${spec.id}`;
  for (const key of ["listId", "entryId"])
    if (o[key] !== undefined && typeof o[key] !== "string") return `"${key}" is not text`;
  if (o.listVersion !== undefined) {
    if (!Number.isSafeInteger(o.listVersion) || (o.listVersion as number) < 0)
      return '"listVersion" is not a whole number from 0';
    if (o.listId === undefined) return '"listVersion" without "listId": a release is the release of one list';
  }
  for (const key of ["who", "when", "why"])
    if (typeof o[key] !== "string") return `"${key}" is missing (who, when and why are the record of the decision)`;
  return undefined;
}

function sameIds(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((id, i) => id === y[i]);
}

/** How overrides are checked at load: the trust options of the store they sit beside. */
export interface OverridesCheck {
  /** The list keys: they sign lists, never overrides (an overrides file signed by one is refused). */
  trustedKeys?: KeyObject[];
  /**
   * The overrides keys: the role that signs local decisions about lists, never a list. With list keys and an
   * overrides file that could change an outcome, these must be given (else refused: fail closed).
   */
  trustedOverrideKeys?: KeyObject[];
  versionState?: RollbackState;
  allowRollback?: boolean;
}

/**
 * Checks the overrides beside a store before they may change any outcome. With trusted keys, a file holding
 * overrides (or carrying a .sig) must be signed by one of them (unsigned, wrong key or altered: PHM_HASHSET_SIGNATURE),
 * bound by its header to exactly the store's list ids (else PHM_HASHSET_SIGNATURE), and not an older release than
 * the rollback state has seen (PHM_HASHSET_ROLLBACK); its release is then recorded. Without trusted keys the file is
 * used as it is (its binding, if it has one, is still checked) and reported unsigned.
 */
export async function checkOverrides(
  file: OverridesFile,
  storeLists: readonly string[],
  options: OverridesCheck,
  what: string,
): Promise<OverridesProvenance> {
  const provenance: OverridesProvenance = {
    path: file.path,
    count: file.overrides.length,
    sha256: createHash("sha256").update(file.bytes).digest("hex"),
  };
  if (file.header !== undefined) {
    provenance.release = file.header.release;
    provenance.lists = file.header.lists;
    if (!sameIds(file.header.lists, storeLists)) {
      throw new PhmatchError(
        "PHM_HASHSET_SIGNATURE",
        `${file.path} is bound to list(s) ${file.header.lists.join(", ")}, ` +
          `not to the lists of ${what} (${storeLists.join(", ") || "none"}): refused ` +
          `(overrides are decisions about one list; make them for this list: \`addOverride\`)`,
        { path: file.path },
      );
    }
  }
  if (options.trustedKeys === undefined && options.trustedOverrideKeys === undefined) return provenance;
  const signature = await readFile(`${file.path}.sig`, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw new PhmatchError(
      "PHM_HASHSET_SIGNATURE",
      `cannot read ${file.path}.sig (${error.message}): the overrides cannot be checked, refused`,
      { path: file.path, cause: error },
    );
  });
  // nothing that could change an outcome
  if (signature === undefined && file.overrides.length === 0 && file.header === undefined) return provenance;
  if (signature === undefined) {
    throw new PhmatchError(
      "PHM_HASHSET_SIGNATURE",
      `${file.path} holds ${file.overrides.length} override(s) but is not signed (no ${file.path}.sig) while trusted ` +
        "keys are configured: refused, the lists were not loaded " +
        `(sign it with an overrides key trusted for ${what}: \`signOverrides\`; or remove the file)`,
      { path: file.path },
    );
  }
  // Two roles, two sets of keys (issue 21): a list key vouches for a hotline's list, an overrides key for this
  // platform's decisions about it. A list key's signature over overrides is refused by name, as is a file under
  // list keys with no overrides keys configured to check it against.
  const listKeyIds = new Set((options.trustedKeys ?? []).map(keyId));
  const signerId = signatureKeyId(signature);
  if (signerId !== undefined && listKeyIds.has(signerId)) {
    throw new PhmatchError(
      "PHM_HASHSET_SIGNATURE",
      `${file.path} is signed by key ${signerId}, a list key (role: lists): overrides must be signed by an ` +
        "overrides key (role: overrides, trustedOverrideKeys), never by a key that signs lists: refused, the lists " +
        "were not loaded (sign the overrides again with an overrides key)",
      { path: file.path },
    );
  }
  if (options.trustedOverrideKeys === undefined) {
    throw new PhmatchError(
      "PHM_HASHSET_SIGNATURE",
      `${file.path} holds signed overrides, but no overrides keys are configured to check them while list keys ` +
        "are: refused, the lists were not loaded (give the public key that signs overrides as `trustedOverrideKeys`; " +
        "or remove the overrides file)",
      { path: file.path, optionNames: ["trustedOverrideKeys"] },
    );
  }
  provenance.signedBy = verifyStore(file.bytes, signature, options.trustedOverrideKeys, file.path);
  if (file.header === undefined) {
    throw new PhmatchError(
      "PHM_HASHSET_SIGNATURE",
      `${file.path} is signed but has no header (release and list ids), so it is bound to no list: ` +
        `refused (sign it again: \`signOverrides\`)`,
      { path: file.path },
    );
  }
  options.versionState?.admitOverrides(
    file.header.lists,
    file.header.release,
    file.path,
    options.allowRollback === true,
  );
  return provenance;
}

/** How an overrides file is written: the store's list ids (the binding) and, to sign it, an Ed25519 key. */
export interface OverridesWrite {
  /** The list ids of the store (the binding of a new header); an existing header keeps its own. */
  lists?: readonly string[];
  /** Ed25519 private key (PEM): sign the new release (`<overrides>.sig`). */
  signingKeyPem?: string;
}

/** What a write of the overrides file did. */
export interface OverridesWritten {
  path: string;
  release?: number;
  /** Key id of the signature written, if signed. */
  signedBy?: string;
  /** True when an old signature was removed because it no longer matches (the file is unsigned now). */
  unsigned: boolean;
}

/**
 * Appends an override, as a new release of the file. Checked first, whoever calls (PHM_USAGE saying what is wrong):
 * `who` and `why` are given, the algorithm is known, `hash` is its hex value, and `listId`, if any, is one of the
 * store's lists (`options.lists`, when given).
 */
export async function addOverride(
  storePath: string,
  override: Override,
  options: OverridesWrite = {},
): Promise<OverridesWritten> {
  const blank = (text: unknown) => typeof text !== "string" || text.trim() === "";
  if (blank(override.who) || blank(override.why)) {
    const message = "an override needs `who` and `why`: they are the record of the decision";
    throw new PhmatchError("PHM_USAGE", message, { optionNames: ["who", "why"] });
  }
  const why = overrideProblem(override);
  if (why !== undefined) throw new PhmatchError("PHM_USAGE", `not an override: ${why}`);
  if (override.listId !== undefined && options.lists !== undefined && !options.lists.includes(override.listId)) {
    const holds = options.lists.join(", ");
    throw new PhmatchError("PHM_USAGE", `${storePath} holds no list "${override.listId}" (it holds ${holds})`);
  }
  return underLock(storePath, () => {
    const file = readOverridesFileNow(storePath);
    return writeOverrides(storePath, file, [...(file?.overrides ?? []), override], options);
  });
}

/** Removes override number `index` (0-based, as `override list` numbers them), as a new release of the file. */
export async function removeOverride(
  storePath: string,
  index: number,
  options: OverridesWrite = {},
): Promise<Override> {
  return underLock(storePath, () => {
    const file = readOverridesFileNow(storePath);
    const overrides = [...(file?.overrides ?? [])];
    const removed = overrides[index];
    if (removed === undefined)
      throw new PhmatchError("PHM_USAGE", `no override #${index}; there are ${overrides.length}`);
    overrides.splice(index, 1);
    writeOverrides(storePath, file, overrides, options);
    return removed;
  });
}

/**
 * Signs the overrides file as it is (a file without a header gets one: release 1, bound to `lists`). The signer
 * vouches for every decision in it; a changed file is a new release and is signed again.
 */
export async function signOverrides(
  storePath: string,
  privateKeyPem: string,
  lists?: readonly string[],
): Promise<OverridesWritten> {
  return underLock(storePath, () => signOverridesNow(storePath, privateKeyPem, lists));
}

function signOverridesNow(storePath: string, privateKeyPem: string, lists?: readonly string[]): OverridesWritten {
  const file = readOverridesFileNow(storePath);
  if (file === undefined)
    throw new PhmatchError(
      "PHM_USAGE",
      `there is no overrides file beside ${storePath} (${overridesPath(storePath)}) to sign`,
    );
  if (file.header !== undefined) {
    if (lists !== undefined && !sameIds(file.header.lists, lists)) {
      throw new PhmatchError(
        "PHM_USAGE",
        `${file.path} is bound to list(s) ${file.header.lists.join(", ")}, ` +
          `but ${storePath} holds ${lists.join(", ")}: not signed (these overrides are not this store's)`,
      );
    }
    const signature = signStore(file.bytes, privateKeyPem);
    writeAtomically(overridesSignaturePath(storePath), signature);
    return {
      path: file.path,
      release: file.header.release,
      signedBy: (JSON.parse(signature) as { keyId: string }).keyId,
      unsigned: false,
    };
  }
  return writeOverrides(
    storePath,
    file,
    file.overrides,
    { signingKeyPem: privateKeyPem, ...(lists !== undefined && { lists }) },
    false,
  );
}

// Writes the overrides as the next release (header first), signs it with a key, and otherwise removes a signature
// that no longer matches (better "unsigned" than a .sig that makes the list refuse to load as altered).
// Two changes at once (two `override add`) would each read the same file and one would be lost, both as the same
// release: every read-modify-write holds the overrides' lock file.
function underLock<T>(storePath: string, change: () => T): Promise<T> {
  return Promise.resolve().then(() =>
    withLock(`${overridesPath(storePath)}.lock`, change, { what: `the overrides of ${storePath}` }),
  );
}

function writeOverrides(
  storePath: string,
  before: OverridesFile | undefined,
  overrides: Override[],
  options: OverridesWrite,
  bump = true,
): OverridesWritten {
  const path = overridesPath(storePath);
  if (before?.header !== undefined && options.lists !== undefined && !sameIds(before.header.lists, options.lists)) {
    throw new PhmatchError(
      "PHM_USAGE",
      `${path} is bound to list(s) ${before.header.lists.join(", ")}, ` +
        `but ${storePath} holds ${options.lists.join(", ")}: ` +
        `these overrides are not this store's (move them away, and make the store's own)`,
    );
  }
  const lists = before?.header?.lists ?? (options.lists !== undefined ? [...options.lists] : undefined);
  if (lists === undefined && options.signingKeyPem !== undefined) {
    throw new PhmatchError(
      "PHM_USAGE",
      `signing the overrides of ${storePath} needs the store's list ids (the binding): the store could not be read`,
    );
  }
  const release = before?.header !== undefined ? before.header.release + (bump ? 1 : 0) : 1;
  const header: OverridesHeader | undefined = lists === undefined ? undefined : { type: "overrides", release, lists };
  const bytes = Buffer.from(
    [...(header === undefined ? [] : [header]), ...overrides].map((o) => JSON.stringify(o) + "\n").join(""),
  );
  const signature = options.signingKeyPem === undefined ? undefined : signStore(bytes, options.signingKeyPem);
  let unsigned = false;
  if (signature !== undefined) writeAtomically(overridesSignaturePath(storePath), signature);
  else {
    try {
      unlinkSync(overridesSignaturePath(storePath));
      unsigned = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  writeAtomically(path, bytes);
  return {
    path,
    ...(header !== undefined && { release: header.release }),
    ...(signature !== undefined && { signedBy: (JSON.parse(signature) as { keyId: string }).keyId }),
    unsigned,
  };
}

// The key id a detached signature names, if it is one (verifyStore checks it properly).
function signatureKeyId(signature: string): string | undefined {
  try {
    const id = (JSON.parse(signature) as { keyId?: unknown }).keyId;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The overrides of a loaded store that apply to it: one naming a release (`listVersion`) of its list applies only
 * while that release is loaded. The others are set aside, each with why (a load warning): a decision about one
 * release never weakens another (fail closed: the entry matches as the list says). An override naming no release
 * (written before overrides named one) still applies from an unsigned file; with `requireRelease` (the file's
 * signature was verified against overrides keys: a trusted deployment) it is set aside too, since nobody can say
 * which release it was decided about.
 */
export function overridesForRelease(
  overrides: readonly Override[],
  lists: readonly { listId: string; version: number }[],
  path: string,
  options: { requireRelease?: boolean } = {},
): { applied: Override[]; notApplied: string[] } {
  const applied: Override[] = [];
  const notApplied: string[] = [];
  for (const o of overrides) {
    if (o.listVersion === undefined) {
      if (options.requireRelease !== true) applied.push(o);
      else
        notApplied.push(
          `${path}: the ${o.action} override of ${o.algorithm} ${o.hash} (${o.why}) names no list release ` +
            "(listId and listVersion): not applied from a signed overrides file (make the decision again, naming " +
            "the release loaded)",
        );
      continue;
    }
    const list = lists.find((l) => l.listId === o.listId);
    const loadedRelease = list === undefined ? "that list is not in the store" : `release ${list.version} is loaded`;
    if (list !== undefined && list.version === o.listVersion) applied.push(o);
    else
      notApplied.push(
        `${path}: the ${o.action} override of ${o.algorithm} ${o.hash} (${o.why}) was made about list ${o.listId} ` +
          `release ${o.listVersion}, and ${loadedRelease}: ` +
          "not applied (make the decision again for this release if it still holds)",
      );
  }
  return { applied, notApplied };
}

import { appendFile, readFile, writeFile } from "node:fs/promises";
import { PhmatchError } from "../errors/index.js";
import { hasherSpec, hexDigits } from "../hashers/index.js";

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
  entryId?: string;
  who: string;
  /** ISO 8601. */
  when: string;
  why: string;
}

/** The overrides file of a store. */
export const overridesPath = (storePath: string): string => `${storePath}.overrides.ndjson`;

/**
 * The overrides beside a store (none when the file does not exist). Each line is checked: the matcher indexes
 * them by algorithm and value, so a line that is not an override is PHM_HASHSET_PARSE naming the line, never a
 * TypeError when the lists are loaded.
 */
export async function readOverrides(storePath: string): Promise<Override[]> {
  const path = overridesPath(storePath);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw new PhmatchError("PHM_FILE_UNREADABLE", `cannot read the overrides of ${storePath} (${path}): ${(error as Error).message}`, { path, cause: error });
  }
  const overrides: Override[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const wrong = (why: string) => new PhmatchError("PHM_HASHSET_PARSE", `${path}:${i + 1}: ${why}; fix the overrides file`, { path });
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw wrong("not valid JSON");
    }
    const why = overrideProblem(value);
    if (why !== undefined) throw wrong(why);
    overrides.push(value as Override);
  });
  return overrides;
}

/** What makes `value` not an override, or undefined. */
function overrideProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not an override (a JSON object)";
  const o = value as Record<string, unknown>;
  if (o.action !== "disable" && o.action !== "allow") return `"action" is ${JSON.stringify(o.action)}, not "disable" or "allow"`;
  const spec = typeof o.algorithm === "string" ? hasherSpec(o.algorithm) : undefined;
  if (spec === undefined) return `"algorithm" ${JSON.stringify(o.algorithm)} is not a known algorithm`;
  if (typeof o.hash !== "string" || !/^[0-9a-fA-F]+$/.test(o.hash) || o.hash.length !== hexDigits(spec)) return `"hash" is not ${hexDigits(spec)} hex digits of ${spec.id}`;
  for (const key of ["listId", "entryId"]) if (o[key] !== undefined && typeof o[key] !== "string") return `"${key}" is not text`;
  for (const key of ["who", "when", "why"]) if (typeof o[key] !== "string") return `"${key}" is missing (who, when and why are the record of the decision)`;
  return undefined;
}

/** Appends an override (who, why and the value are required). */
export async function addOverride(storePath: string, override: Override): Promise<void> {
  if (override.who.trim() === "" || override.why.trim() === "") {
    throw new PhmatchError("PHM_USAGE", "an override needs --who and --why: they are the record of the decision");
  }
  await appendFile(overridesPath(storePath), JSON.stringify(override) + "\n");
}

/** Removes override number `index` (0-based, as `override list` numbers them). */
export async function removeOverride(storePath: string, index: number): Promise<Override> {
  const overrides = await readOverrides(storePath);
  const removed = overrides[index];
  if (removed === undefined) throw new PhmatchError("PHM_USAGE", `no override #${index}; there are ${overrides.length}`);
  overrides.splice(index, 1);
  await writeFile(overridesPath(storePath), overrides.map((o) => JSON.stringify(o) + "\n").join(""));
  return removed;
}

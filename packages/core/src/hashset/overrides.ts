import { appendFile, readFile, writeFile } from "node:fs/promises";
import { PhmatchError } from "../errors/index.js";

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

/** The overrides beside a store (none when the file does not exist). */
export async function readOverrides(storePath: string): Promise<Override[]> {
  let text: string;
  try {
    text = await readFile(overridesPath(storePath), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      try {
        return JSON.parse(line) as Override;
      } catch {
        throw new PhmatchError("PHM_HASHSET_PARSE", `${overridesPath(storePath)}:${i + 1}: not valid JSON; fix the overrides file`);
      }
    });
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

/**
 * The `.phs` store, version 1 (documented in docs/phs-format.md):
 *
 *   magic "PHS\0v001" (8 bytes) | header length (u32 LE) | header (UTF-8 JSON) | padding to 8 |
 *   sections (each 8-byte aligned) | SHA-256 of every byte before it (32 bytes)
 *
 * The header names the lists (id, version, metadata), the counts, and each section's offset and length from
 * the start of the file. Per algorithm, two sections: the packed fixed-width values (an index is built from them
 * without parsing text), and the entry metadata: u32 LE offsets (count + 1) into a blob of one compact JSON
 * object per entry ({"l": list index, "i": entry id, "c": category, "f": fields}, empty keys omitted), read
 * only when an entry is reported. Withdrawals are one NDJSON section. The trailing SHA-256 makes any damaged
 * byte detectable without a key; a detached Ed25519 signature (list.phs.sig) makes it attributable.
 */
export const PHS_MAGIC = Buffer.from("PHS\0v001", "latin1");
/** Magic of an encrypted store: the same layout inside AES-256-GCM. */
export const PHS_ENCRYPTED_MAGIC = Buffer.from("PHSEv001", "latin1");
export const PHS_FORMAT_VERSION = 1;

/** A list held in a store: its identity, its release, its terms. */
export interface ListInfo {
  listId: string;
  /** Release number; only grows. */
  version: number;
  name?: string;
  /** Who supplies it. */
  source?: string;
  /** Usage terms or confidentiality conditions, as supplied. */
  usageTerms?: string;
  description?: string;
  /** When this release was created (ISO 8601). */
  createdAt?: string;
}

export interface SectionRef {
  offset: number;
  length: number;
}

export interface AlgorithmSection {
  algorithm: string;
  bytesPerValue: number;
  count: number;
  values: SectionRef;
  meta: SectionRef;
}

/**
 * What went into a store, one record per step that made it (an import, a build, a merge; a merge carries the
 * records of the stores it merged before its own): so a store says what its entries were taken from, how much
 * was read, taken and refused, and whether the input was whole. Stores made before phmatch recorded it have none.
 */
export interface StoreProvenance {
  step: "import" | "build" | "merge";
  /** When (ISO 8601) and by which phmatch. */
  at: string;
  by: string;
  /** The list ids the step put entries or withdrawals in. */
  lists: string[];
  /** import: the list file as given, the SHA-256 and size of its bytes, the format read and why, how it ended. */
  input?: {
    file: string;
    sha256: string;
    bytes: number;
    format: string;
    detectedBy: string;
    ending: "complete" | "unterminated" | "truncated" | "stopped";
  };
  /** merge: the stores merged, as given, with the SHA-256 of each file. */
  stores?: { store: string; sha256: string }[];
  /** import: whether any invalid record was fatal (--strict). */
  strict?: boolean;
  /** Records read (import), files read (build), entries read from the stores (merge). */
  read: number;
  /** Entries taken into the store. */
  taken: number;
  /** Withdrawals taken. */
  withdrawals: number;
  /** Entries already taken for the same list (counted, not stored twice). */
  duplicate: number;
  /** What was refused, by reason (invalid, unrecognised, degenerate, low-quality, failed), with counts. */
  refused: Record<string, number>;
}

/** The JSON header of a `.phs` store: format version, who wrote it, its lists and their provenance. */
export interface PhsHeader {
  format: "phs";
  formatVersion: number;
  createdBy: string;
  createdAt: string;
  lists: ListInfo[];
  /** How the store was made (absent in stores made before phmatch recorded it). */
  provenance?: StoreProvenance[];
  counts: { entries: number; withdrawals: number; byAlgorithm: Record<string, number> };
  algorithms: AlgorithmSection[];
  withdrawals: SectionRef & { count: number };
}

/** Compact per-entry metadata as stored. */
export interface StoredMeta {
  l?: number;
  i?: string;
  c?: string;
  f?: Record<string, unknown>;
}

const LIST_TEXT_FIELDS = ["name", "source", "usageTerms", "description", "createdAt"] as const;

/**
 * `value` as a {@link ListInfo} with only its known fields, or what is wrong with it: a list needs a non-empty
 * `listId`, a whole-number `version` of at least 0, and text in its other fields. Lists arrive from files (a .phs
 * header, an NDJSON export's header line), so nothing about them is taken on trust.
 */
export function checkedListInfo(value: unknown): ListInfo | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "is not an object";
  const list = value as Record<string, unknown>;
  if (typeof list.listId !== "string" || list.listId === "") return 'has no "listId" text';
  if (typeof list.version !== "number" || !Number.isSafeInteger(list.version) || list.version < 0)
    return `has a "version" that is not a whole number >= 0 (${JSON.stringify(list.version)})`;
  const info: ListInfo = { listId: list.listId, version: list.version };
  for (const key of LIST_TEXT_FIELDS) {
    const text = list[key];
    if (text === undefined) continue;
    if (typeof text !== "string") return `has a "${key}" that is not text`;
    info[key] = text;
  }
  return info;
}

const STEPS = new Set(["import", "build", "merge"]);
const ENDINGS = new Set(["complete", "unterminated", "truncated", "stopped"]);
const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
const isText = (t: unknown): t is string => typeof t === "string";

/**
 * `value` as the provenance records of a store (only their known fields, each of its type), or what is wrong
 * with them. The records are shown by `hashset info` and copied into scan reports, so nothing in them is taken
 * on trust: a record that is not what a phmatch writer writes refuses the store.
 */
export function checkedProvenance(value: unknown): StoreProvenance[] | string {
  if (!Array.isArray(value)) return " is not an array";
  const records: StoreProvenance[] = [];
  for (const [i, item] of value.entries()) {
    const bad = (why: string) => `[${i}] ${why}`;
    if (typeof item !== "object" || item === null || Array.isArray(item)) return bad("is not an object");
    const r = item as Record<string, unknown>;
    if (!isText(r.step) || !STEPS.has(r.step)) return bad(`has a "step" that is not import, build or merge`);
    if (!isText(r.at) || !isText(r.by)) return bad('has no "at" and "by" text');
    if (!Array.isArray(r.lists) || !r.lists.every(isText)) return bad('has a "lists" that is not an array of list ids');
    for (const key of ["read", "taken", "withdrawals", "duplicate"] as const)
      if (!isCount(r[key])) return bad(`has a "${key}" that is not a whole number >= 0`);
    if (
      typeof r.refused !== "object" ||
      r.refused === null ||
      Array.isArray(r.refused) ||
      !Object.values(r.refused).every(isCount)
    ) {
      return bad('has a "refused" that is not an object of whole numbers');
    }
    const record: StoreProvenance = {
      step: r.step as StoreProvenance["step"],
      at: r.at,
      by: r.by,
      lists: [...(r.lists as string[])],
      read: r.read as number,
      taken: r.taken as number,
      withdrawals: r.withdrawals as number,
      duplicate: r.duplicate as number,
      refused: { ...(r.refused as Record<string, number>) },
    };
    if (r.strict !== undefined) {
      if (typeof r.strict !== "boolean") return bad('has a "strict" that is not true or false');
      record.strict = r.strict;
    }
    if (r.input !== undefined) {
      const input = r.input as Record<string, unknown> | null;
      if (typeof input !== "object" || input === null || Array.isArray(input))
        return bad('has an "input" that is not an object');
      if (!isText(input.file) || !isText(input.format) || !isText(input.detectedBy))
        return bad('has an "input" without "file", "format" and "detectedBy" text');
      if (!isText(input.sha256) || !/^[0-9a-f]{64}$/.test(input.sha256))
        return bad('has an "input" whose "sha256" is not 64 hex digits');
      if (!isCount(input.bytes)) return bad('has an "input" whose "bytes" is not a whole number >= 0');
      if (!isText(input.ending) || !ENDINGS.has(input.ending))
        return bad('has an "input" whose "ending" is not complete, unterminated, truncated or stopped');
      record.input = {
        file: input.file,
        sha256: input.sha256,
        bytes: input.bytes,
        format: input.format,
        detectedBy: input.detectedBy,
        ending: input.ending as NonNullable<StoreProvenance["input"]>["ending"],
      };
    }
    if (r.stores !== undefined) {
      if (!Array.isArray(r.stores)) return bad('has a "stores" that is not an array');
      const stores: { store: string; sha256: string }[] = [];
      for (const st of r.stores as unknown[]) {
        const o = st as Record<string, unknown> | null;
        if (
          typeof o !== "object" ||
          o === null ||
          !isText(o.store) ||
          !isText(o.sha256) ||
          !/^[0-9a-f]{64}$/.test(o.sha256)
        )
          return bad('has a "stores" item without "store" text and a 64-hex "sha256"');
        stores.push({ store: o.store, sha256: o.sha256 });
      }
      record.stores = stores;
    }
    records.push(record);
  }
  return records;
}

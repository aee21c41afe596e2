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

export interface PhsHeader {
  format: "phs";
  formatVersion: number;
  createdBy: string;
  createdAt: string;
  lists: ListInfo[];
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
  if (typeof list.version !== "number" || !Number.isSafeInteger(list.version) || list.version < 0) return `has a "version" that is not a whole number >= 0 (${JSON.stringify(list.version)})`;
  const info: ListInfo = { listId: list.listId, version: list.version };
  for (const key of LIST_TEXT_FIELDS) {
    const text = list[key];
    if (text === undefined) continue;
    if (typeof text !== "string") return `has a "${key}" that is not text`;
    info[key] = text;
  }
  return info;
}

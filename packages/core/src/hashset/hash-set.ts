import { PhmatchError } from "../errors/index.js";
import type { EntryFields, HashSetEntry, Withdrawal } from "./entry.js";
import type { AlgorithmSection, ListInfo, PhsHeader, StoredMeta } from "./store-format.js";

/** The packed values of one algorithm in a loaded set: `count` values of `bytesPerValue` bytes, back to back. */
export interface PackedSection {
  algorithm: string;
  bytesPerValue: number;
  count: number;
  values: Uint8Array;
}

// How an entry's `window` field starts in its stored metadata (JSON).
const WINDOW_FIELD = Buffer.from('"window":');

/**
 * A loaded, verified hash set. Values stay packed (views into the file's bytes) so that an index can be built
 * from them directly; an entry's metadata is decoded only when asked for (a match being reported). An index
 * that keeps its own copy of the values (MIH) can take the set's place as their holder
 * ({@link HashSet.adoptValues}); the set then keeps copies of the rest and lets the file's bytes go.
 */
export class HashSet {
  readonly header: PhsHeader;
  readonly #byteLength: number;
  readonly #withdrawals: string;
  #bytes: Buffer | undefined;
  #holdsWindows: boolean | undefined;
  readonly #sections: Map<
    string,
    { section: AlgorithmSection; values: Uint8Array; offsets: Uint32Array; blob: Uint8Array }
  >;

  constructor(header: PhsHeader, bytes: Buffer) {
    this.header = header;
    this.#bytes = bytes;
    this.#byteLength = bytes.length;
    this.#withdrawals = bytes
      .subarray(header.withdrawals.offset, header.withdrawals.offset + header.withdrawals.length)
      .toString("utf8");
    this.#sections = new Map();
    for (const section of header.algorithms) {
      const values = bytes.subarray(section.values.offset, section.values.offset + section.values.length);
      const metaStart = section.meta.offset;
      const offsetsBytes = (section.count + 1) * 4;
      const offsets = new Uint32Array(
        bytes.buffer.slice(bytes.byteOffset + metaStart, bytes.byteOffset + metaStart + offsetsBytes),
      );
      const blob = bytes.subarray(metaStart + offsetsBytes, metaStart + section.meta.length);
      this.#sections.set(section.algorithm, { section, values, offsets, blob });
    }
  }

  /**
   * Holds `values` instead of the set's own bytes for an algorithm's values (an index's copy of the very same
   * bytes), so the values are in memory once: what still points into the file is copied out and the file's bytes
   * are let go. Refused (RangeError) unless the bytes are identical.
   */
  adoptValues(algorithm: string, values: Uint8Array): void {
    const s = this.#sections.get(algorithm);
    if (s === undefined || !Buffer.from(values.buffer, values.byteOffset, values.byteLength).equals(s.values)) {
      throw new RangeError(`the values offered for ${algorithm} are not the set's own`);
    }
    s.values = values;
    const file = this.#bytes?.buffer;
    if (file === undefined) return;
    for (const other of this.#sections.values()) {
      if (other.values.buffer === file) other.values = new Uint8Array(other.values); // copies (Buffer#slice would not)
      other.blob = new Uint8Array(other.blob);
    }
    this.#bytes = undefined;
  }

  /** The lists this set holds (one, or several after a merge), with their versions and terms. */
  get lists(): ListInfo[] {
    return this.header.lists;
  }

  /** Algorithms with entries. */
  get algorithms(): string[] {
    return [...this.#sections.keys()];
  }

  /**
   * Whether any entry is the hash of a sub-window of its image (a list built with `--augment`), which the matcher's
   * part views are there to meet. Found by a search of the entries' stored metadata for the `window` field, once;
   * a string that only looks like it (none can: JSON escapes a quote in a value) would only cost the views' time.
   */
  get holdsWindows(): boolean {
    this.#holdsWindows ??= [...this.#sections.values()].some((s) =>
      Buffer.from(s.blob.buffer, s.blob.byteOffset, s.blob.byteLength).includes(WINDOW_FIELD),
    );
    return this.#holdsWindows;
  }

  /** Number of entries (all algorithms). */
  get size(): number {
    return this.header.counts.entries;
  }

  /** The packed values of one algorithm (empty when the set has none). */
  packed(algorithm: string): PackedSection {
    const s = this.#sections.get(algorithm);
    if (s === undefined) return { algorithm, bytesPerValue: 0, count: 0, values: new Uint8Array(0) };
    return { algorithm, bytesPerValue: s.section.bytesPerValue, count: s.section.count, values: s.values };
  }

  /** Entry `index` of `algorithm`, with its list, id, category and fields. */
  entry(algorithm: string, index: number): HashSetEntry {
    const s = this.#sections.get(algorithm);
    if (s === undefined || index < 0 || index >= s.section.count)
      throw new RangeError(`no ${algorithm} entry ${index}`);
    const b = s.section.bytesPerValue;
    const meta = this.#meta(
      algorithm,
      index,
      Buffer.from(s.blob.subarray(s.offsets[index] as number, s.offsets[index + 1] as number)).toString("utf8"),
    );
    const entry: HashSetEntry = {
      algorithm,
      value: s.values.slice(index * b, (index + 1) * b),
      listId: (this.header.lists[meta.l ?? 0] as ListInfo).listId,
    };
    if (meta.i !== undefined) entry.entryId = meta.i;
    if (meta.c !== undefined) entry.category = meta.c;
    if (meta.f !== undefined) entry.fields = meta.f as EntryFields;
    return entry;
  }

  // Metadata is decoded only when an entry is reported (decoding 10 million at load would triple the load time),
  // so it is checked here: damaged metadata is PHM_HASHSET_FORMAT, never a SyntaxError or TypeError mid-report.
  #meta(algorithm: string, index: number, text: string): StoredMeta {
    const damaged = (why: string) =>
      new PhmatchError(
        "PHM_HASHSET_FORMAT",
        `the metadata of ${algorithm} entry ${index} of the store is damaged (${why}); ` +
          `get the list again from its source, or rebuild it`,
      );
    let meta: unknown;
    try {
      meta = JSON.parse(text);
    } catch {
      throw damaged("not valid JSON");
    }
    if (typeof meta !== "object" || meta === null || Array.isArray(meta)) throw damaged("not a JSON object");
    const m = meta as Record<string, unknown>;
    if (
      m.l !== undefined &&
      !(typeof m.l === "number" && Number.isSafeInteger(m.l) && m.l >= 0 && m.l < this.header.lists.length)
    )
      throw damaged("it names no list of the store");
    if (m.l === undefined && this.header.lists.length === 0) throw damaged("it names no list of the store");
    if (m.i !== undefined && typeof m.i !== "string") throw damaged("its entry id is not text");
    if (m.c !== undefined && typeof m.c !== "string") throw damaged("its category is not text");
    if (m.f !== undefined && (typeof m.f !== "object" || m.f === null || Array.isArray(m.f)))
      throw damaged("its fields are not an object");
    return m as StoredMeta;
  }

  /** Every entry, algorithm by algorithm (decodes metadata: for export and diff, not for matching). */
  *entries(): Generator<HashSetEntry> {
    for (const [algorithm, s] of this.#sections) {
      for (let i = 0; i < s.section.count; i++) yield this.entry(algorithm, i);
    }
  }

  /** Withdrawals this release carries. */
  withdrawals(): Withdrawal[] {
    return this.#withdrawals
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => {
        const w = JSON.parse(line) as { a?: string; h?: string; l?: number; i?: string };
        const withdrawal: Withdrawal = { listId: (this.header.lists[w.l ?? 0] as ListInfo).listId };
        if (w.a !== undefined) withdrawal.algorithm = w.a;
        if (w.h !== undefined) withdrawal.value = new Uint8Array(Buffer.from(w.h, "hex"));
        if (w.i !== undefined) withdrawal.entryId = w.i;
        return withdrawal;
      });
  }

  /** Bytes of the store this set was read from. */
  get byteLength(): number {
    return this.#byteLength;
  }
}

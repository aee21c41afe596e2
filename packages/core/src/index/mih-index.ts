import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { HammingKernel, hammingWasmUrl, type MihTable } from "@phmatch/wasm";
import type { HammingIndex, IndexHit, NeedleHit, PackedValuesView } from "./hamming-index.js";

/**
 * Multi-index hashing (Norouzi, Punjani, Fleet, "Fast exact search in Hamming space with multi-index hashing"):
 * the b-bit values are cut into m slices, each indexed in its own table (bucket offsets, and value positions
 * ordered by slice key). By the generalised pigeonhole principle, a value within r bits of the query is, in
 * some table i, within t_i bits of the query's slice whenever sum(t_i + 1) = r + 1; so table i is probed with
 * every key within t_i of the query's slice and each candidate is checked exactly. Exact, never approximate;
 * any radius works on the same tables.
 *
 * The number of slices and the radii are chosen from a cost model (probes and the candidates they bring, both
 * about one cache miss), within a memory budget of twice the values' bytes. Tables and a copy of the values live
 * in one WebAssembly memory, searched by the kernel in hamming.wasm (native 64-bit popcount, no bounds checks):
 * the holder of the values (a loaded hash set) can adopt {@link MihIndex.values} and drop its own copy.
 */
export class MihIndex implements HammingIndex {
  readonly kind = "mih" as const;
  readonly size: number;
  readonly overheadBytes: number;
  /** The values, in the index's memory (the same bytes it was built from). */
  readonly values: Uint8Array;
  /** Slice widths, in bit order. */
  readonly widths: readonly number[];
  readonly #bytesPerValue: number;
  readonly #kernel: HammingKernel;
  readonly #tables: readonly MihTable[];
  readonly #idBytes: 3 | 4;
  readonly #descriptors = new Map<number, Uint32Array>();

  /**
   * `radius`: the distance searches will mostly use, for choosing the slices (any radius still works);
   * `slices`: a number of slices to use instead of the cost model's choice (for benchmarks).
   */
  constructor(packed: PackedValuesView, options: { radius?: number; slices?: number } = {}) {
    const { bytesPerValue, count } = packed;
    if (bytesPerValue % 4 !== 0 || bytesPerValue === 0) throw new RangeError("MIH needs values of whole 32-bit words");
    this.size = count;
    this.#bytesPerValue = bytesPerValue;
    this.#idBytes = count < 2 ** 24 ? 3 : 4;
    const bits = bytesPerValue * 8;
    const radius = options.radius ?? defaultRadius(bits);
    const widths = (compact: boolean) =>
      options.slices === undefined
        ? chooseSlices(bits, count, radius, compact).widths
        : evenSlices(bits, options.slices);
    // Compact offsets nearly always hold the values (see HammingKernel.buildTable); when they cannot (hundreds of
    // copies of one value), the slices the budget allows with u32 offsets.
    let built = layOut(packed, widths(true), this.#idBytes, true);
    built ??= layOut(packed, widths(false), this.#idBytes, false);
    if (built === undefined) throw new Error("MIH tables with u32 offsets hold any values");
    this.widths = built.tables.map((t) => t.width);
    this.#kernel = built.kernel;
    this.#tables = built.tables;
    this.values = new Uint8Array(this.#kernel.buffer, SCRATCH_BYTES, count * bytesPerValue);
    this.overheadBytes = this.#kernel.buffer.byteLength - this.values.byteLength;
  }

  search(query: Uint8Array, maxDistance: number): IndexHit[] {
    return this.searchMany([query], maxDistance).map(({ index, distance }) => ({ index, distance }));
  }

  // All the needles in one kernel call (as many as the query area holds; PDQ's 8 always fit): their probes and
  // candidates share the kernel's batches, and the hits are merged once, not once per needle.
  searchMany(queries: readonly Uint8Array[], maxDistance: number): NeedleHit[] {
    const b = this.#bytesPerValue;
    for (const query of queries)
      if (query.length !== b) throw new RangeError(`query has ${query.length} bytes, values have ${b}`);
    if (this.size === 0 || maxDistance < 0 || queries.length === 0) return [];
    const perCall = Math.floor((DESC_AT - 8) / b);
    const best = new Map<number, NeedleHit>();
    for (let first = 0; first < queries.length; first += perCall) {
      const batch = queries.slice(first, first + perCall);
      const n = this.#searchBatch(batch, maxDistance);
      if (n < 0) {
        // More hits than the scratch holds (a huge radius over clustered values): scan every value instead.
        batch.forEach((query, k) => {
          for (const hit of this.#scan(query, maxDistance)) keepClosest(best, hit.index, hit.distance, first + k);
        });
        continue;
      }
      const raw = new Uint32Array(this.#kernel.buffer, HITS_AT, n * 3);
      for (let h = 0; h < 3 * n; h += 3)
        keepClosest(best, raw[h] as number, raw[h + 1] as number, first + (raw[h + 2] as number));
    }
    if (best.size === 0) return [];
    return [...best.values()].sort((x, y) => x.index - y.index);
  }

  // The kernel's search over queries that fit the query area; its number of hits, or -1 past HITS_CAP.
  #searchBatch(queries: readonly Uint8Array[], maxDistance: number): number {
    const b = this.#bytesPerValue;
    const buffer = this.#kernel.buffer;
    const q = new Uint8Array(buffer, QUERY_AT, queries.length * b + 8);
    for (const [k, query] of queries.entries()) q.set(query, k * b);
    q.fill(0, queries.length * b);
    new Uint32Array(buffer, DESC_AT, this.#tables.length * 6).set(this.#descriptorsFor(maxDistance));
    return this.#kernel.search(
      SCRATCH_BYTES,
      b,
      DESC_AT,
      this.#tables.length,
      this.#idBytes,
      QUERY_AT,
      queries.length,
      maxDistance,
      HITS_AT,
      HITS_CAP,
      WORK_AT,
    );
  }

  // The kernel's table descriptors for a search radius (start, width, radius or 0xffffffff, offsets, ids, compact
  // per table; radii as allocateRadii cuts them), made once per radius.
  #descriptorsFor(maxDistance: number): Uint32Array {
    let desc = this.#descriptors.get(maxDistance);
    if (desc === undefined) {
      const radii = allocateRadii(this.widths, this.size, maxDistance).radii;
      desc = new Uint32Array(this.#tables.length * 6);
      for (const [i, t] of this.#tables.entries()) {
        const radius = radii[i] === -1 ? 0xffffffff : (radii[i] as number);
        desc.set([t.start, t.width, radius, t.offsets, t.ids, t.compact ? 1 : 0], i * 6);
      }
      this.#descriptors.set(maxDistance, desc);
    }
    return desc;
  }

  // More hits than the scratch holds (a huge radius over clustered values): answer by scanning every value.
  #scan(query: Uint8Array, maxDistance: number): IndexHit[] {
    const hits: IndexHit[] = [];
    const b = this.#bytesPerValue;
    for (let i = 0; i < this.size; i++) {
      let d = 0;
      for (let k = 0; k < b && d <= maxDistance; k++)
        d += POPCOUNT8[(this.values[i * b + k] as number) ^ (query[k] as number)] as number;
      if (d <= maxDistance) hits.push({ index: i, distance: d });
    }
    return hits;
  }
}

const QUERY_AT = 0; // the queries, back to back, and 8 readable bytes, before the descriptors
const DESC_AT = 2048;
const MAX_TABLES = 64;
const WORK_AT = 4096;
const WORK_BYTES = 229_376; // the kernel's workBytes(), checked when an index is built
const HITS_AT = WORK_AT + WORK_BYTES;
const SCRATCH_BYTES = 1 << 20;
const HITS_CAP = Math.floor((SCRATCH_BYTES - HITS_AT) / 12);
const MAX_MEMORY_BYTES = 65536 * 65536 - 65536;
const MAX_SLICE_BITS = 24;
const POPCOUNT8 = Uint8Array.from({ length: 256 }, (_, v) => v.toString(2).replaceAll("0", "").length);

// A value's closest needle, the lowest-numbered on a tie (as searching the needles in order would keep): the
// kernel's hits arrive grouped by table, not by needle.
function keepClosest(best: Map<number, NeedleHit>, index: number, distance: number, needle: number): void {
  const seen = best.get(index);
  if (seen === undefined) best.set(index, { index, distance, needle });
  else if (distance < seen.distance || (distance === seen.distance && needle < seen.needle)) {
    seen.distance = distance;
    seen.needle = needle;
  }
}

// Slices at least this wide get compact offsets (a u32 per 32 keys, a u8 per key): a quarter of the bytes, so
// wider slices (fewer candidates) fit the memory budget, and more of the offsets stay in cache.
const COMPACT_MIN_WIDTH = 12;

/**
 * A kernel instance holding the values and their tables. Layout: scratch (queries, table descriptors, work area,
 * hits), the values (+8 readable bytes), the build's temporary offsets when a table is compact, then each table.
 * Undefined when `compact` tables cannot hold these values.
 */
function layOut(
  packed: PackedValuesView,
  widths: readonly number[],
  idBytes: 3 | 4,
  compact: boolean,
): { kernel: HammingKernel; tables: MihTable[] } | undefined {
  const { bytesPerValue, count } = packed;
  const valuesAt = SCRATCH_BYTES;
  let top = align8(valuesAt + count * bytesPerValue + 8);
  const compactWidths = widths.filter((w) => compact && w >= COMPACT_MIN_WIDTH);
  const temp = top;
  if (compactWidths.length > 0) top = align8(top + (2 ** Math.max(...compactWidths) + 1) * 4);
  const tables: MihTable[] = [];
  let start = 0;
  for (const width of widths) {
    const packedOffsets = compact && width >= COMPACT_MIN_WIDTH;
    const sizes = HammingKernel.tableBytes(count, width, idBytes, packedOffsets);
    if (packedOffsets) top = Math.ceil(top / 32) * 32;
    tables.push({ start, width, compact: packedOffsets, offsets: top, ids: top + sizes.offsets });
    top = align8(top + sizes.offsets + sizes.ids);
    start += width;
  }
  if (top > MAX_MEMORY_BYTES)
    throw new RangeError(`MIH over ${count} values needs ${top} bytes, beyond WebAssembly's 4 GiB`);
  const kernel = new HammingKernel(kernelModule(), top);
  if (kernel.workBytes > WORK_BYTES)
    throw new Error(`hamming.wasm needs ${kernel.workBytes} bytes of work area, the layout gives ${WORK_BYTES}`);
  new Uint8Array(kernel.buffer, valuesAt, count * bytesPerValue).set(packed.values.subarray(0, count * bytesPerValue));
  for (const table of tables) if (!kernel.buildTable(valuesAt, count, bytesPerValue, table, idBytes, temp)) return;
  return { kernel, tables };
}

let compiled: ReturnType<typeof HammingKernel.compile> | undefined;
function kernelModule(): ReturnType<typeof HammingKernel.compile> {
  compiled ??= HammingKernel.compile(readFileSync(fileURLToPath(hammingWasmUrl)));
  return compiled;
}

function align8(x: number): number {
  return Math.ceil(x / 8) * 8;
}

// A radius typical of the hash's policies (PDQ 31 of 256, 64-bit hashes ~8), for when the caller gives none.
function defaultRadius(bits: number): number {
  return Math.round(bits / 8);
}

// Keys within t bits of a w-bit key.
function ballSize(w: number, t: number): number {
  let total = 0;
  let c = 1;
  for (let k = 0; k <= t && k <= w; k++) {
    total += c;
    c = (c * (w - k)) / (k + 1);
  }
  return total;
}

// Expected memory misses of probing a w-bit table within t bits: one per probe, one per candidate it brings.
function tableCost(w: number, t: number, count: number): number {
  return t < 0 ? 0 : ballSize(w, t) * (1 + count / 2 ** w);
}

/**
 * Radius per table (-1: not probed) so that sum(t_i + 1) = r + 1 at the least expected cost: each step raises
 * the table whose cost grows least (the costs are convex in t, so greedy is optimal).
 */
function allocateRadii(widths: readonly number[], count: number, radius: number): { radii: number[]; cost: number } {
  const radii = widths.map(() => -1);
  for (let step = 0; step <= radius; step++) {
    let best = -1;
    let bestIncrease = Infinity;
    widths.forEach((w, i) => {
      const t = radii[i] as number;
      if (t >= w) return;
      const increase = tableCost(w, t + 1, count) - tableCost(w, t, count);
      if (increase < bestIncrease) {
        bestIncrease = increase;
        best = i;
      }
    });
    if (best < 0) break; // every bit of every slice already probed: all values are candidates
    radii[best]!++;
  }
  return { radii, cost: widths.reduce((sum, w, i) => sum + tableCost(w, radii[i] as number, count), 0) };
}

// m slices of near-equal widths (the wider ones first).
function evenSlices(bits: number, m: number): number[] {
  if (!Number.isInteger(m) || m < Math.ceil(bits / MAX_SLICE_BITS) || m > Math.min(MAX_TABLES, bits))
    throw new RangeError(`cannot cut ${bits} bits into ${m} slices of at most ${MAX_SLICE_BITS} bits`);
  const base = Math.floor(bits / m);
  return Array.from({ length: m }, (_, i) => (i < bits % m ? base + 1 : base));
}

/** Bytes the tables of these slices take beyond the values (compact: with the build's temporary offsets). */
function tablesBytes(widths: readonly number[], count: number, compact: boolean): number {
  const idBytes = count < 2 ** 24 ? 3 : 4;
  const wide = widths.filter((w) => compact && w >= COMPACT_MIN_WIDTH);
  const temp = wide.length > 0 ? (2 ** Math.max(...wide) + 1) * 4 : 0;
  return widths.reduce((sum, w) => {
    const sizes = HammingKernel.tableBytes(count, w, idBytes, compact && w >= COMPACT_MIN_WIDTH);
    return sum + sizes.offsets + sizes.ids + 32;
  }, temp);
}

/**
 * The slices for `count` values of `bits` bits searched at `radius`: among cuts into m near-equal slices of at
 * most 24 bits, the one with the least expected cost whose tables fit in twice the values' bytes or 8 MiB,
 * whichever is more (the least memory when none does); `compact`: with compact offsets where slices allow.
 */
export function chooseSlices(
  bits: number,
  count: number,
  radius: number,
  compact = true,
): { widths: number[]; cost: number; bytes: number } {
  let best: { widths: number[]; cost: number; bytes: number } | undefined;
  let smallest: { widths: number[]; cost: number; bytes: number } | undefined;
  const budget = Math.max(2 * count * (bits / 8), 8 * 2 ** 20);
  for (let m = Math.ceil(bits / MAX_SLICE_BITS); m <= Math.min(MAX_TABLES, bits / 4); m++) {
    const widths = evenSlices(bits, m);
    const cost = allocateRadii(widths, count, radius).cost;
    const option = { widths, cost, bytes: tablesBytes(widths, count, compact) };
    if (option.bytes <= budget && (best === undefined || option.cost < best.cost)) best = option;
    if (smallest === undefined || option.bytes < smallest.bytes) smallest = option;
  }
  return (best ?? smallest) as { widths: number[]; cost: number; bytes: number };
}

/** Expected memory misses of one MIH search (for choosing between MIH and a flat scan). */
export function mihCost(bits: number, count: number, radius: number): number {
  return chooseSlices(bits, count, radius).cost;
}

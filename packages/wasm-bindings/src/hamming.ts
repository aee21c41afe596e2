/**
 * Multi-index hashing kernels (hamming.wasm) over packed values held in a `WebAssembly.Memory` the host owns.
 * The host decides the layout: where the values, each table's offsets and ids, the query and the hits live.
 * Used by `@phmatch/core`'s MIH index; no Node built-ins.
 */

/** Where the compiled Hamming kernels live, relative to this module. */
export const hammingWasmUrl: URL = new URL("../build/hamming.wasm", import.meta.url);

/** One table of a multi-index: a slice of `width` bits from bit `start`, probed within `radius` bits. */
export interface MihTable {
  start: number;
  width: number;
  /** The offsets' format: `2^width + 1` u32, or compact (a u32 per 32 keys and a u8 per key; width >= 5). */
  compact: boolean;
  /** Bytes into memory of the table's offsets (see {@link HammingKernel.tableBytes}). */
  offsets: number;
  /** Bytes into memory of the table's ids (`idBytes` each). */
  ids: number;
}

interface HammingExports {
  buildTable(
    values: number,
    n: number,
    bytesPerValue: number,
    start: number,
    width: number,
    offsets: number,
    ids: number,
    idBytes: number,
    compact: number,
    temp: number,
  ): number;
  search(
    values: number,
    bytesPerValue: number,
    desc: number,
    tables: number,
    idBytes: number,
    queries: number,
    needles: number,
    maxDistance: number,
    out: number,
    cap: number,
    work: number,
  ): number;
  workBytes(): number;
}

/** One instance of the Hamming kernels with its own memory of a fixed size (it never grows, so views stay valid). */
export class HammingKernel {
  readonly #memory: WebAssembly.Memory;
  readonly #exports: HammingExports;

  /** An instance of the compiled kernels with `bytes` of memory (rounded up to 64 KiB pages; at most 4 GiB). */
  constructor(module: WebAssembly.Module, bytes: number) {
    const pages = Math.ceil(bytes / 65536);
    this.#memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.#exports = new WebAssembly.Instance(module, { env: { memory: this.#memory } })
      .exports as unknown as HammingExports;
  }

  /** The instance's memory, for the host to lay out values and read hits. */
  get buffer(): ArrayBuffer {
    return this.#memory.buffer;
  }

  /** Compiles the `.wasm` bytes once, for any number of instances. */
  static compile(bytes: BufferSource): WebAssembly.Module {
    return new WebAssembly.Module(bytes);
  }

  /**
   * Bytes one table takes: offsets (`2^width + 1` u32, or compact: `2^(width-5) + 1` u32 and `2^width + 1` u8,
   * the table 32-byte aligned), then ids (plus the padding byte 3-byte ids need).
   */
  static tableBytes(count: number, width: number, idBytes: 3 | 4, compact = false): { offsets: number; ids: number } {
    // compact: the u32 bases, padded to 32 bytes, then the u8 per key (the table must start 32-byte aligned)
    const offsets = compact ? Math.ceil(((2 ** (width - 5) + 1) * 4) / 32) * 32 + 2 ** width + 1 : (2 ** width + 1) * 4;
    return { offsets, ids: count * idBytes + 4 };
  }

  /**
   * Fills one table for the `count` values of `bytesPerValue` bytes at `values` (8 readable bytes must follow
   * the last value; slices are at most 24 bits wide). A compact table is built through `temp`, `2^width + 1` u32
   * of scratch. Returns false when a compact table cannot hold these values (more than 255 in the first 31 keys
   * of a block of 32, as in a list of hundreds of copies of one image): lay the tables out with offsets instead.
   */
  buildTable(values: number, count: number, bytesPerValue: number, table: MihTable, idBytes: 3 | 4, temp = 0): boolean {
    const { start, width, offsets, ids, compact } = table;
    const e = this.#exports;
    return e.buildTable(values, count, bytesPerValue, start, width, offsets, ids, idBytes, compact ? 1 : 0, temp) === 0;
  }

  /**
   * Hits for the `needles` queries at `queries`, back to back (8 readable bytes after the last), in one pass: the
   * tables and their radii are described at `desc` (six u32 per table: start, width, radius or 0xffffffff to
   * skip, offsets, ids, 1 when compact else 0), hits are written as (position, distance, needle) u32 triples at
   * `out`, possibly several times for one value and needle; `work` is a scratch area of
   * {@link HammingKernel.workBytes} bytes. Returns the number of hits, or -1 when there were more than `cap`.
   */
  search(
    values: number,
    bytesPerValue: number,
    desc: number,
    tables: number,
    idBytes: 3 | 4,
    queries: number,
    needles: number,
    maxDistance: number,
    out: number,
    cap: number,
    work: number,
  ): number {
    const e = this.#exports;
    return e.search(values, bytesPerValue, desc, tables, idBytes, queries, needles, maxDistance, out, cap, work);
  }

  /** Bytes of the scratch area a search works in. */
  get workBytes(): number {
    return this.#exports.workBytes();
  }
}

/**
 * Fixed-width hash values packed back to back, with an open-addressing table for exact lookups (deduplication
 * at import, membership at diff). About bytesPerValue + 8 bytes per value: a Set of hex strings would cost
 * ten times that at 10 million entries.
 */
export class PackedValues {
  readonly bytesPerValue: number;
  #data: Uint8Array;
  #count = 0;
  #table: Uint32Array; // index + 1, 0 = empty
  #mask: number;

  constructor(bytesPerValue: number, capacity = 1024) {
    this.bytesPerValue = bytesPerValue;
    this.#data = new Uint8Array(bytesPerValue * capacity);
    const size = 1 << Math.ceil(Math.log2(Math.max(16, capacity * 2)));
    this.#table = new Uint32Array(size);
    this.#mask = size - 1;
  }

  /** Builds the lookup table over values already packed (a loaded store's section). */
  static over(data: Uint8Array, bytesPerValue: number): PackedValues {
    const count = data.length / bytesPerValue;
    const set = new PackedValues(bytesPerValue, Math.max(16, count));
    set.#data = data;
    for (let i = 0; i < count; i++) {
      if (set.#find(data, i * bytesPerValue) < 0) set.#insert(i, data, i * bytesPerValue);
    }
    set.#count = count;
    return set;
  }

  get count(): number {
    return this.#count;
  }

  /** The packed values (a view, count * bytesPerValue bytes). */
  get data(): Uint8Array {
    return this.#data.subarray(0, this.#count * this.bytesPerValue);
  }

  /** Index of `value`, or -1. */
  indexOf(value: Uint8Array): number {
    return this.#find(value, 0);
  }

  /** Appends `value` unless present; returns its new index, or -1 for a duplicate. */
  add(value: Uint8Array): number {
    if (this.#find(value, 0) >= 0) return -1;
    const index = this.#count;
    if ((index + 1) * this.bytesPerValue > this.#data.length) {
      const grown = new Uint8Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#data.set(value, index * this.bytesPerValue);
    this.#count++;
    if (this.#count * 2 > this.#table.length) this.#rehash();
    this.#insert(index, this.#data, index * this.bytesPerValue);
    return index;
  }

  #hash(bytes: Uint8Array, offset: number): number {
    // FNV-1a over the first 16 bytes: hash values are already uniformly distributed.
    let h = 0x811c9dc5;
    const end = offset + Math.min(16, this.bytesPerValue);
    for (let i = offset; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
    return h >>> 0;
  }

  #equal(index: number, bytes: Uint8Array, offset: number): boolean {
    const base = index * this.bytesPerValue;
    for (let i = 0; i < this.bytesPerValue; i++) if (this.#data[base + i] !== bytes[offset + i]) return false;
    return true;
  }

  #find(bytes: Uint8Array, offset: number): number {
    for (let slot = this.#hash(bytes, offset) & this.#mask; ; slot = (slot + 1) & this.#mask) {
      const stored = this.#table[slot] as number;
      if (stored === 0) return -1;
      if (this.#equal(stored - 1, bytes, offset)) return stored - 1;
    }
  }

  #insert(index: number, bytes: Uint8Array, offset: number): void {
    let slot = this.#hash(bytes, offset) & this.#mask;
    while (this.#table[slot] !== 0) slot = (slot + 1) & this.#mask;
    this.#table[slot] = index + 1;
  }

  #rehash(): void {
    this.#table = new Uint32Array(this.#table.length * 2);
    this.#mask = this.#table.length - 1;
    for (let i = 0; i < this.#count; i++) this.#insert(i, this.#data, i * this.bytesPerValue);
  }
}

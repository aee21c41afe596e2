/**
 * Hashes as 32-bit words for Hamming distance. Byte order inside a word does not matter for XOR + popcount, as
 * long as index and query use the same view; packed sections are 8-byte aligned in .phs files, so the words are
 * usually a view of the loaded bytes, not a copy.
 */
export function asWords(bytes: Uint8Array): Uint32Array {
  if (bytes.byteOffset % 4 === 0 && bytes.byteLength % 4 === 0)
    return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const copy = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  copy.set(bytes);
  return new Uint32Array(copy.buffer);
}

/** Bits set in a 32-bit word. */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Hamming distance between the query words and value `index` of `words` (wordsPerValue words each). */
export function distanceAt(words: Uint32Array, index: number, wordsPerValue: number, query: Uint32Array): number {
  let d = 0;
  const base = index * wordsPerValue;
  for (let w = 0; w < wordsPerValue; w++) d += popcount32(((words[base + w] as number) ^ (query[w] as number)) >>> 0);
  return d;
}

/** Like distanceAt, but stops early once the distance exceeds `limit` (returns a value > limit). */
export function distanceWithin(
  words: Uint32Array,
  index: number,
  wordsPerValue: number,
  query: Uint32Array,
  limit: number,
): number {
  let d = 0;
  const base = index * wordsPerValue;
  for (let w = 0; w < wordsPerValue; w++) {
    d += popcount32(((words[base + w] as number) ^ (query[w] as number)) >>> 0);
    if (d > limit) return d;
  }
  return d;
}

/**
 * Sorting fixed-width digests held back to back in one buffer: ascending as unsigned bytes, duplicates dropped.
 * Costs 4 bytes per entry beyond the digests (the index being sorted), which the builder's RAM budget counts.
 */
export function sortUniqueDigests(digests: Buffer, count: number, width: number): Buffer {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((a, b) => digests.compare(digests, b * width, b * width + width, a * width, a * width + width));
  const out = Buffer.allocUnsafe(count * width);
  let written = 0;
  for (let i = 0; i < count; i++) {
    const at = (order[i] as number) * width;
    if (written > 0 && digests.compare(out, (written - 1) * width, written * width, at, at + width) === 0) continue;
    digests.copy(out, written * width, at, at + width);
    written++;
  }
  return out.subarray(0, written * width);
}

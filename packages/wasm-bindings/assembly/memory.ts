// Dynamic buffers for one image, laid out from __heap_base and grown on demand (the stub runtime never
// allocates, so this region is ours): pixels (w*h*channels bytes and 16 bytes of slack, which the SIMD luma reads
// past the last pixel), and PDQ's working set, which streams rows instead of holding whole planes: a ring of
// blurred rows, two four-row scratches, the height x 64 kept columns and the column sums. About 1% of the two
// float planes it replaced for a 2 MP photo: memory the kernel no longer grows into and the system no longer has
// to fault in and zero for every new process.

let pixels: usize = 0;
let ring: usize = 0;
let ringRows: i32 = 0;
let scratch: usize = 0;
let emitted: usize = 0;
let compact: usize = 0;
let sums: usize = 0;
let extraBase: usize = 0;
let extraTop: usize = 0;

@inline function align16(x: usize): usize {
  return (x + 15) & ~(<usize>15);
}

/** Lays out buffers for a width x height x channels image, growing memory; false if it cannot grow. */
export function ensureDynamic(width: i32, height: i32, channels: i32): bool {
  // Sizes in 64 bits, checked against the 4 GiB address space before any is cut to a 32-bit address.
  const n = <u64>width * <u64>height;
  const pixelBytes = align16u64(n * <u64>channels + 16);
  // The column blur's window (PDQ's windowSize(height)) plus a block of four rows being made, in blocks of four.
  const window = (height + 127) / 128;
  const rows = (window + 4 + 3) & ~3;
  const rowBytes = <u64>width * 4;
  const ringBytes = align16u64(<u64>rows * rowBytes);
  const scratchBytes = align16u64(4 * rowBytes);
  const compactBytes = align16u64(<u64>height * 64 * 4);
  const wide: u64 = width > 64 ? <u64>width : 64;
  const sumsBytes = align16u64(wide * 4);
  const total: u64 =
    <u64>align16(__heap_base) + pixelBytes + ringBytes + 2 * scratchBytes + compactBytes + sumsBytes;
  if (total > 0xFFFF0000) return false;
  pixels = align16(__heap_base);
  ring = pixels + <usize>pixelBytes;
  ringRows = rows;
  scratch = ring + <usize>ringBytes;
  emitted = scratch + <usize>scratchBytes;
  compact = emitted + <usize>scratchBytes;
  sums = compact + <usize>compactBytes;
  extraBase = align16(sums + <usize>sumsBytes);
  extraTop = extraBase;
  return growTo(<u64>extraBase);
}

@inline function align16u64(x: u64): u64 {
  return (x + 15) & ~(<u64>15);
}

function growTo(end: u64): bool {
  if (end > 0xFFFF0000) return false;
  const needPages = <i32>((end + 0xFFFF) >> 16);
  const have = memory.size();
  return needPages <= have || memory.grow(needPages - have) >= 0;
}

/**
 * Bump allocation after the per-image layout, for kernels that need more room (resampling buffers).
 * Everything allocated is released by `releaseExtra(mark)` or by the next `ensureDynamic`. Returns 0 when
 * memory cannot grow.
 */
export function allocExtra(bytes: u64): usize {
  const start = extraTop;
  const end = <u64>align16(start) + bytes;
  if (!growTo(end + 16)) return 0;
  extraTop = align16(<usize>end);
  return align16(start);
}

/** The current top of the extra area, to release back to later. */
export function extraMark(): usize { return extraTop; }
export function releaseExtra(mark: usize): void { extraTop = mark; }

/** Where the host writes the pixel bytes of the next image (after `preparePixels`). */
export function pixelBase(): usize { return pixels; }
/** `ringRowCount()` rows of `width` floats: the first blur pass's rows, row r in slot r % ringRowCount(). */
export function ringBase(): usize { return ring; }
/** A multiple of 4, at least the column window + 4. */
export function ringRowCount(): i32 { return ringRows; }
/** Four rows of `width` floats. */
export function rowScratch(): usize { return scratch; }
/** Four more rows of `width` floats: the column pass's output rows, before the second row pass. */
export function emitScratch(): usize { return emitted; }
/** height x 64 floats: the 64 sampled columns of every row after the second row pass. */
export function compactBase(): usize { return compact; }
/** max(width, 64) floats: running sums of a column pass. */
export function columnSums(): usize { return sums; }

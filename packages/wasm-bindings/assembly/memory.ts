// Dynamic buffers for one image, laid out from __heap_base and grown on demand (the stub runtime never
// allocates, so this region is ours): pixels (w*h*channels bytes), two float32 planes, row scratch, column sums.

let pixels: usize = 0;
let planeA: usize = 0;
let planeB: usize = 0;
let scratch: usize = 0;
let sums: usize = 0;
let extraBase: usize = 0;
let extraTop: usize = 0;

@inline function align16(x: usize): usize {
  return (x + 15) & ~(<usize>15);
}

/** Lays out buffers for a width x height x channels image, growing memory; false if it cannot grow. */
export function ensureDynamic(width: i32, height: i32, channels: i32): bool {
  const n = <u64>width * <u64>height;
  const pixelBytes = align16(<usize>(n * <u64>channels));
  // Planes also hold the height x 64 compacted columns, hence max(width, 64).
  const wide: u64 = width > 64 ? <u64>width : 64;
  const planeBytes = align16(<usize>(wide * <u64>height * 4));
  const scratchBytes = align16(<usize>(4 * <u64>width * 4));
  const sumsBytes = align16(<usize>(wide * 4));
  const total: u64 = <u64>align16(__heap_base) + <u64>pixelBytes + 2 * <u64>planeBytes + <u64>scratchBytes + <u64>sumsBytes;
  if (total > 0xFFFF0000) return false;
  pixels = align16(__heap_base);
  planeA = pixels + pixelBytes;
  planeB = planeA + planeBytes;
  scratch = planeB + planeBytes;
  sums = scratch + scratchBytes;
  extraBase = align16(sums + sumsBytes);
  extraTop = extraBase;
  return growTo(<u64>extraBase);
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
export function floatA(): usize { return planeA; }
export function floatB(): usize { return planeB; }
/** Four rows of `width` floats. */
export function rowScratch(): usize { return scratch; }
/** max(width, 64) floats: running sums of a column pass. */
export function columnSums(): usize { return sums; }

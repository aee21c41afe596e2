// PDQ (Meta ThreatExchange), bit-exact with the reference C++ core.
// Specification: shared/conformance/pdq/ALGORITHM.md. Every float operation here is IEEE single precision,
// in the order the reference performs it; reordering (prefix sums, FMA, pairwise sums) changes bits.
//
// Pipeline: luma -> Jarosz tent blur (box rows, box cols, twice) -> point-sample 64x64 -> quality
//           -> 16x16 DCT -> lower-median threshold (and the 8 dihedral variants from the one DCT).
//
// Speed without changing a bit: the second column pass is only needed at the 64 sampled columns and rows,
// and the second row pass only at the 64 sampled columns, so those passes write 64 values per line; column
// passes sweep rows with a per-column running sum (same order per column, SIMD across columns); row passes
// run four rows side by side so their running sums do not wait on each other. The first three passes stream:
// the first column pass pulls the rows it needs from a small ring of first-pass rows, and each row it gives is
// blurred along again at once and only its 64 sampled columns kept, so no whole float plane is ever held.
// The luma takes four pixels per v128 (the same three products and two sums per pixel, in the same order).

import { dihedralRule } from "./dihedral";
import {
  ensureDynamic, pixelBase, ringBase, ringRowCount, rowScratch, emitScratch, compactBase, columnSums,
} from "./memory";
import { sortInPlace } from "./sort";

const DIM: i32 = 64;
const NDCT: i32 = 16;

const LUMA_R: f32 = 0.299;
const LUMA_G: f32 = 0.587;
const LUMA_B: f32 = 0.114;

// Static buffers (linear memory data segments, 16-byte aligned for v128).
export const dctMatrix: usize = memory.data(NDCT * DIM * 4, 16); // D[i][k], 16 x 64
const dctMatrixT: usize = memory.data(DIM * NDCT * 4, 16); // D^T[k][j], 64 x 16
export const buffer64: usize = memory.data(DIM * DIM * 4, 16); // 64 x 64 after decimation
const dctTemp: usize = memory.data(NDCT * DIM * 4, 16); // T = D * A, 16 x 64
export const dctOutput: usize = memory.data(NDCT * NDCT * 4, 16); // B = T * D^T, 16 x 16
const variant: usize = memory.data(NDCT * NDCT * 4, 16);
const sortBuf: usize = memory.data(NDCT * NDCT * 4, 16);
export const hashOutput: usize = memory.data(8 * 32, 16); // 8 variants x 32 bytes, big-endian
const colSample: usize = memory.data(DIM * 4, 16); // sampled column index per output column
const rowSample: usize = memory.data(DIM * 4, 16);

function initDctMatrix(): void {
  // D[i][k] = f32( f64(f32(sqrt(2/64))) * cos(pi/128 * (i+1) * (2k+1)) ); row 0 is frequency 1 (no DC).
  const scale: f64 = <f64>(<f32>Math.sqrt(2.0 / 64.0));
  for (let i = 0; i < NDCT; i++) {
    for (let k = 0; k < DIM; k++) {
      const v = <f32>(scale * Math.cos((Math.PI / 2.0 / 64.0) * <f64>(i + 1) * <f64>(2 * k + 1)));
      store<f32>(dctMatrix + (((i * DIM + k) as usize) << 2), v);
      store<f32>(dctMatrixT + (((k * NDCT + i) as usize) << 2), v);
    }
  }
}
initDctMatrix();

/** Overrides one DCT basis entry (lets a host supply the table bit-for-bit if its libm differs). */
export function setDctEntry(i: i32, k: i32, v: f32): void {
  store<f32>(dctMatrix + (((i * DIM + k) as usize) << 2), v);
  store<f32>(dctMatrixT + (((k * NDCT + i) as usize) << 2), v);
}

// Window of the 1-D box filter: ceil(dim / 128) ((old + 2*new - 1) / (2*new) with new = 64).
@inline function windowSize(dim: i32): i32 {
  return (dim + 2 * DIM - 1) / (2 * DIM);
}

// Byte selectors of R, G and B of four RGB (or RGBA) pixels, each into the low byte of a 32-bit lane (-1: zero).
const RGB_R = i8x16(0, -1, -1, -1, 3, -1, -1, -1, 6, -1, -1, -1, 9, -1, -1, -1);
const RGB_G = i8x16(1, -1, -1, -1, 4, -1, -1, -1, 7, -1, -1, -1, 10, -1, -1, -1);
const RGB_B = i8x16(2, -1, -1, -1, 5, -1, -1, -1, 8, -1, -1, -1, 11, -1, -1, -1);
const RGBA_R = i8x16(0, -1, -1, -1, 4, -1, -1, -1, 8, -1, -1, -1, 12, -1, -1, -1);
const RGBA_G = i8x16(1, -1, -1, -1, 5, -1, -1, -1, 9, -1, -1, -1, 13, -1, -1, -1);
const RGBA_B = i8x16(2, -1, -1, -1, 6, -1, -1, -1, 10, -1, -1, -1, 14, -1, -1, -1);

@inline function luma4(v: v128, rm: v128, gm: v128, bm: v128): v128 {
  const r = f32x4.convert_i32x4_u(i8x16.swizzle(v, rm));
  const g = f32x4.convert_i32x4_u(i8x16.swizzle(v, gm));
  const b = f32x4.convert_i32x4_u(i8x16.swizzle(v, bm));
  return f32x4.add(
    f32x4.add(f32x4.mul(f32x4.splat(LUMA_R), r), f32x4.mul(f32x4.splat(LUMA_G), g)),
    f32x4.mul(f32x4.splat(LUMA_B), b),
  );
}

// Reads 16 bytes per four pixels: past a row's end into the next row, past the last row into the slack that
// ensureDynamic leaves after the pixels.
@inline function lumaRow(px: usize, channels: i32, width: i32, out: usize): void {
  let x = 0;
  if (channels == 3) {
    for (; x + 4 <= width; x += 4) {
      v128.store(out + (<usize>x << 2), luma4(v128.load(px + <usize>(x * 3)), RGB_R, RGB_G, RGB_B));
    }
  } else if (channels == 4) {
    for (; x + 4 <= width; x += 4) {
      v128.store(out + (<usize>x << 2), luma4(v128.load(px + (<usize>x << 2)), RGBA_R, RGBA_G, RGBA_B));
    }
  }
  if (channels >= 3) {
    for (; x < width; x++) {
      const p = px + <usize>(x * channels);
      const r = <f32>load<u8>(p);
      const g = <f32>load<u8>(p, 1);
      const b = <f32>load<u8>(p, 2);
      store<f32>(out + (<usize>x << 2), LUMA_R * r + LUMA_G * g + LUMA_B * b);
    }
  } else {
    // Grey (and grey + alpha): the grey value is the luma; alpha is ignored as in the reference.
    for (; x < width; x++) {
      store<f32>(out + (<usize>x << 2), <f32>load<u8>(px + <usize>(x * channels)));
    }
  }
}

// One 1-D box pass over a contiguous row, exactly as the reference's box1DFloat (four phases,
// float32 running sum, out = sum / count).
function boxRow(inp: usize, out: usize, n: i32, w: i32): void {
  const half = (w + 2) / 2;
  const p1 = half - 1;
  const p2 = w - half + 1;
  const p3 = n - w;
  const p4 = half - 1;
  let ri: usize = inp;
  let li: usize = inp;
  let oi: usize = out;
  let sum: f32 = 0;
  let count: i32 = 0;
  for (let i = 0; i < p1; i++) { sum += load<f32>(ri); count++; ri += 4; }
  for (let i = 0; i < p2; i++) {
    sum += load<f32>(ri); count++;
    store<f32>(oi, sum / <f32>count);
    ri += 4; oi += 4;
  }
  const fc = <f32>count;
  for (let i = 0; i < p3; i++) {
    sum += load<f32>(ri);
    sum -= load<f32>(li);
    store<f32>(oi, sum / fc);
    li += 4; ri += 4; oi += 4;
  }
  for (let i = 0; i < p4; i++) {
    sum -= load<f32>(li); count--;
    store<f32>(oi, sum / <f32>count);
    li += 4; oi += 4;
  }
}

// Four rows (stride apart) side by side, one per lane of a v128: four independent running sums, each in the
// reference order, and one f32x4 division per four outputs instead of four scalar divisions.
@inline function gather4(p: usize, stride: usize): v128 {
  let v = v128.load32_splat(p);
  v = v128.load32_lane(p + stride, v, 1);
  v = v128.load32_lane(p + stride * 2, v, 2);
  return v128.load32_lane(p + stride * 3, v, 3);
}

@inline function scatter4(p: usize, stride: usize, v: v128): void {
  v128.store32_lane(p, v, 0);
  v128.store32_lane(p + stride, v, 1);
  v128.store32_lane(p + stride * 2, v, 2);
  v128.store32_lane(p + stride * 3, v, 3);
}

function boxRows4(inp: usize, out: usize, stride: usize, n: i32, w: i32): void {
  const half = (w + 2) / 2;
  const p1 = half - 1;
  const p2 = w - half + 1;
  const p3 = n - w;
  const p4 = half - 1;
  let ri: usize = inp;
  let li: usize = inp;
  let oi: usize = out;
  let sum = f32x4.splat(0);
  let count: i32 = 0;
  for (let i = 0; i < p1; i++) {
    sum = f32x4.add(sum, gather4(ri, stride));
    count++; ri += 4;
  }
  for (let i = 0; i < p2; i++) {
    sum = f32x4.add(sum, gather4(ri, stride));
    count++;
    scatter4(oi, stride, f32x4.div(sum, f32x4.splat(<f32>count)));
    ri += 4; oi += 4;
  }
  const fw = f32x4.splat(<f32>count);
  for (let i = 0; i < p3; i++) {
    sum = f32x4.sub(f32x4.add(sum, gather4(ri, stride)), gather4(li, stride));
    scatter4(oi, stride, f32x4.div(sum, fw));
    li += 4; ri += 4; oi += 4;
  }
  for (let i = 0; i < p4; i++) {
    sum = f32x4.sub(sum, gather4(li, stride));
    count--;
    scatter4(oi, stride, f32x4.div(sum, f32x4.splat(<f32>count)));
    li += 4; oi += 4;
  }
}

// Column pass as row sweeps: per column a running sum (the reference order within each column),
// four columns per v128. `cols` must be a multiple of 4 here; the caller handles the tail.
// Output row `o` goes to every destination row listed for it: all rows (dest = out + o*rowBytes) when
// `sampled` is false, or the 64 sampled rows into a 64-row buffer when true.
function boxColsSimd(inp: usize, out: usize, rows: i32, cols: i32, w: i32, sums: usize, sampled: bool): void {
  const rowBytes = <usize>cols << 2;
  const vcols = cols & ~3;
  const half = (w + 2) / 2;
  const p1 = half - 1;
  const p2 = w - half + 1;
  const p3 = rows - w;
  const p4 = half - 1;
  memory.fill(sums, 0, rowBytes);
  let ri: usize = inp;
  let li: usize = inp;
  let o: i32 = 0;
  let nextSample: i32 = 0;
  let count: i32 = 0;
  for (let i = 0; i < p1; i++) {
    addRow(sums, ri, vcols, cols);
    count++; ri += rowBytes;
  }
  for (let i = 0; i < p2; i++) {
    addRow(sums, ri, vcols, cols);
    count++; ri += rowBytes;
    nextSample = emitRow(sums, out, o, rowBytes, vcols, cols, <f32>count, sampled, nextSample);
    o++;
  }
  const fw = <f32>count;
  for (let i = 0; i < p3; i++) {
    addSubRow(sums, ri, li, vcols, cols);
    ri += rowBytes; li += rowBytes;
    nextSample = emitRow(sums, out, o, rowBytes, vcols, cols, fw, sampled, nextSample);
    o++;
  }
  for (let i = 0; i < p4; i++) {
    subRow(sums, li, vcols, cols);
    count--; li += rowBytes;
    nextSample = emitRow(sums, out, o, rowBytes, vcols, cols, <f32>count, sampled, nextSample);
    o++;
  }
}

@inline function addRow(sums: usize, row: usize, vcols: i32, cols: i32): void {
  for (let c = 0; c < vcols; c += 4) {
    const off = <usize>c << 2;
    v128.store(sums + off, f32x4.add(v128.load(sums + off), v128.load(row + off)));
  }
  for (let c = vcols; c < cols; c++) {
    const off = <usize>c << 2;
    store<f32>(sums + off, load<f32>(sums + off) + load<f32>(row + off));
  }
}

@inline function subRow(sums: usize, row: usize, vcols: i32, cols: i32): void {
  for (let c = 0; c < vcols; c += 4) {
    const off = <usize>c << 2;
    v128.store(sums + off, f32x4.sub(v128.load(sums + off), v128.load(row + off)));
  }
  for (let c = vcols; c < cols; c++) {
    const off = <usize>c << 2;
    store<f32>(sums + off, load<f32>(sums + off) - load<f32>(row + off));
  }
}

@inline function addSubRow(sums: usize, add: usize, sub: usize, vcols: i32, cols: i32): void {
  // sum += in[right]; sum -= in[left]: two roundings, in this order.
  for (let c = 0; c < vcols; c += 4) {
    const off = <usize>c << 2;
    v128.store(sums + off, f32x4.sub(f32x4.add(v128.load(sums + off), v128.load(add + off)), v128.load(sub + off)));
  }
  for (let c = vcols; c < cols; c++) {
    const off = <usize>c << 2;
    store<f32>(sums + off, (load<f32>(sums + off) + load<f32>(add + off)) - load<f32>(sub + off));
  }
}

@inline function divideRow(sums: usize, dest: usize, vcols: i32, cols: i32, count: f32): void {
  const vc = f32x4.splat(count);
  for (let c = 0; c < vcols; c += 4) {
    const off = <usize>c << 2;
    v128.store(dest + off, f32x4.div(v128.load(sums + off), vc));
  }
  for (let c = vcols; c < cols; c++) {
    const off = <usize>c << 2;
    store<f32>(dest + off, load<f32>(sums + off) / count);
  }
}

@inline function emitRow(sums: usize, out: usize, o: i32, rowBytes: usize, vcols: i32, cols: i32, count: f32, sampled: bool, nextSample: i32): i32 {
  if (!sampled) {
    divideRow(sums, out + <usize>o * rowBytes, vcols, cols, count);
    return nextSample;
  }
  // Images with fewer than 64 rows repeat a source row for several output rows.
  while (nextSample < DIM && load<i32>(rowSample + (<usize>nextSample << 2)) == o) {
    divideRow(sums, out + <usize>nextSample * rowBytes, vcols, cols, count);
    nextSample++;
  }
  return nextSample;
}

/**
 * Hashes the pixels at `pixelBase()` (row-major, `channels` interleaved bytes per pixel: 1 grey, 2 grey+alpha,
 * 3 RGB, 4 RGBA). Writes the hash (and, with `dihedral`, all 8 variants) to `hashOutput`. Returns the quality
 * 0..100, or -1 if the dynamic buffers were not prepared for this size.
 */
export function pdqHash(width: i32, height: i32, channels: i32, dihedral: bool): i32 {
  const nvariants = dihedral ? 8 : 1;
  memory.fill(hashOutput, 0, 8 * 32);
  if (width < 5 || height < 5) return 0; // the reference's MIN_HASHABLE_DIM: all-zero hash, quality 0
  if (!ensureDynamic(width, height, channels)) return -1;
  downsampleTo64(width, height, channels);
  const quality = computeQuality();
  dct64To16();
  for (let v = 0; v < nvariants; v++) {
    makeVariant(v);
    threshold(variant, hashOutput + <usize>(v * 32));
  }
  return quality;
}

/** Runs only the blur and decimation (for tests against the reference's intermediate buffers). */
export function downsampleOnly(width: i32, height: i32, channels: i32): bool {
  if (!ensureDynamic(width, height, channels)) return false;
  downsampleTo64(width, height, channels);
  dct64To16();
  return true;
}

/**
 * Only the luma conversion of every row, into a row scratch (benchmarks: the share of `pdqHash` that luma takes;
 * `pdqHash` fuses it into the first blur pass). False if the dynamic buffers cannot be prepared.
 */
export function lumaOnly(width: i32, height: i32, channels: i32): bool {
  if (!ensureDynamic(width, height, channels)) return false;
  const px = pixelBase();
  const scratch = rowScratch();
  const pxRow = <usize>(width * channels);
  for (let y = 0; y < height; y++) lumaRow(px + <usize>y * pxRow, channels, width, scratch);
  return true;
}

// The image being blurred (downsampleTo64): its shape, and how many first-pass rows the ring has been given.
let sWidth: i32 = 0;
let sHeight: i32 = 0;
let sChannels: i32 = 0;
let sWRows: i32 = 0;
let sRowBytes: usize = 0;
let sVcols: i32 = 0;
let produced: i32 = 0;

@inline function ringRow(r: i32): usize {
  return ringBase() + <usize>(r % ringRowCount()) * sRowBytes;
}

// Pass 1 (rows, luma fused in) up to row r, in the unstreamed order: blocks of four rows from row 0 while four
// are left, then single rows. A block lands in four consecutive ring slots (the ring's size is a multiple of 4).
function produceThrough(r: i32): void {
  const px = pixelBase();
  const scratch = rowScratch();
  const pxRow = <usize>(sWidth * sChannels);
  while (produced <= r) {
    const y = produced;
    if (y + 4 <= sHeight) {
      for (let k = 0; k < 4; k++) {
        lumaRow(px + <usize>(y + k) * pxRow, sChannels, sWidth, scratch + <usize>k * sRowBytes);
      }
      boxRows4(scratch, ringRow(y), sRowBytes, sWidth, sWRows);
      produced += 4;
    } else {
      lumaRow(px + <usize>y * pxRow, sChannels, sWidth, scratch);
      boxRow(scratch, ringRow(y), sWidth, sWRows);
      produced++;
    }
  }
}

// Output row o of pass 2 (sums / count) into its slot of the emitted rows; pass 3 (rows) as soon as a block of
// four is complete (or at once for the single rows at the end), its 64 sampled columns kept in the compact plane.
function emitColumnRow(o: i32, count: f32): void {
  const sums = columnSums();
  const rows = emitScratch();
  const scratch = rowScratch();
  const slot = o & 3;
  divideRow(sums, rows + <usize>slot * sRowBytes, sVcols, sWidth, count);
  const y = o & ~3;
  if (y + 4 <= sHeight) {
    if (slot != 3) return;
    boxRows4(rows, scratch, sRowBytes, sWidth, sWRows);
    for (let k = 0; k < 4; k++) {
      gatherColumns(scratch + <usize>k * sRowBytes, compactBase() + <usize>((y + k) * DIM) * 4);
    }
  } else {
    boxRow(rows + <usize>slot * sRowBytes, scratch, sWidth, sWRows);
    gatherColumns(scratch, compactBase() + <usize>(o * DIM) * 4);
  }
}

// Pass 2 (cols) over the streamed first-pass rows: boxColsSimd's sweep, phase for phase.
function blurColumnsStreaming(w: i32): void {
  const sums = columnSums();
  const cols = sWidth;
  const vcols = sVcols;
  const half = (w + 2) / 2;
  const p1 = half - 1;
  const p2 = w - half + 1;
  const p3 = sHeight - w;
  const p4 = half - 1;
  memory.fill(sums, 0, sRowBytes);
  let ri: i32 = 0;
  let li: i32 = 0;
  let o: i32 = 0;
  let count: i32 = 0;
  for (let i = 0; i < p1; i++) {
    produceThrough(ri);
    addRow(sums, ringRow(ri), vcols, cols);
    count++; ri++;
  }
  for (let i = 0; i < p2; i++) {
    produceThrough(ri);
    addRow(sums, ringRow(ri), vcols, cols);
    count++; ri++;
    emitColumnRow(o, <f32>count);
    o++;
  }
  const fw = <f32>count;
  for (let i = 0; i < p3; i++) {
    produceThrough(ri);
    addSubRow(sums, ringRow(ri), ringRow(li), vcols, cols);
    ri++; li++;
    emitColumnRow(o, fw);
    o++;
  }
  for (let i = 0; i < p4; i++) {
    subRow(sums, ringRow(li), vcols, cols);
    count--; li++;
    emitColumnRow(o, <f32>count);
    o++;
  }
}

function downsampleTo64(width: i32, height: i32, channels: i32): void {
  const wCols = windowSize(height);
  for (let j = 0; j < DIM; j++) {
    store<i32>(colSample + (<usize>j << 2), ((2 * j + 1) * width) / 128);
    store<i32>(rowSample + (<usize>j << 2), ((2 * j + 1) * height) / 128);
  }
  sWidth = width;
  sHeight = height;
  sChannels = channels;
  sWRows = windowSize(width); // the pass along rows uses the column count
  sRowBytes = <usize>width << 2;
  sVcols = width & ~3;
  produced = 0;
  // Passes 1-3, streamed: rows, then cols (every row), then rows again (the 64 sampled columns kept).
  blurColumnsStreaming(wCols);
  // Pass 4 (cols) over the 64 kept columns, writing only the 64 sampled rows.
  boxColsSimd(compactBase(), buffer64, height, DIM, wCols, columnSums(), true);
}

@inline function gatherColumns(row: usize, out: usize): void {
  for (let j = 0; j < DIM; j++) {
    const c = load<i32>(colSample + (<usize>j << 2));
    store<f32>(out + (<usize>j << 2), load<f32>(row + (<usize>c << 2)));
  }
}

function computeQuality(): i32 {
  // Sum of |trunc(((u - v) * 100) / 255)| over vertical then horizontal neighbours, / 90, capped at 100.
  let gradientSum: i32 = 0;
  for (let i = 0; i < DIM - 1; i++) {
    for (let j = 0; j < DIM; j++) {
      const u = load<f32>(buffer64 + <usize>((i * DIM + j) << 2));
      const v = load<f32>(buffer64 + <usize>(((i + 1) * DIM + j) << 2));
      const d = <i32>(((u - v) * <f32>100) / <f32>255);
      gradientSum += d < 0 ? -d : d;
    }
  }
  for (let i = 0; i < DIM; i++) {
    for (let j = 0; j < DIM - 1; j++) {
      const u = load<f32>(buffer64 + <usize>((i * DIM + j) << 2));
      const v = load<f32>(buffer64 + <usize>((i * DIM + j + 1) << 2));
      const d = <i32>(((u - v) * <f32>100) / <f32>255);
      gradientSum += d < 0 ? -d : d;
    }
  }
  const q = gradientSum / 90;
  return q > 100 ? 100 : q;
}

function dct64To16(): void {
  // T[i][j] = sum_k D[i][k] * A[k][j], k ascending: vectorised over j, so each lane keeps the reference order.
  for (let i = 0; i < NDCT; i++) {
    const trow = dctTemp + <usize>(i * DIM * 4);
    memory.fill(trow, 0, DIM * 4);
    for (let k = 0; k < DIM; k++) {
      const dik = f32x4.splat(load<f32>(dctMatrix + <usize>((i * DIM + k) << 2)));
      const arow = buffer64 + <usize>(k * DIM * 4);
      for (let j = 0; j < DIM; j += 4) {
        const off = <usize>j << 2;
        v128.store(trow + off, f32x4.add(v128.load(trow + off), f32x4.mul(dik, v128.load(arow + off))));
      }
    }
  }
  // B[i][j] = sum_k T[i][k] * D[j][k] = sum_k T[i][k] * D^T[k][j], k ascending, vectorised over j.
  for (let i = 0; i < NDCT; i++) {
    const brow = dctOutput + <usize>(i * NDCT * 4);
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    const trow = dctTemp + <usize>(i * DIM * 4);
    for (let k = 0; k < DIM; k++) {
      const t = f32x4.splat(load<f32>(trow + (<usize>k << 2)));
      const drow = dctMatrixT + <usize>(k * NDCT * 4);
      s0 = f32x4.add(s0, f32x4.mul(t, v128.load(drow)));
      s1 = f32x4.add(s1, f32x4.mul(t, v128.load(drow, 16)));
      s2 = f32x4.add(s2, f32x4.mul(t, v128.load(drow, 32)));
      s3 = f32x4.add(s3, f32x4.mul(t, v128.load(drow, 48)));
    }
    v128.store(brow, s0);
    v128.store(brow, s1, 16);
    v128.store(brow, s2, 32);
    v128.store(brow, s3, 48);
  }
}

// Dihedral variants from the one DCT (dihedral.ts); PDQ's row i holds frequency i + 1, so even i is odd.
function makeVariant(v: i32): void {
  for (let i = 0; i < NDCT; i++) {
    for (let j = 0; j < NDCT; j++) {
      const rule = dihedralRule(v, (i & 1) == 0, (j & 1) == 0);
      const src = rule & 1 ? j * NDCT + i : i * NDCT + j;
      const x = load<f32>(dctOutput + (<usize>src << 2));
      store<f32>(variant + (<usize>(i * NDCT + j) << 2), rule & 2 ? -x : x);
    }
  }
}

function threshold(values: usize, out: usize): void {
  // Lower median (sorted[127], what Torben's algorithm returns); bit k = 16i + j set iff value > median.
  memory.copy(sortBuf, values, 256 * 4);
  sortInPlace<f32>(sortBuf, 256);
  const median = load<f32>(sortBuf + (127 << 2));
  memory.fill(out, 0, 32);
  for (let k = 0; k < 256; k++) {
    if (load<f32>(values + (<usize>k << 2)) > median) {
      // 256-bit integer sum(bit_k * 2^k), big-endian bytes: bit k lives in byte 31 - k/8.
      const p = out + <usize>(31 - (k >> 3));
      const bit: i32 = 1 << (k & 7);
      store<u8>(p, <u8>(<i32>load<u8>(p) | bit));
    }
  }
}

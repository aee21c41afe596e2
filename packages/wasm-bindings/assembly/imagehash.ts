// imagehash-compatible hashes (JohannesBuchner/imagehash 4.x): average_hash, phash, dhash, whash (haar),
// at any hash_size. imagehash converts to Pillow's 'L' and resizes with Pillow's LANCZOS; both are ported
// here as Pillow computes them (ITU-R 601 luma in 16.16 fixed point; the two-pass resampler with 22-bit
// fixed-point coefficients, horizontal pass first, clipping to 8 bits between passes), so hex strings equal
// imagehash's. Bits are row-major, most significant first, as imagehash prints them.

import { pixelBase, allocExtra, extraMark, releaseExtra } from "./memory";
import { hashOutput } from "./pdq";
import { dihedralRule } from "./dihedral";
import { sortInPlace } from "./sort";

const PRECISION_BITS: i32 = 32 - 8 - 2;
const LANCZOS_SUPPORT: f64 = 3.0;

let grey: usize = 0;
let greyWidth: i32 = 0;
let greyHeight: i32 = 0;
// whash and whash16 resize to the same image_scale square: it is kept until the next prepareGrey.
let waveletPlane: usize = 0;
let waveletScale: i32 = 0;

/**
 * Pillow's convert('L') of the pixels at pixelBase(): L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16 for RGB(A)
 * (alpha ignored, not composited), the grey value itself for grey(+alpha). Must run before imageHash.
 */
export function prepareGrey(width: i32, height: i32, channels: i32): bool {
  const n = <usize>width * <usize>height;
  grey = allocExtra(<u64>n);
  if (grey == 0) return false;
  waveletPlane = 0;
  waveletScale = 0;
  greyWidth = width;
  greyHeight = height;
  const px = pixelBase();
  if (channels >= 3) {
    for (let i: usize = 0; i < n; i++) {
      const p = px + i * <usize>channels;
      const l = <u32>load<u8>(p) * 19595 + <u32>load<u8>(p, 1) * 38470 + <u32>load<u8>(p, 2) * 7471 + 0x8000;
      store<u8>(grey + i, <u8>(l >> 16));
    }
  } else {
    for (let i: usize = 0; i < n; i++) store<u8>(grey + i, load<u8>(px + i * <usize>channels));
  }
  return true;
}

@inline function sinc(x: f64): f64 {
  if (x == 0.0) return 1.0;
  const y = x * Math.PI;
  return Math.sin(y) / y;
}

@inline function lanczos(x: f64): f64 {
  return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for one axis: per output index, the first input index,
// the tap count, and ksize i32 coefficients.
function coefficients(inSize: i32, outSize: i32, bounds: usize, kernel: usize, ksize: i32): void {
  const scale: f64 = <f64>inSize / <f64>outSize;
  const filterscale: f64 = scale < 1.0 ? 1.0 : scale;
  const support: f64 = LANCZOS_SUPPORT * filterscale;
  const ss: f64 = 1.0 / filterscale;
  const weights = allocExtra(<u64>ksize * 8);
  for (let xx = 0; xx < outSize; xx++) {
    const center: f64 = (<f64>xx + 0.5) * scale;
    let xmin = <i32>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = <i32>(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww: f64 = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = lanczos((<f64>(x + xmin) - center + 0.5) * ss);
      store<f64>(weights + (<usize>x << 3), w);
      ww += w;
    }
    const k = kernel + (<usize>(xx * ksize) << 2);
    for (let x = 0; x < ksize; x++) {
      let w: f64 = 0.0;
      if (x < xmax) {
        w = load<f64>(weights + (<usize>x << 3));
        if (ww != 0.0) w /= ww;
      }
      const scaled = w * <f64>(1 << PRECISION_BITS);
      store<i32>(k + (<usize>x << 2), w < 0 ? <i32>(-0.5 + scaled) : <i32>(0.5 + scaled));
    }
    store<i32>(bounds + (<usize>xx << 3), xmin);
    store<i32>(bounds + (<usize>xx << 3) + 4, xmax);
  }
}

@inline function ksizeFor(inSize: i32, outSize: i32): i32 {
  const scale: f64 = <f64>inSize / <f64>outSize;
  const filterscale: f64 = scale < 1.0 ? 1.0 : scale;
  return <i32>Math.ceil(LANCZOS_SUPPORT * filterscale) * 2 + 1;
}

// Pillow's rounding constant plus sum of u8 samples times i32 coefficients, eight taps per step. Integer
// addition is associative (and Pillow's sums stay within i32), so the lane order gives Pillow's exact value.
@inline function dotU8I32(samples: usize, k: usize, taps: i32): i32 {
  let acc = i32x4.splat(0);
  let x = 0;
  for (; x + 8 <= taps; x += 8) {
    const s16 = i16x8.extend_low_i8x16_u(v128.load64_zero(samples + <usize>x));
    const kp = k + (<usize>x << 2);
    acc = i32x4.add(acc, i32x4.mul(i32x4.extend_low_i16x8_u(s16), v128.load(kp)));
    acc = i32x4.add(acc, i32x4.mul(i32x4.extend_high_i16x8_u(s16), v128.load(kp, 16)));
  }
  let sum: i32 = (1 << (PRECISION_BITS - 1)) + i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  for (; x < taps; x++) sum += <i32>load<u8>(samples + <usize>x) * load<i32>(k + (<usize>x << 2));
  return sum;
}

@inline function clip8(v: i32): u8 {
  const x = v >> PRECISION_BITS;
  return <u8>(x < 0 ? 0 : x > 255 ? 255 : x);
}

/**
 * Pillow's Image.resize((outW, outH), LANCZOS) of an 8-bit grey plane. Returns the output plane (in the extra
 * area) or 0 when memory cannot grow.
 */
function resizeLanczos(src: usize, inW: i32, inH: i32, outW: i32, outH: i32, dest: usize = 0): usize {
  const needH = outW != inW;
  const needV = outH != inH;
  const kH = ksizeFor(inW, outW);
  const kV = ksizeFor(inH, outH);
  const boundsH = allocExtra(<u64>outW * 8);
  const kernelH = allocExtra(<u64>outW * <u64>kH * 4);
  const boundsV = allocExtra(<u64>outH * 8);
  const kernelV = allocExtra(<u64>outH * <u64>kV * 4);
  if (boundsH == 0 || kernelH == 0 || boundsV == 0 || kernelV == 0) return 0;
  let mark = extraMark();
  coefficients(inW, outW, boundsH, kernelH, kH);
  releaseExtra(mark);
  coefficients(inH, outH, boundsV, kernelV, kV);
  releaseExtra(mark);

  // Only the source rows the vertical pass reads go through the horizontal pass.
  const yFirst = load<i32>(boundsV);
  const yLast = load<i32>(boundsV + (<usize>(outH - 1) << 3)) + load<i32>(boundsV + (<usize>(outH - 1) << 3) + 4);
  let plane = src;
  let planeW = inW;
  let rowOffset = 0;
  if (needH) {
    const rows = yLast - yFirst;
    const tmp = allocExtra(<u64>outW * <u64>rows);
    if (tmp == 0) return 0;
    for (let yy = 0; yy < rows; yy++) {
      const inRow = src + <usize>(yy + yFirst) * <usize>inW;
      const outRow = tmp + <usize>yy * <usize>outW;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = load<i32>(boundsH + (<usize>xx << 3));
        const xmax = load<i32>(boundsH + (<usize>xx << 3) + 4);
        const k = kernelH + (<usize>(xx * kH) << 2);
        store<u8>(outRow + <usize>xx, clip8(dotU8I32(inRow + <usize>xmin, k, xmax)));
      }
    }
    plane = tmp;
    planeW = outW;
    rowOffset = yFirst;
  }
  if (!needV) {
    const copy = dest != 0 ? dest : allocExtra(<u64>planeW * <u64>outH);
    if (copy == 0) return 0;
    memory.copy(copy, plane, <usize>planeW * <usize>outH);
    return copy;
  }
  const out = dest != 0 ? dest : allocExtra(<u64>planeW * <u64>outH);
  if (out == 0) return 0;
  const vcols = planeW & ~3;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = load<i32>(boundsV + (<usize>yy << 3)) - rowOffset;
    const ymax = load<i32>(boundsV + (<usize>yy << 3) + 4);
    const k = kernelV + (<usize>(yy * kV) << 2);
    const outRow = out + <usize>yy * <usize>planeW;
    // Four output columns per i32x4: each lane sums its own column's taps.
    for (let xx = 0; xx < vcols; xx += 4) {
      let acc = i32x4.splat(1 << (PRECISION_BITS - 1));
      for (let y = 0; y < ymax; y++) {
        const px = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(plane + <usize>(y + ymin) * <usize>planeW + <usize>xx)));
        acc = i32x4.add(acc, i32x4.mul(px, i32x4.splat(load<i32>(k + (<usize>y << 2)))));
      }
      for (let lane = 0; lane < 4; lane++) {
        let v: i32 = 0;
        switch (lane) {
          case 0: v = i32x4.extract_lane(acc, 0); break;
          case 1: v = i32x4.extract_lane(acc, 1); break;
          case 2: v = i32x4.extract_lane(acc, 2); break;
          default: v = i32x4.extract_lane(acc, 3); break;
        }
        store<u8>(outRow + <usize>(xx + lane), clip8(v));
      }
    }
    for (let xx = vcols; xx < planeW; xx++) {
      let ss0: i32 = 1 << (PRECISION_BITS - 1);
      for (let y = 0; y < ymax; y++) ss0 += <i32>load<u8>(plane + <usize>(y + ymin) * <usize>planeW + <usize>xx) * load<i32>(k + (<usize>y << 2));
      store<u8>(outRow + <usize>xx, clip8(ss0));
    }
  }
  return out;
}

// Bit i (row-major) of an n-bit hash: byte i / 8, most significant bit first.
@inline function setBit(out: usize, i: i32): void {
  const p = out + <usize>(i >> 3);
  store<u8>(p, <u8>(<i32>load<u8>(p) | (0x80 >> (i & 7))));
}

// numpy.median: the mean of the two middle values (n even), on a sorted copy.
function median(values: usize, n: i32): f64 {
  const sorted = allocExtra(<u64>n * 8);
  memory.copy(sorted, values, <usize>n << 3);
  sortInPlace<f64>(sorted, n);
  const mid = n >> 1;
  if (n & 1) return load<f64>(sorted + (<usize>mid << 3));
  return (load<f64>(sorted + (<usize>(mid - 1) << 3)) + load<f64>(sorted + (<usize>mid << 3))) / 2.0;
}

/** Algorithm codes of {@link imageHash}. */
export const AHASH: i32 = 0;
export const PHASH: i32 = 1;
export const DHASH: i32 = 2;
export const WHASH: i32 = 3;

/**
 * One imagehash hash of the grey plane from prepareGrey, hash_size `size`, bits to hashOutput (size*size bits,
 * MSB first). Returns false when memory cannot grow.
 */
export function imageHash(algorithm: i32, size: i32, dihedral: bool): bool {
  if (algorithm == WHASH && !prepareWaveletPlane(size)) return false;
  const mark = extraMark();
  const bits = size * size;
  memory.fill(hashOutput, 0, <usize>(((bits + 7) >> 3) * (dihedral ? 8 : 1)));
  let ok = true;
  switch (algorithm) {
    case AHASH: ok = averageHash(size); break;
    case PHASH: ok = perceptualHash(size, dihedral); break;
    case DHASH: ok = differenceHash(size); break;
    default: ok = waveletHash(size); break;
  }
  releaseExtra(mark);
  return ok;
}

function averageHash(size: i32): bool {
  const img = resizeLanczos(grey, greyWidth, greyHeight, size, size);
  if (img == 0) return false;
  const n = size * size;
  let sum: i64 = 0;
  for (let i = 0; i < n; i++) sum += <i64>load<u8>(img + <usize>i);
  // pixel > mean  <=>  pixel * n > sum (exact in integers; numpy's float mean of <= 65536 bytes is exact too)
  for (let i = 0; i < n; i++) if (<i64>load<u8>(img + <usize>i) * <i64>n > sum) setBit(hashOutput, i);
  return true;
}

function differenceHash(size: i32): bool {
  const w = size + 1;
  const img = resizeLanczos(grey, greyWidth, greyHeight, w, size);
  if (img == 0) return false;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const row = img + <usize>(y * w);
      if (load<u8>(row + <usize>(x + 1)) > load<u8>(row + <usize>x)) setBit(hashOutput, y * size + x);
    }
  }
  return true;
}

// scipy.fftpack.dct (type II, unnormalised: y[k] = 2 sum_n x[n] cos(pi k (2n + 1) / 2N)) along axis 0, then
// axis 1, of the (4 size)^2 image; the top-left size x size block, DC included, against its median.
function perceptualHash(size: i32, dihedral: bool): bool {
  const N = size * 4;
  const img = resizeLanczos(grey, greyWidth, greyHeight, N, N);
  if (img == 0) return false;
  const cosTable = allocExtra(<u64>size * <u64>N * 8);
  const cols = allocExtra(<u64>size * <u64>N * 8); // dct along axis 0, rows k < size
  const low = allocExtra(<u64>size * <u64>size * 8);
  if (cosTable == 0 || cols == 0 || low == 0) return false;
  for (let k = 0; k < size; k++) {
    for (let n = 0; n < N; n++) {
      store<f64>(cosTable + (<usize>(k * N + n) << 3), Math.cos((Math.PI * <f64>k * <f64>(2 * n + 1)) / <f64>(2 * N)));
    }
  }
  for (let k = 0; k < size; k++) {
    for (let x = 0; x < N; x++) {
      let s: f64 = 0.0;
      for (let n = 0; n < N; n++) s += <f64>load<u8>(img + <usize>(n * N + x)) * load<f64>(cosTable + (<usize>(k * N + n) << 3));
      store<f64>(cols + (<usize>(k * N + x) << 3), 2.0 * s);
    }
  }
  for (let r = 0; r < size; r++) {
    for (let k = 0; k < size; k++) {
      let s: f64 = 0.0;
      for (let n = 0; n < N; n++) s += load<f64>(cols + (<usize>(r * N + n) << 3)) * load<f64>(cosTable + (<usize>(k * N + n) << 3));
      store<f64>(low + (<usize>(r * size + k) << 3), 2.0 * s);
    }
  }
  const n = size * size;
  if (!dihedral) {
    const med = median(low, n);
    for (let i = 0; i < n; i++) if (load<f64>(low + (<usize>i << 3)) > med) setBit(hashOutput, i);
    return true;
  }
  // The 8 dihedral variants from the one DCT (dihedral.ts; imagehash keeps the DC term, so odd i is odd), each
  // against its own median.
  const variant = allocExtra(<u64>n * 8);
  if (variant == 0) return false;
  const bytes = <usize>(n >> 3);
  for (let v = 0; v < 8; v++) {
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const rule = dihedralRule(v, (i & 1) == 1, (j & 1) == 1);
        const src = rule & 1 ? j * size + i : i * size + j;
        const x = load<f64>(low + (<usize>src << 3));
        store<f64>(variant + (<usize>(i * size + j) << 3), rule & 2 ? -x : x);
      }
    }
    const med = median(variant, n);
    const out = hashOutput + <usize>v * bytes;
    for (let i = 0; i < n; i++) if (load<f64>(variant + (<usize>i << 3)) > med) setBit(out, i);
  }
  return true;
}

// Haar whash with imagehash's defaults: image_scale = max(2^floor(log2(min(W, H))), size); the lowest LL band
// (the mean) removed; LL at level log2(image_scale / size) = block sums / 2^level, against its median.
function waveletScaleFor(size: i32): i32 {
  const minSide = greyWidth < greyHeight ? greyWidth : greyHeight;
  let natural = 1;
  while (natural * 2 <= minSide) natural *= 2;
  return natural > size ? natural : size;
}

// The image_scale square, resized once per image (allocated before imageHash's mark, so it survives it).
function prepareWaveletPlane(size: i32): bool {
  const scale = waveletScaleFor(size);
  if (waveletPlane != 0 && waveletScale == scale) return true;
  const plane = allocExtra(<u64>scale * <u64>scale);
  if (plane == 0) return false;
  const mark = extraMark();
  const ok = resizeLanczos(grey, greyWidth, greyHeight, scale, scale, plane) != 0;
  releaseExtra(mark);
  waveletPlane = ok ? plane : 0;
  waveletScale = ok ? scale : 0;
  return ok;
}

function waveletHash(size: i32): bool {
  const scale = waveletScale;
  let level = 0;
  while ((size << level) < scale) level++;
  const img = waveletPlane;
  const n = scale * scale;
  let total: f64 = 0.0;
  for (let i = 0; i < n; i++) total += <f64>load<u8>(img + <usize>i) / 255.0;
  const mean = total / <f64>n;
  const block = 1 << level;
  const ll = allocExtra(<u64>size * <u64>size * 8);
  if (ll == 0) return false;
  for (let by = 0; by < size; by++) {
    for (let bx = 0; bx < size; bx++) {
      let s: f64 = 0.0;
      for (let y = 0; y < block; y++) {
        const row = img + <usize>((by * block + y) * scale + bx * block);
        for (let x = 0; x < block; x++) s += <f64>load<u8>(row + <usize>x) / 255.0 - mean;
      }
      store<f64>(ll + (<usize>(by * size + bx) << 3), s / <f64>block);
    }
  }
  const med = median(ll, size * size);
  for (let i = 0; i < size * size; i++) if (load<f64>(ll + (<usize>i << 3)) > med) setBit(hashOutput, i);
  return true;
}

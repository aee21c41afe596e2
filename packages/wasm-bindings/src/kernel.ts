/** The hash kernels: pixels in, hashes out, in one WebAssembly instance. No Node built-ins here. */

import {
  DIHEDRAL_VARIANTS,
  type HashKernelResult,
  KERNEL_ALGORITHMS,
  type KernelAlgorithm,
  type KernelHash,
  type PixelInput,
} from "./algorithms.js";

/** Where the compiled kernels live, relative to this module (for hosts that fetch or read it). */
export const wasmUrl: URL = new URL("../build/phmatch.wasm", import.meta.url);

interface KernelExports {
  memory: WebAssembly.Memory;
  preparePixels(width: number, height: number, channels: number): number;
  prepareGrey(width: number, height: number, channels: number): number;
  imageHash(algorithm: number, size: number, dihedral: number): number;
  pdqHash(width: number, height: number, channels: number, dihedral: number): number;
  downsampleOnly(width: number, height: number, channels: number): number;
  lumaOnly(width: number, height: number, channels: number): number;
  buffer64: WebAssembly.Global;
  dctOutput: WebAssembly.Global;
  dctMatrix: WebAssembly.Global;
  hashOutput: WebAssembly.Global;
}

/** Thrown when the kernel's linear memory cannot hold an image; `code` is stable. */
export class KernelMemoryError extends RangeError {
  readonly code = "PHM_WASM_MEMORY";
  constructor(width: number, height: number, channels: number) {
    super(
      `WebAssembly memory cannot hold a ${width}x${height}x${channels} image; ` +
        `lower the pixel limit or hash a smaller image`,
    );
    this.name = "KernelMemoryError";
  }
}

/** Linear memory above this is given back after a hash by starting a fresh instance (wasm memory never shrinks). */
const DEFAULT_RETAIN_BYTES = 256 * 1024 * 1024;

/**
 * One instance of the kernels. Not thread-safe: use one per worker.
 * @example
 * const kernel = await HashKernel.load(await (await fetch(wasmUrl)).arrayBuffer());
 * const { pdq, phash } = kernel.hash(
 *   { width, height, channels: 4, data: imageData.data },
 *   { algorithms: ["pdq", "phash"] },
 * );
 */
export class HashKernel {
  #module: WebAssembly.Module;
  #exports: KernelExports;
  readonly retainBytes: number;

  private constructor(module: WebAssembly.Module, retainBytes: number) {
    this.#module = module;
    this.retainBytes = retainBytes;
    this.#exports = HashKernel.#instantiate(module);
  }

  /** Compiles and instantiates the kernels from the `.wasm` bytes or an already compiled module. */
  static async load(
    source: BufferSource | WebAssembly.Module,
    options: { retainBytes?: number } = {},
  ): Promise<HashKernel> {
    const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
    return new HashKernel(module, options.retainBytes ?? DEFAULT_RETAIN_BYTES);
  }

  /**
   * Synchronous variant of {@link HashKernel.load} (Node and workers; browsers limit sync compiles to 4 KB on the
   * main thread).
   */
  static loadSync(source: BufferSource | WebAssembly.Module, options: { retainBytes?: number } = {}): HashKernel {
    const module = source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source);
    return new HashKernel(module, options.retainBytes ?? DEFAULT_RETAIN_BYTES);
  }

  /** Compiles the `.wasm` bytes once, for many instances (one per thread). */
  static compile(bytes: BufferSource): WebAssembly.Module {
    return new WebAssembly.Module(bytes);
  }

  static #instantiate(module: WebAssembly.Module): KernelExports {
    return new WebAssembly.Instance(module, { env: { abort: kernelAbort } }).exports as unknown as KernelExports;
  }

  /** Bytes of linear memory the instance holds now. */
  get memoryBytes(): number {
    return this.#exports.memory.buffer.byteLength;
  }

  /**
   * Every requested hash of one image, from one copy of its pixels into the kernel. PDQ follows the
   * reference's full-resolution convention; the imagehash family equals imagehash 4.x on Pillow.
   */
  hash(pixels: PixelInput, options: { algorithms: readonly string[]; dihedral?: boolean }): Record<string, KernelHash> {
    const { width, height, channels } = pixels;
    for (const id of options.algorithms) {
      if (!Object.hasOwn(KERNEL_ALGORITHMS, id)) throw new RangeError(`the kernels do not compute "${id}"`);
    }
    this.#load(pixels);
    const results: Record<string, KernelHash> = {};
    const memory = () => this.#exports.memory.buffer;
    const output = () => this.#exports.hashOutput.value as number;
    let grey = false;
    for (const id of options.algorithms as KernelAlgorithm[]) {
      const spec = KERNEL_ALGORITHMS[id];
      if (!("imagehash" in spec)) {
        const dihedral = options.dihedral === true;
        const quality = this.#exports.pdqHash(width, height, channels, dihedral ? 1 : 0);
        if (quality < 0) throw this.#memoryError(width, height, channels);
        const out = new Uint8Array(memory(), output(), 8 * 32);
        const result: KernelHash = { hash: out.slice(0, 32), quality };
        if (dihedral) result.dihedral = DIHEDRAL_VARIANTS.map((_, v) => out.slice(v * 32, v * 32 + 32));
        results[id] = result;
        continue;
      }
      if (!grey && !this.#exports.prepareGrey(width, height, channels))
        throw this.#memoryError(width, height, channels);
      grey = true;
      // pHash's DCT gives its dihedral variants as PDQ's does (same order); the other imagehash hashes have none.
      const variants = options.dihedral === true && spec.imagehash === 1;
      if (!this.#exports.imageHash(spec.imagehash, spec.size, variants ? 1 : 0))
        throw this.#memoryError(width, height, channels);
      const bytes = spec.bits / 8;
      const out = new Uint8Array(memory(), output(), bytes * (variants ? 8 : 1));
      results[id] = variants
        ? {
            hash: out.slice(0, bytes),
            dihedral: DIHEDRAL_VARIANTS.map((_, v) => out.slice(v * bytes, (v + 1) * bytes)),
          }
        : { hash: out.slice(0, bytes) };
    }
    this.#release();
    return results;
  }

  /**
   * PDQ hash, quality and optionally the 8 dihedral variants of one image (the reference's full-resolution
   * convention).
   */
  pdq(pixels: PixelInput, options: { dihedral?: boolean } = {}): HashKernelResult {
    return this.hash(pixels, { algorithms: ["pdq"], dihedral: options.dihedral }).pdq as HashKernelResult;
  }

  #memoryError(width: number, height: number, channels: number): KernelMemoryError {
    this.#exports = HashKernel.#instantiate(this.#module);
    return new KernelMemoryError(width, height, channels);
  }

  /** The 64x64 buffer after blur and decimation and the 16x16 DCT (debugging against the reference's dumps). */
  intermediate(pixels: PixelInput): { buffer64: Float32Array; dct16: Float32Array } {
    this.#load(pixels);
    if (!this.#exports.downsampleOnly(pixels.width, pixels.height, pixels.channels)) {
      throw new KernelMemoryError(pixels.width, pixels.height, pixels.channels);
    }
    const mem = this.#exports.memory.buffer;
    const result = {
      buffer64: new Float32Array(mem, this.#exports.buffer64.value as number, 64 * 64).slice(),
      dct16: new Float32Array(mem, this.#exports.dctOutput.value as number, 16 * 16).slice(),
    };
    this.#release();
    return result;
  }

  /**
   * Where one PDQ hash spends its time, in ms (benchmarks; `npm run bench` prints it beside the reference's
   * stages): `copy`, the pixels into the kernel; `luma`, the luma conversion alone; `blur`, the tent blur,
   * decimation to 64x64 and 16x16 DCT (a run of those with the luma, which the first blur pass computes as it goes,
   * minus the luma alone; the DCT is a few hundredths of a ms of it); `threshold`, the quality and the median
   * threshold (a whole hash minus that run). Runs the stages one after another, so it costs more than one hash.
   */
  timePdqStages(pixels: PixelInput): { copy: number; luma: number; blur: number; threshold: number } {
    const { width, height, channels } = pixels;
    const t0 = performance.now();
    this.#load(pixels);
    const t1 = performance.now();
    if (!this.#exports.lumaOnly(width, height, channels)) throw this.#memoryError(width, height, channels);
    const t2 = performance.now();
    if (!this.#exports.downsampleOnly(width, height, channels)) throw this.#memoryError(width, height, channels);
    const t3 = performance.now();
    if (this.#exports.pdqHash(width, height, channels, 0) < 0) throw this.#memoryError(width, height, channels);
    const t4 = performance.now();
    this.#release();
    const luma = t2 - t1;
    const blurred = t3 - t2;
    return { copy: t1 - t0, luma, blur: Math.max(0, blurred - luma), threshold: Math.max(0, t4 - t3 - blurred) };
  }

  /** The 16x64 DCT basis the kernel uses (row i = frequency i+1). */
  dctMatrix(): Float32Array {
    return new Float32Array(this.#exports.memory.buffer, this.#exports.dctMatrix.value as number, 16 * 64).slice();
  }

  /** Copies the pixel bytes into linear memory. */
  #load(pixels: PixelInput): void {
    const { width, height, channels, data } = pixels;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
      throw new RangeError(`image dimensions must be positive integers, got ${width}x${height}`);
    }
    if (channels !== 1 && channels !== 2 && channels !== 3 && channels !== 4) {
      throw new RangeError(`channels must be 1, 2, 3 or 4, got ${channels}`);
    }
    const bytes = width * height * channels;
    if (data.length !== bytes) {
      throw new RangeError(`expected ${bytes} pixel bytes for ${width}x${height}x${channels}, got ${data.length}`);
    }
    const ptr = this.#exports.preparePixels(width, height, channels);
    if (ptr === 0) {
      this.#exports = HashKernel.#instantiate(this.#module);
      throw new KernelMemoryError(width, height, channels);
    }
    new Uint8Array(this.#exports.memory.buffer, ptr, bytes).set(data);
  }

  #release(): void {
    if (this.#exports.memory.buffer.byteLength > this.retainBytes) {
      this.#exports = HashKernel.#instantiate(this.#module);
    }
  }
}

function kernelAbort(): never {
  throw new Error("phmatch.wasm aborted (an internal invariant failed)");
}

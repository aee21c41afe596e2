/**
 * @phmatch/wasm: phmatch's hash kernels in WebAssembly. The same `.wasm` runs in Node, browsers and edge
 * runtimes, so hashes computed on a device and on a server cannot drift apart. No Node built-ins here.
 *
 * Bit order of every hash: the 256-bit integer sum(bit_k * 2^k), k = 16*row + col of the 16x16 DCT,
 * as big-endian bytes (byte 0 holds bits 255..248), i.e. the bytes of the reference's 64-char hex.
 */

/**
 * Decoded pixels: row-major, `channels` interleaved 8-bit samples per pixel (1 grey, 2 grey+alpha, 3 RGB,
 * 4 RGBA), as `Uint8Array` or `ImageData`'s `Uint8ClampedArray`.
 */
export interface PixelInput {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array | Uint8ClampedArray;
}

/** PDQ result: 32-byte hash, quality 0..100, and with `dihedral` the 8 variants in {@link DIHEDRAL_VARIANTS} order. */
export interface PdqKernelResult {
  hash: Uint8Array;
  quality: number;
  dihedral?: Uint8Array[];
}

/** Order of PDQ's dihedral variants, as the reference prints them. */
export const DIHEDRAL_VARIANTS = [
  "original",
  "rotate90",
  "rotate180",
  "rotate270",
  "flipx",
  "flipy",
  "flipplus1",
  "flipminus1",
] as const;

/** Where the compiled kernels live, relative to this module (for hosts that fetch or read it). */
export const wasmUrl: URL = new URL("../build/phmatch.wasm", import.meta.url);

interface KernelExports {
  memory: WebAssembly.Memory;
  preparePixels(width: number, height: number, channels: number): number;
  pdqHash(width: number, height: number, channels: number, dihedral: number): number;
  downsampleOnly(width: number, height: number, channels: number): number;
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
      `WebAssembly memory cannot hold a ${width}x${height}x${channels} image; lower the pixel limit or hash a smaller image`,
    );
    this.name = "KernelMemoryError";
  }
}

/** Linear memory above this is given back after a hash by starting a fresh instance (wasm memory never shrinks). */
const DEFAULT_RETAIN_BYTES = 256 * 1024 * 1024;

/**
 * One instance of the kernels. Not thread-safe: use one per worker.
 * @example
 * const kernel = await PdqKernel.load(await (await fetch(wasmUrl)).arrayBuffer());
 * const { hash, quality } = kernel.pdq({ width, height, channels: 4, data: imageData.data });
 */
export class PdqKernel {
  #module: WebAssembly.Module;
  #exports: KernelExports;
  readonly retainBytes: number;

  private constructor(module: WebAssembly.Module, retainBytes: number) {
    this.#module = module;
    this.retainBytes = retainBytes;
    this.#exports = PdqKernel.#instantiate(module);
  }

  /** Compiles and instantiates the kernels from the `.wasm` bytes or an already compiled module. */
  static async load(source: BufferSource | WebAssembly.Module, options: { retainBytes?: number } = {}): Promise<PdqKernel> {
    const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
    return new PdqKernel(module, options.retainBytes ?? DEFAULT_RETAIN_BYTES);
  }

  /** Synchronous variant of {@link PdqKernel.load} (Node and workers; browsers limit sync compiles to 4 KB on the main thread). */
  static loadSync(source: BufferSource | WebAssembly.Module, options: { retainBytes?: number } = {}): PdqKernel {
    const module = source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source);
    return new PdqKernel(module, options.retainBytes ?? DEFAULT_RETAIN_BYTES);
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

  /** PDQ hash, quality and optionally the 8 dihedral variants of one image (the reference's full-resolution convention). */
  pdq(pixels: PixelInput, options: { dihedral?: boolean } = {}): PdqKernelResult {
    const { width, height, channels } = pixels;
    const dihedral = options.dihedral === true;
    this.#load(pixels);
    const quality = this.#exports.pdqHash(width, height, channels, dihedral ? 1 : 0);
    if (quality < 0) throw new KernelMemoryError(width, height, channels);
    const out = new Uint8Array(this.#exports.memory.buffer, this.#exports.hashOutput.value as number, 8 * 32);
    const hash = out.slice(0, 32);
    const result: PdqKernelResult = { hash, quality };
    if (dihedral) result.dihedral = DIHEDRAL_VARIANTS.map((_, v) => out.slice(v * 32, v * 32 + 32));
    this.#release();
    return result;
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
      this.#exports = PdqKernel.#instantiate(this.#module);
      throw new KernelMemoryError(width, height, channels);
    }
    new Uint8Array(this.#exports.memory.buffer, ptr, bytes).set(data);
  }

  #release(): void {
    if (this.#exports.memory.buffer.byteLength > this.retainBytes) {
      this.#exports = PdqKernel.#instantiate(this.#module);
    }
  }
}

function kernelAbort(): never {
  throw new Error("phmatch.wasm aborted (an internal invariant failed)");
}

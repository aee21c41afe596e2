/**
 * @phmatch/wasm: phmatch's hash kernels (PDQ, and imagehash's ahash/phash/dhash/whash) in WebAssembly. The same
 * `.wasm` runs in Node, browsers and edge runtimes, so hashes computed on a device and on a server cannot drift
 * apart. No Node built-ins here.
 *
 * Bit order of every hash: the 256-bit integer sum(bit_k * 2^k), k = 16*row + col of the 16x16 DCT,
 * as big-endian bytes (byte 0 holds bits 255..248), i.e. the bytes of the reference's 64-char hex.
 */

export {
  DIHEDRAL_VARIANTS,
  type HashKernelResult,
  KERNEL_ALGORITHMS,
  type KernelAlgorithm,
  type KernelHash,
  type PixelInput,
} from "./algorithms.js";
export { HammingKernel, hammingWasmUrl, type MihTable } from "./hamming.js";
export { HashKernel, KernelMemoryError, wasmUrl } from "./kernel.js";
export { exifOrientation, undoOrientation } from "./orientation.js";
export { DEFAULT_DEVICE_ALGORITHMS, hashImage, type ImageHashes, type ImageInput } from "./record.js";

import { KERNEL_ALGORITHMS, type KernelAlgorithm, type PixelInput } from "./algorithms.js";
import type { HashKernel } from "./kernel.js";

/**
 * The hashes of one image as `phmatch hash` prints them (without the path): lowercase hex per algorithm, PDQ's
 * quality, and with `dihedral` PDQ's 8 variants. This is the body `POST /v1/match` of `phmatch serve` takes.
 */
export interface ImageHashes {
  hashes: Record<string, string>;
  quality?: Record<string, number>;
  dihedral?: Record<string, string[]>;
}

/** An image as the browser hands it over (`ImageData`: RGBA), or pixels with their channel count. */
export type ImageInput = {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  channels?: 1 | 2 | 3 | 4;
};

/** Algorithms hashed when none are named: PDQ (with quality) and the 64-bit pHash and dHash. */
export const DEFAULT_DEVICE_ALGORITHMS: readonly KernelAlgorithm[] = ["pdq", "phash", "dhash"];

/**
 * Hashes an image in the page (or any runtime) with the same kernels and conventions as `phmatch hash`. Browsers
 * give every image as RGBA; when every pixel has R = G = B the image is hashed as grey, as `phmatch hash` does
 * for greyscale files (PDQ's colour formula gives a grey pixel back only to within float rounding). Alpha is
 * ignored, as on the server.
 *
 * ```ts
 * const kernel = await HashKernel.load(await (await fetch(wasmUrl)).arrayBuffer());
 * const hashes = hashImage(kernel, ctx.getImageData(0, 0, w, h), { dihedral: true });
 * await fetch("/check", { method: "POST", body: JSON.stringify(hashes) }); // hashes only, never the image
 * ```
 */
export function hashImage(
  kernel: HashKernel,
  image: ImageInput,
  options: { algorithms?: readonly KernelAlgorithm[]; dihedral?: boolean } = {},
): ImageHashes {
  const algorithms = options.algorithms ?? DEFAULT_DEVICE_ALGORITHMS;
  const pixels = asGreyIfGrey({
    width: image.width,
    height: image.height,
    channels: image.channels ?? 4,
    data: image.data,
  });
  const computed = kernel.hash(pixels, { algorithms, dihedral: options.dihedral === true });
  const out: ImageHashes = { hashes: {} };
  for (const id of algorithms) {
    const r = computed[id];
    if (r === undefined || !Object.hasOwn(KERNEL_ALGORITHMS, id)) continue;
    out.hashes[id] = hex(r.hash);
    if (r.quality !== undefined) (out.quality ??= {})[id] = r.quality;
    if (r.dihedral !== undefined) (out.dihedral ??= {})[id] = r.dihedral.map(hex);
  }
  return out;
}

// RGB(A) whose every pixel is grey becomes grey(+alpha): one channel, as decoders give greyscale files.
function asGreyIfGrey(p: PixelInput): PixelInput {
  if (p.channels < 3) return p;
  const n = p.width * p.height;
  const d = p.data;
  for (let i = 0; i < n; i++) {
    const o = i * p.channels;
    if (d[o] !== d[o + 1] || d[o] !== d[o + 2]) return p;
  }
  const alpha = p.channels === 4;
  const out = new Uint8Array(n * (alpha ? 2 : 1));
  for (let i = 0, k = 0; i < n; i++) {
    out[k++] = d[i * p.channels] as number;
    if (alpha) out[k++] = d[i * p.channels + 3] as number;
  }
  return { width: p.width, height: p.height, channels: alpha ? 2 : 1, data: out };
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += HEX[b];
  return s;
}

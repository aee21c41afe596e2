import { createRequire } from "node:module";
import { PhmatchError } from "../errors/index.js";
import type { Pixels } from "./pixels.js";

// HEIC (HEVC-coded HEIF: iPhone photos, very common in uploads and on seized phones). sharp's prebuilt libvips
// reads HEIF headers but cannot decode HEVC, so these files go through libheif-js (libheif compiled to
// WebAssembly, from npm), loaded only when the first such file arrives. Like every HEIF reader, it applies the
// container's own rotation and mirroring (irot/imir), which are part of the image geometry in HEIF.

interface HeifImage {
  get_width(): number;
  get_height(): number;
  has_alpha_channel(): boolean;
  is_primary(): boolean;
  display(target: { data: Uint8ClampedArray; width: number; height: number }, done: (result: unknown) => void): void;
  free(): void;
}

interface LibHeif {
  HeifDecoder: new () => { decode(bytes: Uint8Array): HeifImage[] };
}

let libheif: LibHeif | undefined;

function loadLibheif(): LibHeif {
  libheif ??= createRequire(import.meta.url)("libheif-js/wasm-bundle") as LibHeif;
  return libheif;
}

/** Decodes the primary image of a HEIC file to RGB(A), refusing it from its header if over `maxPixels`. */
export async function decodeHeic(bytes: Uint8Array, maxPixels: number, where: string, path?: string): Promise<Pixels> {
  const images = new (loadLibheif().HeifDecoder)().decode(bytes);
  try {
    const image = images.find((i) => i.is_primary()) ?? images[0];
    if (image === undefined) {
      throw new PhmatchError("PHM_DECODE_CORRUPT", `${where} is corrupt: no decodable image in this HEIF file`, {
        path,
      });
    }
    const width = image.get_width();
    const height = image.get_height();
    if (width * height > maxPixels) {
      throw new PhmatchError(
        "PHM_DECODE_TOO_MANY_PIXELS",
        `${where} declares ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels}; ` +
          "raise `maxPixels` only for files you trust",
        { path, optionNames: ["maxPixels"] },
      );
    }
    const rgba = new Uint8ClampedArray(width * height * 4);
    const decoded = await withoutLibraryLogs(
      () =>
        new Promise<boolean>((resolve) =>
          image.display({ data: rgba, width, height }, (result) => resolve(result != null)),
        ),
    );
    if (!decoded) {
      throw new PhmatchError("PHM_DECODE_CORRUPT", `${where} is corrupt: the HEVC image data could not be decoded`, {
        path,
      });
    }
    const data = new Uint8Array(rgba.buffer);
    if (image.has_alpha_channel()) return { width, height, channels: 4, data };
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0, o = 0; i < data.length; i += 4) {
      rgb[o++] = data[i] as number;
      rgb[o++] = data[i + 1] as number;
      rgb[o++] = data[i + 2] as number;
    }
    return { width, height, channels: 3, data: rgb };
  } finally {
    for (const image of images) image.free();
  }
}

// libheif-js reports decode failures with console.log (an object dump on stdout, where phmatch writes its
// records). The failure itself becomes a typed error record, so for the duration of a decode its log is dropped.
async function withoutLibraryLogs<T>(run: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => undefined;
  try {
    return await run();
  } finally {
    console.log = log;
  }
}

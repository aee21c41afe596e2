import { createRequire } from "node:module";

type SharpModule = typeof import("sharp").default;

export type { Metadata, Sharp } from "sharp";

let loaded: SharpModule | undefined;

/**
 * sharp, loaded on first use and set up for untrusted input before anything can use it. Through its CommonJS
 * build: on Node 20 that costs about a third of what its ES module build does (85-115 against 160-230 ms on one
 * core of the CI machine), the same native module; and only when something is decoded, so that a process that
 * only dispatches files to a worker process (`phmatch hash` of many files, `phmatch scan`) never loads it.
 */
export function loadSharp(): SharpModule {
  if (loaded === undefined) {
    const sharp = createRequire(import.meta.url)("sharp") as SharpModule;
    // libvips' operation cache would keep decoded pixels alive between files: phmatch never wants that.
    sharp.cache(false);
    // Loaders phmatch never needs are blocked inside libvips, so hostile bytes cannot reach their parsers
    // (vector and document formats, and catch-all loaders that shell out or parse many formats).
    sharp.block({
      operation: [
        "VipsForeignLoadSvg",
        "VipsForeignLoadPdf",
        "VipsForeignLoadMagick",
        "VipsForeignLoadOpenslide",
        "VipsForeignLoadVips",
        "VipsForeignLoadMatrix",
        "VipsForeignLoadCsv",
        "VipsForeignLoadFits",
        "VipsForeignLoadNifti",
        "VipsForeignLoadAnalyze",
        "VipsForeignLoadRad",
        "VipsForeignLoadPpm",
      ],
    });
    loaded = sharp;
  }
  return loaded;
}

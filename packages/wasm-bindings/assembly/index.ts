// Exports of phmatch.wasm. Host protocol: preparePixels(w, h, c) -> pointer; write w*h*c bytes there;
// pdqHash(w, h, c, dihedral) -> quality (or -1); read 32 bytes per variant at hashOutput.
import { ensureDynamic, pixelBase } from "./memory";
export { pdqHash, downsampleOnly, lumaOnly, setDctEntry, buffer64, dctOutput, dctMatrix, hashOutput } from "./pdq";
export { prepareGrey, imageHash } from "./imagehash";

/** Reserves memory for one image and returns where its pixel bytes go, or 0 when memory cannot grow. */
export function preparePixels(width: i32, height: i32, channels: i32): usize {
  if (width <= 0 || height <= 0 || channels < 1 || channels > 4) return 0;
  return ensureDynamic(width, height, channels) ? pixelBase() : 0;
}

/**
 * Decoded pixels as every hasher receives them: row-major, `channels` interleaved 8-bit samples per pixel
 * (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA).
 */
export interface Pixels {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

/** A decoded image with what the decoder learned about it (never the bytes of the file). */
export interface DecodedImage {
  pixels: Pixels;
  /** Container format as the decoder names it (jpeg, png, webp, gif, tiff, heif, ...). */
  format: string;
  /** Dimensions the file declares (before any fast-mode shrink). */
  sourceWidth: number;
  sourceHeight: number;
}

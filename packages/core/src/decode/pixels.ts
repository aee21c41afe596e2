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
  /** 8-bit pixels; a 16-bit source is reduced to the high byte of each sample, as Pillow and browsers do. */
  pixels: Pixels;
  /**
   * For 16-bit sources only: the low byte of each sample, which is what the PDQ reference's decode hands PDQ
   * (so exact-mode PDQ equals lists made by the reference). Absent for 8-bit sources, where it equals `pixels`.
   */
  pdqPixels?: Pixels;
  /** Container format as the decoder names it (jpeg, png, webp, gif, tiff, heif, ...). */
  format: string;
  /** Dimensions the file declares (before any fast-mode shrink). */
  sourceWidth: number;
  sourceHeight: number;
}

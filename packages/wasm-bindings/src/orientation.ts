/**
 * Browsers always apply a JPEG's EXIF orientation when they decode it (createImageBitmap and canvas drawImage),
 * while phmatch hashes the stored pixels, as the reference and the lists do. These two helpers let a page get the
 * stored pixels back: read the orientation from the file's first bytes, and undo the rotation or flip exactly
 * (a permutation of pixels, no resampling).
 */

/** The EXIF orientation (1-8) of a JPEG from its first bytes (64 KiB are enough), or 1 when it has none. */
export function exifOrientation(bytes: Uint8Array): number {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return 1;
  let p = 2;
  while (p + 4 <= bytes.length && bytes[p] === 0xff) {
    const marker = bytes[p + 1] as number;
    const length = ((bytes[p + 2] as number) << 8) | (bytes[p + 3] as number);
    if (marker === 0xda || marker === 0xd9) return 1; // image data: no EXIF before it
    if (marker === 0xe1 && String.fromCharCode(...bytes.subarray(p + 4, p + 10)) === "Exif\0\0")
      return tiffOrientation(bytes.subarray(p + 10, p + 2 + length));
    p += 2 + length;
  }
  return 1;
}

function tiffOrientation(tiff: Uint8Array): number {
  if (tiff.length < 8) return 1;
  const little = tiff[0] === 0x49;
  const u16 = (o: number) =>
    little
      ? (tiff[o] as number) | ((tiff[o + 1] as number) << 8)
      : ((tiff[o] as number) << 8) | (tiff[o + 1] as number);
  const u32 = (o: number) => (little ? u16(o) + u16(o + 2) * 65536 : u16(o) * 65536 + u16(o + 2));
  const ifd = u32(4);
  if (ifd + 2 > tiff.length) return 1;
  const entries = u16(ifd);
  for (let i = 0; i < entries; i++) {
    const e = ifd + 2 + i * 12;
    if (e + 12 > tiff.length) return 1;
    if (u16(e) === 0x0112) {
      const value = u16(e + 8);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}

/**
 * The stored pixels of an image a browser displayed with EXIF `orientation` applied: undoes the rotation or flip
 * exactly. `image` is what the canvas gave (RGBA or any channel count); orientations 5-8 swap width and height.
 */
export function undoOrientation<
  T extends { width: number; height: number; data: Uint8Array | Uint8ClampedArray; channels?: 1 | 2 | 3 | 4 },
>(image: T, orientation: number): { width: number; height: number; data: Uint8ClampedArray; channels: 1 | 2 | 3 | 4 } {
  const channels = image.channels ?? 4;
  const W = image.width; // displayed
  const H = image.height;
  const swap = orientation >= 5 && orientation <= 8;
  const w = swap ? H : W; // stored
  const h = swap ? W : H;
  const out = new Uint8ClampedArray(w * h * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Where the stored pixel (x, y) was displayed.
      let dx = x;
      let dy = y;
      switch (orientation) {
        case 2:
          dx = w - 1 - x;
          break;
        case 3:
          dx = w - 1 - x;
          dy = h - 1 - y;
          break;
        case 4:
          dy = h - 1 - y;
          break;
        case 5:
          dx = y;
          dy = x;
          break;
        case 6:
          dx = h - 1 - y;
          dy = x;
          break;
        case 7:
          dx = h - 1 - y;
          dy = w - 1 - x;
          break;
        case 8:
          dx = y;
          dy = w - 1 - x;
          break;
      }
      const from = (dy * W + dx) * channels;
      const to = (y * w + x) * channels;
      for (let c = 0; c < channels; c++) out[to + c] = image.data[from + c] as number;
    }
  }
  return { width: w, height: h, data: out, channels };
}

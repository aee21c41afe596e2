import type { Pixels } from "./pixels.js";

/** Where the content sits inside uniform borders: a box in pixels. */
export interface ContentBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Per-channel difference still counted as the border's colour (JPEG noise around a flat border). */
const TOLERANCE = 14;
/** Share of a row or column that must be the border's colour (a stray pixel does not end the border). */
const UNIFORM_SHARE = 0.985;
/**
 * Lines just inside a border that a lossy encoder smeared (JPEG's 8x8 blocks, 16x16 with halved colour planes,
 * blend a frame's colour into the picture's edge, which the strict test above counts as picture): the border's
 * inner edge is put where, among the next 16 lines, the distance from the border's colour rises the most.
 */
const SMEAR_LINES = 16;
/** Less than this share of the area in borders is not worth a second hash. */
const MIN_TRIMMED_SHARE = 0.02;
/** Content smaller than this share of the image, or than 32 px a side, is not taken for the picture. */
const MIN_CONTENT_SHARE = 0.1;
const MIN_CONTENT_SIDE = 32;

/**
 * The content inside uniform borders of any colour, each side on its own: letterboxing, frames, and the padding
 * around an image pasted onto a canvas (screenshots). A side is a border while its rows (or columns) are, all
 * but a few pixels, within a small tolerance of that side's outermost line's colour. Returns undefined when the
 * borders hold less than 2% of the area, or when what is left is too small to be the picture. Alpha is ignored.
 */
export function findContentBox(pixels: Pixels): ContentBox | undefined {
  const { width, height } = pixels;
  if (width < MIN_CONTENT_SIDE || height < MIN_CONTENT_SIDE) return undefined;
  const colours = pixels.channels >= 3 ? 3 : 1;
  const top = borderDepth(pixels, colours, "top");
  const bottom = borderDepth(pixels, colours, "bottom");
  if (top + bottom >= height) return undefined; // all one colour: nothing to find
  const left = borderDepth(pixels, colours, "left");
  const right = borderDepth(pixels, colours, "right");
  if (left + right >= width) return undefined;
  const box = { left, top, width: width - left - right, height: height - top - bottom };
  const trimmed = 1 - (box.width * box.height) / (width * height);
  if (trimmed < MIN_TRIMMED_SHARE) return undefined;
  if (
    box.width < MIN_CONTENT_SIDE ||
    box.height < MIN_CONTENT_SIDE ||
    box.width * box.height < MIN_CONTENT_SHARE * width * height
  )
    return undefined;
  return box;
}

// How many lines from one side are border: the outermost line must itself be uniform, and every line after it
// of the same colour counts.
function borderDepth(p: Pixels, colours: number, side: "top" | "bottom" | "left" | "right"): number {
  const horizontal = side === "top" || side === "bottom";
  const lines = horizontal ? p.height : p.width;
  const length = horizontal ? p.width : p.height;
  const at = (line: number, i: number): number => {
    const row = side === "top" ? line : side === "bottom" ? p.height - 1 - line : i;
    const col = side === "left" ? line : side === "right" ? p.width - 1 - line : i;
    return (row * p.width + col) * p.channels;
  };
  // The border colour: the median of the outermost line, channel by channel.
  const reference: number[] = [];
  for (let c = 0; c < colours; c++) {
    const values = new Uint8Array(length);
    for (let i = 0; i < length; i++) values[i] = p.data[at(0, i) + c] as number;
    values.sort();
    reference.push(values[length >> 1] as number);
  }
  const allowed = Math.floor(length * (1 - UNIFORM_SHARE));
  let depth = 0;
  for (let line = 0; line < lines; line++) {
    let off = 0;
    for (let i = 0; i < length && off <= allowed; i++) {
      const o = at(line, i);
      for (let c = 0; c < colours; c++) {
        if (Math.abs((p.data[o + c] as number) - (reference[c] as number)) > TOLERANCE) {
          off++;
          break;
        }
      }
    }
    if (off > allowed) break;
    depth++;
  }
  if (depth === 0) return 0;
  // Mean distance of a line from the border's colour; the edge is the line after the steepest rise.
  const distance = (line: number): number => {
    let sum = 0;
    for (let i = 0; i < length; i++) {
      const o = at(line, i);
      let most = 0;
      for (let c = 0; c < colours; c++)
        most = Math.max(most, Math.abs((p.data[o + c] as number) - (reference[c] as number)));
      sum += most;
    }
    return sum / length;
  };
  let edge = depth;
  let previous = distance(depth - 1);
  let steepest = -Infinity;
  for (let line = depth; line <= depth + SMEAR_LINES && line < lines; line++) {
    const here = distance(line);
    if (here - previous > steepest) {
      steepest = here - previous;
      edge = line;
    }
    previous = here;
  }
  return edge;
}

/** The pixels inside a box (a copy). */
export function cropPixels(p: Pixels, box: ContentBox): Pixels {
  const data = new Uint8Array(box.width * box.height * p.channels);
  for (let y = 0; y < box.height; y++) {
    const from = ((box.top + y) * p.width + box.left) * p.channels;
    data.set(p.data.subarray(from, from + box.width * p.channels), y * box.width * p.channels);
  }
  return { width: box.width, height: box.height, channels: p.channels, data };
}

/** A sub-window of an image, as shares of its width and height and where it sits (0 left/top .. 1 right/bottom). */
export interface ImageWindow {
  /** Where and how much, e.g. `centre-90` or `top-60`. */
  name: string;
  scaleX: number;
  scaleY: number;
  anchorX: number;
  anchorY: number;
}

/**
 * The parts of an image that an overlay in one region (a logo, a watermark, a caption in a corner or along an
 * edge) leaves whole in at least one of them: the top, bottom, left and right 60% of the image, and the top,
 * bottom, left and right 34%. Two opposite 34% bands leave 32% of the side between them, so a square overlay up to
 * 32% a side (10% of the area), wherever it sits, misses one of them whole; the 60% bands carry more detail when it
 * sits near an edge. The matcher's query hashes them too (`parts`), and `hashset build --augment` stores them, so
 * that an overlaid copy matches through a part its overlay missed.
 */
export const PART_WINDOWS: readonly ImageWindow[] = [60, 34].flatMap((depth) =>
  (
    [
      ["top", 1, depth / 100, 0.5, 0],
      ["bottom", 1, depth / 100, 0.5, 1],
      ["left", depth / 100, 1, 0, 0.5],
      ["right", depth / 100, 1, 1, 0.5],
    ] as const
  ).map(([where, scaleX, scaleY, anchorX, anchorY]) => ({
    name: `${where}-${depth}`,
    scaleX,
    scaleY,
    anchorX,
    anchorY,
  })),
);

/**
 * Masked parts: the image with one 2/3 x 2/3 block (a 2x2 block of a 3x3 grid, at each corner) painted mid-grey, named
 * by the block, e.g. `masked-top-left`. A square overlay up to 1/3 a side lies inside one of the four blocks wherever
 * it sits, so one masked part keeps the 5/9 of the image around it whole: more detail than a 34% band keeps. The
 * query hashes them with the parts of {@link PART_WINDOWS} (`parts`), and `hashset build --augment` stores them.
 */
export const PART_MASKS: readonly ImageWindow[] = (
  [
    ["top-left", 0, 0],
    ["top-right", 1, 0],
    ["bottom-left", 0, 1],
    ["bottom-right", 1, 1],
  ] as const
).map(([where, anchorX, anchorY]) => ({ name: `masked-${where}`, scaleX: 2 / 3, scaleY: 2 / 3, anchorX, anchorY }));

/** A copy of the pixels with a box painted mid-grey (128 in every colour channel; alpha left as it is). */
export function maskPixels(p: Pixels, box: ContentBox): Pixels {
  const data = p.data.slice();
  const colours = p.channels === 2 || p.channels === 4 ? p.channels - 1 : p.channels;
  for (let y = box.top; y < box.top + box.height; y++)
    for (let x = box.left; x < box.left + box.width; x++) {
      const o = (y * p.width + x) * p.channels;
      for (let c = 0; c < colours; c++) data[o + c] = 128;
    }
  return { ...p, data };
}

/**
 * The sub-windows a list builder hashes besides the whole image (`hashset build --augment`), so that crops of a
 * listed image still match: centre crops keeping 97, 94, 90, 85 and 80% of each side, the four corners at 90%,
 * and the four parts of {@link PART_WINDOWS}. Named by where and how much, e.g. `centre-90`.
 */
export const AUGMENT_WINDOWS: readonly ImageWindow[] = [
  ...[97, 94, 90, 85, 80].map((p) => ({
    name: `centre-${p}`,
    scaleX: p / 100,
    scaleY: p / 100,
    anchorX: 0.5,
    anchorY: 0.5,
  })),
  ...(
    [
      ["top-left", 0, 0],
      ["top-right", 1, 0],
      ["bottom-left", 0, 1],
      ["bottom-right", 1, 1],
    ] as const
  ).map(([where, anchorX, anchorY]) => ({ name: `${where}-90`, scaleX: 0.9, scaleY: 0.9, anchorX, anchorY })),
  ...PART_WINDOWS,
];

/** The box of one window in a width x height image. */
export function windowBox(width: number, height: number, window: Omit<ImageWindow, "name">): ContentBox {
  const w = Math.max(1, Math.round(width * window.scaleX));
  const h = Math.max(1, Math.round(height * window.scaleY));
  return {
    left: Math.round((width - w) * window.anchorX),
    top: Math.round((height - h) * window.anchorY),
    width: w,
    height: h,
  };
}

/** Angles (degrees) a query is turned back by when rotation hypotheses are on. */
export const ROTATION_HYPOTHESES: readonly number[] = [-8, -6, -4, -2, 2, 4, 6, 8];

/**
 * The size of the image that, turned by `degrees` with its canvas expanded, gives a width x height image; undefined
 * when no such image is at least 32 px a side.
 */
export function unrotatedSize(
  width: number,
  height: number,
  degrees: number,
): { width: number; height: number } | undefined {
  const t = (Math.abs(degrees) * Math.PI) / 180;
  const c = Math.cos(t);
  const s = Math.sin(t);
  const det = c * c - s * s;
  const w = Math.round((width * c - height * s) / det);
  const h = Math.round((height * c - width * s) / det);
  return w >= 32 && h >= 32 ? { width: w, height: h } : undefined;
}

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
/** A caption band: at most this share of the image's height (or width) from its side. */
const MAX_BAND_SHARE = 0.3;
/**
 * A band's line is at least this share of the band's colour (within BAND_TOLERANCE), and together with its text
 * (marks in strong contrast) at least BAND_AND_INK_SHARE of the line: text is drawn in few shades, a picture in many.
 */
const BAND_SHARE = 0.25;
const BAND_AND_INK_SHARE = 0.75;
const BAND_TOLERANCE = 32;
/** A plain line of the band (its outer line, the margin before the picture): this share of the band's colour. */
const PLAIN_SHARE = 0.97;
/** Text: marks this far from the band's colour, at least this share of what is not the band's colour. */
const INK_CONTRAST = 96;
const INK_SHARE_OF_MARKS = 0.3;
const MIN_TEXT_LINES = 2;
/** A line of text is at most this share of the image's height (or width); a taller run is the picture. */
const MAX_TEXT_SHARE = 0.12;
/** Lines on either side of a band's edge that a lossy encoder may have blurred. */
const BLUR_LINES = 4;
/** Pixels of a line looked at when measuring its colours (evenly spaced; all of a shorter line). */
const SAMPLES_PER_LINE = 512;
/** Less than this share of the area in borders is not worth a second hash. */
const MIN_TRIMMED_SHARE = 0.02;
/** Content smaller than this share of the image, or than 32 px a side, is not taken for the picture. */
const MIN_CONTENT_SHARE = 0.1;
const MIN_CONTENT_SIDE = 32;

/**
 * The content inside uniform borders of any colour, each side on its own: letterboxing, frames, the padding
 * around an image pasted onto a canvas (screenshots), and caption bars (a light or dark band with text, as memes
 * add above or below a picture). A side is a border while its rows (or columns) are, all but a few pixels, within
 * a small tolerance of that side's outermost line's colour; a caption band is lines of that colour with text in
 * them, ending in a clean margin. Returns undefined when the borders hold less than 2% of the area, or when what
 * is left is too small to be the picture. Alpha is ignored.
 */
export function findContentBox(pixels: Pixels): ContentBox | undefined {
  const { width, height } = pixels;
  if (width < MIN_CONTENT_SIDE || height < MIN_CONTENT_SIDE) return undefined;
  const colours = pixels.channels >= 3 ? 3 : 1;
  const sides = (["top", "bottom", "left", "right"] as const).map((side) => borderDepth(pixels, colours, side));
  // Beside a caption band, a side is trimmed only when it is the band's own colour (a canvas around it all): a
  // flat stretch of the picture's own (a sky) on another side is left, so that the box is the picture's.
  const band = sides.find((s) => s.band);
  const [top, bottom, left, right] = sides.map((s) =>
    band === undefined ||
    s.band ||
    s.reference.every((v, c) => Math.abs(v - (band.reference[c] as number)) <= TOLERANCE)
      ? s.depth
      : 0,
  ) as [number, number, number, number];
  if (top + bottom >= height) return undefined; // all one colour: nothing to find
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
function borderDepth(
  p: Pixels,
  colours: number,
  side: "top" | "bottom" | "left" | "right",
): { depth: number; reference: number[]; band: boolean } {
  const horizontal = side === "top" || side === "bottom";
  const lines = horizontal ? p.height : p.width;
  const length = horizontal ? p.width : p.height;
  // A line's pixels: from its first one's offset, a step apart.
  const step = horizontal ? p.channels : p.width * p.channels;
  const first = (line: number): number =>
    side === "top"
      ? line * p.width * p.channels
      : side === "bottom"
        ? (p.height - 1 - line) * p.width * p.channels
        : (side === "left" ? line : p.width - 1 - line) * p.channels;
  const at = (line: number, i: number): number => first(line) + i * step;
  const lineOf: Line = { first, step, length, stride: Math.max(1, Math.floor(length / SAMPLES_PER_LINE)) };
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
  // Mean distance of a line from the border's colour; the edge is the line after the steepest rise.
  const distance = (line: number): number => {
    let sum = 0;
    let n = 0;
    const { step: by, stride } = lineOf;
    for (let i = 0, o = first(line); i < length; i += stride, o += stride * by, n++) {
      let most = 0;
      for (let c = 0; c < colours; c++)
        most = Math.max(most, Math.abs((p.data[o + c] as number) - (reference[c] as number)));
      sum += most;
    }
    return sum / n;
  };
  const edge = smearedEdge(depth, lines, distance);
  const band = captionBand(p, colours, reference, lines, lineOf, distance);
  return band > edge ? { depth: band, reference, band: true } : { depth: edge, reference, band: false };
}

// The border's inner edge: among the lines just inside the strict border, the one after the steepest rise.
function smearedEdge(depth: number, lines: number, distance: (line: number) => number): number {
  if (depth === 0) return 0;
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

/**
 * A caption bar (a meme's text above or below the picture) or a band of UI chrome: lines that are mostly the
 * outermost line's colour with high-contrast marks in them (text), then a clean margin, then the picture. The
 * outermost line must itself be (nearly) plain, and the band must hold text-like lines and end in a plain line,
 * within 30% of the side. Returns the picture's first line, or 0 for no band.
 */
function captionBand(
  p: Pixels,
  colours: number,
  reference: readonly number[],
  lines: number,
  { first, step, length, stride }: Line,
  distance: (line: number) => number,
): number {
  const most = Math.floor(lines * MAX_BAND_SHARE);
  // Per line: the share of pixels near the band's colour, and of pixels in strong contrast with it (ink).
  const measure = (line: number): { near: number; ink: number } => {
    let near = 0;
    let ink = 0;
    let n = 0;
    for (let i = 0, o = first(line); i < length; i += stride, o += stride * step, n++) {
      let d = 0;
      for (let c = 0; c < colours; c++) d = Math.max(d, Math.abs((p.data[o + c] as number) - (reference[c] as number)));
      if (d <= BAND_TOLERANCE) near++;
      else if (d >= INK_CONTRAST) ink++;
    }
    return { near: near / n, ink: ink / n };
  };
  if (measure(0).near < PLAIN_SHARE) return 0;
  const unlikeWithin = (from: number, count: number): boolean => {
    for (let line = from; line < Math.min(lines, from + count); line++) {
      const { near, ink } = measure(line);
      if (near < BAND_SHARE || near + ink < BAND_AND_INK_SHARE) return true;
    }
    return false;
  };
  // Walk in while lines look like the band (its colour and text); the picture may start wherever a clean margin
  // that follows text ends. The last such place counts (a caption may hold several lines of text); a run of text
  // taller than a line of text could be is the picture, and ends the walk.
  const tallest = Math.floor(lines * MAX_TEXT_SHARE);
  let candidate = 0;
  let text = 0;
  let block = 0;
  let margin = false;
  for (let line = 1; line <= most; line++) {
    const { near, ink } = measure(line);
    if (near >= PLAIN_SHARE) {
      if (text === 0 && line > tallest) break; // a plain border or a flat stretch of the picture: no caption
      margin = true;
      block = 0;
      continue;
    }
    const bandLike = near >= BAND_SHARE && near + ink >= BAND_AND_INK_SHARE;
    // The picture starts with lines unlike the band (within the few lines a lossy encoder blurs): after a frame,
    // a dark picture's own dark stretch and bright marks would otherwise pass for a caption.
    if (margin && text >= MIN_TEXT_LINES && (!bandLike || unlikeWithin(line + 1, BLUR_LINES))) candidate = line;
    if (!bandLike) break;
    margin = false;
    if (++block > tallest) break;
    if (ink >= INK_SHARE_OF_MARKS * (1 - near)) text++;
  }
  if (candidate === 0) return 0;
  // The edge itself, where a lossy encoder blurred it: the steepest rise of distance from the band's colour.
  let edge = candidate;
  let steepest = -Infinity;
  for (let line = Math.max(1, candidate - BLUR_LINES); line <= Math.min(candidate + BLUR_LINES, lines - 1); line++) {
    const rise = distance(line) - distance(line - 1);
    if (rise > steepest) {
      steepest = rise;
      edge = line;
    }
  }
  return edge;
}

/** One side's lines: where line `n`'s pixels start, the step between them, how many, and how many to skip. */
interface Line {
  first: (line: number) => number;
  step: number;
  length: number;
  stride: number;
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

// Where a square window sits, named by row and column where both are an edge or the middle (`top-left`, `centre`,
// `centre-right`), else by its anchors in percent (`x33-y67`).
const ROW_NAMES = new Map([
  [0, "top"],
  [0.5, "centre"],
  [1, "bottom"],
]);
const COLUMN_NAMES = new Map([
  [0, "left"],
  [0.5, "centre"],
  [1, "right"],
]);
function placeName(anchorX: number, anchorY: number): string {
  const row = ROW_NAMES.get(anchorY);
  const column = COLUMN_NAMES.get(anchorX);
  if (row === undefined || column === undefined) return `x${Math.round(anchorX * 100)}-y${Math.round(anchorY * 100)}`;
  return row === column ? row : `${row}-${column}`;
}

/** Windows keeping `percent`% of each side, at every pair of the anchors given (0 left/top .. 1 right/bottom). */
function squareGrid(percent: number, anchors: readonly number[]): ImageWindow[] {
  return anchors.flatMap((anchorY) =>
    anchors.map((anchorX) => ({
      name: `${placeName(anchorX, anchorY)}-${percent}`,
      scaleX: percent / 100,
      scaleY: percent / 100,
      anchorX,
      anchorY,
    })),
  );
}

/** The left, right, top and bottom `percent`% of an image: what is left after the opposite side is cut. */
function sideWindows(percent: number): ImageWindow[] {
  const s = percent / 100;
  return (
    [
      ["left", s, 1, 0, 0.5],
      ["right", s, 1, 1, 0.5],
      ["top", 1, s, 0.5, 0],
      ["bottom", 1, s, 0.5, 1],
    ] as const
  ).map(([where, scaleX, scaleY, anchorX, anchorY]) => ({
    name: `${where}-${percent}`,
    scaleX,
    scaleY,
    anchorX,
    anchorY,
  }));
}

/**
 * The sub-windows a list builder hashes besides the whole image (`hashset build --augment`), so that crops of a
 * listed image still match wherever they were taken. PDQ moves past 31 bits once a window's edge is about 1% of
 * the side away from the crop's (bench/robustness/window-sensitivity.mjs), so the windows step about 2% of the side:
 * - keeping 97% of each side: at the corners, the middles of the edges and the centre;
 * - keeping 94% and 90%: on a 4 x 4 grid (anchors 0, 1/3, 2/3, 1), and at the centre;
 * - keeping 85% and 80%: at the centre;
 * - what a one-sided cut of 12, 15 or 18% leaves: the left, right, top and bottom 88, 85 and 82%;
 * - the parts of {@link PART_WINDOWS} (the top, bottom, left and right 60% and 34%); the masked parts of
 *   {@link PART_MASKS} are stored besides.
 * Chosen on the re-post bench's tune set (bench/robustness/window-cover.mjs). Named by where and how much:
 * `centre-90`, `top-left-94`, `centre-right-97`, `x33-y67-90` (anchors in percent), `left-85` (the left 85%).
 */
export const AUGMENT_WINDOWS: readonly ImageWindow[] = [
  ...squareGrid(97, [0, 0.5, 1]),
  ...[94, 90].flatMap((percent) => squareGrid(percent, [0, 1 / 3, 2 / 3, 1])),
  ...[94, 90, 85, 80].flatMap((percent) => squareGrid(percent, [0.5])),
  ...[88, 85, 82].flatMap(sideWindows),
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

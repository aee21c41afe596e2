import { FAST_MODE_MIN_LONG_SIDE } from "../decode/decode-image.js";
import type { VideoOptions } from "../decode/video.js";
import { PhmatchError } from "../errors/index.js";
import { hasherSpec, hasherSpecs, isComputable, whyNotComputable } from "../hashers/index.js";
import { PDQ } from "../hashers/pdq.js";

/** Algorithms this version computes (PhotoDNA is imported only), in the registry's order. */
export const SUPPORTED_ALGORITHMS: readonly string[] = hasherSpecs()
  .filter(isComputable)
  .map((spec) => spec.id);

/** Algorithms computed when none are named. */
export const DEFAULT_ALGORITHMS: readonly string[] = [PDQ];

/**
 * `exact`: full resolution, the reference convention (hashes equal those in lists made by the reference,
 * pdqhash-python, python-threatexchange and HMA). `fast`: JPEG and WebP are decoded at reduced size (the
 * decoder's own 1/2, 1/4 or 1/8 scaling, longer side kept >= {@link FAST_MODE_MIN_LONG_SIDE}); other formats
 * as exact. Fast mode applies to every pixel hash. PDQ stays within 10 bits of exact on every reference vector
 * with quality >= 80 (docs/formats.md: the fast-mode distance table).
 */
export type HashMode = "exact" | "fast";

/** In fast mode the reduced decode keeps the longer side at least this long (and at most REDUCED_MAX_LONG_SIDE). */
export { FAST_MODE_MIN_LONG_SIDE };

/** What to compute for each file and how to decode it. Plain data: it crosses thread and process boundaries. */
export interface HashOptions {
  algorithms?: string[];
  mode?: HashMode;
  dihedral?: boolean;
  autoOrient?: boolean;
  maxPixels?: number;
  /**
   * An image over `maxPixels`: `refuse` (default) or `shrink` (JPEG and WebP whose decoder can scale them within
   * the limit's memory are hashed as fast mode decodes them; everything else is refused): see DecodeOptions.
   */
  oversize?: "refuse" | "shrink";
  maxFileBytes?: number;
  decodeTimeoutSeconds?: number;
  /**
   * Also hash the content inside uniform borders and caption bars (letterboxing, frames, a canvas, memes), when
   * there are any, as an extra query hash (`trimmed` in the record). The matcher matches it too.
   */
  trim?: boolean;
  /**
   * For list builders: also hash the sub-windows of AUGMENT_WINDOWS (crops at grids of places, what one-sided cuts
   * leave, parts), as `windows` in the record, so that crops of the image taken anywhere match the list later.
   */
  augment?: boolean;
  /**
   * Also hash the image as it would be if it had been turned by a small angle (ROTATION_HYPOTHESES, +-2 to 8
   * degrees, canvas expanded) and turned back: each as an extra query hash (`rotated` in the record), computed
   * on a copy at most 256 px a side.
   */
  rotations?: boolean;
  /**
   * Also hash the parts of PART_WINDOWS (the top, bottom, left and right 60% and 34% of the image) and PART_MASKS (the
   * image with each 2/3 corner block painted grey), each as an extra query hash (`parts` in the record), computed on a
   * copy at most 256 px a side: a logo or caption over one region leaves at least one part whole, and lists built
   * with --augment hold the same parts.
   */
  parts?: boolean;
  /**
   * Videos (MP4/QuickTime, Matroska/WebM, AVI, recognised by their first bytes): with `true` or VideoOptions (frame
   * rate of hashing, limits, FFmpeg paths; the time limit defaults to `decodeTimeoutSeconds`), hashed with vPDQ
   * through FFmpeg (`video` in the record). Left out or `false`, they go to the image decoder, which refuses them
   * (PHM_DECODE_UNSUPPORTED). check, scan and serve set it: the matcher matches the frames (vPDQ).
   */
  video?: boolean | VideoOptions;
}

/** Checks algorithm ids and mode; throws PHM_USAGE naming what is wrong and what is supported. */
export function validateHashOptions(options: HashOptions): void {
  for (const id of options.algorithms ?? DEFAULT_ALGORITHMS) {
    const why = whyNotComputable(id);
    if (why !== undefined) throw new PhmatchError("PHM_USAGE", why);
  }
  if (options.mode !== undefined && options.mode !== "exact" && options.mode !== "fast") {
    throw new PhmatchError("PHM_USAGE", `unknown mode "${String(options.mode)}"; use exact or fast`);
  }
  if (options.oversize !== undefined && options.oversize !== "refuse" && options.oversize !== "shrink") {
    throw new PhmatchError("PHM_USAGE", `unknown oversize "${String(options.oversize)}"; use refuse or shrink`);
  }
  for (const key of ["maxPixels", "maxFileBytes", "decodeTimeoutSeconds"] as const) {
    const value = options[key];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new PhmatchError("PHM_USAGE", `${key} must be a positive number, got ${String(value)}`);
    }
  }
  if (typeof options.video === "object") validateVideoOptions(options.video);
}

const VIDEO_POSITIVE = [
  "maxVideoBytes",
  "maxVideoSeconds",
  "maxVideoFrames",
  "maxVideoPixels",
  "videoTimeoutSeconds",
] as const;

/** Checks video options; throws PHM_USAGE naming the option. */
export function validateVideoOptions(video: VideoOptions): void {
  for (const key of VIDEO_POSITIVE) {
    const value = video[key];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new PhmatchError("PHM_USAGE", `${key} must be a positive number, got ${String(value)}`);
    }
  }
  const seconds = video.secondsPerHash;
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds >= 0)) {
    throw new PhmatchError("PHM_USAGE", `secondsPerHash must be 0 (every frame) or more, got ${String(seconds)}`);
  }
}

/**
 * What {@link buildHashOptions} builds from: the algorithms, and whichever other options the caller sets.
 * `dihedral` left out is decided from the algorithms.
 */
export type HashChoice = Omit<HashOptions, "algorithms"> & { algorithms: string[] };

/**
 * The hashing options of every caller (scan, its distributed workers, check, hash, hashset build), built one way:
 * the algorithms; unless `dihedral` is given, the dihedral variants of each algorithm that has them (PDQ, pHash: a
 * turned or mirrored copy then matches), so a file is hashed alike whichever command reads it; the extra queries
 * (trim, rotations, parts) off unless asked for; the other options as given, those left undefined left out.
 *
 * ```ts
 * const hashOptions = buildHashOptions({ algorithms: ["pdq", "sha256"], trim: true }); // dihedral: true (PDQ)
 * ```
 */
export function buildHashOptions(choice: HashChoice): HashOptions {
  const options: HashOptions = {
    dihedral: choice.algorithms.some((id) => hasherSpec(id)?.dihedral === true),
    trim: false,
    rotations: false,
    parts: false,
  };
  for (const [key, value] of Object.entries(choice)) if (value !== undefined) Object.assign(options, { [key]: value });
  return options;
}

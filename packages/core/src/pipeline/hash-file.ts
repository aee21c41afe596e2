import { decodeImage } from "../decode/decode-image.js";
import type { Pixels } from "../decode/pixels.js";
import { readFileOnce } from "../decode/read-file.js";
import { greyPixels, reducePixels, turnBack } from "../decode/rotate.js";
import {
  AUGMENT_WINDOWS,
  type ContentBox,
  cropPixels,
  findContentBox,
  maskPixels,
  PART_MASKS,
  PART_WINDOWS,
  ROTATION_HYPOTHESES,
  windowBox,
} from "../decode/trim.js";
import { isVideoContainer } from "../decode/video.js";
import { PhmatchError, toPhmatchError } from "../errors/index.js";
import { displayPath, type FilePath, pathBytesOf } from "../files/file-path.js";
import { isDigest, StreamingDigests } from "../files/streaming-digests.js";
import type { ComputedHash } from "../hashers/imagehash-family.js";
import { PDQ_MIN_QUALITY } from "../hashers/pdq.js";
import { hasherSpec } from "../hashers/registry.js";
import type { HashRecord } from "../record/hash-record.js";
import { bytesToHex } from "../record/hex.js";
import { DEFAULT_ALGORITHMS, FAST_MODE_MIN_LONG_SIDE, type HashOptions } from "./hash-options.js";
import { hashPixels } from "./hash-pixels.js";
import { hashVideoBytes, TruncatedVideoError } from "./hash-video.js";

/** The algorithms hashed for the extra query views (rotation hypotheses, parts). */
const VIEW_ALGORITHMS = new Set(["pdq", "phash16", "phash"]);

/**
 * PDQ's quality gate (PDQ_MIN_QUALITY), below which a sub-window (list side) or an extra query view (rotated,
 * part) is left out, for every algorithm: what PDQ finds too featureless to decide (its policy's quality gate)
 * is too featureless for pHash too, which has no quality of its own. bench/robustness: every false pair its first
 * run found came from a window or view of PDQ quality 4-22 matched by the 256-bit pHash. Without PDQ among the
 * algorithms nothing is left out.
 */
const featureful = (hashed: HashRecord) => (hashed.quality?.pdq ?? PDQ_MIN_QUALITY) >= PDQ_MIN_QUALITY;

/**
 * Reads a file once and computes every requested algorithm: digests over all its bytes (images or not, of any
 * size), pixel hashes from one decode. Never throws for a bad file: the record carries the error code next to
 * whatever could be computed (a video still gets its MD5), so a batch goes on. Bytes and pixels stay in memory.
 */
export async function hashFile(file: FilePath, options: HashOptions = {}): Promise<HashRecord> {
  const record = await hashFileAt(file, displayPath(file), options);
  const pathBytes = pathBytesOf(file);
  if (pathBytes !== undefined) record.pathBytes = pathBytes;
  return record;
}

async function hashFileAt(file: FilePath, path: string, options: HashOptions): Promise<HashRecord> {
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  const pixelIds = algorithms.filter((id) => hasherSpec(id)?.input === "pixels");
  let read;
  try {
    read = await readFileOnce(file, {
      digests: algorithms.filter(isDigest),
      keepBytes: pixelIds.length > 0,
      maxFileBytes: options.maxFileBytes,
    });
  } catch (error) {
    return { path, error: toPhmatchError(error, path).toJSON() };
  }
  if (read.tooLarge) {
    const limit = options.maxFileBytes;
    const message =
      `${path} is ${read.size} bytes, over the ${String(limit)}-byte decode limit; its digests were computed, ` +
      "its pixels were not; raise `maxFileBytes` to hash them";
    const error = new PhmatchError("PHM_FILE_TOO_LARGE", message, {
      path,
      optionNames: ["maxFileBytes"],
    });
    return assemble(path, algorithms, read.digests, {}, error);
  }
  return hashPixelsOf(read.bytes, path, options, algorithms, pixelIds, read.digests);
}

/** Hashes an image held in memory (uploads): digests of the bytes and pixel hashes; `path` only names it. */
export async function hashImageBytes(bytes: Uint8Array, path: string, options: HashOptions = {}): Promise<HashRecord> {
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  const digests = new StreamingDigests(algorithms.filter(isDigest));
  digests.update(bytes);
  const pixelIds = algorithms.filter((id) => hasherSpec(id)?.input === "pixels");
  return hashPixelsOf(bytes, path, options, algorithms, pixelIds, digests.digests());
}

async function hashPixelsOf(
  bytes: Uint8Array | undefined,
  path: string,
  options: HashOptions,
  algorithms: readonly string[],
  pixelIds: readonly string[],
  digests: Record<string, string>,
): Promise<HashRecord> {
  if (pixelIds.length === 0 || bytes === undefined) return assemble(path, algorithms, digests, {});
  // Videos only when asked (hash, check, scan, serve ask): a caller that cannot match a video hash must answer a
  // video with an error (look at it), never with a record that matches nothing (unseen).
  if (options.video !== undefined && options.video !== false && isVideoContainer(bytes)) {
    return hashVideoOf(bytes, path, options, algorithms, digests);
  }
  try {
    const decoded = await decodeImage(
      bytes,
      {
        autoOrient: options.autoOrient,
        maxPixels: options.maxPixels,
        oversize: options.oversize,
        timeoutSeconds: options.decodeTimeoutSeconds,
        shrinkOnLoadTo: options.mode === "fast" ? FAST_MODE_MIN_LONG_SIDE : undefined,
      },
      path,
    );
    const record = assemble(path, algorithms, digests, hashPixels(decoded, pixelIds, { dihedral: options.dihedral }));
    // The decoded image with a box cropped out of it or painted over, in its pixels and in PDQ's own pixels alike.
    const within = (box: ContentBox, take: (p: Pixels, box: ContentBox) => Pixels) => ({
      ...decoded,
      pixels: take(decoded.pixels, box),
      ...(decoded.pdqPixels !== undefined && { pdqPixels: take(decoded.pdqPixels, box) }),
    });
    if (options.trim === true) {
      const box = findContentBox(decoded.pixels);
      if (box !== undefined) {
        const inner = within(box, cropPixels);
        const trimmed = assemble(path, pixelIds, {}, hashPixels(inner, pixelIds, { dihedral: options.dihedral }));
        record.trimmed = { box: [box.left, box.top, box.width, box.height], hashes: trimmed.hashes ?? {} };
        if (trimmed.quality !== undefined) record.trimmed.quality = trimmed.quality;
        if (trimmed.dihedral !== undefined) record.trimmed.dihedral = trimmed.dihedral;
      }
    }
    if (options.rotations === true || options.parts === true) {
      // Extra query views, from one reduced copy: PDQ and pHash only (the hashes that carry the evidence), the
      // identity variant only (a turned-and-mirrored copy is not worth eight more lookups each).
      const small = greyPixels(await reducePixels(decoded.pixels));
      const ids = pixelIds.filter((id) => VIEW_ALGORITHMS.has(id));
      const view = (pixels: Pixels) =>
        assemble(path, ids, {}, hashPixels({ ...decoded, pixels, pdqPixels: undefined }, ids));
      if (options.rotations === true && ids.length > 0) {
        const rotated: NonNullable<HashRecord["rotated"]> = [];
        for (const degrees of ROTATION_HYPOTHESES) {
          const turned = turnBack(small, degrees);
          if (turned === undefined) continue;
          const hashed = view(turned);
          if (hashed.hashes === undefined || !featureful(hashed)) continue;
          rotated.push({
            degrees,
            hashes: hashed.hashes,
            ...(hashed.quality !== undefined && { quality: hashed.quality }),
          });
        }
        if (rotated.length > 0) record.rotated = rotated;
      }
      if (options.parts === true && ids.length > 0) {
        const parts: NonNullable<HashRecord["parts"]> = [];
        const masked = new Set(PART_MASKS);
        for (const window of [...PART_WINDOWS, ...PART_MASKS]) {
          const inSmall = windowBox(small.width, small.height, window);
          const hashed = view(masked.has(window) ? maskPixels(small, inSmall) : cropPixels(small, inSmall));
          if (hashed.hashes === undefined || !featureful(hashed)) continue;
          const box = windowBox(decoded.pixels.width, decoded.pixels.height, window);
          parts.push({
            window: window.name,
            box: [box.left, box.top, box.width, box.height],
            hashes: hashed.hashes,
            ...(hashed.quality !== undefined && { quality: hashed.quality }),
          });
        }
        if (parts.length > 0) record.parts = parts;
      }
    }
    if (options.augment === true) {
      const { width, height } = decoded.pixels;
      const windows: NonNullable<HashRecord["windows"]> = [];
      // The sub-windows cropped out, then the masked parts the query hashes (PART_MASKS): the whole image with one
      // block painted out.
      const taken = [
        ...AUGMENT_WINDOWS.map((window) => [window, cropPixels] as const),
        ...PART_MASKS.map((mask) => [mask, maskPixels] as const),
      ];
      for (const [window, take] of taken) {
        const box = windowBox(width, height, window);
        const hashed = assemble(path, pixelIds, {}, hashPixels(within(box, take), pixelIds));
        if (!featureful(hashed)) continue;
        windows.push({
          window: window.name,
          box: [box.left, box.top, box.width, box.height],
          hashes: hashed.hashes ?? {},
          ...(hashed.quality !== undefined && { quality: hashed.quality }),
        });
      }
      record.windows = windows;
    }
    return record;
  } catch (error) {
    return assemble(path, algorithms, digests, {}, toPhmatchError(error, path));
  }
}

// A video: its digests and its vPDQ hash (frames are PDQ whichever pixel algorithms were asked: vPDQ is PDQ's).
async function hashVideoOf(
  bytes: Uint8Array,
  path: string,
  options: HashOptions,
  algorithms: readonly string[],
  digests: Record<string, string>,
): Promise<HashRecord> {
  const video = typeof options.video === "object" ? options.video : {};
  const timeout = video.videoTimeoutSeconds ?? options.decodeTimeoutSeconds;
  try {
    const record = assemble(path, algorithms, digests, {});
    record.video = await hashVideoBytes(bytes, path, { ...video, videoTimeoutSeconds: timeout });
    return record;
  } catch (error) {
    const record = assemble(path, algorithms, digests, {}, toPhmatchError(error, path));
    if (error instanceof TruncatedVideoError) record.video = error.partial;
    return record;
  }
}

// The record, hashes in the order the algorithms were asked for; an error beside what could be computed.
function assemble(
  path: string,
  algorithms: readonly string[],
  digests: Record<string, string>,
  pixelHashes: Record<string, ComputedHash>,
  error?: PhmatchError,
): HashRecord {
  const hashes: Record<string, string> = {};
  const quality: Record<string, number> = {};
  const dihedral: Record<string, string[]> = {};
  for (const id of algorithms) {
    const digest = digests[id];
    if (digest !== undefined) hashes[id] = digest;
    const computed = pixelHashes[id];
    if (computed === undefined) continue;
    hashes[id] = bytesToHex(computed.bytes);
    if (computed.quality !== undefined) quality[id] = computed.quality;
    if (computed.dihedral !== undefined) dihedral[id] = computed.dihedral.map(bytesToHex);
  }
  const record: HashRecord = { path };
  if (Object.keys(hashes).length > 0) record.hashes = hashes;
  if (Object.keys(quality).length > 0) record.quality = quality;
  if (Object.keys(dihedral).length > 0) record.dihedral = dihedral;
  if (error !== undefined) record.error = error.toJSON();
  return record;
}

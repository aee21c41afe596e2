import { decodeVideo, type VideoOptions } from "../decode/video.js";
import { PhmatchError } from "../errors/index.js";
import { pdqHash } from "../hashers/pdq.js";
import type { VideoHash } from "../record/hash-record.js";
import { bytesToHex } from "../record/hex.js";

/**
 * The vPDQ hash of a video held in memory: the PDQ hash, quality and timestamp of each frame the reference hashes
 * at `secondsPerHash` (frame n, decode output order, timestamp n / frame rate, as vpdq's filehasher). Pixels stay
 * in this function; only hashes leave it. A video cut short throws PHM_VIDEO_TRUNCATED carrying the hash of the
 * frames that were decoded (`partial`), so that the record still shows them beside the error.
 */
export async function hashVideoBytes(bytes: Uint8Array, path: string, options: VideoOptions = {}): Promise<VideoHash> {
  const secondsPerHash = options.secondsPerHash ?? 1;
  const frames: VideoHash["frames"] = [];
  const decoded = await decodeVideo(bytes, path, options, ({ frame, frameRate, width, height, rgb }) => {
    const hash = pdqHash({ width, height, channels: 3, data: rgb });
    frames.push({ frame, pdq: bytesToHex(hash.bytes), quality: hash.quality, timestamp: frame / frameRate });
  });
  const { probe } = decoded;
  const video: VideoHash = {
    algorithm: "vpdq",
    secondsPerHash,
    container: probe.container,
    codec: probe.codec,
    width: probe.width,
    height: probe.height,
    frameRate: probe.frameRate,
    durationSeconds: probe.durationSeconds,
    frameCount: probe.frameCount,
    frames,
  };
  if (decoded.framesDecoded < decoded.framesExpected) {
    throw new TruncatedVideoError(
      `${path}: the video ends early: ${decoded.framesDecoded} of the ${decoded.framesExpected} frames its header ` +
        `declares (${probe.frameCount} at ${decoded.step} per hash) were decoded; the file is cut short or damaged`,
      path,
      video,
    );
  }
  return video;
}

/** PHM_VIDEO_TRUNCATED with the hash of the frames that were decoded. */
export class TruncatedVideoError extends PhmatchError {
  readonly partial: VideoHash;

  constructor(message: string, path: string, partial: VideoHash) {
    super("PHM_VIDEO_TRUNCATED", message, { path });
    this.partial = partial;
  }
}

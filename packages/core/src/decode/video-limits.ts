// The limits a video must keep, apart from the decoder (decode/video.ts) and the container pre-check
// (decode/iso-bmff.ts), which both check them.

/** Limits a video must keep, checked on its headers before decoding. Plain data (crosses process boundaries). */
export interface VideoLimits {
  /** Largest file taken into memory and handed to FFmpeg, bytes. Default {@link DEFAULT_VIDEO_LIMITS}. */
  maxVideoBytes?: number;
  /** Longest duration, seconds. */
  maxVideoSeconds?: number;
  /** Most frames in the video stream (declared, or counted by demuxing without decoding). */
  maxVideoFrames?: number;
  /** Most pixels per frame (width x height). */
  maxVideoPixels?: number;
}

/**
 * Default limits: 256 MiB (the bytes sit in /dev/shm while FFmpeg reads them, and Docker's default /dev/shm is 64
 * MiB, so a container needs --shm-size for large videos anyway), 3 hours, 1,000,000 frames (3 hours at 90 fps),
 * 8K UHD frames (7680 x 4320 = 33,177,600 pixels).
 */
export const DEFAULT_VIDEO_LIMITS: Required<VideoLimits> = {
  maxVideoBytes: 256 * 1024 * 1024,
  maxVideoSeconds: 3 * 60 * 60,
  maxVideoFrames: 1_000_000,
  maxVideoPixels: 7680 * 4320,
};

/** Frame rates above this are refused as absurd headers (no camera or codec profile goes near it). */
export const MAX_FRAME_RATE = 1000;

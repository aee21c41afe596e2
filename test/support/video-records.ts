// The hash record `phmatch hash` prints for a video, made from vPDQ frames (30 fps, one hashed frame a second, an
// MP4 of H.264), for tests that match video records without decoding a video.
import type { HashRecord } from "@phmatch/core";
import type { VpdqFrame } from "@phmatch/core/internal";

/** A video's hash record at `path` whose hashed frames are `frames`. */
export function videoRecord(path: string, frames: readonly VpdqFrame[]): HashRecord {
  return {
    path,
    video: {
      algorithm: "vpdq",
      secondsPerHash: 1,
      container: "mov,mp4,m4a,3gp,3g2,mj2",
      codec: "h264",
      width: 640,
      height: 480,
      frameRate: 30,
      durationSeconds: frames.length,
      frameCount: frames.length * 30,
      frames: frames.map((f) => ({
        frame: f.frame,
        pdq: Buffer.from(f.hash.bytes).toString("hex"),
        quality: f.hash.quality,
        timestamp: f.timestamp,
      })),
    },
  };
}

import { DEFAULT_VIDEO_LIMITS, type VideoOptions } from "@phmatch/core/internal";
import type { Command } from "commander";
import { parseNonNegativeNumber, parsePositiveInt } from "./parse.js";

/** The video options as commander parses them (see {@link withVideoOptions}). */
export interface VideoCommandOptions {
  secondsPerHash: number;
  maxVideoBytes?: number;
  maxVideoSeconds?: number;
  maxVideoFrames?: number;
  maxVideoPixels?: number;
  ffmpeg?: string;
  ffprobe?: string;
}

/**
 * Adds how videos are hashed (vPDQ: --seconds-per-hash), the limits a video is refused beyond, and where FFmpeg is:
 * the same options wherever a command hashes videos (hash, hashset build, check, scan, serve), so a list and a query
 * are hashed alike. `bytesDefault` is what the help gives as --max-video-bytes' default (serve: its --max-bytes).
 */
export function withVideoOptions(command: Command, bytesDefault = String(DEFAULT_VIDEO_LIMITS.maxVideoBytes)): Command {
  return command
    .option(
      "--seconds-per-hash <s>",
      "videos: seconds of video per hashed frame, as vpdq-hash-video -r (0: every frame)",
      parseNonNegativeNumber,
      1,
    )
    .option("--max-video-bytes <n>", `refuse videos larger than this (default ${bytesDefault})`, parsePositiveInt)
    .option(
      "--max-video-seconds <n>",
      `refuse videos longer than this (default ${DEFAULT_VIDEO_LIMITS.maxVideoSeconds})`,
      parsePositiveInt,
    )
    .option(
      "--max-video-frames <n>",
      `refuse videos of more frames than this (default ${DEFAULT_VIDEO_LIMITS.maxVideoFrames})`,
      parsePositiveInt,
    )
    .option(
      "--max-video-pixels <n>",
      `refuse videos whose frames have more pixels than this (default ${DEFAULT_VIDEO_LIMITS.maxVideoPixels})`,
      parsePositiveInt,
    )
    .option("--ffmpeg <path>", "absolute path of ffmpeg (default: PHMATCH_FFMPEG, else ffmpeg on the PATH)")
    .option("--ffprobe <path>", "absolute path of ffprobe (default: PHMATCH_FFPROBE, else ffprobe on the PATH)");
}

/** The VideoOptions of the parsed options; `timeoutSeconds` is the command's per-file time limit, if it has one. */
export function videoOptionsOf(options: VideoCommandOptions, timeoutSeconds?: number): VideoOptions {
  return {
    secondsPerHash: options.secondsPerHash,
    ...(timeoutSeconds !== undefined && { videoTimeoutSeconds: timeoutSeconds }),
    ...(options.maxVideoBytes !== undefined && { maxVideoBytes: options.maxVideoBytes }),
    ...(options.maxVideoSeconds !== undefined && { maxVideoSeconds: options.maxVideoSeconds }),
    ...(options.maxVideoFrames !== undefined && { maxVideoFrames: options.maxVideoFrames }),
    ...(options.maxVideoPixels !== undefined && { maxVideoPixels: options.maxVideoPixels }),
    ...(options.ffmpeg !== undefined && { ffmpegPath: options.ffmpeg }),
    ...(options.ffprobe !== undefined && { ffprobePath: options.ffprobe }),
  };
}

// The video options of every command that decodes videos (hash, check, scan, serve): one definition, so that the
// limits, their defaults and their help read the same everywhere.
import { DEFAULT_VIDEO_LIMITS, type VideoOptions } from "@phmatch/core/internal";
import type { Command } from "commander";
import { parseNonNegativeNumber, parsePositiveInt } from "./parse.js";

/** What {@link withVideoOptions} adds to a command's options. */
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
 * Adds --seconds-per-hash, the four --max-video-* limits (refused from the container's headers before decoding) and
 * --ffmpeg/--ffprobe. `bytesDefault` overrides the help's default of --max-video-bytes (serve: its --max-bytes).
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

/** The VideoOptions of a command's video flags; `timeoutSeconds` bounds each FFmpeg run (the per-file limit). */
export function videoOptionsOf(options: VideoCommandOptions, timeoutSeconds: number): VideoOptions {
  return {
    secondsPerHash: options.secondsPerHash,
    videoTimeoutSeconds: timeoutSeconds,
    ...(options.maxVideoBytes !== undefined && { maxVideoBytes: options.maxVideoBytes }),
    ...(options.maxVideoSeconds !== undefined && { maxVideoSeconds: options.maxVideoSeconds }),
    ...(options.maxVideoFrames !== undefined && { maxVideoFrames: options.maxVideoFrames }),
    ...(options.maxVideoPixels !== undefined && { maxVideoPixels: options.maxVideoPixels }),
    ...(options.ffmpeg !== undefined && { ffmpegPath: options.ffmpeg }),
    ...(options.ffprobe !== undefined && { ffprobePath: options.ffprobe }),
  };
}

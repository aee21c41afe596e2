// Video decoding for vPDQ (issue 20; the route is docs/design/video-decoder.md): Debian's FFmpeg as a subprocess,
// found at run time, fed from memory. The bytes go into an unnamed tmpfs inode (open(2) with O_TMPFILE on /dev/shm:
// no name, never on disk, freed with its last descriptor), handed to the child as fd 3, which it opens as
// /proc/self/fd/3 and can seek (an MP4 whose moov index sits at its end needs that; a pipe cannot seek). ffprobe
// reads the headers first and what exceeds the limits is refused before any decoding; the decode then runs under a
// wall-clock kill, rlimits (prlimit, when present) and a cap on the frames it may return. Frames come back as RGB24
// on a pipe and are hashed here; pixels never leave this process, media bytes never reach a log or an error.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, closeSync, constants, openSync, statSync, writeSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { PhmatchError } from "../errors/index.js";
import { precheckVideoContainer } from "./iso-bmff.js";
import { DEFAULT_VIDEO_LIMITS, MAX_FRAME_RATE, type VideoLimits } from "./video-limits.js";

export { DEFAULT_VIDEO_LIMITS, type VideoLimits } from "./video-limits.js";

/** How to decode and hash a video. */
export interface VideoOptions extends VideoLimits {
  /** Seconds of video per hashed frame, as the reference's `-r` (default 1); 0 hashes every frame. */
  secondsPerHash?: number;
  /** Wall-clock limit of the probe and of the decode, each, seconds (default 120). */
  videoTimeoutSeconds?: number;
  /** Absolute path of ffmpeg (default: $PHMATCH_FFMPEG, else `ffmpeg` on PATH). */
  ffmpegPath?: string;
  /** Absolute path of ffprobe (default: $PHMATCH_FFPROBE, else `ffprobe` on PATH). */
  ffprobePath?: string;
}

/** Default wall-clock limit of each FFmpeg run, seconds. */
export const DEFAULT_VIDEO_TIMEOUT_SECONDS = 120;

/** Address-space limit of each FFmpeg child (prlimit --as): a decoder bug cannot take the machine's memory. */
const FFMPEG_ADDRESS_SPACE_BYTES = 2 * 1024 * 1024 * 1024;

// Hostile input: only the containers a video upload may be, and no protocol but the one file handed over, so a
// playlist (HLS, concat) renamed .mp4 cannot make FFmpeg open other files or the network.
const INPUT_GUARDS = ["-protocol_whitelist", "file", "-format_whitelist", "mov,matroska,avi"];

const INSTALL_HINT = "install Debian's ffmpeg package (apt-get install ffmpeg)";

/**
 * True if the bytes start like a video container phmatch decodes: ISO BMFF / QuickTime (an `ftyp` box that is not
 * an image brand such as HEIF or AVIF, or a QuickTime file starting with moov/mdat/free/wide/skip), Matroska/WebM
 * (the EBML magic) or AVI (RIFF....AVI ). Only the first 12 bytes are looked at.
 */
export function isVideoContainer(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return false;
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  const box = ascii(4, 8);
  if (box === "ftyp") return !IMAGE_BRANDS.has(ascii(8, 12));
  if (box === "moov" || box === "mdat" || box === "free" || box === "wide" || box === "skip") return true;
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return true;
  return ascii(0, 4) === "RIFF" && ascii(8, 12) === "AVI ";
}

// Major brands of still-image ISO BMFF files (HEIF, AVIF), which the image decoder takes.
const IMAGE_BRANDS = new Set(["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif", "avis"]);

/** The FFmpeg executables to run. */
export interface VideoTools {
  ffmpeg: string;
  ffprobe: string;
  /** util-linux's prlimit, when found: the children run under address-space and CPU-time limits. */
  prlimit?: string;
  /**
   * util-linux's setpriv, when found: each child is started with a parent-death signal (SIGKILL), so it dies with
   * the process that started it even when that process is killed outright (the worker process's group kill covers
   * a pool's workers either way).
   */
  setpriv?: string;
}

/**
 * Finds ffmpeg and ffprobe: the option, else $PHMATCH_FFMPEG / $PHMATCH_FFPROBE, else the PATH. A configured path
 * must be absolute, a regular file and executable. Throws PHM_VIDEO_DECODER_MISSING saying how to install FFmpeg.
 */
export function findVideoTools(options: Pick<VideoOptions, "ffmpegPath" | "ffprobePath"> = {}): VideoTools {
  const ffmpeg = findTool("ffmpeg", options.ffmpegPath ?? process.env.PHMATCH_FFMPEG, "ffmpegPath");
  const ffprobe = findTool("ffprobe", options.ffprobePath ?? process.env.PHMATCH_FFPROBE, "ffprobePath");
  const prlimit = onPath("prlimit");
  const setpriv = onPath("setpriv");
  return {
    ffmpeg,
    ffprobe,
    ...(prlimit !== undefined && { prlimit }),
    ...(setpriv !== undefined && { setpriv }),
  };
}

function findTool(name: string, configured: string | undefined, optionName: string): string {
  // Set but empty (an environment variable cleared by mistake) is refused like any other bad path, not read as
  // "unset": a configured decoder that is not there must not silently become whatever the PATH holds.
  if (configured !== undefined) {
    if (configured === "" || !isAbsolute(configured) || !isExecutableFile(configured)) {
      throw new PhmatchError(
        "PHM_VIDEO_DECODER_MISSING",
        `${name} is configured as ${JSON.stringify(configured)}, which is not an absolute path to an executable ` +
          `file; give the absolute path of ${name}, or leave \`${optionName}\` unset and ${INSTALL_HINT}`,
        { optionNames: [optionName] },
      );
    }
    return configured;
  }
  const found = onPath(name);
  if (found === undefined) {
    throw new PhmatchError(
      "PHM_VIDEO_DECODER_MISSING",
      `${name} was not found on the PATH: videos are decoded by FFmpeg in a separate process; ${INSTALL_HINT}, or ` +
        `set \`${optionName}\` to its absolute path`,
      { optionNames: [optionName] },
    );
  }
  return found;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "" || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** What ffprobe reads from a video's headers (and, for the frame count, its packets, without decoding). */
export interface VideoProbe {
  container: string;
  codec: string;
  pixelFormat: string;
  width: number;
  height: number;
  /** The reference's frame rate: avg_frame_rate, else r_frame_rate (0 if neither is given). */
  frameRate: number;
  durationSeconds: number;
  /** Frames the header declares (nb_frames), else the packets counted by demuxing. */
  frameCount: number;
}

/** The stream and format facts of ffprobe's JSON (`-show_streams -show_format -count_packets`), as read. */
export interface ProbeJson {
  streams?: {
    codec_name?: string;
    pix_fmt?: string;
    width?: number;
    height?: number;
    avg_frame_rate?: string;
    r_frame_rate?: string;
    duration?: string;
    nb_frames?: string;
    nb_read_packets?: string;
  }[];
  format?: { format_name?: string; duration?: string };
}

/**
 * Reads ffprobe's answer into a {@link VideoProbe}; throws PHM_DECODE_UNSUPPORTED when there is no video stream or
 * the stream lacks what decoding needs (size, pixel format, frame rate).
 */
export function readProbe(json: ProbeJson, path: string): VideoProbe {
  const stream = json.streams?.[0];
  if (stream === undefined) {
    throw new PhmatchError("PHM_DECODE_UNSUPPORTED", `${path}: the container holds no video stream`, { path });
  }
  const frameRate = rate(stream.avg_frame_rate) || rate(stream.r_frame_rate);
  const width = stream.width ?? 0;
  const height = stream.height ?? 0;
  const pixelFormat = stream.pix_fmt ?? "";
  if (!(width > 0 && height > 0) || !/^[a-z0-9_]+$/.test(pixelFormat) || !(frameRate > 0)) {
    throw new PhmatchError(
      "PHM_DECODE_UNSUPPORTED",
      `${path}: the video stream declares no usable frame size, pixel format or frame rate ` +
        `(${width}x${height}, ${JSON.stringify(pixelFormat.slice(0, 32))}, ${frameRate} fps)`,
      { path },
    );
  }
  const frameCount = count(stream.nb_frames) ?? count(stream.nb_read_packets) ?? 0;
  const duration = seconds(stream.duration) ?? seconds(json.format?.duration) ?? frameCount / frameRate;
  return {
    container: json.format?.format_name ?? "",
    codec: stream.codec_name ?? "",
    pixelFormat,
    width,
    height,
    frameRate,
    durationSeconds: duration,
    frameCount,
  };
}

function rate(text: string | undefined): number {
  const [num, den] = String(text ?? "0/0")
    .split("/")
    .map(Number);
  return num !== undefined && den !== undefined && num > 0 && den > 0 ? num / den : 0;
}

function count(text: string | undefined): number | undefined {
  const value = Number(text);
  return text !== undefined && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

function seconds(text: string | undefined): number | undefined {
  const value = Number(text);
  return text !== undefined && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * Refuses, with PHM_VIDEO_LIMIT naming the limit and its option, a video whose headers exceed the limits or are
 * absurd (no frames, a frame rate over 1000): called before anything is decoded.
 */
export function checkVideoLimits(probe: VideoProbe, limits: VideoLimits, path: string): void {
  const max = { ...DEFAULT_VIDEO_LIMITS, ...definedOnly(limits) };
  const refuse = (what: string, optionName?: string) =>
    new PhmatchError(
      "PHM_VIDEO_LIMIT",
      `${path}: ${what}; refused before decoding${optionName === undefined ? "" : ` (raise \`${optionName}\`)`}`,
      { path, optionNames: optionName === undefined ? [] : [optionName] },
    );
  const pixels = probe.width * probe.height;
  if (pixels > max.maxVideoPixels) {
    throw refuse(
      `frames of ${probe.width}x${probe.height} = ${pixels} pixels, over the limit of ${max.maxVideoPixels}`,
      "maxVideoPixels",
    );
  }
  if (probe.frameRate > MAX_FRAME_RATE) {
    throw refuse(`a frame rate of ${probe.frameRate} fps, over ${MAX_FRAME_RATE} (an absurd header)`);
  }
  if (probe.durationSeconds > max.maxVideoSeconds) {
    throw refuse(
      `a duration of ${probe.durationSeconds} s, over the limit of ${max.maxVideoSeconds} s`,
      "maxVideoSeconds",
    );
  }
  if (probe.frameCount > max.maxVideoFrames) {
    throw refuse(`${probe.frameCount} frames, over the limit of ${max.maxVideoFrames}`, "maxVideoFrames");
  }
  if (probe.frameCount === 0) {
    throw new PhmatchError("PHM_DECODE_CORRUPT", `${path}: the video stream has no frames`, { path });
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The reference's frame step at `secondsPerHash` (vpdq's filehasher: `max(1, trunc(seconds * frame rate))`):
 * frame n, in decode output order from 0, is hashed when n % step == 0. 0 seconds: every frame.
 */
export function frameStep(secondsPerHash: number, frameRate: number): number {
  return Math.max(1, Math.trunc(secondsPerHash * frameRate));
}

/** One decoded frame as the decoder hands it over: index n (decode output order) and packed RGB24 at its size. */
export interface VideoFrame {
  frame: number;
  /** The probe's frame rate: the frame's timestamp is frame / frameRate, as the reference's. */
  frameRate: number;
  width: number;
  height: number;
  rgb: Uint8Array;
}

/** What {@link decodeVideo} found: the probe, the step, and how many frames it handed over. */
export interface DecodedVideo {
  probe: VideoProbe;
  step: number;
  framesDecoded: number;
  /** Frames the header's frame count promises at this step; fewer decoded means the file is cut short. */
  framesExpected: number;
}

// O_TMPFILE | O_DIRECTORY as Linux defines them (generic and x86-64 values; Node has no constant for it).
const O_TMPFILE = 0o20000000 | 0o200000;

/**
 * An unnamed tmpfs inode on /dev/shm holding `bytes` (the caller closes it). Throws PHM_VIDEO_MEMORY_FILE when
 * /dev/shm is missing or too small (Docker's default is 64 MiB: raise the container's shm-size).
 */
export function memoryFile(bytes: Uint8Array, path: string): number {
  let fd: number;
  try {
    fd = openSync("/dev/shm", constants.O_RDWR | O_TMPFILE, 0o600);
  } catch (error) {
    throw memoryFileError(error, path);
  }
  try {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset, offset);
    return fd;
  } catch (error) {
    closeSync(fd);
    throw memoryFileError(error, path);
  }
}

function memoryFileError(error: unknown, path: string): PhmatchError {
  const errno = (error as NodeJS.ErrnoException).code ?? "error";
  return new PhmatchError(
    "PHM_VIDEO_MEMORY_FILE",
    `${path}: cannot hold the video in a memory file on /dev/shm (${errno}); videos are never written to disk, so ` +
      "/dev/shm must exist and have room for the video (in Docker: raise the container's shm-size, e.g. to 512m)",
    { path, cause: error },
  );
}

/**
 * Probes and decodes a video held in memory, calling `onFrame` for each frame the reference hashes at
 * `secondsPerHash` (RGB24 by libswscale's portable C conversion, `-cpuflags 0`: the reference's C-path hashes on
 * any CPU; docs/design/video-decoder.md, route c). An ISO BMFF / QuickTime file first passes the container
 * pre-check in JS (decode/iso-bmff.ts: limits, truncation, damaged boxes), before FFmpeg is looked for; Matroska and
 * AVI are checked by ffprobe alone. Throws PhmatchError: PHM_VIDEO_DECODER_MISSING,
 * PHM_VIDEO_MEMORY_FILE, PHM_VIDEO_LIMIT (headers over the limits, or more frames than they declared),
 * PHM_DECODE_UNSUPPORTED (not a whitelisted container, no video stream), PHM_DECODE_CORRUPT, PHM_DECODE_TIMEOUT,
 * PHM_VIDEO_TRUNCATED (the pre-check: boxes or samples past the end of the bytes).
 * A video cut short is not an error here: compare `framesDecoded` with `framesExpected`.
 */
// readProbe, but a stream left without a pixel format or frame size by a cut before its first whole frame is the
// cut's PHM_VIDEO_TRUNCATED (no frame could be decoded), not PHM_DECODE_UNSUPPORTED.
function readProbeOfCut(json: ProbeJson, path: string, cut: boolean): VideoProbe {
  try {
    return readProbe(json, path);
  } catch (error) {
    if (!cut || !(error instanceof PhmatchError) || error.code !== "PHM_DECODE_UNSUPPORTED") throw error;
    throw new PhmatchError(
      "PHM_VIDEO_TRUNCATED",
      `${path}: the video is cut short before its first whole frame: its container reaches past the end of the file`,
      { path },
    );
  }
}

export async function decodeVideo(
  bytes: Uint8Array,
  path: string,
  options: VideoOptions,
  onFrame: (frame: VideoFrame) => void,
): Promise<DecodedVideo> {
  const limits = { ...DEFAULT_VIDEO_LIMITS, ...definedOnly(options) };
  if (bytes.length > limits.maxVideoBytes) {
    throw new PhmatchError(
      "PHM_VIDEO_LIMIT",
      `${path}: ${bytes.length} bytes, over the video limit of ${limits.maxVideoBytes}; refused before decoding ` +
        "(raise `maxVideoBytes`)",
      { path, optionNames: ["maxVideoBytes"] },
    );
  }
  // Before FFmpeg is looked for: an ISO BMFF file's headers are read in JS, and refused alike with or without it.
  const facts = precheckVideoContainer(bytes, limits, path);
  // A box or samples reaching past the end: the file is cut after its index (or its sizes lie); what FFmpeg cannot
  // make of it is then said as a cut, not as an unsupported stream.
  const cut =
    facts?.cutAfterIndex !== undefined ||
    facts?.tracks.some((t) => t.handler === "vide" && t.dataEnd > bytes.length) === true;
  const tools = findVideoTools(options);
  const timeoutMs = (options.videoTimeoutSeconds ?? DEFAULT_VIDEO_TIMEOUT_SECONDS) * 1000;
  const fd = memoryFile(bytes, path);
  try {
    const probeOut: Buffer[] = [];
    await runAll(
      [
        launch(
          tools,
          "ffprobe",
          timeoutMs,
          [
            ...["-v", "error", ...INPUT_GUARDS, "-select_streams", "v:0", "-count_packets"],
            ...["-show_streams", "-show_format", "-of", "json", "/proc/self/fd/3"],
          ],
          fd,
        ),
      ],
      path,
      timeoutMs,
      (chunk) => probeOut.push(chunk),
    );
    let json: ProbeJson;
    try {
      json = JSON.parse(Buffer.concat(probeOut).toString("utf8")) as ProbeJson;
    } catch (error) {
      throw new PhmatchError("PHM_DECODE_CORRUPT", `${path}: ffprobe gave no readable answer`, { path, cause: error });
    }
    const probe = readProbeOfCut(json, path, cut);
    checkVideoLimits(probe, limits, path);
    const step = frameStep(options.secondsPerHash ?? 1, probe.frameRate);
    const framesExpected = Math.ceil(probe.frameCount / step);
    const { width, height } = probe;
    const frameBytes = width * height * 3;
    let framesDecoded = 0;
    // The cap on output: at most the frames the header declared (the limits bound that), each of one frame's size.
    let overrun = false;
    const reader = frameReader(frameBytes, (rgb) => {
      if (framesDecoded >= framesExpected) {
        overrun = true;
        return;
      }
      onFrame({ frame: framesDecoded * step, frameRate: probe.frameRate, width, height, rgb });
      framesDecoded++;
    });
    const decoder = launch(
      tools,
      "ffmpeg",
      timeoutMs,
      [
        ...["-nostdin", "-v", "error", "-threads", "1", "-noautorotate", ...INPUT_GUARDS, "-i", "/proc/self/fd/3"],
        ...["-map", "0:v:0", "-vf", `select=not(mod(n\\,${step}))`, "-fps_mode", "passthrough"],
        ...["-frames:v", String(framesExpected + 1), "-f", "rawvideo", "-pix_fmt", probe.pixelFormat, "-"],
      ],
      fd,
    );
    const converter = launch(tools, "ffmpeg", timeoutMs, [
      ...["-nostdin", "-v", "error", "-cpuflags", "0", "-f", "rawvideo", "-pix_fmt", probe.pixelFormat],
      ...["-s", `${width}x${height}`, "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
    ]);
    decoder.child.stdout?.pipe(converter.child.stdin as NodeJS.WritableStream);
    converter.child.stdin?.on("error", () => undefined);
    await runAll([decoder, converter], path, timeoutMs, (chunk) => {
      reader.push(chunk);
      if (overrun) {
        decoder.child.kill("SIGKILL");
        converter.child.kill("SIGKILL");
      }
    });
    if (overrun) {
      throw new PhmatchError(
        "PHM_VIDEO_LIMIT",
        `${path}: the decoder produced more frames than the header declares (${probe.frameCount}); refused`,
        { path },
      );
    }
    reader.end(path);
    return { probe, step, framesDecoded, framesExpected };
  } finally {
    closeSync(fd);
  }
}

interface Launched {
  name: string;
  child: ChildProcess;
  stderr: Buffer[];
}

// Starts one FFmpeg tool with the memory file as fd 3 (if given), under prlimit's address-space and CPU limits
// when prlimit is present (the CPU limit also ends a child the wall-clock kill would miss, its parent killed).
function launch(tools: VideoTools, name: "ffmpeg" | "ffprobe", timeoutMs: number, args: string[], fd?: number) {
  const executable = tools[name];
  const cpuSeconds = Math.ceil(timeoutMs / 1000) + 1;
  const limited: [string, string[]] =
    tools.prlimit === undefined
      ? [executable, args]
      : // prlimit's short options: -v address space, -t CPU seconds; it stops reading options at the command.
        [tools.prlimit, [`-v${FFMPEG_ADDRESS_SPACE_BYTES}`, `-t${cpuSeconds}`, executable, ...args]];
  // setpriv sets the parent-death signal and execs the rest (prlimit, then FFmpeg: one process, the signal kept
  // across both execs), so the child is killed when the thread that started it goes.
  const [command, argv] =
    tools.setpriv === undefined ? limited : [tools.setpriv, ["--pdeathsig", "KILL", "--", limited[0], ...limited[1]]];
  const stdio: ("pipe" | "ignore" | number)[] = [fd === undefined ? "pipe" : "ignore", "pipe", "pipe"];
  if (fd !== undefined) stdio.push(fd);
  const child = spawn(command, argv, { stdio });
  const stderr: Buffer[] = [];
  let stderrBytes = 0;
  child.stderr?.on("data", (chunk: Buffer) => {
    // FFmpeg at -v error names demuxers and decoders, never media bytes; kept short all the same.
    if (stderrBytes < 4096) stderr.push(chunk);
    stderrBytes += chunk.length;
  });
  return { name, child, stderr } satisfies Launched;
}

// Waits for every process; the last one's stdout goes to onStdout. Kills them all at the deadline or at the first
// failure, and throws the first failure as a typed error.
async function runAll(
  processes: Launched[],
  path: string,
  timeoutMs: number,
  onStdout: (chunk: Buffer) => void,
): Promise<void> {
  const last = processes.at(-1) as Launched;
  last.child.stdout?.on("data", onStdout);
  let timedOut = false;
  const killAll = () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGKILL");
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killAll();
  }, timeoutMs);
  try {
    const results = await Promise.all(
      processes.map(
        (p) =>
          new Promise<{ p: Launched; code: number | null; signal: string | null; error?: Error }>((resolve) => {
            p.child.on("error", (error) => resolve({ p, code: null, signal: null, error }));
            p.child.on("close", (code, signal) => {
              if (code !== 0) killAll();
              resolve({ p, code, signal });
            });
          }),
      ),
    );
    if (timedOut) {
      throw new PhmatchError(
        "PHM_DECODE_TIMEOUT",
        `${path}: decoding the video took longer than ${timeoutMs / 1000} s; it was stopped (raise ` +
          "`videoTimeoutSeconds`)",
        { path, optionNames: ["videoTimeoutSeconds"] },
      );
    }
    for (const { p, code, signal, error } of results) {
      if (error !== undefined) {
        const errno = (error as NodeJS.ErrnoException).code;
        throw new PhmatchError(
          errno === "ENOENT" ? "PHM_VIDEO_DECODER_MISSING" : "PHM_INTERNAL",
          `${p.name} could not be started (${errno ?? error.message}); ${INSTALL_HINT}`,
          { path, cause: error },
        );
      }
      if (code === 0) continue;
      const said = Buffer.concat(p.stderr).toString("utf8").trim().slice(0, 400);
      const unsupported = /not on whitelist|Invalid data found|could not find codec|Unknown format/i.test(said);
      throw new PhmatchError(
        unsupported ? "PHM_DECODE_UNSUPPORTED" : "PHM_DECODE_CORRUPT",
        `${path}: ${p.name} failed (${code === null ? `killed by ${signal}` : `exit ${code}`})` +
          (said === "" ? "" : `: ${said}`),
        { path },
      );
    }
  } finally {
    clearTimeout(timer);
  }
}

// Cuts a raw stream into frames of frameBytes; end() checks nothing is left over.
function frameReader(frameBytes: number, onFrame: (rgb: Uint8Array) => void) {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  return {
    push(chunk: Buffer) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < frameBytes) return;
      let all = Buffer.concat(pending, pendingBytes);
      while (all.length >= frameBytes) {
        onFrame(new Uint8Array(all.buffer, all.byteOffset, frameBytes));
        all = all.subarray(frameBytes);
      }
      pending = all.length > 0 ? [Buffer.from(all)] : [];
      pendingBytes = all.length;
    },
    end(path: string) {
      if (pendingBytes !== 0) {
        throw new PhmatchError("PHM_DECODE_CORRUPT", `${path}: the decoder's output ends in the middle of a frame`, {
          path,
        });
      }
    },
  };
}

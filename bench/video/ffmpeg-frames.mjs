// The video decoder route of issue 20's spike (docs/design/video-decoder.md): Debian's FFmpeg as a subprocess,
// fed from memory. The video bytes go into an unnamed tmpfs inode (open(2) with O_TMPFILE on /dev/shm: no name,
// never on disk, freed when the last descriptor closes), handed to the child as fd 3 and opened by it as
// /proc/self/fd/3, so that an MP4 whose index (moov) sits at its end can still be read: FFmpeg must seek, which a
// pipe cannot do. Frames come back on stdout as packed RGB24, chosen the way Meta's vPDQ reference chooses them.
// Bench-side for now; issue 20's next step moves this into the supervised worker in packages/core.
import { spawn } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";

// O_TMPFILE | O_DIRECTORY as Linux defines them (generic and x86-64 values; Node has no constant for it).
const O_TMPFILE = 0o20000000 | 0o200000;
const O_RDWR = 0o2;
// Hostile input: only the containers a video upload may be, and no protocol but the one file it was handed, so
// that a playlist (HLS, concat, ...) cannot make FFmpeg open other files or the network.
const INPUT_GUARDS = ["-protocol_whitelist", "file", "-format_whitelist", "mov,matroska,avi"];

/** A memory-backed descriptor holding `bytes` (the caller closes it). */
export function memoryFd(bytes) {
  const fd = openSync("/dev/shm", O_RDWR | O_TMPFILE, 0o600);
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset, offset);
  return fd;
}

function run(command, args, fd, onStdout) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe", fd] });
    const errors = [];
    child.stdout.on("data", onStdout);
    child.stderr.on("data", (chunk) => errors.push(chunk));
    child.on("error", (error) => {
      if (error.code === "ENOENT") {
        reject(new Error(`${command} not found: install Debian's ffmpeg package (apt-get install ffmpeg)`));
      } else reject(error);
    });
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      // FFmpeg's stderr names the demuxer or decoder that failed; it never holds media bytes at -v error.
      else reject(new Error(`${command} exited ${code ?? signal}: ${Buffer.concat(errors).toString().trim()}`));
    });
  });
}

/** A stdout handler cutting a raw frame stream into frames of frameBytes bytes; .end() checks nothing is left. */
function frameReader(frameBytes, onRaw) {
  let pending = [];
  let pendingBytes = 0;
  const onChunk = (chunk) => {
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= frameBytes) {
      const all = pending.length === 1 ? pending[0] : Buffer.concat(pending);
      onRaw(new Uint8Array(all.buffer, all.byteOffset, frameBytes));
      const rest = all.subarray(frameBytes);
      pending = rest.length > 0 ? [Buffer.from(rest)] : [];
      pendingBytes = rest.length;
    }
  };
  onChunk.end = () => {
    if (pendingBytes !== 0) throw new Error(`decoder output ends mid-frame (${pendingBytes} bytes left)`);
  };
  return onChunk;
}

/** Stream facts of the first video stream, from ffprobe on the same memory descriptor. */
export async function probeVideo(fd) {
  const chunks = [];
  await run(
    "ffprobe",
    ["-v", "error", ...INPUT_GUARDS, "-select_streams", "v:0", "-show_streams", "-of", "json", "/proc/self/fd/3"],
    fd,
    (chunk) => chunks.push(chunk),
  );
  const stream = JSON.parse(Buffer.concat(chunks).toString()).streams?.[0];
  if (stream === undefined) throw new Error("no video stream");
  const rate = (text) => {
    const [num, den] = String(text ?? "0/0")
      .split("/")
      .map(Number);
    return num > 0 && den > 0 ? num / den : 0;
  };
  // The reference's frame rate: avg_frame_rate, else r_frame_rate (vpdq ffmpegwrapper.cpp).
  const frameRate = rate(stream.avg_frame_rate) || rate(stream.r_frame_rate);
  return { width: stream.width, height: stream.height, pixFmt: stream.pix_fmt, frameRate, codec: stream.codec_name };
}

/**
 * Decodes the first video stream and calls onFrame(index, rgb, info) for every frame whose decode-order index n has
 * n % frameMod == 0 (vpdq filehasher.cpp). rgb: packed RGB24, width*height*3 bytes, at the frame's own size.
 * rgbPath "native": FFmpeg's own yuv->rgb24 (x86 SIMD when the CPU has it: the reference's main set).
 * rgbPath "c": the decode keeps its SIMD, but a second FFmpeg with -cpuflags 0 converts the chosen frames with
 * libswscale's portable C routine (the reference's cpath set, and upstream's sample-hashes).
 */
export async function decodeFrames(bytes, { secondsPerHash = 1, rgbPath = "native", threads = 1 }, onFrame) {
  const fd = memoryFd(bytes);
  try {
    const info = await probeVideo(fd);
    const { width, height } = info;
    // The reference's frame step: static_cast<int>(secondsPerHash * frameRate), at least 1 (filehasher.cpp).
    const frameMod = Math.max(1, Math.trunc(secondsPerHash * info.frameRate));
    const select = ["-vf", `select=not(mod(n\\,${frameMod}))`, "-fps_mode", "passthrough"];
    // -noautorotate: the reference hashes the coded picture and ignores a display matrix.
    const input = ["-nostdin", "-v", "error", "-threads", String(threads), "-noautorotate"];
    input.push(...INPUT_GUARDS, "-i", "/proc/self/fd/3");
    let count = 0;
    const onRgb = frameReader(width * height * 3, (rgb) => onFrame(count++ * frameMod, rgb, info));
    if (rgbPath === "native") {
      await run(
        "ffmpeg",
        [...input, "-map", "0:v:0", ...select, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        fd,
        onRgb,
      );
    } else {
      // Decoded YUV in the stream's own pixel format, then the C conversion in a second process.
      const converter = spawn(
        "ffmpeg",
        [
          ...["-nostdin", "-v", "error", "-cpuflags", "0", "-f", "rawvideo", "-pix_fmt", info.pixFmt],
          ...["-s", `${width}x${height}`, "-i", "pipe:0", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        ],
        { stdio: ["pipe", "pipe", "inherit"] },
      );
      converter.stdout.on("data", onRgb);
      const converted = new Promise((resolve, reject) => {
        converter.on("error", reject);
        converter.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg (C path) exited ${code}`))));
      });
      converter.stdin.on("error", () => {});
      await run(
        "ffmpeg",
        [...input, "-map", "0:v:0", ...select, "-f", "rawvideo", "-pix_fmt", info.pixFmt, "-"],
        fd,
        // No back-pressure: at 1 s per hash the chosen frames are few, and the pipes buffer them.
        (chunk) => converter.stdin.write(chunk),
      );
      converter.stdin.end();
      await converted;
    }
    onRgb.end();
    return { ...info, frames: count };
  } finally {
    closeSync(fd);
  }
}

import type { promises as fs } from "node:fs";
import { openReadOnly } from "./read-file.js";
import { loadSharp } from "./sharp.js";

/** Largest file {@link fitsInProcess} lets a command decode in its own process. */
export const IN_PROCESS_MAX_BYTES = 32 * 1024 * 1024;
/** Most pixels a file may declare for {@link fitsInProcess} (an RGB decode of 120 MB at most). */
export const IN_PROCESS_MAX_PIXELS = 40_000_000;
/** Formats whose header sits at the start of the file and whose decoder is libvips' own (not HEIC's wasm). */
const IN_PROCESS_FORMATS = new Set(["jpeg", "png", "webp", "gif"]);
/** Bytes read to find the header: a JPEG's EXIF, ICC and tables come before its frame header. */
const HEADER_BYTES = 256 * 1024;

/**
 * Whether one file is small enough to decode in the calling process rather than in a supervised worker process:
 * a regular file (opened as every read of evidence is: read-only, access time kept) of at most
 * {@link IN_PROCESS_MAX_BYTES} bytes whose header, read from its first 256 KiB, is a JPEG, PNG, WebP or GIF
 * declaring at most {@link IN_PROCESS_MAX_PIXELS} pixels. Any doubt (a header that does not parse, another format,
 * a read error) answers false: the worker process, with its time and memory limits, takes it. `phmatch check` and
 * `phmatch hash` of one such file skip the worker's start-up (most of a second on one core); a decoder crash then
 * ends the command with a signal, which `check`'s contract reads as "do not accept" (any exit other than 0).
 */
export async function fitsInProcess(path: string): Promise<boolean> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await openReadOnly(path);
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size === 0 || stat.size > IN_PROCESS_MAX_BYTES) return false;
    const head = Buffer.alloc(Math.min(stat.size, HEADER_BYTES));
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const meta = await loadSharp()(head.subarray(0, bytesRead), { limitInputPixels: false, failOn: "none" }).metadata();
    const pixels = (meta.width ?? 0) * (meta.pageHeight ?? meta.height ?? 0);
    return IN_PROCESS_FORMATS.has(meta.format ?? "") && pixels > 0 && pixels <= IN_PROCESS_MAX_PIXELS;
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

/**
 * A path as found on disk. Seized media holds file names that are not valid UTF-8; Node decodes those lossily,
 * so such names are kept as their raw bytes (a Buffer) from the directory walk to the report, where they appear
 * escaped (see {@link reportPath}) plus `pathBytes`, the exact bytes in base64.
 */
export type FilePath = string | Buffer;

// Worker threads and IPC deliver a Buffer as a plain Uint8Array (structured clone): view it as a Buffer again.
function bytesOf(path: Uint8Array): Buffer {
  return Buffer.isBuffer(path) ? path : Buffer.from(path.buffer, path.byteOffset, path.byteLength);
}

/** The path as fs wants it: a string, or a Buffer of its exact bytes. */
export function fsPath(path: FilePath | Uint8Array): FilePath {
  return typeof path === "string" ? path : bytesOf(path);
}

/** The readable form of a path (lossless for valid UTF-8). */
export function displayPath(path: FilePath | Uint8Array): string {
  return typeof path === "string" ? path : bytesOf(path).toString("utf8");
}

/** Base64 of the path's bytes when they are not valid UTF-8 (so the readable form alone would lose them). */
export function pathBytesOf(path: FilePath | Uint8Array): string | undefined {
  if (typeof path === "string") return undefined;
  const bytes = bytesOf(path);
  return isUtf8(bytes) ? undefined : bytes.toString("base64");
}

/**
 * How scan reports write a path, stated in each report (PATH_ESCAPE). Text formats (JSON, CSV) cannot carry bytes
 * that are not UTF-8, and U+FFFD for them makes two names print alike; so such a path is escaped reversibly, and
 * only such a path: a name that is valid UTF-8 is written as it is.
 */
export const PATH_ESCAPE =
  "a path that is valid UTF-8 is written as it is; " +
  "a path that is not is written with each byte outside a valid UTF-8 sequence as %XX " +
  "(two upper-case hex digits) and each % as %25, " +
  "and its exact bytes are given beside it in base64 (NDJSON pathBytes, CSV path_bytes_base64, " +
  "VICS RelativeFilePath@phmatch.pathBytes); percent-decoding such a path gives its bytes";

/**
 * The text a report gives for a path: the path itself when it is valid UTF-8; otherwise each byte outside a valid
 * UTF-8 sequence as `%XX` and each `%` as `%25` (PATH_ESCAPE), so names that differ only in such bytes print
 * differently and {@link unescapeReportPath} gives the bytes back.
 */
export function reportPath(path: FilePath | Uint8Array): string {
  if (typeof path === "string") return path;
  const bytes = bytesOf(path);
  if (isUtf8(bytes)) return bytes.toString("utf8");
  let text = "";
  for (let i = 0; i < bytes.length; ) {
    const length = utf8SequenceLength(bytes, i);
    if (length === 0) {
      text += `%${hexByte(bytes[i] as number)}`;
      i++;
    } else {
      text += length === 1 && bytes[i] === 0x25 ? "%25" : bytes.toString("utf8", i, i + length);
      i += length;
    }
  }
  return text;
}

/** The bytes of a path escaped by {@link reportPath} (one that was not valid UTF-8). */
export function unescapeReportPath(text: string): Buffer {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = text.indexOf("%"); i >= 0; i = text.indexOf("%", start)) {
    out.push(Buffer.from(text.slice(start, i), "utf8"), Buffer.from([Number.parseInt(text.slice(i + 1, i + 3), 16)]));
    start = i + 3;
  }
  out.push(Buffer.from(text.slice(start), "utf8"));
  return Buffer.concat(out);
}

/** The report's fields for a path: its text (escaped when not UTF-8) and, then, its exact bytes in base64. */
export function reportPathFields(path: FilePath | Uint8Array): { path: string; pathBytes?: string } {
  const bytes = pathBytesOf(path);
  return bytes === undefined ? { path: reportPath(path) } : { path: reportPath(path), pathBytes: bytes };
}

function hexByte(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, "0");
}

// Length of the well-formed UTF-8 sequence at `i` (RFC 3629, table 3-7 of the Unicode standard: no overlong
// forms, no surrogates, nothing above U+10FFFF), or 0 when the byte there does not start one.
function utf8SequenceLength(bytes: Buffer, i: number): number {
  const b0 = bytes[i] as number;
  if (b0 < 0x80) return 1;
  const cont = (at: number, low = 0x80, high = 0xbf) => {
    const b = bytes[i + at];
    return b !== undefined && b >= low && b <= high;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xe1 && b0 <= 0xec) || b0 === 0xee || b0 === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** The path a record names: its exact bytes when it carries them, else its readable form. */
export function recordPath(record: { path: string; pathBytes?: string }): FilePath {
  return record.pathBytes !== undefined ? Buffer.from(record.pathBytes, "base64") : record.path;
}

/** A string key that tells two paths apart even when their readable forms collide. */
export function pathKey(path: FilePath | Uint8Array): string {
  const bytes = pathBytesOf(path);
  return bytes === undefined ? displayPath(path) : `\0${bytes}`;
}

function isUtf8(bytes: Buffer): boolean {
  return Buffer.from(bytes.toString("utf8"), "utf8").equals(bytes);
}

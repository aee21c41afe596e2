/**
 * A path as found on disk. Seized media holds file names that are not valid UTF-8; Node decodes those lossily,
 * so such names are kept as their raw bytes (a Buffer) from the directory walk to the report, where they appear
 * as a readable form (invalid bytes as U+FFFD) plus `pathBytes`, the exact bytes in base64.
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

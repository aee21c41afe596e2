// Piscina worker: decode + hash inside the worker thread; only the record (paths and hex) goes back.
import { setDecoderConcurrency } from "../decode/decode-image.js";
import { type FilePath, fsPath } from "../files/file-path.js";
import { hashFile, hashImageBytes } from "../pipeline/hash-file.js";
import type { HashOptions } from "../pipeline/hash-options.js";
import type { HashRecord } from "../record/hash-record.js";

setDecoderConcurrency(1);

/** One unit of work for a worker thread: a file by path, or bytes already in memory (an upload) with a name. */
export type HashTask =
  | { path: FilePath; options: HashOptions }
  | { bytes: Uint8Array; name: string; options: HashOptions };

export default function hashTask(task: HashTask): Promise<HashRecord> {
  if ("bytes" in task) return hashImageBytes(task.bytes, task.name, task.options);
  return hashFile(fsPath(task.path), task.options);
}

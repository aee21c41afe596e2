// Piscina worker: decode + hash inside the worker thread; only the record (paths and hex) goes back.
import { setDecoderConcurrency } from "../decode/decode-image.js";
import { fsPath, type FilePath } from "../pipeline/file-path.js";
import type { HashOptions } from "../pipeline/hash-options.js";
import { hashFile } from "../pipeline/hash-file.js";
import type { HashRecord } from "../record/hash-record.js";

setDecoderConcurrency(1);

/** One unit of work for a worker thread. */
export interface HashTask {
  path: FilePath;
  options: HashOptions;
}

export default function hashTask(task: HashTask): Promise<HashRecord> {
  return hashFile(fsPath(task.path), task.options);
}

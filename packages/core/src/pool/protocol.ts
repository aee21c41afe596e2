import type { FilePath } from "../files/file-path.js";
import type { HashOptions } from "../pipeline/hash-options.js";
import type { HashRecord } from "../record/hash-record.js";

/** What the pool host hashes: a file by path, or bytes already in memory (an upload) with a name and options. */
export type HostInput =
  | { path: FilePath; options?: HashOptions }
  | { bytes: Uint8Array; name: string; options: HashOptions };

/** Supervisor -> pool host. */
export type SupervisorMessage =
  | { type: "init"; threads: number; hashOptions: HashOptions }
  | ({ type: "hash"; id: number } & HostInput)
  /** Drop task `id` if no thread has started it yet (answered `cancelled`); a started task runs on. */
  | { type: "cancel"; id: number }
  | { type: "close" };

/** Pool host -> supervisor. */
export type HostMessage =
  | { type: "ready" }
  /** A thread has started task `id` (tasks wait in the host until one is free). */
  | { type: "started"; id: number }
  | { type: "cancelled"; id: number }
  | { type: "result"; id: number; record: HashRecord }
  | { type: "memory"; rss: number };

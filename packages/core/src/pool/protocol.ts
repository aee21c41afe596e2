import type { FilePath } from "../pipeline/file-path.js";
import type { HashOptions } from "../pipeline/hash-options.js";
import type { HashRecord } from "../record/hash-record.js";

/** Supervisor -> pool host. */
export type SupervisorMessage =
  | { type: "init"; threads: number; hashOptions: HashOptions }
  | { type: "hash"; id: number; path: FilePath }
  | { type: "close" };

/** Pool host -> supervisor. */
export type HostMessage =
  | { type: "ready" }
  | { type: "result"; id: number; record: HashRecord }
  | { type: "memory"; rss: number };

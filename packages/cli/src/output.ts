import { once } from "node:events";
import type { Writable } from "node:stream";

/** Writes a line, waiting for the stream to drain when its buffer is full (a million lines stay bounded). */
export async function writeLine(stream: Writable, line: string): Promise<void> {
  if (!stream.write(line + "\n")) await once(stream, "drain");
}

/**
 * The command-line flag that sets each API option core's messages name (PhmatchError.optionNames): core speaks in
 * option names (`maxPixels`), the CLI prints the flag (--max-pixels). One table, used wherever the CLI prints an
 * error or a problem of core's to a person (records and reports keep core's words, as a library user sees them).
 */
export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  maxPixels: "--max-pixels",
  maxFileBytes: "--max-file-bytes",
  maxVideoBytes: "--max-video-bytes",
  maxVideoSeconds: "--max-video-seconds",
  maxVideoFrames: "--max-video-frames",
  maxVideoPixels: "--max-video-pixels",
  videoTimeoutSeconds: "--file-timeout",
  ffmpegPath: "--ffmpeg (or PHMATCH_FFMPEG)",
  ffprobePath: "--ffprobe (or PHMATCH_FFPROBE)",
  fileTimeoutMs: "--file-timeout",
  trustedKeys: "--trusted-keys",
  trustedOverrideKeys: "--trusted-override-keys (or PHMATCH_TRUSTED_OVERRIDE_KEYS)",
  key: "--key-file (or PHMATCH_LIST_KEY)",
  allowRollback: "--allow-rollback",
  format: "--format",
  strict: "--strict",
  listId: "--list-id",
  "list.version": "--list-version",
  who: "--who",
  why: "--why",
  algorithm: "--algorithm",
  dihedral: "--dihedral",
  followSymlinks: "--follow-symlinks",
  head: "--head",
  state: "--state-dir",
  // Not options: the API functions core's hints name, and the commands that do the same.
  importHashSet: "phmatch hashset import <file> --list-id <id> -o <store>.phs",
  verifyAuditLog: "phmatch audit verify",
  addOverride: "phmatch hashset override",
  signOverrides: "phmatch hashset override sign",
};

/**
 * An error's message as the CLI prints it: each API name it gives in backticks (`maxPixels`, listed in its
 * optionNames) as the flag or command that does the same.
 */
export function cliMessage(error: { message: string; optionNames?: readonly string[] }): string {
  return cliText(error.message);
}

/** A problem or reason core wrote (an import problem, an audit log problem) as the CLI prints it: every API name the
 * table knows, in backticks, given as its flag. */
export function cliText(text: string): string {
  return text.replace(/`([A-Za-z.]+)`/g, (whole, name: string) => OPTION_FLAGS[name] ?? whole);
}

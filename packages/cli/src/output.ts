import { once } from "node:events";
import type { Writable } from "node:stream";

/** Writes a line, waiting for the stream to drain when its buffer is full (a million lines stay bounded). */
export async function writeLine(stream: Writable, line: string): Promise<void> {
  if (!stream.write(line + "\n")) await once(stream, "drain");
}

/**
 * The command-line flag that sets each API option core's messages name (PhmatchError.optionNames): core speaks in
 * option names (`maxPixels`), the CLI prints the flag (--max-pixels). One table, used wherever the CLI prints an
 * error of core's.
 */
export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  maxPixels: "--max-pixels",
  maxFileBytes: "--max-file-bytes",
  fileTimeoutMs: "--file-timeout",
  trustedKeys: "--trusted-keys",
  key: "--key-file (or PHMATCH_LIST_KEY)",
  allowRollback: "--allow-rollback",
  format: "--format",
  strict: "--strict",
  listId: "--list-id",
  "list.version": "--list-version",
  who: "--who",
  why: "--why",
};

/** An error's message as the CLI prints it: each API option it names (`maxPixels`) given as its flag. */
export function cliMessage(error: { message: string; optionNames?: readonly string[] }): string {
  let message = error.message;
  for (const name of error.optionNames ?? []) {
    const flag = OPTION_FLAGS[name];
    if (flag !== undefined) message = message.replaceAll(`\`${name}\``, flag);
  }
  return message;
}

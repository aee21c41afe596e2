import { once } from "node:events";
import type { Writable } from "node:stream";

/** Writes a line, waiting for the stream to drain when its buffer is full (a million lines stay bounded). */
export async function writeLine(stream: Writable, line: string): Promise<void> {
  if (!stream.write(line + "\n")) await once(stream, "drain");
}

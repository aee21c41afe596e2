import { PhmatchError } from "../errors/index.js";
import { PDQ, type PdqHash } from "../hashers/pdq.js";
import { bytesToHex } from "../record/hex.js";

/**
 * One frame of a vPDQ video hash, as Meta's reference (vpdq/cpp/hashing/vpdqHashType.h) keeps it: the frame's
 * 0-based index in decode output order, its PDQ hash and quality, and its timestamp in seconds
 * (index / average frame rate, not the packet's PTS).
 */
export interface VpdqFrame {
  frame: number;
  hash: PdqHash;
  timestamp: number;
}

const LINE = /^(\d{1,10}),(\d{1,3}),([0-9a-fA-F]{64}),(\d{1,10}(?:\.\d+)?)$/;

/**
 * Parses the reference's vPDQ text format (vpdq/cpp/io/vpdqio.cpp): one `frame,quality,hash,timestamp` line per
 * hashed frame, quality second. Stricter than the reference's stoi/stod reader: each field must be exactly its
 * type, quality 0-100, so that a list with a shifted column or a damaged line is refused with its line number
 * rather than read as something else. A final newline, CRLF endings and blank lines are accepted; an empty
 * text is refused as the reference refuses it.
 * @example parseVpdqText("0,100,e271...055c,0.000\n", "chair.vpdq.txt")[0]?.hash.quality // 100
 */
export function parseVpdqText(text: string, source = "vPDQ text"): VpdqFrame[] {
  const frames: VpdqFrame[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).endsWith("\r") ? (lines[i] as string).slice(0, -1) : (lines[i] as string);
    if (line === "") continue;
    const frame = parseVpdqLine(line);
    if (typeof frame === "string") throw new PhmatchError("PHM_HASHSET_PARSE", `${source} line ${i + 1}: ${frame}`);
    frames.push(frame);
  }
  if (frames.length === 0) {
    throw new PhmatchError("PHM_HASHSET_PARSE", `${source}: no frame hashes (an empty vPDQ hash is not a video hash)`);
  }
  return frames;
}

/**
 * One line of the reference's vPDQ text format (without its line end), as {@link parseVpdqText} reads it: the
 * frame, or why the line is not one (for a reader that reports each bad line and goes on).
 */
export function parseVpdqLine(line: string): VpdqFrame | string {
  const match = LINE.exec(line);
  const quality = match === null ? Number.NaN : Number(match[2]);
  if (match === null || quality > 100) {
    // The line's own text can be a hash list entry, never media; it is cut short all the same.
    return (
      "expected frame,quality(0-100),64-hex PDQ hash,timestamp (the reference's vPDQ text format), got " +
      JSON.stringify(line.slice(0, 120))
    );
  }
  return {
    frame: Number(match[1]),
    hash: { algorithm: PDQ, bytes: new Uint8Array(Buffer.from(match[3] as string, "hex")), quality },
    timestamp: Number(match[4]),
  };
}

/**
 * Writes frames in the reference's vPDQ text format, byte-identical to what `vpdq-hash-video` writes: lowercase
 * hex, the timestamp with 3 decimals as C++'s `std::fixed << setprecision(3)` prints a double, `\n` after every
 * line.
 * @example formatVpdqText(parseVpdqText(text)) === text // for any file the reference wrote
 */
export function formatVpdqText(frames: readonly VpdqFrame[]): string {
  let out = "";
  for (const f of frames) {
    out += `${f.frame},${f.hash.quality},${bytesToHex(f.hash.bytes)},${fixed3(f.timestamp)}\n`;
  }
  return out;
}

/**
 * A double with 3 decimals as glibc's printf rounds it: the exact binary value, ties to even. JavaScript's
 * toFixed also rounds the exact value but breaks ties upwards; a tie needs value * 2000 odd, and as a double is
 * a dyadic rational that happens exactly when value * 16 is an odd integer (e.g. frame 15 at 240 fps, 0.0625 s).
 */
function fixed3(value: number): string {
  const sixteenths = value * 16;
  if (value >= 0 && Number.isInteger(sixteenths) && sixteenths % 2 === 1) {
    const down = Math.floor(value * 1000);
    const even = down % 2 === 0 ? down : down + 1;
    return `${Math.floor(even / 1000)}.${String(even % 1000).padStart(3, "0")}`;
  }
  return value.toFixed(3);
}

import { hasherSpecs, hexDigits } from "../../hashers/index.js";
import type { HashSetRecord } from "../entry.js";
import { parseHashValue } from "../hash-value.js";
import { numberedLines, tooLongReason } from "./lines.js";
import type { HashSetReader } from "./reader.js";
import { parseVpdqSignal, videoRecords, vpdqSignalId } from "./vpdq.js";

// Plain text lists: one value per line, all of the algorithm given with --algorithm. Empty lines and lines
// starting with '#' are skipped (not records).
export const readText: HashSetReader = async function* (input, options, report) {
  for await (const { line, text, tooLong } of numberedLines(input)) {
    const value = text.trim();
    if (!tooLong && (value === "" || value.startsWith("#"))) continue;
    report.read++;
    if (tooLong) {
      report.problem(line, tooLongReason("a value"));
      continue;
    }
    if (options.algorithm === undefined) {
      report.problem(
        line,
        `a plain list of values needs \`algorithm\` (which hash these values are)${algorithmHint(value)}`,
      );
      continue;
    }
    const parsed = parseHashValue(options.algorithm, value);
    if (!parsed.ok) {
      report.problem(line, parsed.reason);
      continue;
    }
    yield entryRecord(options.algorithm, parsed.value, options.listId, line);
  }
};

// python-threatexchange's local file exchange: "<signal_type> <value>" per line. Its signal type names, mapped
// to ours where the signal is one phmatch computes; the others (url, raw_text, trend_query, video_tmk_pdqf,
// ...) are counted as unrecognised, never dropped silently. A `vpdq` line is a listed video: its value, the rest
// of the line, is pytx's vPDQ signal string (a JSON list of frames, with spaces), its entry id vpdqSignalId.
const PYTX_SIGNAL_TYPES: Record<string, string> = {
  pdq: "pdq",
  photo_pdq: "pdq",
  video_md5: "md5",
  photo_md5: "md5",
  md5: "md5",
  sha1: "sha1",
  sha256: "sha256",
};

export const readPytx: HashSetReader = async function* (input, options, report) {
  for await (const { line, text, tooLong } of numberedLines(input)) {
    const trimmed = text.trim();
    if (!tooLong && (trimmed === "" || trimmed.startsWith("#"))) continue;
    report.read++;
    if (tooLong) {
      report.problem(line, tooLongReason('"<signal_type> <value>"'));
      continue;
    }
    const video = /^(vpdq|video_vpdq)\s+(\S.*)$/i.exec(trimmed);
    if (video !== null) {
      const signal = video[2] as string;
      const frames = parseVpdqSignal(signal);
      if (typeof frames === "string") report.problem(line, frames);
      else
        yield* videoRecords(
          frames,
          { listId: options.listId, entryId: vpdqSignalId(signal), fields: {} },
          line,
          report,
        );
      continue;
    }
    const match = /^(\S+)\s+(\S+)\s*$/.exec(trimmed);
    if (match === null) {
      report.problem(line, 'expected "<signal_type> <value>"');
      continue;
    }
    const [, signalType = "", value = ""] = match;
    const algorithm = PYTX_SIGNAL_TYPES[signalType.toLowerCase()];
    if (algorithm === undefined) {
      report.unrecognisedName(line, signalType);
      continue;
    }
    const parsed = parseHashValue(algorithm, value);
    if (!parsed.ok) {
      report.problem(line, parsed.reason);
      continue;
    }
    yield entryRecord(algorithm, parsed.value, options.listId, line);
  }
};

function entryRecord(algorithm: string, value: Uint8Array, listId: string, line: number): HashSetRecord {
  return { kind: "entry", entry: { algorithm, value, listId }, line };
}

// Which algorithms a bare hex value's length fits, to name in the message (a hint: 64 digits fit SHA-256 and PDQ).
function algorithmHint(value: string): string {
  const digits = value.replace(/^0x/i, "");
  if (!/^[0-9a-f]+$/i.test(digits)) return "";
  const fits = hasherSpecs()
    .filter((spec) => hexDigits(spec) === digits.length)
    .map((spec) => spec.id);
  return fits.length === 0 ? "" : `; the values are ${digits.length} hex digits: ${fits.join(" or ")}?`;
}

import { PhmatchError } from "../errors/index.js";

/** One input line (or element) that could not be imported, and why. */
export interface ImportProblem {
  file: string;
  /** 1-based line number (for XML/JSON: the line where the element or object starts). */
  line: number;
  reason: string;
}

/**
 * How the input ended, as the import read it:
 * - `complete`: read to its end, which is a record boundary;
 * - `unterminated`: a line format whose last line has no line end (a file cut off mid-line looks like that);
 * - `truncated`: the document ends inside a record, or before it is closed (JSON, XML, a CSV quote left open);
 * - `stopped`: the reader stopped at a part it could not read past, and did not read the rest.
 */
export type InputEnding = "complete" | "unterminated" | "truncated" | "stopped";

/**
 * What an import did, so that nothing is dropped silently. Counts:
 * - `read`: records seen (entries and withdrawals, valid or not);
 * - `imported`: entries kept; `withdrawn`: withdrawals kept;
 * - `duplicate`: entries whose (algorithm, value) was already imported for the same list;
 * - `invalid`: records that could not be imported (each listed in `problems` with file, line and reason);
 * - `degenerate`: entries refused because their value is degenerate (the digest of empty input, a value every
 *   flat image matches: see degenerateValue), listed in `problems` too; never fatal, even with `strict`;
 * - `notComputable`: entries imported and carried although phmatch cannot compute them (PhotoDNA);
 * - `unrecognised`: names the reader did not map to an algorithm (e.g. pytx signal types), with counts;
 * - `videos`: listed videos taken (vPDQ lists: each is its kept frames, `imported` counts those frames);
 * - `lowQuality`: frames of listed videos left out for PDQ quality below 50, which can never match (the
 *   reference drops them on both sides); frames a video repeats exactly count as `duplicate`. Never fatal;
 * - `emptyVideos`: listed videos refused because no frame was left to match (all below quality 50), each
 *   listed in `problems`; never fatal.
 * `source` is the SHA-256 and size of the bytes read; `ending` how the input ended.
 */
export class ImportReport {
  read = 0;
  imported = 0;
  withdrawn = 0;
  duplicate = 0;
  invalid = 0;
  degenerate = 0;
  notComputable = 0;
  videos = 0;
  lowQuality = 0;
  emptyVideos = 0;
  readonly unrecognised: Record<string, number> = {};
  readonly problems: ImportProblem[] = [];
  /** Format the reader ran as, and how it was chosen ("`format` given", or what detection saw). */
  format = "";
  detectedBy = "";
  /** The input's bytes as the import read them (set once it has been read). */
  source: { sha256: string; bytes: number } | undefined;
  ending: InputEnding = "complete";
  /** Where and why the input was found cut short or was not read to its end (absent when complete). */
  endingProblem: { line: number; reason: string } | undefined;

  constructor(
    readonly file: string,
    readonly strict = false,
  ) {}

  /**
   * Records an invalid record. In strict mode it is fatal: throws PHM_HASHSET_PARSE naming file and line.
   * At most 1000 problems are kept in `problems`; `invalid` counts them all.
   */
  problem(line: number, reason: string): void {
    this.invalid++;
    if (this.strict) {
      const message = `${this.file}:${line}: ${reason} (\`strict\` makes any invalid line fatal)`;
      throw new PhmatchError("PHM_HASHSET_PARSE", message, {
        path: this.file,
        optionNames: ["strict"],
      });
    }
    this.#keep(line, reason);
  }

  /** Records that the input ends inside a record or before its document closes (an invalid record too). */
  cutShort(line: number, reason: string): void {
    this.ending = "truncated";
    this.endingProblem = { line, reason };
    this.problem(line, reason);
  }

  /** Records an entry refused for its degenerate value (never fatal: the rest of the list is sound). */
  refuseDegenerate(line: number, algorithm: string, reason: string): void {
    this.degenerate++;
    this.#keep(line, `${algorithm} value refused, never listed: ${reason}`);
  }

  /** Records a listed video refused because none of its frames can match (never fatal: it is not malformed). */
  refuseEmptyVideo(line: number, entryId: string, reason: string): void {
    this.emptyVideos++;
    this.#keep(line, `listed video ${entryId} refused: ${reason}`);
  }

  /** Counts a name the reader did not recognise (and, in strict mode, fails like an invalid line). */
  unrecognisedName(line: number, name: string): void {
    this.unrecognised[name] = (this.unrecognised[name] ?? 0) + 1;
    this.problem(line, `unrecognised hash type "${name}"`);
  }

  /** Records refused, by reason: malformed (`invalid`, unrecognised names counted apart), `degenerate`. */
  get refused(): Record<string, number> {
    const unrecognised = Object.values(this.unrecognised).reduce((a, b) => a + b, 0);
    const refused: Record<string, number> = {};
    if (this.invalid - unrecognised > 0) refused.invalid = this.invalid - unrecognised;
    if (unrecognised > 0) refused.unrecognised = unrecognised;
    if (this.degenerate > 0) refused.degenerate = this.degenerate;
    if (this.lowQuality > 0) refused["low-quality"] = this.lowQuality;
    if (this.emptyVideos > 0) refused["empty-video"] = this.emptyVideos;
    return refused;
  }

  #keep(line: number, reason: string): void {
    if (this.problems.length < 1000) this.problems.push({ file: this.file, line, reason });
  }

  toJSON(): object {
    return {
      file: this.file,
      format: this.format,
      detectedBy: this.detectedBy,
      ...(this.source !== undefined && { sha256: this.source.sha256, bytes: this.source.bytes }),
      strict: this.strict,
      ending: this.ending,
      ...(this.endingProblem !== undefined && { endingProblem: this.endingProblem }),
      read: this.read,
      imported: this.imported,
      withdrawn: this.withdrawn,
      duplicate: this.duplicate,
      invalid: this.invalid,
      degenerate: this.degenerate,
      notComputable: this.notComputable,
      ...(this.videos + this.lowQuality + this.emptyVideos > 0 && {
        videos: this.videos,
        lowQuality: this.lowQuality,
        emptyVideos: this.emptyVideos,
      }),
      refused: this.refused,
      unrecognised: this.unrecognised,
      problems: this.problems,
    };
  }
}

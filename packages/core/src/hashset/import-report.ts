import { PhmatchError } from "../errors/index.js";

/** One input line (or element) that could not be imported, and why. */
export interface ImportProblem {
  file: string;
  /** 1-based line number (for XML/JSON: the line where the element or object starts). */
  line: number;
  reason: string;
}

/**
 * What an import did, so that nothing is dropped silently. Counts:
 * - `read`: records seen (entries and withdrawals, valid or not);
 * - `imported`: entries kept; `withdrawn`: withdrawals kept;
 * - `duplicate`: entries whose (algorithm, value) was already imported for the same list;
 * - `invalid`: records that could not be imported (each listed in `problems` with file, line and reason);
 * - `notComputable`: entries imported and carried although phmatch cannot compute them (PhotoDNA);
 * - `unrecognised`: names the reader did not map to an algorithm (e.g. pytx signal types), with counts.
 */
export class ImportReport {
  read = 0;
  imported = 0;
  withdrawn = 0;
  duplicate = 0;
  invalid = 0;
  notComputable = 0;
  readonly unrecognised: Record<string, number> = {};
  readonly problems: ImportProblem[] = [];
  /** Format the reader ran as, and how it was chosen ("--format", or what detection saw). */
  format = "";
  detectedBy = "";

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
      throw new PhmatchError("PHM_HASHSET_PARSE", `${this.file}:${line}: ${reason} (--strict makes any invalid line fatal)`, { path: this.file });
    }
    if (this.problems.length < 1000) this.problems.push({ file: this.file, line, reason });
  }

  /** Counts a name the reader did not recognise (and, in strict mode, fails like an invalid line). */
  unrecognisedName(line: number, name: string): void {
    this.unrecognised[name] = (this.unrecognised[name] ?? 0) + 1;
    this.problem(line, `unrecognised hash type "${name}"`);
  }

  toJSON(): object {
    return {
      file: this.file,
      format: this.format,
      detectedBy: this.detectedBy,
      read: this.read,
      imported: this.imported,
      withdrawn: this.withdrawn,
      duplicate: this.duplicate,
      invalid: this.invalid,
      notComputable: this.notComputable,
      unrecognised: this.unrecognised,
      problems: this.problems,
    };
  }
}

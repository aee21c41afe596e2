import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PhmatchError } from "../errors/index.js";
import { withLock, writeAtomically } from "../hashset/locked-file.js";
import type { Override } from "../hashset/overrides.js";

/**
 * A reviewer's verdict on a match: `confirm` (the entry is right about the upload) or `reject` (a false match).
 * `reviewer` is the name of the token that sent it (never a field the client fills in), `requestId` the gate's
 * request id as the reviewer gave it. No image bytes, no upload hash: the entry's own hashes only.
 */
export interface Verdict {
  verdict: "confirm" | "reject";
  list: string;
  /** The list's version loaded when the verdict was given. */
  listVersion: number;
  entry: string;
  /** The entry's hashes in that release (algorithm and hex value), so a proposal can name them. */
  hashes: { algorithm: string; hash: string }[];
  reviewer: string;
  requestId: string;
  reason: string;
  /** ISO 8601. */
  time: string;
}

/**
 * A local `disable` override proposed because distinct reviewers rejected an entry: one per hash of the entry,
 * naming the list, the entry and the release it was rejected in. `applied` once signed into the overrides file.
 */
export interface Proposal {
  action: "disable";
  list: string;
  listVersion: number;
  entry: string;
  algorithm: string;
  hash: string;
  /** Distinct reviewer tokens that rejected the entry when it was proposed. */
  rejects: number;
  time: string;
  applied?: { time: string; release?: number; signedBy?: string };
}

/**
 * The `disable` override a proposal asks for, as it is signed beside the list: the list, its release, the entry and
 * hash, who turned it into an override (`who`: `phmatch feedback apply`, `serve --auto-override`) and why.
 */
export function proposalOverride(p: Proposal, who: string): Override {
  return {
    action: "disable",
    algorithm: p.algorithm,
    hash: p.hash,
    listId: p.list,
    listVersion: p.listVersion,
    entryId: p.entry,
    who: `${who} (${p.rejects} distinct reviewers)`,
    when: new Date().toISOString(),
    why: `rejected by ${p.rejects} distinct reviewer tokens`,
  };
}

/** Why an entry is held: `rejections` (distinct reviewers rejected it) or `spread` (too many distinct clients). */
export interface QuarantineRecord {
  list: string;
  entry: string;
  cause: "rejections" | "spread";
  /** What was counted, e.g. "3 distinct reviewers" or "5 distinct clients in 3600 s". */
  detail: string;
  since: string;
}

/** What the state folder keeps: verdicts, proposals, quarantined entries. */
export interface FeedbackFile {
  version: 1;
  verdicts: Verdict[];
  proposals: Proposal[];
  quarantined: QuarantineRecord[];
}

/** What a verdict changed: the counts of its entry after it, and whether it proposed an override or a hold. */
export interface VerdictOutcome {
  confirms: number;
  rejects: number;
  /** Distinct reviewer tokens that rejected the entry (what the threshold counts). */
  rejectingReviewers: number;
  /** Proposals made by this verdict (the threshold was just reached). */
  proposed: Proposal[];
  /** Set when this verdict put the entry on hold. */
  quarantined?: QuarantineRecord;
}

/** Default of the distinct reviewer tokens whose rejections propose an override and hold the entry. */
export const DEFAULT_REJECT_THRESHOLD = 3;

const FILE = "feedback.json";
const key = (list: string, entry: string) => `${list}\0${entry}`;

/**
 * Reviewers' verdicts, the overrides they propose and the entries held for review, kept in one JSON file in a
 * state folder (`feedback.json`), so they survive a restart and are shared by the gate's replicas. Every change
 * is a read-modify-write under the file's lock, written atomically (a crash leaves the old file or the new one,
 * never half of one), as the overrides beside a list are.
 */
export class FeedbackState {
  readonly dir: string;
  readonly #file: string;

  constructor(dir: string) {
    this.dir = dir;
    this.#file = join(dir, FILE);
    mkdirSync(dir, { recursive: true });
  }

  /** The file as it is now (empty when there is none yet). */
  read(): FeedbackFile {
    let text: string;
    try {
      text = readFileSync(this.#file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT")
        return { version: 1, verdicts: [], proposals: [], quarantined: [] };
      throw new PhmatchError("PHM_FILE_UNREADABLE", `cannot read ${this.#file}: ${(error as Error).message}`, {
        path: this.#file,
        cause: error,
      });
    }
    return parseFeedbackFile(text, this.#file);
  }

  /**
   * Records a verdict. When it brings the distinct reviewer tokens rejecting its entry to `threshold`, a `disable`
   * proposal is made for each of the entry's hashes in that release, and the entry is held (`rejections`).
   */
  record(verdict: Verdict, threshold = DEFAULT_REJECT_THRESHOLD): VerdictOutcome {
    return this.#change((file) => {
      file.verdicts.push(verdict);
      const mine = file.verdicts.filter((v) => v.list === verdict.list && v.entry === verdict.entry);
      const confirms = mine.filter((v) => v.verdict === "confirm").length;
      const rejected = mine.filter((v) => v.verdict === "reject");
      // Distinct tokens in the release the verdict is about: rejections of an older release say nothing of a
      // newer one (the list's owner may have fixed the entry).
      const reviewers = new Set(rejected.filter((v) => v.listVersion === verdict.listVersion).map((v) => v.reviewer));
      const outcome: VerdictOutcome = {
        confirms,
        rejects: rejected.length,
        rejectingReviewers: reviewers.size,
        proposed: [],
      };
      if (verdict.verdict !== "reject" || reviewers.size < threshold) return outcome;
      const open = file.proposals.some(
        (p) => p.list === verdict.list && p.entry === verdict.entry && p.listVersion === verdict.listVersion,
      );
      if (!open) {
        for (const h of verdict.hashes) {
          const proposal: Proposal = {
            action: "disable",
            list: verdict.list,
            listVersion: verdict.listVersion,
            entry: verdict.entry,
            algorithm: h.algorithm,
            hash: h.hash,
            rejects: reviewers.size,
            time: verdict.time,
          };
          file.proposals.push(proposal);
          outcome.proposed.push(proposal);
        }
      }
      if (!file.quarantined.some((q) => q.list === verdict.list && q.entry === verdict.entry)) {
        const held: QuarantineRecord = {
          list: verdict.list,
          entry: verdict.entry,
          cause: "rejections",
          detail: `rejected by ${reviewers.size} distinct reviewers (threshold ${threshold})`,
          since: verdict.time,
        };
        file.quarantined.push(held);
        outcome.quarantined = held;
      }
      return outcome;
    });
  }

  /** Holds an entry (if it is not held already); returns the record when this call put it on hold. */
  quarantine(record: QuarantineRecord): QuarantineRecord | undefined {
    return this.#change((file) => {
      if (file.quarantined.some((q) => q.list === record.list && q.entry === record.entry)) return undefined;
      file.quarantined.push(record);
      return record;
    });
  }

  /** Releases a held entry; returns whether it was held. */
  release(list: string, entry: string): boolean {
    return this.#change((file) => {
      const before = file.quarantined.length;
      file.quarantined = file.quarantined.filter((q) => !(q.list === list && q.entry === entry));
      return file.quarantined.length !== before;
    });
  }

  /** Marks proposals applied (signed into the overrides file). */
  markApplied(applied: Proposal[], how: NonNullable<Proposal["applied"]>): void {
    this.#change((file) => {
      for (const p of file.proposals) {
        if (applied.some((a) => a.list === p.list && a.entry === p.entry && a.hash === p.hash && !p.applied))
          p.applied = how;
      }
    });
  }

  /** The held entries, keyed `list\0entry` (for the gate's lookups). */
  quarantinedKeys(): Map<string, QuarantineRecord> {
    return new Map(this.read().quarantined.map((q) => [key(q.list, q.entry), q] as const));
  }

  #change<T>(fn: (file: FeedbackFile) => T): T {
    return withLock(
      `${this.#file}.lock`,
      () => {
        const file = this.read();
        const result = fn(file);
        writeAtomically(this.#file, `${JSON.stringify(file)}\n`);
        return result;
      },
      { what: `the feedback state ${this.#file}` },
    );
  }
}

/** The key of an entry in {@link FeedbackState.quarantinedKeys}. */
export const entryKey = key;

// The state folder is the deployment's own, but a damaged or hand-edited file must not become a TypeError in the
// gate: its shape is checked, and a wrong one is refused naming the file.
function parseFeedbackFile(text: string, path: string): FeedbackFile {
  const wrong = (why: string) =>
    new PhmatchError(
      "PHM_USAGE",
      `${path} is not a phmatch feedback state (${why}): restore it from a backup, or move it away to start afresh`,
      { path },
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw wrong("not valid JSON");
  }
  const v = value as Partial<FeedbackFile> | null;
  if (typeof v !== "object" || v === null || v.version !== 1) throw wrong("no version 1");
  for (const field of ["verdicts", "proposals", "quarantined"] as const)
    if (!Array.isArray(v[field])) throw wrong(`"${field}" is not an array`);
  const texts = (o: unknown, fields: string[]) =>
    typeof o === "object" && o !== null && fields.every((f) => typeof (o as Record<string, unknown>)[f] === "string");
  if (!v.verdicts!.every((x) => texts(x, ["verdict", "list", "entry", "reviewer"]) && Array.isArray(x.hashes)))
    throw wrong("a verdict without verdict, list, entry, reviewer or hashes");
  if (!v.proposals!.every((x) => texts(x, ["list", "entry", "algorithm", "hash"])))
    throw wrong("a proposal without list, entry, algorithm or hash");
  if (!v.quarantined!.every((x) => texts(x, ["list", "entry", "cause"])))
    throw wrong("a held entry without list, entry or cause");
  return v as FeedbackFile;
}

import { createHash } from "node:crypto";
import type { AuditPosition } from "@phmatch/core";
import type { ReportedHit, ReportedMatch, ReviewFacts } from "./cybertip-report.js";
import type { ReportState } from "./cybertip-submit.js";

/**
 * The preservation record of a reported match: what was matched (list entries, releases, hashes, distances,
 * policies), when, where the match's decision sits in the audit log (seq and the SHA-256 of its line, which anyone
 * holding the log can check), what the platform stated (viewed, publicly available), and what became of the report
 * (built, submitted with its report id, retracted, left open). So the platform can show what it knew and when.
 * No image bytes, ever: only hashes and list provenance.
 */
export interface PreservationRecord {
  type: "cybertip-preservation";
  version: 1;
  createdAt: string;
  contentId: string;
  requestId?: string;
  /** When the match was decided, if its result said. */
  matchedAt?: string;
  matches: ReportedHit[];
  /** The list releases the hits came from. */
  lists: { listId: string; version: number }[];
  /** The policies that decided the hits. */
  policies: string[];
  hashes?: Record<string, string>;
  /** The match's decision record in the audit log; null when no log was given or it holds no such record. */
  decision: AuditPosition | null;
  viewedByEsp: boolean;
  publiclyAvailable: boolean;
  report: {
    state: "built" | "dry_run" | "submitted" | ReportState;
    reportId?: string;
    fileId?: string;
    /** The uploaded file's hashes, computed while it streamed (the file itself is not kept). */
    fileHashes?: { md5: string; sha256: string };
    error?: string;
  };
}

/** The record for a match and what became of its report. */
export function preservationRecord(
  match: ReportedMatch,
  contentId: string,
  facts: ReviewFacts,
  decision: AuditPosition | null,
  report: PreservationRecord["report"],
  now: Date = new Date(),
): PreservationRecord {
  const releases = new Map<string, { listId: string; version: number }>();
  for (const h of match.hits)
    releases.set(`${h.list}\u0000${h.listVersion}`, { listId: h.list, version: h.listVersion });
  return {
    type: "cybertip-preservation",
    version: 1,
    createdAt: now.toISOString(),
    contentId,
    ...(match.requestId !== undefined && { requestId: match.requestId }),
    ...(match.time !== undefined && { matchedAt: match.time }),
    matches: match.hits,
    lists: [...releases.values()],
    policies: [...new Set(match.hits.map((h) => h.policy))],
    ...(match.hashes !== undefined && { hashes: match.hashes }),
    decision,
    viewedByEsp: facts.viewed,
    publiclyAvailable: facts.publiclyAvailable,
    report,
  };
}

/** The fields of the `preservation` audit event for a record (the log adds seq, time, prev). */
export function preservationEvent(record: PreservationRecord): { type: "preservation"; [k: string]: unknown } {
  const { type: _type, version: _version, ...fields } = record;
  return { type: "preservation", ...fields };
}

const sha256 = (line: string) => createHash("sha256").update(line).digest("hex");

/**
 * Where the decision record of `requestId` sits in an audit log's text: the last `match` decision with that request
 * id (seq and the SHA-256 of its line, what the next record's `prev` holds). Undefined when the log holds none.
 */
export function findMatchDecision(logText: string, requestId: string): AuditPosition | undefined {
  let found: AuditPosition | undefined;
  for (const line of logText.split("\n")) {
    if (line === "" || !line.includes(requestId)) continue;
    let record: { seq?: unknown; type?: unknown; requestId?: unknown; decision?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      continue; // a damaged line: `phmatch audit verify` says so; it is not the record sought
    }
    if (
      record.type === "decision" &&
      record.requestId === requestId &&
      record.decision === "match" &&
      typeof record.seq === "number"
    )
      found = { seq: record.seq, sha256: sha256(line) };
  }
  return found;
}

/**
 * True when the log's record at `position.seq` is the line whose SHA-256 the position holds, and the record after
 * it (if any) chains to it: the preservation record points at that very record, unaltered.
 */
export function positionHolds(logText: string, position: AuditPosition): boolean {
  const lines = logText.split("\n").filter((l) => l !== "");
  const index = lines.findIndex((l) => {
    try {
      return (JSON.parse(l) as { seq?: unknown }).seq === position.seq;
    } catch {
      return false;
    }
  });
  if (index < 0) return false;
  const line = lines[index] as string;
  if (sha256(line) !== position.sha256) return false;
  const next = lines[index + 1];
  if (next === undefined) return true;
  try {
    return (JSON.parse(next) as { prev?: unknown }).prev === position.sha256;
  } catch {
    return false;
  }
}

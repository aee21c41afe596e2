import type { AuditLog, AuditPosition } from "@phmatch/core";
import { PhmatchError } from "@phmatch/core";
import { type PreservationRecord, preservationEvent, preservationRecord } from "./cybertip-preservation.js";
import { parseMatchResult, parsePlatformInputs, type ReportedMatch, reportXml } from "./cybertip-report.js";

/**
 * serve's POST /v1/report/cybertip (docs/commands/report.md, "cybertip"; the route's policy is in server.ts: full
 * tokens with the `report` scope): the CyberTipline report XML and the preservation record for a match the gate
 * answered (by its request id) or a match result in the body, with the platform's inputs. Nothing is submitted
 * from serve and no file bytes pass through it: submitting (which streams the file) is `phmatch report cybertip
 * --submit`.
 */

/** A match the gate answered, kept by request id so a report can name it and its audit position. */
export interface RecentMatch {
  matches: unknown[];
  time: string;
  /** The match's decision record in the gate's audit log, if it keeps one. */
  position: AuditPosition | undefined;
}

/** The last matches the gate answered, by request id, at most `max` (the oldest forgotten first). */
export class RecentMatches {
  readonly #entries = new Map<string, RecentMatch>();
  constructor(readonly max = DEFAULT_RECENT_MATCHES) {}

  remember(requestId: string, match: RecentMatch): void {
    this.#entries.set(requestId, match);
    if (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  get(requestId: string): RecentMatch | undefined {
    return this.#entries.get(requestId);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** How many matches the gate remembers for reports (each a few hundred bytes). */
export const DEFAULT_RECENT_MATCHES = 10_000;

/** Largest request body of the route (platform inputs and a match result are a few KiB). */
export const REPORT_BODY_LIMIT = 256 * 1024;

/** The route's answer: a body, or a refusal in the gate's shape. */
export type ReportRouteAnswer =
  | { status: 200; body: { report_xml: string; preservation: PreservationRecord; preservation_audit?: AuditPosition } }
  | { status: number; reason: string; message: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Builds the answer; every refusal is typed (REPORT_INPUT 400, MATCH_NOT_FOUND 404, REPORT_INVALID 422). */
export function cybertipRouteAnswer(
  body: unknown,
  recent: RecentMatches,
  audit: AuditLog | undefined,
): ReportRouteAnswer {
  const refuse = (status: number, reason: string, message: string) => ({ status, reason, message });
  if (!isObject(body)) return refuse(400, "REPORT_INPUT", "the body must be a JSON object");
  const known = Object.keys(body).filter((k) => !["request_id", "match", "platform", "viewed", "public"].includes(k));
  if (known.length > 0) return refuse(400, "REPORT_INPUT", `unknown fields: ${known.join(", ")}`);
  const missing = ["viewed", "public"].filter((k) => typeof body[k] !== "boolean");
  if (missing.length > 0)
    return refuse(
      400,
      "REPORT_INPUT",
      `${missing.join(" and ")} must be given as true or false, with no default: did the platform's staff view the ` +
        "file, was it publicly available",
    );
  const facts = { viewed: body.viewed as boolean, publiclyAvailable: body.public as boolean };
  if ((body.request_id === undefined) === (body.match === undefined))
    return refuse(
      400,
      "REPORT_INPUT",
      "give request_id (a match this gate answered) or match (a match result), not both",
    );
  try {
    const platform = parsePlatformInputs(body.platform, "platform");
    let match: ReportedMatch;
    let position: AuditPosition | undefined;
    if (body.request_id !== undefined) {
      const id = body.request_id;
      const remembered = typeof id === "string" ? recent.get(id) : undefined;
      if (remembered === undefined)
        return refuse(
          404,
          "MATCH_NOT_FOUND",
          `request_id is not one of the last ${recent.max} matches this gate answered: send the match result instead`,
        );
      match = parseMatchResult({ request_id: id, matches: remembered.matches, time: remembered.time }, "the match");
      position = remembered.position;
    } else {
      match = parseMatchResult(body.match, "match");
      if (match.requestId !== undefined) position = recent.get(match.requestId)?.position;
    }
    const xml = reportXml(match, platform);
    const record = preservationRecord(match, platform.contentId, facts, position ?? null, { state: "built" });
    const at = audit?.event(preservationEvent(record));
    return {
      status: 200,
      body: { report_xml: xml, preservation: record, ...(at !== undefined && { preservation_audit: at }) },
    };
  } catch (error) {
    if (!(error instanceof PhmatchError)) throw error;
    if (error.code === "PHM_USAGE") return refuse(400, "REPORT_INPUT", error.message);
    if (error.code === "PHM_REPORT_INVALID" || error.code === "PHM_REPORT_XML")
      return refuse(422, "REPORT_INVALID", error.message);
    throw error;
  }
}

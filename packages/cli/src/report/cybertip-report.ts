import { isIP } from "node:net";
import type { MatchHit } from "@phmatch/core";
import { CliError } from "../errors.js";
import { assertCybertipStructure, type CybertipDocument } from "./cybertip-schema.js";
import { el, parseXml, serializeXml, textEl, type XmlElement } from "./cybertip-xml.js";

/**
 * Building the CyberTipline report for a match (docs/commands/report.md, "cybertip"): the report document POSTed
 * to /submit and the file details document POSTed to /fileinfo, from a match result and what the platform supplies.
 * Every document is checked against the documented structure before it leaves this module; every string is
 * escaped by the serialiser. The report says which list entries matched ("matches list X, category Y"), never a
 * verdict about a person.
 */

/** One hit of a match result, as check/match/serve/rematch print it (the fields the report uses). */
export type ReportedHit = Pick<
  MatchHit,
  "list" | "listVersion" | "entryId" | "category" | "algorithm" | "distance" | "policy"
>;

/** The match being reported: its hits (overridden ones left out), and what else the result carried. */
export interface ReportedMatch {
  requestId?: string;
  hits: ReportedHit[];
  /** The upload's hashes by algorithm (hex), when the result carried them. */
  hashes?: Record<string, string>;
  /** When the match was decided, if the result says. */
  time?: string;
}

/** What the platform supplies (platform.json); every string is the platform's and is escaped. */
export interface PlatformInputs {
  reporter: { firstName: string; lastName: string; email: string; phone?: string };
  contact?: { firstName?: string; lastName?: string; email?: string; phone?: string };
  companyTemplate?: string;
  termsOfService?: string;
  legalURL?: string;
  /** The product or service where the upload happened (incidentSummary/platform, espService). */
  service?: string;
  /** When the incident happened (usually the upload time), ISO 8601 with a time zone. */
  incidentTime: string;
  uploader?: {
    id?: string;
    screenName?: string;
    displayName?: string;
    email?: string;
    profileUrl?: string;
  };
  /** The platform's own id of the uploaded content. */
  contentId: string;
  fileName?: string;
  originalFileName?: string;
  /** Where the file was (a URL on the platform). */
  locationOfFile?: string;
  upload?: { ip: string; time?: string; port?: number };
}

/** The two facts the platform must state, with no default (they decide what investigators may do with the file). */
export interface ReviewFacts {
  /** Did the platform's staff view the file? */
  viewed: boolean;
  /** Was the file available to the public? */
  publiclyAvailable: boolean;
}

/** Largest string taken from the platform's inputs. */
const MAX_TEXT = 4096;

/** The incident type of a list match: NCMEC's schema value (its words, fixed by the schema). */
export const LIST_MATCH_INCIDENT = "Child Pornography (possession, manufacture, and distribution)";

/** Parses `--viewed` / `--public` values: yes or no, nothing else. */
export function parseYesNo(value: string | undefined, flag: string): boolean {
  if (value === "yes") return true;
  if (value === "no") return false;
  throw new CliError("PHM_USAGE", `${flag} must be yes or no (got ${JSON.stringify(value)})`);
}

/** The review facts from the two flags, both required: missing ones are named. */
export function reviewFacts(viewed: string | undefined, pub: string | undefined): ReviewFacts {
  const missing = [viewed === undefined && "--viewed yes|no", pub === undefined && "--public yes|no"].filter(Boolean);
  if (missing.length > 0)
    throw new CliError(
      "PHM_USAGE",
      `${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} required, with no default: say whether the ` +
        "platform's staff viewed the file and whether it was publicly available (they decide what investigators " +
        "may do with it)",
    );
  return { viewed: parseYesNo(viewed, "--viewed"), publiclyAvailable: parseYesNo(pub, "--public") };
}

// --- reading the inputs -------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function text(obj: Json, key: string, where: string, required: true): string;
function text(obj: Json, key: string, where: string, required?: false): string | undefined;
function text(obj: Json, key: string, where: string, required = false): string | undefined {
  const value = obj[key];
  if (value === undefined) {
    if (required) throw new CliError("PHM_USAGE", `${where}.${key} is required`);
    return undefined;
  }
  if (typeof value !== "string" || value.trim() === "")
    throw new CliError("PHM_USAGE", `${where}.${key} must be a non-empty string`);
  if (value.length > MAX_TEXT) throw new CliError("PHM_USAGE", `${where}.${key} is longer than ${MAX_TEXT} characters`);
  return value;
}

function only(obj: Json, keys: readonly string[], where: string): void {
  const unknown = Object.keys(obj).filter((k) => !keys.includes(k));
  if (unknown.length > 0)
    throw new CliError("PHM_USAGE", `${where} has fields phmatch does not know: ${unknown.join(", ")} (a typo?)`);
}

// xs:dateTime with a zone; JavaScript's Date would take far more (and guess the zone).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function dateTime(obj: Json, key: string, where: string, required: boolean): string | undefined {
  const value = required ? text(obj, key, where, true) : text(obj, key, where);
  if (value !== undefined && (!DATE_TIME.test(value) || Number.isNaN(Date.parse(value))))
    throw new CliError("PHM_USAGE", `${where}.${key} must be an ISO 8601 date-time with a time zone (got ${value})`);
  return value;
}

function object(obj: Json, key: string, where: string): Json | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new CliError("PHM_USAGE", `${where}.${key} must be an object`);
  return value;
}

/** Reads platform.json's object (hostile until checked: unknown fields, wrong types, over-long strings refused). */
export function parsePlatformInputs(value: unknown, where = "platform"): PlatformInputs {
  if (!isObject(value)) throw new CliError("PHM_USAGE", `${where} must be a JSON object`);
  only(
    value,
    [
      "reporter",
      "contact",
      "companyTemplate",
      "termsOfService",
      "legalURL",
      "service",
      "incidentTime",
      "uploader",
      "contentId",
      "fileName",
      "originalFileName",
      "locationOfFile",
      "upload",
    ],
    where,
  );
  const reporterJson = object(value, "reporter", where);
  if (reporterJson === undefined) throw new CliError("PHM_USAGE", `${where}.reporter is required`);
  only(reporterJson, ["firstName", "lastName", "email", "phone"], `${where}.reporter`);
  const reporter: PlatformInputs["reporter"] = {
    firstName: text(reporterJson, "firstName", `${where}.reporter`, true),
    lastName: text(reporterJson, "lastName", `${where}.reporter`, true),
    email: text(reporterJson, "email", `${where}.reporter`, true),
  };
  const phone = text(reporterJson, "phone", `${where}.reporter`);
  if (phone !== undefined) reporter.phone = phone;
  const inputs: PlatformInputs = {
    reporter,
    incidentTime: dateTime(value, "incidentTime", where, true) as string,
    contentId: text(value, "contentId", where, true),
  };
  const contactJson = object(value, "contact", where);
  if (contactJson !== undefined) {
    only(contactJson, ["firstName", "lastName", "email", "phone"], `${where}.contact`);
    inputs.contact = {};
    for (const k of ["firstName", "lastName", "email", "phone"] as const) {
      const v = text(contactJson, k, `${where}.contact`);
      if (v !== undefined) inputs.contact[k] = v;
    }
  }
  for (const k of [
    "companyTemplate",
    "termsOfService",
    "legalURL",
    "service",
    "fileName",
    "originalFileName",
    "locationOfFile",
  ] as const) {
    const v = text(value, k, where);
    if (v !== undefined) inputs[k] = v;
  }
  const uploaderJson = object(value, "uploader", where);
  if (uploaderJson !== undefined) {
    only(uploaderJson, ["id", "screenName", "displayName", "email", "profileUrl"], `${where}.uploader`);
    inputs.uploader = {};
    for (const k of ["id", "screenName", "displayName", "email", "profileUrl"] as const) {
      const v = text(uploaderJson, k, `${where}.uploader`);
      if (v !== undefined) inputs.uploader[k] = v;
    }
  }
  const uploadJson = object(value, "upload", where);
  if (uploadJson !== undefined) {
    only(uploadJson, ["ip", "time", "port"], `${where}.upload`);
    const ip = text(uploadJson, "ip", `${where}.upload`, true);
    if (isIP(ip) === 0) throw new CliError("PHM_USAGE", `${where}.upload.ip is not an IPv4 or IPv6 address`);
    inputs.upload = { ip };
    const time = dateTime(uploadJson, "time", `${where}.upload`, false);
    if (time !== undefined) inputs.upload.time = time;
    const port = uploadJson.port;
    if (port !== undefined) {
      if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
        throw new CliError("PHM_USAGE", `${where}.upload.port must be a port number (1-65535)`);
      inputs.upload.port = port;
    }
  }
  return inputs;
}

const HEX = /^[0-9a-f]+$/i;

/**
 * Reads a match result (check/match/serve answer, a rematch or hook payload): its `matches` (overridden hits left
 * out: they did not make the file known), `request_id`, `hashes` and `time` when present. Refused when nothing
 * matched or the decision is not a match.
 */
export function parseMatchResult(value: unknown, where = "the match result"): ReportedMatch {
  if (!isObject(value)) throw new CliError("PHM_USAGE", `${where} must be a JSON object`);
  if (value.decision !== undefined && value.decision !== "match")
    throw new CliError("PHM_USAGE", `${where} is not a match (decision ${JSON.stringify(value.decision)})`);
  if (!Array.isArray(value.matches)) throw new CliError("PHM_USAGE", `${where} has no "matches" list`);
  const hits: ReportedHit[] = [];
  value.matches.forEach((m: unknown, i) => {
    const at = `${where}.matches[${i}]`;
    if (!isObject(m)) throw new CliError("PHM_USAGE", `${at} must be an object`);
    if (m.override !== undefined) return; // set aside by a local override: not a match
    const listVersion = m.listVersion;
    const distance = m.distance;
    if (typeof listVersion !== "number" || !Number.isInteger(listVersion) || listVersion < 0)
      throw new CliError("PHM_USAGE", `${at}.listVersion must be a non-negative integer`);
    if (typeof distance !== "number" || !Number.isFinite(distance) || distance < 0)
      throw new CliError("PHM_USAGE", `${at}.distance must be a non-negative number`);
    const hit: ReportedHit = {
      list: text(m, "list", at, true),
      listVersion,
      algorithm: text(m, "algorithm", at, true),
      distance,
      policy: text(m, "policy", at, true),
    };
    const entryId = text(m, "entryId", at);
    const category = text(m, "category", at);
    if (entryId !== undefined) hit.entryId = entryId;
    if (category !== undefined) hit.category = category;
    hits.push(hit);
  });
  if (hits.length === 0)
    throw new CliError("PHM_USAGE", `${where} holds no match to report (no hit, or all overridden)`);
  const match: ReportedMatch = { hits };
  const requestId = value.request_id ?? value.requestId;
  if (requestId !== undefined) {
    if (typeof requestId !== "string" || !/^[A-Za-z0-9._:-]{1,128}$/.test(requestId))
      throw new CliError("PHM_USAGE", `${where}.request_id is not a request id`);
    match.requestId = requestId;
  }
  if (value.hashes !== undefined) {
    if (!isObject(value.hashes)) throw new CliError("PHM_USAGE", `${where}.hashes must be an object`);
    const hashes: Record<string, string> = {};
    for (const [algorithm, hex] of Object.entries(value.hashes)) {
      if (!/^[a-z0-9_-]{1,32}$/.test(algorithm) || typeof hex !== "string" || !HEX.test(hex) || hex.length > 1024)
        throw new CliError("PHM_USAGE", `${where}.hashes.${algorithm} is not a hex hash`);
      hashes[algorithm] = hex.toLowerCase();
    }
    match.hashes = hashes;
  }
  if (typeof value.time === "string" && DATE_TIME.test(value.time)) match.time = value.time;
  return match;
}

// --- building the documents ---------------------------------------------------------------------------------------

/** One line per hit: which list entry matched, by which algorithm, how close, under which policy. */
export function describeHits(hits: readonly ReportedHit[]): string[] {
  return hits.map(
    (h) =>
      `matches list ${h.list} release ${h.listVersion}` +
      (h.entryId !== undefined ? `, entry ${h.entryId}` : "") +
      (h.category !== undefined ? `, category ${h.category}` : "") +
      `; ${h.algorithm} distance ${h.distance}, policy ${h.policy}`,
  );
}

function describeHashes(hashes: Record<string, string> | undefined): string | undefined {
  if (hashes === undefined || Object.keys(hashes).length === 0) return undefined;
  return `upload's hashes: ${Object.entries(hashes)
    .map(([a, h]) => `${a} ${h}`)
    .join("; ")}.`;
}

/** The report document (POST /submit). Checked against the structure before it is returned. */
export function buildReport(match: ReportedMatch, platform: PlatformInputs): XmlElement {
  const r = platform.reporter;
  const c = platform.contact;
  const u = platform.uploader;
  const upload = platform.upload;
  const additional = [
    `Reported by phmatch (perceptual-hash matching against hash lists of known child sexual abuse material). ` +
      `Content ${platform.contentId}: the file ${describeHits(match.hits).join(" | ")}.`,
    describeHashes(match.hashes),
    match.requestId !== undefined ? `phmatch request id ${match.requestId}.` : undefined,
  ]
    .filter((s) => s !== undefined)
    .join(" ");
  const report = el("report", [
    el("incidentSummary", [
      textEl("incidentType", LIST_MATCH_INCIDENT),
      textEl("platform", platform.service),
      textEl("incidentDateTime", platform.incidentTime),
    ]),
    el("internetDetails", [
      el("webPageIncident", [
        textEl("url", platform.locationOfFile),
        textEl("additionalInfo", `content id ${platform.contentId}`),
      ]),
    ]),
    el("reporter", [
      el("reportingPerson", [
        textEl("firstName", r.firstName),
        textEl("lastName", r.lastName),
        textEl("phone", r.phone),
        textEl("email", r.email),
      ]),
      c !== undefined &&
        el("contactPerson", [
          textEl("firstName", c.firstName),
          textEl("lastName", c.lastName),
          textEl("phone", c.phone),
          textEl("email", c.email),
        ]),
      textEl("companyTemplate", platform.companyTemplate),
      textEl("termsOfService", platform.termsOfService),
      textEl("legalURL", platform.legalURL),
    ]),
    (u !== undefined || upload !== undefined) &&
      el("personOrUserReported", [
        u?.email !== undefined && el("personOrUserReportedPerson", [textEl("email", u.email)]),
        textEl("espIdentifier", u?.id),
        textEl("espService", platform.service),
        textEl("screenName", u?.screenName),
        textEl("displayName", u?.displayName),
        textEl("profileUrl", u?.profileUrl),
        upload !== undefined && ipCapture(upload),
      ]),
    textEl("additionalInfo", additional),
  ]);
  assertCybertipStructure(report, "report", "the report built");
  return report;
}

function ipCapture(upload: NonNullable<PlatformInputs["upload"]>): XmlElement {
  return el("ipCaptureEvent", [
    textEl("ipAddress", upload.ip),
    textEl("eventName", "Upload"),
    textEl("dateTime", upload.time),
    textEl("port", upload.port),
  ]);
}

/** The file's own hashes, computed while it streamed to the server: `originalFileHash` elements. */
export interface FileHashes {
  md5: string;
  sha256: string;
}

/** The file details document (POST /fileinfo) for an uploaded file. Checked before it is returned. */
export function buildFileDetails(
  ids: { reportId: string; fileId: string },
  match: ReportedMatch,
  platform: PlatformInputs,
  facts: ReviewFacts,
  hashes: FileHashes | undefined,
): XmlElement {
  const upload = platform.upload;
  const details = el("fileDetails", [
    textEl("reportId", ids.reportId),
    textEl("fileId", ids.fileId),
    textEl("fileName", platform.fileName),
    textEl("originalFileName", platform.originalFileName),
    textEl("uploadedToEspTimestamp", upload?.time ?? platform.incidentTime),
    textEl("locationOfFile", platform.locationOfFile),
    textEl("fileViewedByEsp", facts.viewed),
    textEl("publiclyAvailable", facts.publiclyAvailable),
    hashes !== undefined && el("originalFileHash", [hashes.md5], { hashType: "MD5" }),
    hashes !== undefined && el("originalFileHash", [hashes.sha256], { hashType: "SHA256" }),
    upload !== undefined && ipCapture(upload),
    ...describeHits(match.hits).map((line) => textEl("additionalInfo", `phmatch: the file ${line}`)),
    textEl("additionalInfo", describeHashes(match.hashes)),
    textEl("additionalInfo", `content id ${platform.contentId}`),
  ]);
  assertCybertipStructure(details, "fileDetails", "the file details built");
  return details;
}

/**
 * A document as the text written or sent, checked once more as text: parsed back and checked against the
 * structure, so what leaves is what was checked (an escaping fault could not pass as a well-formed tree).
 */
export function checkedXml(root: XmlElement, expect: CybertipDocument, what: string): string {
  const xml = serializeXml(root);
  assertCybertipStructure(parseXml(xml, what), expect, what);
  return xml;
}

/** The report as the XML text sent and printed. */
export function reportXml(match: ReportedMatch, platform: PlatformInputs): string {
  return checkedXml(buildReport(match, platform), "report", "the report built");
}

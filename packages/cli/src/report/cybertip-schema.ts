import { CliError } from "../errors.js";
import { textOf, type XmlElement } from "./cybertip-xml.js";

/**
 * The element structure of the CyberTipline Reporting API's documents, written from NCMEC's public documentation
 * (https://report.cybertip.org/ispws/documentation) and the element order of a client generated from its XSD
 * (docs/reports/cybertip-structure.md says which facts come from where and which are assumptions). Not the XSD:
 * the subset phmatch writes is checked element by element (required, order, repeats, value forms, attributes);
 * the other parts the documentation names (law enforcement, victims, intended recipients, annotations, device
 * ids, addresses ...) are allowed at their place but not looked into.
 */

type Format = "string" | "boolean" | "dateTime" | "date" | "int" | "positiveInt" | { enum: readonly string[] };

interface Child {
  name: string;
  type: string;
  min: number;
  max: number;
}

interface TypeSpec {
  /** `seq`: children in this order; `choice`: exactly one of them; `text`: a value of the format; `any`: unchecked. */
  kind: "seq" | "choice" | "text" | "any";
  children?: Child[];
  format?: Format;
  attrs?: { name: string; required: boolean; format: Format }[];
}

const one = (name: string, type = "string"): Child => ({ name, type, min: 1, max: 1 });
const opt = (name: string, type = "string"): Child => ({ name, type, min: 0, max: 1 });
const many = (name: string, type = "string"): Child => ({ name, type, min: 0, max: Number.POSITIVE_INFINITY });
// A contact person's elements; a person (reporting, reported) has these and then age and date of birth.
const CONTACT: Child[] = [
  opt("firstName"),
  opt("lastName"),
  many("phone", "phone"),
  many("email", "email"),
  many("address", "any"),
];

/** The incident types the documentation enumerates (values fixed by NCMEC's schema, its words not ours). */
export const INCIDENT_TYPES = [
  "Child Pornography (possession, manufacture, and distribution)",
  "Child Sex Trafficking",
  "Child Sex Tourism",
  "Child Sexual Molestation",
  "Misleading Domain Name",
  "Misleading Words or Digital Images on the Internet",
  "Online Enticement of Children for Sexual Acts",
  "Unsolicited Obscene Material Sent to a Child",
] as const;

/** What an IP capture or device id was recorded at. */
export const CAPTURE_EVENTS = ["Login", "Registration", "Purchase", "Upload", "Other", "Unknown"] as const;

const TYPES: Record<string, TypeSpec> = {
  string: { kind: "text", format: "string" },
  boolean: { kind: "text", format: "boolean" },
  dateTime: { kind: "text", format: "dateTime" },
  date: { kind: "text", format: "date" },
  int: { kind: "text", format: "int" },
  positiveInt: { kind: "text", format: "positiveInt" },
  any: { kind: "any" },
  incidentType: { kind: "text", format: { enum: INCIDENT_TYPES } },
  captureEvent: { kind: "text", format: { enum: CAPTURE_EVENTS } },
  fileRelevance: { kind: "text", format: { enum: ["Reported", "Supplemental Reported"] } },
  industryClassification: { kind: "text", format: { enum: ["A1", "A2", "B1", "B2"] } },
  report: {
    kind: "seq",
    children: [
      opt("batchedReport", "any"),
      one("incidentSummary", "incidentSummary"),
      many("internetDetails", "internetDetails"),
      opt("lawEnforcement", "any"),
      one("reporter", "reporter"),
      opt("personOrUserReported", "personOrUserReported"),
      many("intendedRecipient", "any"),
      many("victim", "any"),
      opt("additionalInfo"),
    ],
  },
  incidentSummary: {
    kind: "seq",
    children: [
      one("incidentType", "incidentType"),
      opt("platform"),
      opt("escalateToHighPriority"),
      opt("reportAnnotations", "any"),
      one("incidentDateTime", "dateTime"),
      opt("incidentDateTimeDescription"),
    ],
  },
  internetDetails: {
    kind: "choice",
    children: [
      one("webPageIncident", "webPageIncident"),
      one("emailIncident", "any"),
      one("newsgroupIncident", "any"),
      one("chatImIncident", "any"),
      one("onlineGamingIncident", "any"),
      one("cellPhoneIncident", "any"),
      one("nonInternetIncident", "any"),
      one("peer2peerIncident", "any"),
    ],
  },
  webPageIncident: { kind: "seq", children: [many("url"), opt("additionalInfo")] },
  reporter: {
    kind: "seq",
    children: [
      one("reportingPerson", "person"),
      opt("contactPerson", "contactPerson"),
      opt("companyTemplate"),
      opt("termsOfService"),
      opt("legalURL"),
    ],
  },
  person: { kind: "seq", children: [...CONTACT, opt("age", "int"), opt("dateOfBirth", "date")] },
  contactPerson: { kind: "seq", children: CONTACT },
  email: {
    kind: "text",
    format: "string",
    attrs: [
      { name: "type", required: false, format: { enum: ["Home", "Work", "Business", "Recovery"] } },
      { name: "verified", required: false, format: "boolean" },
      { name: "verificationDate", required: false, format: "dateTime" },
    ],
  },
  phone: {
    kind: "text",
    format: "string",
    attrs: [
      {
        name: "type",
        required: false,
        format: { enum: ["Mobile", "Home", "Business", "Work", "Fax", "Internet", "Recovery"] },
      },
      { name: "verified", required: false, format: "boolean" },
      { name: "verificationDate", required: false, format: "dateTime" },
      { name: "countryCallingCode", required: false, format: "string" },
      { name: "extension", required: false, format: "string" },
    ],
  },
  personOrUserReported: {
    kind: "seq",
    children: [
      opt("personOrUserReportedPerson", "person"),
      opt("vehicleDescription"),
      opt("espIdentifier"),
      opt("espService"),
      opt("compromisedAccount", "boolean"),
      opt("screenName"),
      many("displayName"),
      many("profileUrl"),
      opt("profileBio"),
      many("ipCaptureEvent", "ipCaptureEvent"),
      many("deviceId", "any"),
      opt("thirdPartyUserReported", "boolean"),
      many("priorCTReports", "positiveInt"),
      opt("groupIdentifier"),
      opt("accountTemporarilyDisabled", "any"),
      opt("accountPermanentlyDisabled", "any"),
      opt("estimatedLocation", "any"),
      opt("allEmailsReported", "boolean"),
      many("associatedAccount", "any"),
      opt("additionalInfo"),
    ],
  },
  ipCaptureEvent: {
    kind: "seq",
    children: [
      one("ipAddress"),
      opt("eventName", "captureEvent"),
      opt("dateTime", "dateTime"),
      opt("possibleProxy", "boolean"),
      opt("port", "int"),
    ],
  },
  fileDetails: {
    kind: "seq",
    children: [
      one("reportId", "positiveInt"),
      one("fileId"),
      opt("fileName"),
      opt("originalFileName"),
      opt("uploadedToEspTimestamp", "dateTime"),
      opt("locationOfFile"),
      opt("fileViewedByEsp", "boolean"),
      opt("exifViewedByEsp", "boolean"),
      opt("publiclyAvailable", "boolean"),
      opt("fileRelevance", "fileRelevance"),
      opt("potentialMeme", "boolean"),
      opt("fileAnnotations", "any"),
      opt("industryClassification", "industryClassification"),
      many("originalFileHash", "hash"),
      opt("ipCaptureEvent", "ipCaptureEvent"),
      many("deviceId", "any"),
      many("details", "any"),
      many("additionalInfo"),
    ],
  },
  hash: { kind: "text", format: "string", attrs: [{ name: "hashType", required: true, format: "string" }] },
  reportResponse: {
    kind: "seq",
    children: [
      opt("responseCode", "int"),
      opt("responseDescription"),
      opt("reportId", "positiveInt"),
      opt("fileId"),
      opt("hash"),
    ],
  },
  reportDoneResponse: {
    kind: "seq",
    children: [opt("responseCode", "int"), opt("reportId", "positiveInt"), opt("files", "files"), many("fileId")],
  },
  files: { kind: "seq", children: [many("fileId")] },
};

/** The documents phmatch checks, by root element. */
export type CybertipDocument = "report" | "fileDetails" | "reportResponse" | "reportDoneResponse";
const ROOTS: readonly string[] = ["report", "fileDetails", "reportResponse", "reportDoneResponse"];

/** One problem, with the element path it shows at. */
export interface StructureProblem {
  path: string;
  problem: string;
}

/**
 * Checks a document against the structure above. `expect` names the root it must have (any of the four when
 * undefined). Returns every problem found; an empty list means the document follows the structure.
 */
export function checkCybertipStructure(root: XmlElement, expect?: CybertipDocument): StructureProblem[] {
  const problems: StructureProblem[] = [];
  if (expect !== undefined ? root.name !== expect : !ROOTS.includes(root.name)) {
    const wanted = expect ?? ROOTS.join(", ");
    return [{ path: `/${root.name}`, problem: `the root element must be ${wanted}` }];
  }
  checkNode(root, root.name, `/${root.name}`, problems);
  return problems;
}

/** Throws PHM_REPORT_INVALID listing the problems unless the document follows the structure. */
export function assertCybertipStructure(root: XmlElement, expect: CybertipDocument | undefined, what: string): void {
  const problems = checkCybertipStructure(root, expect);
  if (problems.length === 0) return;
  const listed = problems
    .slice(0, 10)
    .map((p) => `${p.path}: ${p.problem}`)
    .join("; ");
  const more = problems.length > 10 ? `; and ${problems.length - 10} more` : "";
  throw new CliError("PHM_REPORT_INVALID", `${what} does not follow the CyberTipline structure: ${listed}${more}`);
}

function checkNode(node: XmlElement, typeName: string, path: string, problems: StructureProblem[]): void {
  const spec = TYPES[typeName];
  if (spec === undefined) throw new CliError("PHM_INTERNAL", `no CyberTipline type ${typeName}`);
  if (spec.kind === "any") return;
  const declared = spec.attrs ?? [];
  for (const [name, value] of Object.entries(node.attrs ?? {})) {
    const attr = declared.find((a) => a.name === name);
    if (attr === undefined) problems.push({ path, problem: `has an attribute ${name} the structure does not name` });
    else {
      const wrong = formatProblem(value, attr.format);
      if (wrong !== undefined) problems.push({ path: `${path}/@${name}`, problem: wrong });
    }
  }
  for (const attr of declared)
    if (attr.required && node.attrs?.[attr.name] === undefined)
      problems.push({ path, problem: `lacks the required attribute ${attr.name}` });
  if (spec.kind === "text") {
    const text = textOf(node);
    if (text === undefined) return void problems.push({ path, problem: "must hold a value, not elements" });
    const wrong = formatProblem(text, spec.format ?? "string");
    if (wrong !== undefined) problems.push({ path, problem: wrong });
    return;
  }
  const children = node.children;
  if (children.some((c) => typeof c === "string"))
    return void problems.push({ path, problem: "must hold elements, not text" });
  const elements = children as XmlElement[];
  const specs = spec.children ?? [];
  if (spec.kind === "choice") {
    if (elements.length !== 1)
      return void problems.push({
        path,
        problem: `must hold exactly one of ${specs.map((s) => s.name).join(", ")} (holds ${elements.length})`,
      });
    const only = elements[0] as XmlElement;
    const child = specs.find((s) => s.name === only.name);
    if (child === undefined) return void problems.push({ path, problem: `cannot hold ${only.name}` });
    checkNode(only, child.type, `${path}/${only.name}`, problems);
    return;
  }
  // A sequence: walk the children and the spec together; each child must be the current spec element (repeated up
  // to its max) or a later one, every skipped spec element must be optional.
  let at = 0;
  let count = 0;
  elements.forEach((child, i) => {
    const childPath = `${path}/${child.name}[${i + 1}]`;
    let found = at;
    while (found < specs.length && specs[found]?.name !== child.name) found++;
    if (found === specs.length) {
      const earlier = specs.findIndex((s) => s.name === child.name);
      problems.push({
        path: childPath,
        problem:
          earlier < 0
            ? `is not an element of ${node.name}`
            : `is out of order: ${child.name} must come before ${specs[at]?.name ?? "the elements before it"}`,
      });
      return;
    }
    if (found !== at) {
      // The spec elements skipped over must have been present often enough.
      for (let k = at; k < found; k++) {
        const seen = k === at ? count : 0;
        const skipped = specs[k] as Child;
        if (seen < skipped.min) problems.push({ path, problem: `lacks ${skipped.name} before ${child.name}` });
      }
      at = found;
      count = 0;
    }
    const current = specs[at] as Child;
    count++;
    if (count > current.max)
      problems.push({ path: childPath, problem: `${child.name} may appear ${current.max} time(s)` });
    checkNode(child, current.type, childPath, problems);
  });
  for (let k = at; k < specs.length; k++) {
    const seen = k === at ? count : 0;
    const rest = specs[k] as Child;
    if (seen < rest.min) problems.push({ path, problem: `lacks the required element ${rest.name}` });
  }
}

// xs:dateTime with a time zone (an incident time without one is ambiguous by hours: phmatch always writes one).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function formatProblem(value: string, format: Format): string | undefined {
  if (typeof format === "object")
    return format.enum.includes(value) ? undefined : `"${clip(value)}" is not one of: ${format.enum.join(" | ")}`;
  switch (format) {
    case "string":
      return undefined;
    case "boolean":
      return ["true", "false", "1", "0"].includes(value) ? undefined : `"${clip(value)}" is not a boolean`;
    case "int":
      return /^-?\d{1,18}$/.test(value) ? undefined : `"${clip(value)}" is not an integer`;
    case "positiveInt":
      return /^[1-9]\d{0,17}$/.test(value) ? undefined : `"${clip(value)}" is not a positive integer`;
    case "date":
      return DATE.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : `"${clip(value)}" is not a date`;
    case "dateTime":
      return DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))
        ? undefined
        : `"${clip(value)}" is not a date-time with a time zone (2026-12-05T10:00:00Z)`;
  }
}

const clip = (value: string) => (value.length > 60 ? `${value.slice(0, 60)}...` : value);

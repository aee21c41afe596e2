import { createReadStream, existsSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { AuditLog, type AuditPosition } from "@phmatch/core";
import { readText } from "../commands/hashset/options.js";
import { CliError } from "../errors.js";
import {
  findMatchDecision,
  type PreservationRecord,
  preservationEvent,
  preservationRecord,
} from "./cybertip-preservation.js";
import {
  buildFileDetails,
  checkedXml,
  parseMatchResult,
  parsePlatformInputs,
  reportXml,
  reviewFacts,
} from "./cybertip-report.js";
import { assertCybertipStructure } from "./cybertip-schema.js";
import {
  CREDENTIAL_ENV,
  describeSequence,
  parseBaseUrl,
  ReportSubmitError,
  readCredentials,
  submitReport,
} from "./cybertip-submit.js";
import { parseXml } from "./cybertip-xml.js";

/** Options of `phmatch report cybertip`, as commander gives them. */
export interface CybertipCommandOptions {
  match?: string;
  platform?: string;
  viewed?: string;
  public?: string;
  out?: string;
  check?: string;
  submit?: string;
  file?: string;
  credentials?: string;
  dryRun: boolean;
  preservation?: string;
  auditLog?: string;
  auditKey?: string;
  timeoutMs?: number;
}

// stdin as text, at most 1 MiB (a match result or a report is a few KiB).
async function readStdin(option: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > 1024 * 1024) throw new CliError("PHM_USAGE", `${option} -: stdin holds more than 1 MiB`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function readJson(file: string, option: string): Promise<unknown> {
  const text = file === "-" ? await readStdin(option) : readText(file, option);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError("PHM_USAGE", `${option} ${file}: not JSON (${(error as Error).message})`);
  }
}

/** `phmatch report cybertip`: build (and check, and optionally submit) the CyberTipline report for a match. */
export async function runCybertip(options: CybertipCommandOptions): Promise<void> {
  if (options.check !== undefined) {
    const text = options.check === "-" ? await readStdin("--check") : readText(options.check, "--check");
    const root = parseXml(text, options.check);
    assertCybertipStructure(root, undefined, options.check);
    process.stdout.write(`${options.check}: OK, a ${root.name} document in the documented structure\n`);
    return;
  }
  // The two facts first: without them nothing is built.
  const facts = reviewFacts(options.viewed, options.public);
  if (options.match === undefined || options.platform === undefined)
    throw new CliError("PHM_USAGE", "--match FILE and --platform FILE are required (or --check FILE)");
  if (options.match === "-" && options.file === "-")
    throw new CliError("PHM_USAGE", "--match - and --file - cannot both read stdin");
  // An earlier preservation record is never overwritten: refused before anything is built or sent.
  if (options.preservation !== undefined && existsSync(options.preservation))
    throw new CliError(
      "PHM_USAGE",
      `--preservation ${options.preservation} exists (an earlier record is never overwritten)`,
    );
  const match = parseMatchResult(await readJson(options.match, "--match"), `--match ${options.match}`);
  const platform = parsePlatformInputs(
    await readJson(options.platform, "--platform"),
    `--platform ${options.platform}`,
  );
  const xml = reportXml(match, platform);

  // Where the match's decision sits in the audit log, found by its request id.
  let decision: AuditPosition | null = null;
  if (options.auditLog !== undefined) {
    if (match.requestId === undefined)
      process.stderr.write("phmatch report cybertip: the match result has no request_id: no audit position\n");
    else {
      decision = findMatchDecision(readText(options.auditLog, "--audit-log"), match.requestId) ?? null;
      if (decision === null)
        process.stderr.write(
          `phmatch report cybertip: ${options.auditLog} holds no match decision for request ${match.requestId}\n`,
        );
    }
  }

  if (options.submit === undefined) {
    if (options.dryRun) throw new CliError("PHM_USAGE", "--dry-run shows the --submit sequence: give --submit URL");
    if (options.out !== undefined) writeFileSync(options.out, xml);
    else process.stdout.write(xml);
    preserve(options, preservationRecord(match, platform.contentId, facts, decision, { state: "built" }));
    return;
  }

  const base = parseBaseUrl(options.submit);
  if (options.file === undefined)
    throw new CliError("PHM_USAGE", "--submit needs --file PATH (or --file - for stdin): the file to upload");
  const fileFrom = options.file === "-" ? "stdin" : options.file;
  const detailsFor = (ids: { reportId: string; fileId: string }, hashes: { md5: string; sha256: string } | undefined) =>
    checkedXml(buildFileDetails(ids, match, platform, facts, hashes), "fileDetails", "the file details built");
  if (options.dryRun) {
    // The ids and hashes come from the server and the stream: stand-ins, checked like real values, then named.
    const shown = detailsFor({ reportId: "1", fileId: "FILE-ID" }, { md5: "0".repeat(32), sha256: "0".repeat(64) })
      .replace("<reportId>1</reportId>", "<reportId>{reportId from /submit}</reportId>")
      .replace("<fileId>FILE-ID</fileId>", "<fileId>{fileId from /upload}</fileId>")
      .replace(`>${"0".repeat(32)}<`, ">{MD5 of the bytes streamed}<")
      .replace(`>${"0".repeat(64)}<`, ">{SHA-256 of the bytes streamed}<");
    process.stdout.write(
      describeSequence({
        base,
        reportXml: xml,
        fileDetailsXml: shown,
        fileFrom,
        credentialsFrom:
          options.credentials !== undefined
            ? `--credentials ${options.credentials}`
            : `${CREDENTIAL_ENV.username}/${CREDENTIAL_ENV.password}`,
      }),
    );
    return;
  }
  const credentials = readCredentials(options.credentials);
  const path = options.file;
  const file = {
    name: path === "-" ? (platform.fileName ?? "upload") : (platform.fileName ?? basename(path)),
    open: () => (path === "-" ? process.stdin : createReadStream(path)),
  };
  try {
    const result = await submitReport({
      base,
      credentials,
      reportXml: xml,
      fileDetailsXml: (ids, hashes) => detailsFor(ids, hashes),
      file,
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      progress: (line) => process.stderr.write(`phmatch report cybertip: ${line}\n`),
    });
    const record = preservationRecord(match, platform.contentId, facts, decision, {
      state: "submitted",
      reportId: result.reportId,
      fileId: result.fileId,
      fileHashes: result.hashes,
    });
    // The report id first: it must reach the platform even if keeping the record then fails.
    process.stdout.write(`${JSON.stringify({ reportId: result.reportId, fileId: result.fileId, ...result.hashes })}\n`);
    preserve(options, record);
  } catch (error) {
    if (error instanceof ReportSubmitError) {
      try {
        preserve(
          options,
          preservationRecord(match, platform.contentId, facts, decision, {
            state: error.state,
            ...(error.reportId !== undefined && { reportId: error.reportId }),
            error: error.message,
          }),
        );
      } catch (keeping) {
        // The submit failure is what the platform must see; the record's own failure is said beside it.
        process.stderr.write(
          `phmatch report cybertip: the preservation record was not kept: ${(keeping as Error).message}\n`,
        );
      }
    }
    throw error;
  }
}

// The record as JSON beside the report (never overwriting an earlier one) and as an audit event.
function preserve(options: CybertipCommandOptions, record: PreservationRecord): void {
  if (options.preservation !== undefined) {
    try {
      writeFileSync(options.preservation, `${JSON.stringify(record, null, 2)}\n`, { flag: "wx" });
    } catch (error) {
      throw new CliError(
        "PHM_USAGE",
        `--preservation ${options.preservation}: ${(error as Error).message} (an earlier record is never overwritten)`,
      );
    }
  }
  if (options.auditLog !== undefined) {
    const audit = AuditLog.open(options.auditLog, {
      ...(options.auditKey !== undefined && { signingKeyPem: readText(options.auditKey, "--audit-key") }),
    });
    try {
      const at = audit.event(preservationEvent(record));
      process.stderr.write(`phmatch report cybertip: preservation record at audit seq ${at.seq} (${at.sha256})\n`);
    } finally {
      audit.close();
    }
  }
}

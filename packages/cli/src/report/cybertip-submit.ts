import { createHash, randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Readable } from "node:stream";
import { CliError } from "../errors.js";
import { assertCybertipStructure, type CybertipDocument } from "./cybertip-schema.js";
import { childrenNamed, parseXml, textOf, type XmlElement } from "./cybertip-xml.js";

/**
 * The CyberTipline submit sequence (docs/commands/report.md, "cybertip"; written from NCMEC's public documentation,
 * https://report.cybertip.org/ispws/documentation, untested against NCMEC's own test environment):
 *
 *   POST {base}/submit    the report XML                      -> reportResponse: responseCode 0, reportId
 *   POST {base}/upload    multipart: id=reportId, file=bytes   -> reportResponse: fileId (and the server's MD5)
 *   POST {base}/fileinfo  the file details XML                 -> reportResponse: responseCode 0
 *   POST {base}/finish    form: id=reportId                    -> reportDoneResponse: responseCode 0, files
 *   POST {base}/retract   form: id=reportId (after any failure once the report is open)
 *
 * Every call carries HTTP Basic credentials. The file is streamed from where the platform gives it (a path or
 * stdin) straight into the upload request, hashed (MD5, SHA-256) on the way; nothing of it is kept.
 */

/** Username and password NCMEC issued; never on the command line. */
export interface CybertipCredentials {
  username: string;
  password: string;
}

/** Environment variables holding the credentials (else --credentials FILE). */
export const CREDENTIAL_ENV = { username: "PHMATCH_CYBERTIP_USERNAME", password: "PHMATCH_CYBERTIP_PASSWORD" };

/**
 * The credentials: from a JSON file `{"username": ..., "password": ...}` that only its owner may read, or from the
 * two environment variables. Refused when neither, or both halves are not there.
 */
export function readCredentials(file: string | undefined, env: NodeJS.ProcessEnv = process.env): CybertipCredentials {
  if (file !== undefined) {
    let mode: number;
    let parsed: unknown;
    try {
      mode = statSync(file).mode;
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new CliError("PHM_USAGE", `--credentials ${file}: ${(error as Error).message}`);
    }
    if (process.platform !== "win32" && (mode & 0o077) !== 0)
      throw new CliError(
        "PHM_USAGE",
        `--credentials ${file} can be read by other users (mode ${(mode & 0o777).toString(8)}): chmod 600 it`,
      );
    const c = parsed as { username?: unknown; password?: unknown };
    if (typeof c?.username !== "string" || c.username === "" || typeof c.password !== "string" || c.password === "")
      throw new CliError("PHM_USAGE", `--credentials ${file} must be {"username": "...", "password": "..."}`);
    return { username: c.username, password: c.password };
  }
  const username = env[CREDENTIAL_ENV.username];
  const password = env[CREDENTIAL_ENV.password];
  if (username === undefined || username === "" || password === undefined || password === "")
    throw new CliError(
      "PHM_USAGE",
      `no CyberTipline credentials: set ${CREDENTIAL_ENV.username} and ${CREDENTIAL_ENV.password}, or give ` +
        "--credentials FILE (never on the command line)",
    );
  return { username, password };
}

const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

/**
 * The base URL (`https://report.cybertip.org/ispws`, or the test environment's): https, or http to loopback only
 * (a local test server); no credentials or query in it.
 */
export function parseBaseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError("PHM_USAGE", `--submit ${JSON.stringify(value)} is not a URL`);
  }
  if (url.username !== "" || url.password !== "")
    throw new CliError("PHM_USAGE", "--submit must not hold credentials: use the environment or --credentials FILE");
  if (url.search !== "" || url.hash !== "") throw new CliError("PHM_USAGE", "--submit takes no query or fragment");
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname)))
    throw new CliError(
      "PHM_USAGE",
      `--submit ${url.origin} is not https: the credentials and the file would cross the network in the clear ` +
        "(plain http is allowed to loopback only, for a local test server)",
    );
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

/** Where the report stands after a failure: never opened, retracted, or still open at NCMEC (retract failed). */
export type ReportState = "not_opened" | "retracted" | "open";

/** The submit sequence failed: which step, why, and the report's id and state. */
export class ReportSubmitError extends CliError {
  constructor(
    readonly step: string,
    readonly reportId: string | undefined,
    readonly state: ReportState,
    reason: string,
  ) {
    const where =
      reportId === undefined
        ? "no report was opened"
        : state === "retracted"
          ? `report ${reportId} was retracted`
          : `report ${reportId} is still OPEN at NCMEC (the retract failed): retract or finish it by hand`;
    super("PHM_REPORT_SUBMIT", `CyberTipline ${step} failed: ${reason}; ${where}`);
    this.name = "ReportSubmitError";
  }
}

/** The file to upload: a name for the multipart part, and its bytes as a stream opened only when they are sent. */
export interface UploadSource {
  name: string;
  open: () => Readable;
}

/** What a finished submission gives back. */
export interface SubmitResult {
  reportId: string;
  fileId: string;
  hashes: { md5: string; sha256: string };
  bytes: number;
}

/** Options of {@link submitReport}. */
export interface SubmitOptions {
  base: URL;
  credentials: CybertipCredentials;
  reportXml: string;
  /** The checked file details document for the ids the server gave and the hashes computed while streaming. */
  fileDetailsXml: (ids: { reportId: string; fileId: string }, hashes: { md5: string; sha256: string }) => string;
  file: UploadSource;
  /** Per request, in ms (default 120,000). */
  timeoutMs?: number;
  /** Progress, one line per step (stderr in the CLI); never credentials or file bytes. */
  progress?: (line: string) => void;
}

const MAX_ANSWER_BYTES = 256 * 1024;

/** Runs the sequence; on any failure after /submit, retracts and throws {@link ReportSubmitError}. */
export async function submitReport(options: SubmitOptions): Promise<SubmitResult> {
  const say = options.progress ?? (() => undefined);
  const call = (path: string, type: string, body: string | ((sink: NodeJS.WritableStream) => Promise<void>)) =>
    post(options.base, path, options.credentials, type, body, options.timeoutMs ?? 120_000);
  let reportId: string | undefined;
  let step = "submit";
  try {
    const submitted = await answerOf(await call("submit", "text/xml; charset=utf-8", options.reportXml), "submit");
    reportId = required(submitted, "reportId", "submit");
    say(`submit: report ${reportId} opened`);
    step = "upload";
    const boundary = `phmatch-${randomBytes(16).toString("hex")}`;
    const md5 = createHash("md5");
    const sha256 = createHash("sha256");
    let bytes = 0;
    const id = reportId;
    const uploaded = await answerOf(
      await call("upload", `multipart/form-data; boundary=${boundary}`, async (sink) => {
        await write(
          sink,
          `--${boundary}\r\nContent-Disposition: form-data; name="id"\r\n\r\n${id}\r\n` +
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${partName(options.file.name)}"` +
            "\r\nContent-Type: application/octet-stream\r\n\r\n",
        );
        for await (const chunk of options.file.open()) {
          const buffer = chunk as Buffer;
          md5.update(buffer);
          sha256.update(buffer);
          bytes += buffer.length;
          await write(sink, buffer);
        }
        if (bytes === 0) throw new Error("the file to upload is empty (0 bytes)");
        await write(sink, `\r\n--${boundary}--\r\n`);
      }),
      "upload",
    );
    const fileId = required(uploaded, "fileId", "upload");
    const hashes = { md5: md5.digest("hex"), sha256: sha256.digest("hex") };
    const serverHash = text(uploaded, "hash");
    if (serverHash !== undefined && serverHash.toLowerCase() !== hashes.md5)
      throw new Error(`the server received other bytes (its MD5 ${serverHash}, sent ${hashes.md5})`);
    say(`upload: file ${fileId}, ${bytes} bytes, MD5 ${hashes.md5}, SHA-256 ${hashes.sha256}`);
    step = "fileinfo";
    await answerOf(
      await call("fileinfo", "text/xml; charset=utf-8", options.fileDetailsXml({ reportId, fileId }, hashes)),
      "fileinfo",
    );
    say("fileinfo: file details accepted");
    step = "finish";
    const done = await answerOf(
      await call("finish", "application/x-www-form-urlencoded", `id=${encodeURIComponent(reportId)}`),
      "finish",
      "reportDoneResponse",
    );
    const listed = [
      ...childrenNamed(done, "fileId"),
      ...childrenNamed(done, "files").flatMap((f) => childrenNamed(f, "fileId")),
    ].map(textOf);
    if (listed.length > 0 && !listed.includes(fileId))
      throw new Error(`the finished report does not list the uploaded file ${fileId}`);
    say(`finish: report ${reportId} submitted`);
    return { reportId, fileId, hashes, bytes };
  } catch (error) {
    const reason = error instanceof CliError || error instanceof Error ? error.message : String(error);
    if (reportId === undefined) throw new ReportSubmitError(step, undefined, "not_opened", reason);
    try {
      await answerOf(
        await call("retract", "application/x-www-form-urlencoded", `id=${encodeURIComponent(reportId)}`),
        "retract",
      );
    } catch (retractError) {
      throw new ReportSubmitError(step, reportId, "open", `${reason} (retract: ${(retractError as Error).message})`);
    }
    throw new ReportSubmitError(step, reportId, "retracted", reason);
  }
}

// A part's filename: the platform's name, in characters no header can be broken out of.
function partName(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100);
  return safe === "" ? "file" : safe;
}

function text(node: XmlElement, name: string): string | undefined {
  const found = childrenNamed(node, name)[0];
  return found === undefined ? undefined : textOf(found);
}

function required(node: XmlElement, name: string, step: string): string {
  const value = text(node, name);
  if (value === undefined || value === "") throw new Error(`the ${step} answer holds no ${name}`);
  return value;
}

interface Answer {
  status: number;
  body: string;
}

// The server's answer, parsed and checked; a non-zero responseCode or a non-2xx status is an error with the
// server's own description (clipped: it is the server's text).
async function answerOf(answer: Answer, step: string, root: CybertipDocument = "reportResponse"): Promise<XmlElement> {
  if (answer.status === 401 || answer.status === 403)
    throw new Error(`the server refused the credentials (HTTP ${answer.status})`);
  let doc: XmlElement;
  try {
    doc = parseXml(answer.body, `the ${step} answer`);
    assertCybertipStructure(doc, root, `the ${step} answer`);
  } catch (error) {
    if (answer.status < 200 || answer.status > 299) throw new Error(`HTTP ${answer.status}`);
    throw error;
  }
  const code = text(doc, "responseCode");
  if (answer.status < 200 || answer.status > 299 || code !== "0") {
    const description = (text(doc, "responseDescription") ?? "").slice(0, 200);
    throw new Error(`HTTP ${answer.status}, responseCode ${code ?? "missing"}${description ? `: ${description}` : ""}`);
  }
  return doc;
}

async function write(sink: NodeJS.WritableStream, chunk: string | Buffer): Promise<void> {
  if (sink.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      sink.off("error", onError);
      resolve();
    };
    const onError = (e: Error) => {
      sink.off("drain", onDrain);
      reject(e);
    };
    sink.once("drain", onDrain);
    sink.once("error", onError);
  });
}

function post(
  base: URL,
  path: string,
  credentials: CybertipCredentials,
  type: string,
  body: string | ((sink: NodeJS.WritableStream) => Promise<void>),
  timeoutMs: number,
): Promise<Answer> {
  const url = new URL(path, base);
  const auth = Buffer.from(`${credentials.username}:${credentials.password}`, "utf8").toString("base64");
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<Answer>((resolve, reject) => {
    let settled = false;
    const finish = (error: Error | undefined, answer?: Answer) => {
      if (settled) return;
      settled = true;
      if (error !== undefined) reject(error);
      else resolve(answer as Answer);
    };
    const req = send(url, {
      method: "POST",
      headers: {
        authorization: `Basic ${auth}`,
        "content-type": type,
        accept: "application/xml, text/xml",
        ...(typeof body === "string" && { "content-length": Buffer.byteLength(body) }),
      },
      timeout: timeoutMs,
      // One connection per call, closed after it: nothing left open to keep the process alive or reuse later.
      agent: false,
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e) => finish(new Error(`${url.pathname}: ${e.message}`)));
    req.on("response", (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          res.destroy();
          return finish(new Error(`the answer to ${url.pathname} is larger than ${MAX_ANSWER_BYTES} bytes`));
        }
        chunks.push(chunk);
      });
      res.on("end", () =>
        finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", (e) => finish(e));
    });
    if (typeof body === "string") req.end(body);
    else
      body(req).then(
        () => req.end(),
        (e: Error) => {
          finish(e);
          req.destroy();
        },
      );
  });
}

/** The sequence --dry-run prints: methods, URLs, bodies; no credentials, no file bytes. */
export function describeSequence(options: {
  base: URL;
  reportXml: string;
  fileDetailsXml: string;
  fileFrom: string;
  credentialsFrom: string;
}): string {
  const u = (p: string) => new URL(p, options.base).href;
  return [
    "# CyberTipline submit sequence (dry run: nothing sent). Every call: HTTP Basic auth, credentials from " +
      `${options.credentialsFrom} (not shown).`,
    `POST ${u("submit")}`,
    "Content-Type: text/xml; charset=utf-8",
    "",
    options.reportXml.trimEnd(),
    "",
    `POST ${u("upload")}`,
    "Content-Type: multipart/form-data",
    `  id={reportId from /submit}`,
    `  file=<streamed from ${options.fileFrom}; bytes not shown; MD5 and SHA-256 computed while sending>`,
    "",
    `POST ${u("fileinfo")}`,
    "Content-Type: text/xml; charset=utf-8",
    "",
    options.fileDetailsXml.trimEnd(),
    "",
    `POST ${u("finish")}`,
    "Content-Type: application/x-www-form-urlencoded",
    "  id={reportId}",
    "",
    `# on any failure after /submit: POST ${u("retract")} id={reportId}`,
    "",
  ].join("\n");
}

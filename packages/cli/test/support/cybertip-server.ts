// A local stand-in for the CyberTipline Reporting API, written from NCMEC's public documentation
// (https://report.cybertip.org/ispws/documentation): POST /submit, /upload, /fileinfo, /finish, /retract with HTTP
// Basic auth, answering reportResponse / reportDoneResponse XML. It checks what it is sent on its own terms (not with
// phmatch's checker): the credentials, the order of calls, the documents' roots and required parts, and that the
// file details' MD5 is the MD5 of the bytes it received, whose SHA-256 it records. Loopback only; no network.
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface CybertipCall {
  path: string;
  status: number;
  /** The XML body of /submit and /fileinfo, as received. */
  body?: string;
}

export interface CybertipServerOptions {
  username: string;
  password: string;
  /** Answer this step with responseCode 1100 (an error) instead of success. */
  failAt?: "submit" | "upload" | "fileinfo" | "finish";
  /** Answer /retract with an error too. */
  retractFails?: boolean;
  /** Answer /upload with another MD5 than the bytes received (as if other bytes arrived). */
  wrongHash?: boolean;
}

export interface CybertipServer {
  url: string;
  calls: CybertipCall[];
  /** SHA-256 of the bytes of each uploaded file. */
  uploads: { sha256: string; md5: string; bytes: number }[];
  /** What was wrong with a request (order, content), beyond what the answers say. */
  violations: string[];
  close: () => Promise<void>;
}

const REPORT_ID = "4242";

const response = (code: number, fields: Record<string, string> = {}) =>
  `<?xml version="1.0" encoding="UTF-8"?><reportResponse><responseCode>${code}</responseCode>` +
  (code === 0 ? "" : "<responseDescription>Server refused the request</responseDescription>") +
  Object.entries(fields)
    .map(([k, v]) => `<${k}>${v}</${k}>`)
    .join("") +
  "</reportResponse>";

const tag = (xml: string, name: string) => new RegExp(`<${name}(\\s[^>]*)?>([^<]*)</${name}>`).exec(xml)?.[2];

export async function startCybertipServer(options: CybertipServerOptions): Promise<CybertipServer> {
  const calls: CybertipCall[] = [];
  const uploads: CybertipServer["uploads"] = [];
  const violations: string[] = [];
  let stage: "none" | "submitted" | "uploaded" | "described" | "finished" | "retracted" = "none";
  let fileId: string | undefined;
  const expected = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString("base64")}`;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const path = new URL(req.url ?? "/", "http://x").pathname.replace(/^.*\//, "/");
    const answer = (status: number, xml: string, text?: string) => {
      calls.push({ path, status, ...(text !== undefined && { body: text }) });
      res.writeHead(status, { "content-type": "text/xml" }).end(xml);
    };
    if (req.method !== "POST") return answer(405, response(1));
    if (req.headers.authorization !== expected) return answer(401, "");
    const fails = options.failAt !== undefined && path === `/${options.failAt}`;
    switch (path) {
      case "/submit": {
        const xml = body.toString("utf8");
        if (stage !== "none") violations.push("submit after the report was opened");
        if (!/^<\?xml[^>]*\?>\s*<report>/.test(xml)) violations.push("submit: root is not <report>");
        if (tag(xml, "incidentType") === undefined) violations.push("submit: no incidentType");
        if (tag(xml, "incidentDateTime") === undefined) violations.push("submit: no incidentDateTime");
        if (!/<reporter>\s*<reportingPerson>/.test(xml)) violations.push("submit: no reporter/reportingPerson");
        if (fails) return answer(200, response(1100), xml);
        stage = "submitted";
        return answer(200, response(0, { reportId: REPORT_ID }), xml);
      }
      case "/upload": {
        if (stage !== "submitted") violations.push(`upload at stage ${stage}`);
        const boundary = /boundary=([^;]+)/.exec(req.headers["content-type"] ?? "")?.[1];
        if (boundary === undefined) return answer(400, response(1));
        const parts = splitMultipart(body, boundary);
        const id = parts.find((p) => /name="id"/.test(p.headers))?.data.toString("utf8");
        const file = parts.find((p) => /name="file"; filename="[^"]+"/.test(p.headers));
        if (id !== REPORT_ID) violations.push(`upload: id ${String(id)}`);
        if (file === undefined) return answer(400, response(1));
        const md5 = createHash("md5").update(file.data).digest("hex");
        uploads.push({ sha256: createHash("sha256").update(file.data).digest("hex"), md5, bytes: file.data.length });
        if (fails) return answer(200, response(1100));
        stage = "uploaded";
        fileId = `file-${uploads.length}`;
        const hash = options.wrongHash ? createHash("md5").update("other bytes").digest("hex") : md5;
        return answer(200, response(0, { reportId: REPORT_ID, fileId, hash }));
      }
      case "/fileinfo": {
        const xml = body.toString("utf8");
        if (stage !== "uploaded") violations.push(`fileinfo at stage ${stage}`);
        if (!/^<\?xml[^>]*\?>\s*<fileDetails>/.test(xml)) violations.push("fileinfo: root is not <fileDetails>");
        if (tag(xml, "reportId") !== REPORT_ID) violations.push("fileinfo: wrong reportId");
        if (tag(xml, "fileId") !== fileId) violations.push("fileinfo: wrong fileId");
        for (const required of ["fileViewedByEsp", "publiclyAvailable"])
          if (!/^(true|false)$/.test(tag(xml, required) ?? "")) violations.push(`fileinfo: no ${required}`);
        const md5 = /<originalFileHash hashType="MD5">([0-9a-f]{32})</.exec(xml)?.[1];
        if (md5 !== uploads.at(-1)?.md5) violations.push("fileinfo: originalFileHash MD5 is not the upload's");
        if (fails) return answer(200, response(1100), xml);
        stage = "described";
        return answer(200, response(0, { reportId: REPORT_ID }), xml);
      }
      case "/finish": {
        if (stage !== "described") violations.push(`finish at stage ${stage}`);
        if (body.toString("utf8") !== `id=${REPORT_ID}`) violations.push("finish: wrong id");
        if (fails) return answer(200, response(1100));
        stage = "finished";
        return answer(
          200,
          `<?xml version="1.0" encoding="UTF-8"?><reportDoneResponse><responseCode>0</responseCode>` +
            `<reportId>${REPORT_ID}</reportId><files><fileId>${fileId}</fileId></files></reportDoneResponse>`,
        );
      }
      case "/retract": {
        if (stage === "none" || stage === "finished") violations.push(`retract at stage ${stage}`);
        if (options.retractFails) return answer(200, response(1100));
        stage = "retracted";
        return answer(200, response(0, { reportId: REPORT_ID }));
      }
      default:
        return answer(404, response(1));
    }
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      violations.push(`server error: ${e.message}`);
      res.destroy();
    });
  });
  server.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ispws`,
    calls,
    uploads,
    violations,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function splitMultipart(body: Buffer, boundary: string): { headers: string; data: Buffer }[] {
  const marker = Buffer.from(`--${boundary}`);
  const parts: { headers: string; data: Buffer }[] = [];
  let at = body.indexOf(marker);
  while (at >= 0) {
    const start = at + marker.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(marker, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next - 2); // after CRLF, before the CRLF that precedes the boundary
    const split = part.indexOf("\r\n\r\n");
    parts.push({ headers: part.subarray(0, split).toString("utf8"), data: part.subarray(split + 4) });
    at = next;
  }
  return parts;
}

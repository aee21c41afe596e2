import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import multipart from "@fastify/multipart";
import type { AuditDecision, AuditLog, CheckResult, HashRecord } from "@phmatch/core";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { cybertipRouteAnswer, REPORT_BODY_LIMIT, RecentMatches } from "../report/cybertip-serve.js";
import { FairAdmission } from "./admission.js";
import type { DecodeBudget } from "./budgets.js";
import { clientKey, type TrustedProxies } from "./client-address.js";
import {
  answerClientError,
  DEFAULT_MAX_CONNECTIONS_PER_IP,
  DEFAULT_REQUEST_TIMEOUT_MS,
  GIVE_WAY_RECHECK_MS,
  HEADERS_TIMEOUT_MS,
  limitConnectionsPerAddress,
  MAX_HEADER_BYTES,
  SlotHolders,
  TIMEOUT_CHECK_INTERVAL_MS,
} from "./connections.js";
import type { GateFeedback } from "./feedback.js";
import type { OnMatchHook } from "./hook.js";
import { contentIdOf, journalRecord, type RecordJournal, readJournal } from "./journal.js";
import type { ListGeneration, ListHolder } from "./lists.js";
import { isRefusal, MATCH_BODY_LIMIT, parseMatchRequest } from "./match-request.js";
import { GateMetrics } from "./metrics.js";
import { MATCHABLE_ALGORITHMS, RateLimiter, type Scope, type TokenAuth, type TokenSpec } from "./tokens.js";

/** Options of the upload gate. */
export interface GateOptions {
  lists: ListHolder;
  /** Bearer tokens; undefined only with auth explicitly off (loopback). */
  auth: TokenAuth | undefined;
  /** Largest upload, in bytes (413 above it). */
  maxBytes: number;
  /** Checks answered at once; more get 503 with Retry-After. */
  maxConcurrent: number;
  /**
   * How long an upload may wait for a worker thread, in ms: past it, one that no thread has started is dropped and
   * answered 503 TIMEOUT + Retry-After (saturation). One started runs to its result or to the worker's per-file
   * limit (set on the pool: 422 PHM_WORKER_TIMEOUT, the file costs too much).
   */
  timeoutMs: number;
  /** Time for a whole request (headers and body) to arrive, in ms (408 after it); default 60,000. */
  requestTimeoutMs?: number;
  /** Connections one client address may hold open (more are closed at once); 0: no limit; default 256. */
  maxConnectionsPerIp?: number;
  /** Every answer, refusals included, is recorded here (status, reason, token name, client address key). */
  audit?: AuditLog;
  hook?: OnMatchHook;
  metrics?: GateMetrics;
  /** Worker time per token and per client address (429 DECODE_BUDGET when spent); undefined: none. */
  budget?: DecodeBudget;
  /** Worker threads: a client paying back its budget may have one less of its uploads in the worker at once. */
  threads?: number;
  /** Proxies whose X-Forwarded-For names the client (budgets, audit); undefined: the peer is the client. */
  trustedProxies?: TrustedProxies;
  /** Reviewers' verdicts (POST /v1/feedback), hit counts and quarantine (feedback.ts); undefined: no such route. */
  feedback?: GateFeedback;
  /**
   * The record journal (serve --record-journal): each upload answered no_match or low_quality with an X-Content-Id
   * is appended (its hashes, the id, the time); readable through GET /v1/journal by full tokens.
   */
  journal?: { writer: RecordJournal; dir: string; key: Buffer };
}

/**
 * What a route asks of its callers, decided in one onRequest hook from the route the router matched (never from
 * the raw URL, which a client may spell `/%761/check`, `http://host/v1/check`, ...), before any body byte is read.
 */
export interface RoutePolicy {
  /**
   * `anyone`: no token looked at; `optional`: a token if one is given (a wrong one is 401), else anonymous;
   * `token`: any valid token; `full`: full tokens only (403 for the others).
   */
  caller: "anyone" | "optional" | "token" | "full";
  /** The token must hold this scope (403 SCOPE_NOT_GRANTED otherwise); see {@link Scope}. */
  scope?: Scope;
  /** Takes one unit of the token's rate (429 over it). */
  rated: boolean;
  /** `match`: the token must be allowed some algorithm by hash (403 MATCH_NOT_GRANTED: decision tokens by default). */
  grant?: "match";
  /** Needs lists loaded (503 NOT_READY) and takes a check slot (503 SATURATED when none is free). */
  admits: boolean;
  /** The body types the route reads (415 before the body otherwise); undefined: the route reads no body. */
  bodyTypes?: RegExp;
  /** Spends worker time: the token and the client address must have decode budget left (429 DECODE_BUDGET). */
  decodes?: boolean;
}

declare module "fastify" {
  interface FastifyContextConfig {
    gate?: RoutePolicy;
  }
  interface FastifyRequest {
    phmToken?: TokenSpec;
    /** The admission key it holds a check slot under (see admission.ts), while it holds one. */
    phmSlot?: string;
    phmStart?: bigint;
    phmGeneration?: ListGeneration;
    /** The client's address key (see client-address.ts). */
    phmClient?: string;
  }
}

/** The answer body: the full result for `full` tokens, only the decision for `decision` tokens. */
type Answer = {
  request_id: string;
  decision: string;
  reason_code: string;
  lists?: { listId: string; version: number }[];
} & Partial<CheckResult>;

// The bodies /v1/check reads: an image, a video, raw bytes, or one multipart file; /v1/match: JSON.
const CHECK_TYPES = /^\s*(image\/|video\/|application\/octet-stream\b|multipart\/form-data\b)/i;
const MATCH_TYPES = /^\s*application\/json\s*(;|$)/i;
// @fastify/multipart's errors for a part beyond its limits (one file, no field): a second file is not a body too
// large but a request the gate does not take.
const MULTIPART_LIMITS = new Set(["FST_FILES_LIMIT", "FST_FIELDS_LIMIT", "FST_PARTS_LIMIT"]);

/** The policy of each route (see RoutePolicy); a request that matched none is refused (404) before its body. */
const POLICIES = {
  check: { caller: "token", scope: "check", rated: true, admits: true, bodyTypes: CHECK_TYPES, decodes: true },
  match: { caller: "token", scope: "check", grant: "match", rated: true, admits: true, bodyTypes: MATCH_TYPES },
  metrics: { caller: "full", rated: true, admits: false },
  health: { caller: "anyone", rated: false, admits: false },
  ready: { caller: "optional", rated: false, admits: false },
  // The CyberTipline report of a match (issue 21): a full token with the `report` scope; JSON only, no file bytes.
  report: { caller: "full", scope: "report", rated: true, admits: false, bodyTypes: MATCH_TYPES },
  feedback: { caller: "token", scope: "feedback", rated: true, admits: false, bodyTypes: MATCH_TYPES },
  journal: { caller: "full", rated: true, admits: false },
} satisfies Record<string, RoutePolicy>;

// A body is on its way: refusing before reading it also closes the connection, or Node would read (and discard)
// up to the whole announced body to keep the connection alive.
const announcesBody = (request: FastifyRequest) =>
  request.headers["transfer-encoding"] !== undefined || Number(request.headers["content-length"] ?? 0) > 0;

/**
 * The upload gate on fastify: POST /v1/check (the image as the raw body or one multipart file, held in memory
 * only), POST /v1/match (a hash record computed elsewhere), GET /healthz, /readyz, /metrics. Returns the app,
 * not yet listening.
 */
export async function createGate(options: GateOptions): Promise<FastifyInstance> {
  const metrics = options.metrics ?? new GateMetrics();
  const limiter = new RateLimiter();
  // The last matches answered, by request id, with their audit positions: what a report names (issue 21).
  const recentMatches = new RecentMatches();
  const clientOf = (request: FastifyRequest) =>
    (request.phmClient ??= clientKey(
      options.trustedProxies,
      request.raw.socket?.remoteAddress,
      request.headers["x-forwarded-for"],
    ));
  // Every answer is one audit record: what was decided or refused, with its status, the token's name and the
  // client; hashes and matched entries only for matches (record() keeps them for those alone).
  const audited = (
    request: FastifyRequest,
    status: number,
    decision: Pick<AuditDecision, "decision" | "reasonCode" | "matches" | "errorCode">,
  ) =>
    options.audit?.record({
      source: "serve",
      requestId: request.id,
      ...decision,
      status,
      ...(request.phmToken !== undefined && { token: request.phmToken.name }),
      client: clientOf(request),
      lists: (request.phmGeneration ?? options.lists.current)?.checker.lists ?? [],
    });
  const refuse = async (
    reply: FastifyReply,
    request: FastifyRequest,
    status: number,
    reason: string,
    headers: Record<string, string> = {},
    message?: string,
  ): Promise<void> => {
    // A refusal that can no longer reach anyone (the connection is gone: Node answered it, or the client left) is
    // no answer; a decision is recorded either way (answer below).
    if (request.raw.socket?.destroyed !== true) audited(request, status, { decision: "error", reasonCode: reason });
    await reply
      .code(status)
      .headers(headers)
      .send({
        request_id: request.id,
        decision: "error",
        reason_code: reason,
        ...(message !== undefined && { message }),
      });
  };
  // What a request's upload is charged to: its token and its client address.
  const budgetKeys = (request: FastifyRequest) => [
    ...(request.phmToken !== undefined ? [`token:${request.phmToken.name}`] : []),
    `address:${clientOf(request)}`,
  ];
  // Check slots, shared fairly between clients (a token and an address): a request finding them all taken waits
  // its turn before its body is read, at most as long as it may be hashed; a client may have as many waiting as
  // there are slots, more are 503 at once (admission.ts).
  const admission = new FairAdmission(options.maxConcurrent, { maxWaitingPerClient: options.maxConcurrent });
  // The address first: an address key has no space, a token name may.
  const slotClient = (request: FastifyRequest) => `${clientOf(request)} ${request.phmToken?.name ?? "-"}`;
  const addressOf = (slot: string) => slot.slice(0, slot.indexOf(" "));
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // What a client may hold without sending a whole request is bounded here (see connections.ts): headers within
  // 10 s, the whole request within requestTimeout, both checked every second (408); 16 KiB of headers (431). No
  // idle timeout on the socket: it would also cut a check still hashing. fastify's 72 s keep-alive stays (longer
  // than the load balancers in front), idle keep-alive sockets count against the per-address cap.
  const app = Fastify({
    logger: false,
    bodyLimit: options.maxBytes,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    requestTimeout,
    http: {
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeout),
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
      maxHeaderSize: MAX_HEADER_BYTES,
    },
    clientErrorHandler: (error, socket) =>
      answerClientError(
        error,
        socket,
        (reason) => metrics.clientError(reason),
        ({ status, reason, requestId }) =>
          options.audit?.record({
            source: "serve",
            requestId,
            decision: "error",
            reasonCode: reason,
            status,
            client: clientKey(undefined, socket.remoteAddress, undefined),
            lists: options.lists.current?.checker.lists ?? [],
          }),
      ),
    // A path the router cannot decode (`%ZZ`, overlong UTF-8): no route, no hooks; refused in the gate's shape.
    frameworkErrors: (_error, request, reply) => {
      metrics.clientError("BAD_URL");
      void refuse(reply as FastifyReply, request as FastifyRequest, 400, "BAD_URL", { connection: "close" });
    },
  });
  // `Expect: 100-continue`: Node would answer 100 at once, before any check, and the client would send its body.
  // Here the request goes through the checks first; 100 is sent once it is admitted (onRequest below).
  app.server.on("checkContinue", (req, res) => app.server.emit("request", req, res));
  const maxPerIp = options.maxConnectionsPerIp ?? DEFAULT_MAX_CONNECTIONS_PER_IP;
  if (maxPerIp > 0) limitConnectionsPerAddress(app.server, maxPerIp, () => metrics.clientError("CONNECTION_LIMIT"));
  const holders = new SlotHolders<FastifyRequest>();
  // While requests wait for a slot, a stalled or dribbled upload may become one that gives way (connections.ts):
  // the request whose turn is next asks again every quarter second.
  const recheck = setInterval(() => {
    const next = admission.next();
    if (next !== undefined) holders.giveWay(addressOf(next.client));
  }, GIVE_WAY_RECHECK_MS);
  recheck.unref();
  app.addHook("onClose", async () => clearInterval(recheck));

  // Raw image and video bodies are buffered in memory (never written to disk) up to maxBytes; fastify answers 413
  // above it.
  app.addContentTypeParser(
    "application/octet-stream",
    { parseAs: "buffer", bodyLimit: options.maxBytes },
    (_req, body, done) => done(null, body),
  );
  app.addContentTypeParser(/^(image|video)\//, { parseAs: "buffer", bodyLimit: options.maxBytes }, (_req, body, done) =>
    done(null, body),
  );
  await app.register(multipart, { limits: { fileSize: options.maxBytes, files: 1, fields: 0, parts: 2 } });

  const release = (request: FastifyRequest) => {
    holders.delete(request);
    if (request.phmSlot !== undefined) {
      const client = request.phmSlot;
      request.phmSlot = undefined;
      admission.release(client);
    }
  };

  // Before the body is read, from the route that matched: the route exists, authentication, the rate limit, the
  // body type, readiness and a check slot (overload is refused at once).
  app.addHook("onRequest", async (request, reply) => {
    request.phmStart = process.hrtime.bigint();
    const early = async (status: number, reason: string, headers: Record<string, string> = {}) =>
      refuse(reply, request, status, reason, announcesBody(request) ? { ...headers, connection: "close" } : headers);
    const policy = request.routeOptions.config.gate;
    // No route (fastify's 404 handler, or a route without a policy): refused here, so its body is never read.
    if (policy === undefined) return void (await early(404, "NOT_FOUND"));
    const anonymous =
      policy.caller === "anyone" || (policy.caller === "optional" && request.headers.authorization === undefined);
    if (!anonymous && options.auth !== undefined) {
      const token = options.auth.authenticate(request.headers.authorization);
      if (token === undefined)
        return void (await early(401, "UNAUTHORIZED", { "www-authenticate": 'Bearer realm="phmatch"' }));
      request.phmToken = token;
      if (policy.caller === "full" && token.detail !== "full") return void (await early(403, "FORBIDDEN"));
      if (policy.scope !== undefined && !token.scopes.has(policy.scope))
        return void (await early(403, "SCOPE_NOT_GRANTED"));
      if (policy.grant === "match" && token.matchAlgorithms.size === 0)
        return void (await early(403, "MATCH_NOT_GRANTED"));
      if (policy.rated && token.ratePerMinute !== undefined) {
        const taken = limiter.take(token.name, token.ratePerMinute);
        if (!taken.ok)
          return void (await early(429, "RATE_LIMITED", { "retry-after": String(taken.retryAfterSeconds) }));
      }
    }
    // A token or an address that has spent its worker time waits until it is paid back (budgets.ts).
    if (policy.decodes === true && options.budget !== undefined) {
      const admitted = options.budget.admit(budgetKeys(request));
      if (!admitted.ok)
        return void (await early(429, "DECODE_BUDGET", { "retry-after": String(admitted.retryAfterSeconds) }));
    }
    // An upload of a type the route refuses anyway is refused before its body is read (fastify would otherwise
    // parse up to --max-bytes of JSON or text on the event loop first).
    if (
      policy.bodyTypes !== undefined &&
      request.method === "POST" &&
      !policy.bodyTypes.test(request.headers["content-type"] ?? "")
    ) {
      return void (await early(415, "UNSUPPORTED_MEDIA_TYPE"));
    }
    if (policy.admits) {
      if (options.lists.current === undefined) return void (await early(503, "NOT_READY", { "retry-after": "1" }));
      // Saturated: an address over its fair share, or a stalled or dribbled upload, gives its slot to this
      // request, if there is one whose body is still arriving (connections.ts); else the request waits its turn.
      const client = slotClient(request);
      if (admission.inUse >= admission.slots) holders.giveWay(addressOf(client));
      const gone = new AbortController();
      const leave = () => gone.abort();
      request.raw.socket.once("close", leave);
      const admitted = await admission.acquire(client, options.timeoutMs, gone.signal);
      request.raw.socket.off("close", leave);
      if (admitted === "aborted") return void reply.hijack();
      if (admitted !== "admitted") return void (await early(503, "SATURATED", { "retry-after": "1" }));
      request.phmSlot = client;
      holders.add(request, addressOf(client), request.raw.socket, (why) => {
        release(request);
        metrics.clientError(why === "slow" ? "UPLOAD_TOO_SLOW" : "FAIR_SHARE");
        if (reply.sent || reply.raw.headersSent) request.raw.socket.destroy();
        else if (why === "slow") void refuse(reply, request, 408, "UPLOAD_TOO_SLOW", { connection: "close" });
        else void refuse(reply, request, 503, "SATURATED", { connection: "close", "retry-after": "1" });
      });
      if (request.raw.complete) holders.arrived(request);
      else request.raw.once("end", () => holders.arrived(request));
      // The lists a request started with answer it, even if a reload swaps them while its body arrives.
      request.phmGeneration = options.lists.current;
    }
    if (/^\s*100-continue\s*$/i.test(request.headers.expect ?? "")) reply.raw.writeContinue();
  });
  app.addHook("onResponse", async (request, reply) => {
    release(request);
    const seconds = Number(process.hrtime.bigint() - (request.phmStart ?? process.hrtime.bigint())) / 1e9;
    metrics.request(request.routeOptions.url ?? "unknown", reply.statusCode, seconds);
  });
  app.addHook("onRequestAbort", async (request) => release(request));
  // The slot is free once the answer is sent: a client that disconnected after its body arrived gets no
  // 'finish', so onResponse never runs, and its slot would be held for good (before: gone after
  // --max-concurrent such clients). Not at the disconnect itself: its upload is still being hashed.
  app.addHook("onSend", async (request, _reply, payload) => {
    release(request);
    return payload;
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, request, reply) => {
    // Answered already: a slot given away (connections.ts) closes the connection, and reading the rest fails.
    if (reply.sent) return;
    // busboy's errors for a malformed multipart body (no boundary, cut short, a boundary over 256 bytes) carry
    // no status, nor does the client going away mid-body: the client's doing, 400, not 500.
    const clientSide =
      request.raw.aborted ||
      error.code === "ECONNRESET" ||
      (request.isMultipart() && /[\\/]busboy[\\/]/.test(error.stack ?? ""));
    const status = error.statusCode ?? (clientSide ? 400 : 500);
    if (MULTIPART_LIMITS.has(error.code ?? ""))
      return refuse(
        reply,
        request,
        400,
        "MULTIPART_ONE_FILE",
        { connection: "close" },
        "send one file and nothing else",
      );
    const reason =
      status === 413 || error.code === "FST_REQ_FILE_TOO_LARGE"
        ? "BODY_TOO_LARGE"
        : status === 415
          ? "UNSUPPORTED_MEDIA_TYPE"
          : status >= 500
            ? "PHM_INTERNAL"
            : "BAD_REQUEST";
    if (status >= 500) process.stderr.write(`phmatch serve: request ${request.id}: ${error.message}\n`);
    await refuse(reply, request, error.code === "FST_REQ_FILE_TOO_LARGE" ? 413 : status, reason);
  });
  app.setNotFoundHandler(async (request, reply) => refuse(reply, request, 404, "NOT_FOUND"));

  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    checked: CheckResult,
    lists: { listId: string; version: number }[],
    record?: HashRecord,
  ) => {
    // A match whose every entry is held for review answers `review` (QUARANTINED): hold, do not publish.
    const result =
      options.feedback?.review(checked, {
        token: request.phmToken?.name ?? "-",
        address: clientOf(request),
        requestId: request.id,
      }) ?? checked;
    metrics.decision(result.decision);
    const journaled = journal(request, result, record);
    // An upload that could not be checked (corrupt, too costly: PHM_DECODE_TOO_MANY_PIXELS, PHM_WORKER_TIMEOUT) is
    // `error` with its code, never 503 + Retry-After: it would fail again. It is not a no_match either.
    const status = result.decision === "error" ? (result.reason_code === "PHM_FILE_TOO_LARGE" ? 413 : 422) : 200;
    const position = audited(request, status, {
      decision: result.decision,
      reasonCode: result.reason_code,
      // Every hit, also for a no_match: an overridden hit is recorded (as overridden) so the log says which
      // override changed the outcome.
      matches: result.matches,
      ...(result.error !== undefined && { errorCode: result.error.code }),
    });
    if (result.decision === "match" || result.decision === "review") {
      const time = new Date().toISOString();
      // A held entry's upload (review) is not a confirmed match: no report is built from it.
      if (result.decision === "match") recentMatches.remember(request.id, { matches: result.matches, time, position });
      options.hook?.fire({ request_id: request.id, time, lists, ...withoutPath(result) });
    }
    const body: Answer =
      request.phmToken?.detail === "decision"
        ? { request_id: request.id, decision: result.decision, reason_code: result.reason_code }
        : { request_id: request.id, ...withoutPath(result), lists };
    if (journaled !== undefined) reply.header("x-phmatch-journal", journaled);
    await reply.code(status).send(body);
  };

  // An accepted upload (no_match, low_quality) with the platform's content id goes to the record journal: its
  // hashes, the id and the time, nothing else. Says what was done, for the answer's X-Phmatch-Journal header.
  const journal = (request: FastifyRequest, result: CheckResult, record?: HashRecord) => {
    if (options.journal === undefined || record === undefined) return undefined;
    if (result.decision !== "no_match" && result.decision !== "low_quality") return undefined;
    const id = contentIdOf(request.headers["x-content-id"]);
    if (id === undefined || id === "invalid") return "not-recorded; no X-Content-Id";
    options.journal.writer.append(journalRecord(record, id, new Date()));
    return "recorded";
  };
  // With a journal, a content id that is given must be one (checked before any work: the platform meant to
  // journal the upload and would otherwise never learn that it was not).
  const badContentId = (request: FastifyRequest) =>
    options.journal !== undefined && contentIdOf(request.headers["x-content-id"]) === "invalid";
  const BAD_CONTENT_ID = "X-Content-Id takes 1 to 1,024 printable ASCII characters";

  app.post("/v1/check", { config: { gate: POLICIES.check } }, async (request, reply) => {
    const generation = request.phmGeneration!;
    if (badContentId(request)) return refuse(reply, request, 400, "BAD_CONTENT_ID", {}, BAD_CONTENT_ID);
    let bytes: Buffer;
    if (request.isMultipart()) {
      // Exactly one part, a file: every part is read, so a second file (or a field) cannot ride past the check
      // behind the first. busboy's limits (one file, no field) end the parts with FST_FILES_LIMIT or
      // FST_FIELDS_LIMIT, answered 400 MULTIPART_ONE_FILE by the error handler.
      let file: Buffer | undefined;
      for await (const part of request.parts()) {
        if (part.type !== "file" || file !== undefined)
          return refuse(
            reply,
            request,
            400,
            "MULTIPART_ONE_FILE",
            { connection: "close" },
            "send one file and nothing else",
          );
        file = await part.toBuffer();
      }
      if (file === undefined) return refuse(reply, request, 400, "NO_FILE");
      bytes = file;
    } else if (Buffer.isBuffer(request.body)) {
      bytes = request.body;
    } else {
      return refuse(reply, request, 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    // At the deadline an upload no worker thread has started is dropped (503: saturation, retry); one started runs
    // to its result or its per-file limit. Its thread time is charged to its token and address, and a client paying
    // back its budget may not hold every thread: another client's upload always finds one.
    const keys = budgetKeys(request);
    const maxRunning =
      options.budget?.charged(keys) === true ? Math.max(1, (options.threads ?? 1) - 1) : Number.POSITIVE_INFINITY;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), options.timeoutMs);
    let result: CheckResult;
    let record: HashRecord | undefined;
    try {
      result = await generation.checker.check(bytes, {
        name: "upload",
        ...(options.journal !== undefined && {
          onRecord: (r: HashRecord) => {
            record = r;
          },
        }),
        signal: deadline.signal,
        client: { keys, maxRunning },
        onWorkerTime: (ms) => options.budget?.charge(keys, ms),
      });
    } finally {
      clearTimeout(timer);
    }
    if (result.reason_code === "PHM_ABORTED")
      return refuse(
        reply,
        request,
        503,
        "TIMEOUT",
        { "retry-after": "1" },
        "no worker thread was free for the upload in time: retry later",
      );
    return answer(request, reply, result, generation.checker.lists, record);
  });

  app.post("/v1/match", { bodyLimit: MATCH_BODY_LIMIT, config: { gate: POLICIES.match } }, async (request, reply) => {
    const generation = request.phmGeneration!;
    const token = request.phmToken;
    if (badContentId(request)) return refuse(reply, request, 400, "BAD_CONTENT_ID", {}, BAD_CONTENT_ID);
    const parsed = parseMatchRequest(request.body, token?.matchAlgorithms ?? new Set(MATCHABLE_ALGORITHMS));
    if (isRefusal(parsed)) return refuse(reply, request, parsed.status, parsed.reason, {}, parsed.message);
    // Each hash looked up is a yes/no probe of the lists: the request took one unit, its other needles take theirs
    // (the bucket may go below zero: the token's next requests wait until it has refilled).
    if (token?.ratePerMinute !== undefined && parsed.needles > 1)
      limiter.charge(token.name, token.ratePerMinute, parsed.needles - 1);
    const result = generation.checker.matchRecord(parsed.record);
    // Not one hash given is held by the loaded lists: nothing was looked up, so "no_match" would be a guess.
    if (result.decision === "no_match" && result.checked.length === 0) {
      const held = token?.detail === "decision" ? "" : `; they hold ${generation.checker.algorithms.join(", ")}`;
      const sent = [...Object.keys(parsed.record.hashes ?? {}), ...(parsed.record.video ? ["video frames (pdq)"] : [])];
      return refuse(
        reply,
        request,
        422,
        "NOTHING_CHECKED",
        {},
        `the loaded lists hold none of ${sent.join(", ")}: nothing was looked up${held}`,
      );
    }
    return answer(request, reply, result, generation.checker.lists, parsed.record);
  });

  app.post(
    "/v1/report/cybertip",
    { bodyLimit: REPORT_BODY_LIMIT, config: { gate: POLICIES.report } },
    async (request, reply) => {
      const answer = cybertipRouteAnswer(request.body, recentMatches, options.audit);
      if ("reason" in answer) return refuse(reply, request, answer.status, answer.reason, {}, answer.message);
      return reply.code(200).send({ request_id: request.id, ...answer.body });
    },
  );

  // A reviewer's verdict on a match (feedback.ts): the reviewer is the token, never a field of the body.
  const feedback = options.feedback;
  if (feedback !== undefined) {
    app.post("/v1/feedback", { bodyLimit: 16 * 1024, config: { gate: POLICIES.feedback } }, async (request, reply) => {
      const answered = feedback.verdict(request.body, request.phmToken?.name ?? "-", options.lists.current);
      if (answered.status !== 200)
        return refuse(
          reply,
          request,
          answered.status,
          answered.body.reason_code as string,
          answered.status === 503 ? { "retry-after": "1" } : {},
          answered.body.message as string,
        );
      return reply.code(200).send({ request_id: request.id, ...answered.body });
    });
  }

  if (options.journal !== undefined) {
    const { writer, dir, key } = options.journal;
    // The journal decrypted, as NDJSON accepted-upload records (phmatch rematch --records takes them), for full
    // tokens only: it says what the platform's users uploaded. Read up to what was written when the request came;
    // a damaged or altered file ends the answer with an error line, never a silent gap.
    app.get("/v1/journal", { config: { gate: POLICIES.journal } }, async (_request, reply) => {
      const committed = writer.committed();
      async function* lines() {
        try {
          for (const text of readJournal(dir, key, committed)) yield `${text}\n`;
        } catch (error) {
          const e = error as { code?: string; message?: string };
          process.stderr.write(`phmatch serve: GET /v1/journal: ${e.code}: ${e.message}\n`);
          yield `${JSON.stringify({ error: { code: e.code ?? "PHM_INTERNAL", message: e.message } })}\n`;
        }
      }
      await reply.type("application/x-ndjson").send(Readable.from(lines()));
    });
  }

  app.get("/healthz", { config: { gate: POLICIES.health } }, async () => ({ status: "ok" }));
  // Ready or not to anyone (a load balancer's probe); which lists, at which versions, only to a full token.
  app.get("/readyz", { config: { gate: POLICIES.ready } }, async (request, reply) => {
    const current = options.lists.current;
    if (current === undefined) return reply.code(503).send({ status: "not_ready" });
    if (options.auth !== undefined && request.phmToken?.detail !== "full") return { status: "ready" };
    return { status: "ready", lists: current.checker.lists, loadedAt: current.loadedAt.toISOString() };
  });
  app.get("/metrics", { config: { gate: POLICIES.metrics } }, async (_request, reply) => {
    await reply
      .type("text/plain; version=0.0.4")
      .send(
        metrics.render(
          options.lists.current?.checker.lists ?? [],
          admission.inUse,
          admission.waiting,
          options.feedback?.metricsLines(),
        ),
      );
  });
  return app;
}

// The gate names no file: the upload has no path.
function withoutPath(result: CheckResult): Omit<CheckResult, "path"> {
  const { path: _path, ...rest } = result;
  return rest;
}

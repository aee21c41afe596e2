import { closeSync, fsyncSync, openSync, readSync, fstatSync, writeSync } from "node:fs";
import { createHash, createPublicKey, sign, verify, type KeyObject } from "node:crypto";
import { PhmatchError } from "../errors/index.js";
import { keyId } from "../hashset/signature.js";
import { PHMATCH_VERSION } from "../version.js";

/**
 * The decision audit log: append-only NDJSON, one record per decision. Every record carries `seq` (0, 1, 2, ...)
 * and `prev`, the SHA-256 of the previous line's bytes, so deleting, editing or reordering a record breaks the
 * chain. With a signing key, a checkpoint record signs the chain head (Ed25519) every `checkpointEvery` records
 * and `checkpointSeconds` seconds, and a final checkpoint closes the log: a log whose tail was cut no longer ends
 * with its closing checkpoint. Records hold no image bytes, and hashes and matched entries only for matches
 * (the hashes of innocent uploads are personal data).
 */

/** A decision as the audit log records it. */
export interface AuditDecision {
  /** Who decided: `serve` (a request) or `scan` (a file). */
  source: "serve" | "scan";
  requestId?: string;
  /** Scan: the file's path (reports carry paths, never content). */
  path?: string;
  decision: "match" | "no_match" | "low_quality" | "error";
  reasonCode: string;
  /** Serve: the HTTP status of the answer (every answer is recorded, refusals included). */
  status?: number;
  /** Serve: the name of the token that asked (never the token), if one did. */
  token?: string;
  /** Serve: the client's address key (IPv4 address or IPv6 /64; behind trusted proxies, the client they name). */
  client?: string;
  lists: { listId: string; version: number }[];
  /** Only for matches. */
  hashes?: Record<string, string>;
  /** Only for matches: list, entry, category, algorithm, distance, policy of each hit. */
  matches?: unknown[];
  errorCode?: string;
}

/** Options of {@link AuditLog.open}. */
export interface AuditLogOptions {
  /** Ed25519 private key (PEM) that signs checkpoints; without one the chain still detects edits, not a cut tail. */
  signingKeyPem?: string;
  /** Sign the chain head after this many records (default 1000). */
  checkpointEvery?: number;
  /** ... and at least this often while records arrive (default 60 s). */
  checkpointSeconds?: number;
  /** Clock, for tests. */
  now?: () => Date;
}

const GENESIS = "0".repeat(64);

/** The bytes a checkpoint signs: the chain head it vouches for. */
function checkpointMessage(seq: number, prev: string, time: string): Buffer {
  return Buffer.from(`phmatch-audit-checkpoint\n${seq}\n${prev}\n${time}\n`, "utf8");
}

/** An open audit log. Appends are synchronous, so records are in the file in the order decisions were made. */
export class AuditLog {
  readonly path: string;
  #fd: number;
  #seq: number;
  #prev: string;
  #sinceCheckpoint = 0;
  #lastCheckpoint: number;
  readonly #key: { pem: string; id: string } | undefined;
  readonly #every: number;
  readonly #seconds: number;
  readonly #now: () => Date;
  readonly #timer: NodeJS.Timeout | undefined;

  private constructor(path: string, fd: number, seq: number, prev: string, options: AuditLogOptions) {
    this.path = path;
    this.#fd = fd;
    this.#seq = seq;
    this.#prev = prev;
    this.#every = options.checkpointEvery ?? 1000;
    this.#seconds = options.checkpointSeconds ?? 60;
    this.#now = options.now ?? (() => new Date());
    this.#lastCheckpoint = this.#now().getTime();
    if (options.signingKeyPem !== undefined) {
      const publicKey = createPublicKey(options.signingKeyPem);
      if (publicKey.asymmetricKeyType !== "ed25519") throw new PhmatchError("PHM_USAGE", `the audit log signing key must be Ed25519, got ${String(publicKey.asymmetricKeyType)}`);
      this.#key = { pem: options.signingKeyPem, id: keyId(publicKey) };
      this.#timer = setInterval(() => {
        if (this.#sinceCheckpoint > 0) this.checkpoint();
      }, this.#seconds * 1000);
      this.#timer.unref();
    }
  }

  /** Opens (or continues) the log at `path`: the chain goes on from its last record. */
  static open(path: string, options: AuditLogOptions = {}): AuditLog {
    let fd: number;
    try {
      fd = openSync(path, "a+");
    } catch (error) {
      throw new PhmatchError("PHM_USAGE", `cannot open the audit log ${path}: ${(error as Error).message}`, { cause: error });
    }
    const last = lastLine(fd);
    let seq = 0;
    let prev = GENESIS;
    if (last !== undefined) {
      try {
        seq = (JSON.parse(last) as { seq: number }).seq + 1;
      } catch {
        closeSync(fd);
        throw new PhmatchError("PHM_AUDIT_ALTERED", `the audit log ${path} does not end with a record: refusing to continue it (run phmatch audit verify)`);
      }
      prev = sha256(last);
    }
    const log = new AuditLog(path, fd, seq, prev, options);
    log.#append({ type: "open", tool: `phmatch ${PHMATCH_VERSION}`, ...(log.#key === undefined ? {} : { keyId: log.#key.id }) });
    return log;
  }

  /** Appends one decision. */
  record(decision: AuditDecision): void {
    const entry: Record<string, unknown> = { type: "decision", source: decision.source };
    if (decision.requestId !== undefined) entry.requestId = decision.requestId;
    if (decision.path !== undefined) entry.path = decision.path;
    entry.decision = decision.decision;
    entry.reasonCode = decision.reasonCode;
    if (decision.status !== undefined) entry.status = decision.status;
    if (decision.token !== undefined) entry.token = decision.token;
    if (decision.client !== undefined) entry.client = decision.client;
    entry.lists = decision.lists;
    if (decision.errorCode !== undefined) entry.errorCode = decision.errorCode;
    if (decision.decision === "match") {
      if (decision.hashes !== undefined) entry.hashes = decision.hashes;
      if (decision.matches !== undefined) entry.matches = decision.matches;
    }
    this.#append(entry);
    this.#sinceCheckpoint++;
    if (this.#key !== undefined && (this.#sinceCheckpoint >= this.#every || this.#now().getTime() - this.#lastCheckpoint >= this.#seconds * 1000)) this.checkpoint();
  }

  /** Signs the chain head now (no-op without a key). */
  checkpoint(final = false): void {
    if (this.#key === undefined) return;
    const time = this.#now().toISOString();
    const signature = sign(null, checkpointMessage(this.#seq, this.#prev, time), this.#key.pem).toString("base64");
    this.#append({ type: "checkpoint", keyId: this.#key.id, signature, ...(final ? { final: true } : {}) }, time);
    this.#sinceCheckpoint = 0;
    this.#lastCheckpoint = this.#now().getTime();
    fsyncSync(this.#fd);
  }

  /** The SHA-256 of the last record: keep it elsewhere, and `audit verify --head` proves nothing was cut after it. */
  get head(): string {
    return this.#prev;
  }

  /** Writes the closing checkpoint and closes the file. */
  close(): void {
    if (this.#fd < 0) return;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#key !== undefined) this.checkpoint(true);
    else this.#append({ type: "close" });
    fsyncSync(this.#fd);
    closeSync(this.#fd);
    this.#fd = -1;
  }

  #append(fields: Record<string, unknown>, time = this.#now().toISOString()): void {
    if (this.#fd < 0) throw new PhmatchError("PHM_INTERNAL", `the audit log ${this.path} is closed`);
    const line = JSON.stringify({ seq: this.#seq, time, prev: this.#prev, ...fields });
    writeSync(this.#fd, `${line}\n`);
    this.#prev = sha256(line);
    this.#seq++;
  }
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

// The last non-empty line of an open file (read backwards in chunks), or undefined when the file is empty.
function lastLine(fd: number): string | undefined {
  const size = fstatSync(fd).size;
  if (size === 0) return undefined;
  let end = size;
  let tail = Buffer.alloc(0);
  while (end > 0) {
    const start = Math.max(0, end - 65536);
    const chunk = Buffer.alloc(end - start);
    readSync(fd, chunk, 0, chunk.length, start);
    tail = Buffer.concat([chunk, tail]);
    end = start;
    const text = tail.toString("utf8").replace(/\n+$/, "");
    const cut = text.lastIndexOf("\n");
    if (cut >= 0 || end === 0) return text.slice(cut + 1);
  }
  return undefined;
}

/** What {@link verifyAuditLog} found. */
export interface AuditVerification {
  ok: boolean;
  records: number;
  decisions: number;
  checkpoints: number;
  /** True when the log ends with its signed closing checkpoint. */
  closed: boolean;
  /** Each problem with the line (1-based) where it shows. */
  problems: { line: number; problem: string }[];
}

/**
 * Checks an audit log: every line parses, `seq` counts up by one, `prev` is the SHA-256 of the line before, every
 * checkpoint is signed by one of `trustedKeys` over the chain head, and the log ends with its closing checkpoint
 * (a log cut short does not). Without trusted keys only the chain is checked, and signatures are reported unchecked.
 */
export function verifyAuditLog(text: string, trustedKeys: KeyObject[] = [], options: { head?: string } = {}): AuditVerification {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const problems: { line: number; problem: string }[] = [];
  let prev = GENESIS;
  let expectedSeq = 0;
  let decisions = 0;
  let checkpoints = 0;
  let lastType = "";
  let lastFinal = false;
  let headSeen = options.head === undefined;
  lines.forEach((line, i) => {
    const at = i + 1;
    let record: { seq?: unknown; prev?: unknown; time?: unknown; type?: unknown; keyId?: unknown; signature?: unknown; final?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch {
      record = {};
      problems.push({ line: at, problem: "not a JSON record (edited or damaged)" });
    }
    if (record.seq !== expectedSeq) {
      problems.push({ line: at, problem: `sequence ${String(record.seq)} where ${expectedSeq} was due (a record was deleted, inserted or moved)` });
    }
    expectedSeq = (typeof record.seq === "number" ? record.seq : expectedSeq) + 1;
    if (record.prev !== prev) problems.push({ line: at, problem: "its prev is not the SHA-256 of the line before (that line was edited, deleted or moved)" });
    if (record.type === "decision") decisions++;
    if (record.type === "checkpoint") {
      checkpoints++;
      if (trustedKeys.length > 0) {
        const key = trustedKeys.find((k) => keyId(k) === record.keyId);
        const message = checkpointMessage(record.seq as number, String(record.prev), String(record.time));
        if (key === undefined) problems.push({ line: at, problem: `checkpoint signed by key ${String(record.keyId)}, which is not trusted` });
        else if (typeof record.signature !== "string" || !verify(null, message, key, Buffer.from(record.signature, "base64"))) {
          problems.push({ line: at, problem: "checkpoint signature does not match the chain head (edited or forged)" });
        }
      }
    }
    lastType = String(record.type);
    lastFinal = record.final === true;
    prev = sha256(line);
    if (prev === options.head) headSeen = true;
  });
  const closed = lastType === "checkpoint" && lastFinal;
  if (lines.length === 0) problems.push({ line: 0, problem: "the log is empty" });
  else if (!closed && lastType !== "close") {
    problems.push({ line: lines.length, problem: "the log does not end with its closing checkpoint: its tail was cut, or the writer is still running or crashed" });
  } else if (lastType === "close" && trustedKeys.length > 0) {
    problems.push({ line: lines.length, problem: "the log was written without a signing key: a cut tail cannot be ruled out" });
  }
  if (!headSeen) problems.push({ line: lines.length, problem: `no record has the head ${String(options.head)} kept at close: records were cut from the end` });
  return { ok: problems.length === 0, records: lines.length, decisions, checkpoints, closed, problems };
}

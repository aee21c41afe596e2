import { createHash, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { closeSync, existsSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { PhmatchError, toPhmatchError } from "../errors/index.js";
import { keyId } from "../hashset/signature.js";
import type { AuditHead, RollbackState } from "../hashset/version-state.js";
import { PHMATCH_VERSION } from "../version.js";

/**
 * The decision audit log: append-only NDJSON, one record per decision. Every record carries `seq` (0, 1, 2, ...)
 * and `prev`, the SHA-256 of the previous line's bytes, so deleting, editing or reordering a record breaks the
 * chain. With a signing key, a checkpoint record signs the chain head (Ed25519) every `checkpointEvery` records
 * and `checkpointSeconds` seconds, and a final checkpoint closes the log: a log whose tail was cut no longer ends
 * with its closing checkpoint. A checkpoint's signature covers every field of its record (seq, time, prev, type,
 * keyId, final), so `final` cannot be added to a cut log. A log reopened after an unclean stop (crash, kill, or a
 * cut tail) gets a `resumed` record naming the head it found, which `audit verify` reports. With a rollback state
 * folder the log's last head is also kept outside the log, and a log whose end is behind it (cut back, even to an
 * earlier run's closing checkpoint) is refused on open. Records hold no image bytes, and hashes and matched
 * entries only for matches (the hashes of innocent uploads are personal data).
 */

/** A decision as the audit log records it. */
export interface AuditDecision {
  /**
   * Who decided: `serve` (a request), `scan` (a file), `rematch` (a stored record matched again against a list
   * release that came after it was accepted: a retroactive match).
   */
  source: "serve" | "scan" | "rematch";
  requestId?: string;
  /** Scan: the file's path (reports carry paths, never content). */
  path?: string;
  decision: "match" | "no_match" | "low_quality" | "review" | "error";
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
  /**
   * The hits: recorded whole for matches (list, entry, category, algorithm, distance, policy of each); for other
   * decisions only the hits a local override set aside (`overridden`), so an allow that turned a match into no
   * match stays on the record.
   */
  matches?: unknown[];
  errorCode?: string;
}

/**
 * Where a record sits in the log: its `seq` and the SHA-256 of its line (what the next record's `prev` holds), so a
 * preservation record can point at it and anyone holding the log can show the record is there, unaltered.
 */
export interface AuditPosition {
  seq: number;
  sha256: string;
}

/**
 * A record that is not an upload's decision: a reviewer's verdict (`feedback`), an override proposed from
 * verdicts (`proposal`), an entry held for review (`quarantine`), a report built for a match (`preservation`).
 * `type` names it; the other fields are the event's own (no image bytes, ever). `seq`, `time` and `prev` are the
 * log's.
 */
export interface AuditEvent {
  type: "feedback" | "proposal" | "quarantine" | "preservation";
  [field: string]: unknown;
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
  /**
   * Rollback state folder: the log's head is recorded there at open, at every checkpoint (every checkpointEvery
   * records / checkpointSeconds without a key) and at close, and a log whose end is behind the recorded head is
   * refused on open (PHM_AUDIT_ALTERED).
   */
  state?: RollbackState;
  /**
   * Told of a failure once the log is open, where no caller is there to throw to: a checkpoint due on the timer
   * that could not be written, or a head the rollback state could not keep (locked, unreadable). The log goes on;
   * a write that fails in `record` still throws to its caller. Default: a process warning (stderr).
   */
  onError?: (error: PhmatchError) => void;
}

const GENESIS = "0".repeat(64);
/** Version of the checkpoint signature: 2 signs the whole record (without its signature). */
const CHECKPOINT_VERSION = 2;

/**
 * The bytes a legacy checkpoint (phmatch before checkpoint version 2) signed: seq, prev and time only; its
 * `final` flag is not covered, so a legacy closing checkpoint does not prove the tail was not cut.
 */
function legacyCheckpointMessage(seq: number, prev: string, time: string): Buffer {
  return Buffer.from(`phmatch-audit-checkpoint\n${seq}\n${prev}\n${time}\n`, "utf8");
}

/** The bytes a version-2 checkpoint signs: every field of its record but the signature, as canonical JSON. */
function checkpointMessage(record: Record<string, unknown>): Buffer {
  const { signature: _signature, ...fields } = record;
  return Buffer.from(`phmatch-audit-checkpoint-v${CHECKPOINT_VERSION}\n${canonicalJson(fields)}\n`, "utf8");
}

// JSON with object keys sorted (recursively), so signer and verifier agree on the bytes whatever the key order.
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** An open audit log. Appends are synchronous, so records are in the file in the order decisions were made. */
export class AuditLog {
  readonly path: string;
  #fd: number;
  #seq: number;
  #prev: string;
  #sinceCheckpoint = 0;
  #lastCheckpoint: number;
  readonly #key: { pem: string; id: string; publicKey: KeyObject } | undefined;
  readonly #every: number;
  readonly #seconds: number;
  readonly #now: () => Date;
  readonly #timer: NodeJS.Timeout | undefined;
  readonly #state: RollbackState | undefined;
  readonly #onError: (error: PhmatchError) => void;
  #opening = true;

  private constructor(path: string, fd: number, seq: number, prev: string, options: AuditLogOptions) {
    this.path = path;
    this.#fd = fd;
    this.#seq = seq;
    this.#prev = prev;
    this.#every = options.checkpointEvery ?? 1000;
    this.#seconds = options.checkpointSeconds ?? 60;
    this.#now = options.now ?? (() => new Date());
    this.#lastCheckpoint = this.#now().getTime();
    this.#state = options.state;
    this.#onError =
      options.onError ?? ((error) => process.emitWarning(`${error.code}: ${error.message}`, "PhmatchAuditWarning"));
    if (options.signingKeyPem !== undefined) {
      const publicKey = createPublicKey(options.signingKeyPem);
      if (publicKey.asymmetricKeyType !== "ed25519")
        throw new PhmatchError(
          "PHM_USAGE",
          `the audit log signing key must be Ed25519, got ${String(publicKey.asymmetricKeyType)}`,
        );
      this.#key = { pem: options.signingKeyPem, id: keyId(publicKey), publicKey };
    }
    if (this.#key !== undefined || this.#state !== undefined) {
      // A throw from here would be uncaught and end the process (the gate): it is reported instead.
      this.#timer = setInterval(() => {
        try {
          if (this.#sinceCheckpoint > 0) this.#mark();
        } catch (error) {
          this.#onError(toPhmatchError(error));
        }
      }, this.#seconds * 1000);
      this.#timer.unref();
    }
  }

  /**
   * Opens (or continues) the log at `path`: the chain goes on from its last record. A log that does not end with
   * its closing record gets a `resumed` record first (the head found, and why). With `state`, a log whose end is
   * behind the head recorded there is refused (PHM_AUDIT_ALTERED), naming both heads.
   */
  static open(path: string, options: AuditLogOptions = {}): AuditLog {
    const recorded = options.state?.auditHead(path);
    if (recorded !== undefined && !existsSync(path)) {
      throw new PhmatchError("PHM_AUDIT_ALTERED", behind(path, undefined, recorded, options.state as RollbackState), {
        optionNames: ["state"],
      });
    }
    let fd: number;
    try {
      fd = openSync(path, "a+");
    } catch (error) {
      throw new PhmatchError("PHM_USAGE", `cannot open the audit log ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const last = lastLine(fd);
    let seq = 0;
    let prev = GENESIS;
    let lastRecord: Record<string, unknown> | undefined;
    if (last !== undefined) {
      try {
        lastRecord = JSON.parse(last) as Record<string, unknown>;
        if (typeof lastRecord !== "object" || lastRecord === null || !Number.isSafeInteger(lastRecord.seq))
          throw new TypeError("no seq");
        seq = (lastRecord.seq as number) + 1;
      } catch {
        closeSync(fd);
        throw new PhmatchError(
          "PHM_AUDIT_ALTERED",
          `the audit log ${path} does not end with a record: refusing to continue it (verify it: \`verifyAuditLog\`)`,
        );
      }
      prev = sha256(last);
    }
    if (recorded !== undefined) {
      const found = seq - 1 < recorded.seq ? undefined : recordAt(fd, recorded.seq);
      if (found === undefined || sha256(found) !== recorded.head) {
        closeSync(fd);
        throw new PhmatchError(
          "PHM_AUDIT_ALTERED",
          behind(
            path,
            last === undefined ? undefined : { seq: seq - 1, head: prev },
            recorded,
            options.state as RollbackState,
            found !== undefined,
          ),
          { optionNames: ["state"] },
        );
      }
    }
    let log: AuditLog | undefined;
    try {
      log = new AuditLog(path, fd, seq, prev, options);
      if (lastRecord !== undefined && !log.#closedCleanly(lastRecord)) {
        log.#append({
          type: "resumed",
          after: { seq: seq - 1, head: prev },
          reason:
            "the log did not end with its closing record: the previous writer stopped uncleanly " +
            "(crash, kill, power loss), or records were cut from its end",
        });
      }
      log.#append({
        type: "open",
        tool: `phmatch ${PHMATCH_VERSION}`,
        ...(log.#key === undefined ? {} : { keyId: log.#key.id }),
      });
      fsyncSync(fd);
      // At open a head the state cannot keep is the caller's error (nothing has been answered yet); later it is
      // reported (onError), and the log goes on.
      log.#saveHead();
      log.#opening = false;
      return log;
    } catch (error) {
      if (log !== undefined) clearInterval(log.#timer);
      closeSync(fd);
      throw error;
    }
  }

  // A log ends cleanly with an unsigned log's close record, or a closing checkpoint: one of ours must verify (a
  // final flag added to a cut log does not); one by another key (rotated) or a legacy one is taken as written,
  // and audit verify checks it against the trusted keys.
  #closedCleanly(last: Record<string, unknown>): boolean {
    if (last.type === "close") return true;
    if (last.type !== "checkpoint" || last.final !== true) return false;
    if (last.v !== CHECKPOINT_VERSION || this.#key === undefined || last.keyId !== this.#key.id) return true;
    return (
      typeof last.signature === "string" &&
      verify(null, checkpointMessage(last), this.#key.publicKey, Buffer.from(last.signature, "base64"))
    );
  }

  /** Appends one decision; returns where it sits. */
  record(decision: AuditDecision): AuditPosition {
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
    // A review is a match held for a person to look at (its entry is quarantined): recorded as whole as a match.
    if (decision.decision === "match" || decision.decision === "review") {
      if (decision.hashes !== undefined) entry.hashes = decision.hashes;
      if (decision.matches !== undefined) entry.matches = decision.matches;
    } else {
      const overridden = (decision.matches ?? []).filter(
        (m) => typeof m === "object" && m !== null && (m as { override?: unknown }).override !== undefined,
      );
      if (overridden.length > 0) entry.overridden = overridden;
    }
    return this.#counted(entry);
  }

  /** Appends one event that is not a decision (see {@link AuditEvent}); returns where it sits. */
  event(event: AuditEvent): AuditPosition {
    const { type, seq: _seq, time: _time, prev: _prev, ...fields } = event;
    const reserved = ["decision", "checkpoint", "open", "close", "resumed"];
    if (reserved.includes(type)) throw new PhmatchError("PHM_INTERNAL", `"${type}" is not an audit event type`);
    return this.#counted({ type, ...fields });
  }

  // Appends a decision or an event and checkpoints when one is due.
  #counted(fields: Record<string, unknown>): AuditPosition {
    this.#append(fields);
    const position = { seq: this.#seq - 1, sha256: this.#prev };
    this.#sinceCheckpoint++;
    if (
      (this.#key !== undefined || this.#state !== undefined) &&
      (this.#sinceCheckpoint >= this.#every || this.#now().getTime() - this.#lastCheckpoint >= this.#seconds * 1000)
    )
      this.#mark();
    return position;
  }

  /** Signs the chain head now (no-op without a key), and records the head in the rollback state, if any. */
  checkpoint(final = false): void {
    if (this.#key === undefined) return;
    const fields: Record<string, unknown> = {
      seq: this.#seq,
      time: this.#now().toISOString(),
      prev: this.#prev,
      type: "checkpoint",
      v: CHECKPOINT_VERSION,
      keyId: this.#key.id,
      ...(final ? { final: true } : {}),
    };
    fields.signature = sign(null, checkpointMessage(fields), this.#key.pem).toString("base64");
    this.#appendRecord(fields);
    this.#sinceCheckpoint = 0;
    this.#lastCheckpoint = this.#now().getTime();
    fsyncSync(this.#fd);
    this.#saveHead();
  }

  // A checkpoint with a key; without one, the head goes to the rollback state only (after an fsync, so the state
  // never records a head the disk might lose).
  #mark(): void {
    if (this.#key !== undefined) {
      this.checkpoint();
      return;
    }
    fsyncSync(this.#fd);
    this.#saveHead();
    this.#sinceCheckpoint = 0;
    this.#lastCheckpoint = this.#now().getTime();
  }

  #saveHead(): void {
    try {
      this.#state?.recordAuditHead(this.path, { seq: this.#seq - 1, head: this.#prev });
    } catch (error) {
      if (this.#opening) throw error;
      const e = toPhmatchError(error);
      this.#onError(
        new PhmatchError(
          e.code,
          `the audit log ${this.path}: its head (record ${this.#seq - 1}) could not be kept in the rollback state: ` +
            `${e.message}; the log itself is intact, but a cut back to this point would not be noticed ` +
            `on reopening until a later head is kept`,
          { cause: error },
        ),
      );
    }
  }

  /** The SHA-256 of the last record: keep it elsewhere, and `audit verify --head` proves nothing was cut after it. */
  get head(): string {
    return this.#prev;
  }

  /** Writes the closing checkpoint and closes the file. */
  close(): void {
    if (this.#fd < 0) return;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    // Both ways fsync before the head goes to the state.
    if (this.#key !== undefined) this.checkpoint(true);
    else {
      this.#append({ type: "close" });
      fsyncSync(this.#fd);
      this.#saveHead();
    }
    closeSync(this.#fd);
    this.#fd = -1;
  }

  #append(fields: Record<string, unknown>): void {
    this.#appendRecord({ seq: this.#seq, time: this.#now().toISOString(), prev: this.#prev, ...fields });
  }

  #appendRecord(record: Record<string, unknown>): void {
    if (this.#fd < 0) throw new PhmatchError("PHM_INTERNAL", `the audit log ${this.path} is closed`);
    const line = JSON.stringify(record);
    writeSync(this.#fd, `${line}\n`);
    this.#prev = sha256(line);
    this.#seq++;
  }
}

// The refusal of a log whose end is behind the head kept in the rollback state.
function behind(
  path: string,
  found: AuditHead | undefined,
  recorded: AuditHead,
  state: RollbackState,
  differs = false,
): string {
  const end = found === undefined ? "is missing or empty" : `ends at record ${found.seq} (head ${found.head})`;
  const why = differs
    ? `its record ${recorded.seq} is not the one recorded (head ${recorded.head})`
    : `the rollback state ${state.dir} recorded record ${recorded.seq} (head ${recorded.head})`;
  return (
    `the audit log ${path} ${end}, but ${why}: ` +
    `records were cut from its end or the log was replaced; refusing to continue it. ` +
    `Keep this file as evidence (verifying it with \`state\` ${state.dir} shows where it differs), ` +
    `restore the whole log, or start a new log under another name`
  );
}

// The line of the record with `seq`, read backwards from the end (the head recorded in the state is at most one
// checkpoint interval from the end of an intact log), or undefined if no line has that seq.
function recordAt(fd: number, seq: number): string | undefined {
  for (const line of linesBackwards(fd)) {
    let record: { seq?: unknown };
    try {
      record = JSON.parse(line) as { seq?: unknown };
    } catch {
      return undefined;
    }
    if (record.seq === seq) return line;
    if (typeof record.seq !== "number" || record.seq < seq) return undefined;
  }
  return undefined;
}

function* linesBackwards(fd: number): Generator<string> {
  let end = fstatSync(fd).size;
  let rest = Buffer.alloc(0);
  while (end > 0) {
    const start = Math.max(0, end - 65536);
    const chunk = Buffer.alloc(end - start);
    readSync(fd, chunk, 0, chunk.length, start);
    rest = Buffer.concat([chunk, rest]);
    end = start;
    let cut = rest.lastIndexOf(0x0a);
    while (cut >= 0) {
      const line = rest.subarray(cut + 1).toString("utf8");
      rest = rest.subarray(0, cut);
      if (line !== "") yield line;
      cut = rest.lastIndexOf(0x0a);
    }
  }
  if (rest.length > 0) yield rest.toString("utf8");
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
  /** Checkpoints in the legacy format (signed over seq, prev and time only, not their `final` flag). */
  legacyCheckpoints: number;
  /** True when the log ends with its signed closing checkpoint (or, written without a key, its close record). */
  closed: boolean;
  /** Each `resumed` record: the writer before it stopped uncleanly (or records were cut) after record `afterSeq`. */
  uncleanStops: { line: number; afterSeq: number; head: string }[];
  /** Each problem with the line (1-based) where it shows. */
  problems: { line: number; problem: string }[];
}

/**
 * Checks an audit log: every line parses, `seq` counts up by one, `prev` is the SHA-256 of the line before, every
 * checkpoint is signed by one of `trustedKeys` over its whole record (legacy checkpoints over the chain head), and
 * the log ends with its closing checkpoint (a log cut short does not; a legacy closing checkpoint does not prove
 * it, its `final` flag being unsigned). Unclean stops (`resumed` records) are listed. `head`: a head kept outside
 * the log (printed at close, or the rollback state's `{ seq, head }`): the log must hold it (at that seq), so a log
 * cut back even to an earlier run's closing checkpoint is caught. Without trusted keys only the chain is checked,
 * and signatures are reported unchecked.
 */
export function verifyAuditLog(
  text: string,
  trustedKeys: KeyObject[] = [],
  options: { head?: string | AuditHead } = {},
): AuditVerification {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const problems: { line: number; problem: string }[] = [];
  const uncleanStops: AuditVerification["uncleanStops"] = [];
  const expected: { head: string; seq?: number } | undefined =
    typeof options.head === "string" ? { head: options.head } : options.head;
  let prev = GENESIS;
  let expectedSeq = 0;
  let decisions = 0;
  let checkpoints = 0;
  let legacyCheckpoints = 0;
  let last: Record<string, unknown> = {};
  let headSeen = expected === undefined;
  let headAt: number | undefined;
  lines.forEach((line, i) => {
    const at = i + 1;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
      if (typeof record !== "object" || record === null || Array.isArray(record)) throw new TypeError("not an object");
    } catch {
      record = {};
      problems.push({ line: at, problem: "not a JSON record (edited or damaged)" });
    }
    if (record.seq !== expectedSeq) {
      problems.push({
        line: at,
        problem:
          `sequence ${String(record.seq)} where ${expectedSeq} was due ` + `(a record was deleted, inserted or moved)`,
      });
    }
    expectedSeq = (typeof record.seq === "number" ? record.seq : expectedSeq) + 1;
    if (record.prev !== prev)
      problems.push({
        line: at,
        problem: "its prev is not the SHA-256 of the line before (that line was edited, deleted or moved)",
      });
    if (record.type === "decision") decisions++;
    if (record.type === "resumed") {
      const after = record.after as { seq?: unknown; head?: unknown } | undefined;
      if (after?.head !== record.prev || after?.seq !== (record.seq as number) - 1)
        problems.push({ line: at, problem: "its resumed record does not name the record before it" });
      uncleanStops.push({
        line: at,
        afterSeq: typeof after?.seq === "number" ? after.seq : -1,
        head: String(after?.head),
      });
    }
    if (record.type === "checkpoint") {
      checkpoints++;
      const legacy = record.v === undefined;
      if (legacy) legacyCheckpoints++;
      else if (record.v !== CHECKPOINT_VERSION)
        problems.push({
          line: at,
          problem: `checkpoint version ${String(record.v)} is not one this phmatch knows (made by a newer phmatch?)`,
        });
      if (trustedKeys.length > 0) {
        const key = trustedKeys.find((k) => keyId(k) === record.keyId);
        const message = legacy
          ? legacyCheckpointMessage(record.seq as number, String(record.prev), String(record.time))
          : checkpointMessage(record);
        if (key === undefined)
          problems.push({
            line: at,
            problem: `checkpoint signed by key ${String(record.keyId)}, which is not trusted`,
          });
        else if (
          typeof record.signature !== "string" ||
          !verify(null, message, key, Buffer.from(record.signature, "base64"))
        ) {
          problems.push({ line: at, problem: "checkpoint signature does not match the record (edited or forged)" });
        }
      }
    }
    last = record;
    prev = sha256(line);
    if (
      expected !== undefined &&
      prev === expected.head &&
      (expected.seq === undefined || record.seq === expected.seq)
    ) {
      headSeen = true;
      headAt = at;
    }
  });
  const closingCheckpoint = last.type === "checkpoint" && last.final === true;
  const legacyClose = closingCheckpoint && last.v === undefined;
  // A legacy closing checkpoint's `final` is unsigned: only a head kept elsewhere, at the last line, proves the end.
  const provenByHead = headAt !== undefined && headAt === lines.length;
  const closed = (closingCheckpoint && !legacyClose) || last.type === "close" || (legacyClose && provenByHead);
  if (lines.length === 0) problems.push({ line: 0, problem: "the log is empty" });
  else if (legacyClose && !provenByHead) {
    problems.push({
      line: lines.length,
      problem:
        "the log ends with a legacy closing checkpoint, whose final flag is not signed: " +
        "a cut tail cannot be ruled out (verify with the head kept at close: `head`, or `state`)",
    });
  } else if (!closed) {
    problems.push({
      line: lines.length,
      problem:
        "the log does not end with its closing checkpoint: its tail was cut, or the writer is still running or crashed",
    });
  } else if (last.type === "close" && trustedKeys.length > 0) {
    problems.push({
      line: lines.length,
      problem: "the log was written without a signing key: a cut tail cannot be ruled out",
    });
  }
  if (!headSeen) {
    const where = expected?.seq === undefined ? "" : ` at record ${expected.seq}`;
    problems.push({
      line: lines.length,
      problem:
        `no record has the head ${String(expected?.head)}${where} kept outside the log: ` +
        `records were cut from the end, or the log was replaced`,
    });
  }
  return {
    ok: problems.length === 0,
    records: lines.length,
    decisions,
    checkpoints,
    legacyCheckpoints,
    closed,
    uncleanStops,
    problems,
  };
}

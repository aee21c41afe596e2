import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { type AcceptedRecord, PhmatchError } from "@phmatch/core/internal";
import { readText } from "../commands/hashset/options.js";
import { CliError } from "../errors.js";

/**
 * The record journal of `serve --record-journal DIR`: what the gate accepted (hash records, the platform's content
 * id, the time; nothing else), so that a later list release can be matched against it (`phmatch rematch
 * --journal`). Hashes of private photos can be partly inverted, so the journal is encrypted at rest with
 * AES-256-GCM, each record authenticated on its own and bound to its file and place in it:
 *
 *   file  = magic "PHJ\0v001" (8) | file id (16 random bytes) | key check: IV (12) | tag (16)
 *   record = length (u32 LE, of what follows) | IV (12) | ciphertext | tag (16)
 *
 * The key check is GCM over nothing with the file's magic and id as additional data: a wrong key is told apart from
 * damage (PHM_JOURNAL_KEY). Each record's additional data is the magic, the file id and its number in the file
 * (u64 LE), so an altered, moved, repeated or dropped record fails (PHM_JOURNAL_ALTERED), as does a file cut inside
 * a record. One file per UTC day, a new one past `maxFileBytes` and at every start; files of days older than the
 * retention are deleted at start and every hour.
 */
export const JOURNAL_MAGIC = Buffer.from("PHJ\0v001", "latin1");
const HEADER_BYTES = JOURNAL_MAGIC.length + 16 + 12 + 16;
const NAME = /^journal-(\d{4}-\d{2}-\d{2})-(\d{4})\.phj$/;
/** A record is a hash record: a long video's is a few MiB; more is not one. */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** Default size past which a new file is started. */
export const DEFAULT_JOURNAL_FILE_BYTES = 64 * 1024 * 1024;
/** Default retention, in days. */
export const DEFAULT_JOURNAL_DAYS = 30;

/**
 * The journal key from `--record-journal-key FILE` or PHMATCH_JOURNAL_KEY: 64 hex digits or base64 of 32 bytes.
 * Missing or unusable is PHM_USAGE (a journal is never written in the clear, nor with a guessable key).
 */
export function journalKey(file: string | undefined): Buffer {
  const text = file !== undefined ? readText(file, "--record-journal-key") : process.env.PHMATCH_JOURNAL_KEY;
  const what = file !== undefined ? `--record-journal-key ${file}` : "PHMATCH_JOURNAL_KEY";
  if (text === undefined || text.trim() === "")
    throw new PhmatchError(
      "PHM_USAGE",
      "the record journal is encrypted at rest and needs a key: give --record-journal-key <file> or " +
        "PHMATCH_JOURNAL_KEY (32 random bytes as 64 hex digits or base64, e.g. openssl rand -hex 32)",
    );
  const trimmed = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(trimmed)
    ? Buffer.from(trimmed, "hex")
    : /^[A-Za-z0-9+/]{43}=$/.test(trimmed)
      ? Buffer.from(trimmed, "base64")
      : undefined;
  if (key === undefined || key.length !== 32)
    throw new PhmatchError("PHM_USAGE", `${what} is not a 32-byte key (64 hex digits or base64)`);
  return key;
}

/** Options of a {@link RecordJournal}. */
export interface JournalOptions {
  dir: string;
  key: Buffer;
  /** Retention in days: files of days before today minus this are deleted. */
  days: number;
  maxFileBytes?: number;
  /** The clock (tests). */
  now?: () => Date;
}

/** Appends accepted-upload records to the encrypted journal, rotating and purging its files. */
export class RecordJournal {
  readonly #options: Required<JournalOptions>;
  #file: { name: string; fd: number; id: Buffer; day: string; seq: bigint; bytes: number } | undefined;
  readonly #committed = new Map<string, number>();
  #purger: NodeJS.Timeout | undefined;
  appended = 0;

  constructor(options: JournalOptions) {
    if (!Number.isInteger(options.days) || options.days < 1)
      throw new PhmatchError(
        "PHM_USAGE",
        `--record-journal-days takes a whole number of days >= 1, got ${options.days}`,
      );
    if (options.key.length !== 32) throw new PhmatchError("PHM_USAGE", "the journal key must be 32 bytes");
    this.#options = { maxFileBytes: DEFAULT_JOURNAL_FILE_BYTES, now: () => new Date(), ...options };
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    this.purge();
    this.#purger = setInterval(() => this.purge(), 3600_000);
    this.#purger.unref();
  }

  /** Appends one record (synchronously: a few microseconds, and nothing is lost to a crash after the answer). */
  append(record: AcceptedRecord): void {
    const file = this.#current();
    const plain = Buffer.from(JSON.stringify(record));
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#options.key, iv);
    cipher.setAAD(recordAad(file.id, file.seq));
    const body = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(body.length);
    const bytes = Buffer.concat([length, body]);
    writeSync(file.fd, bytes);
    file.seq++;
    file.bytes += bytes.length;
    this.#committed.set(file.name, file.bytes);
    this.appended++;
  }

  /** Sizes of the files as written so far: a reader in this process reads no further (no half-written record). */
  committed(): ReadonlyMap<string, number> {
    return new Map(this.#committed);
  }

  /** Deletes the files of days past the retention; returns their names. */
  purge(): string[] {
    const cutoff = utcDay(new Date(this.#options.now().getTime() - this.#options.days * 86_400_000));
    const deleted: string[] = [];
    for (const name of readdirSync(this.#options.dir)) {
      const m = NAME.exec(name);
      if (m === null || (m[1] as string) >= cutoff) continue;
      if (this.#file?.name === name) this.#close();
      unlinkSync(join(this.#options.dir, name));
      this.#committed.delete(name);
      deleted.push(name);
    }
    return deleted;
  }

  close(): void {
    clearInterval(this.#purger);
    this.#close();
  }

  #close(): void {
    if (this.#file !== undefined) closeSync(this.#file.fd);
    this.#file = undefined;
  }

  // The file for now: today's, unless it is past the size limit (then the next number of the day).
  #current() {
    const day = utcDay(this.#options.now());
    if (this.#file !== undefined && this.#file.day === day && this.#file.bytes < this.#options.maxFileBytes)
      return this.#file;
    this.#close();
    let n = 0;
    for (const name of readdirSync(this.#options.dir)) {
      const m = NAME.exec(name);
      if (m !== null && m[1] === day) n = Math.max(n, Number(m[2]) + 1);
    }
    const name = `journal-${day}-${String(n).padStart(4, "0")}.phj`;
    const fd = openSync(join(this.#options.dir, name), "wx", 0o600);
    const id = randomBytes(16);
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#options.key, iv);
    cipher.setAAD(Buffer.concat([JOURNAL_MAGIC, id]));
    cipher.final();
    const header = Buffer.concat([JOURNAL_MAGIC, id, iv, cipher.getAuthTag()]);
    writeSync(fd, header);
    this.#file = { name, fd, id, day, seq: 0n, bytes: header.length };
    this.#committed.set(name, header.length);
    return this.#file;
  }
}

/**
 * The records of a journal folder, oldest file first, each decrypted and authenticated (its text, one JSON object).
 * `committed` (from the writing journal) bounds each file read in the gate's own process. Any damage, alteration
 * or wrong key throws (PHM_JOURNAL_ALTERED, PHM_JOURNAL_KEY): a record is never skipped.
 */
export function* readJournal(dir: string, key: Buffer, committed?: ReadonlyMap<string, number>): Generator<string> {
  const names = readdirSync(dir)
    .filter((n) => NAME.test(n))
    .sort();
  for (const name of names) {
    let bytes = readFileSync(join(dir, name));
    const limit = committed?.get(name);
    if (committed !== undefined && limit === undefined) continue; // purged or started after the reader was
    if (limit !== undefined) bytes = bytes.subarray(0, limit);
    yield* readJournalFile(bytes, key, name);
  }
}

function* readJournalFile(bytes: Buffer, key: Buffer, name: string): Generator<string> {
  const altered = (why: string) =>
    new CliError(
      "PHM_JOURNAL_ALTERED",
      `record journal file ${name} is damaged or was altered (${why}); nothing after it was read`,
    );
  if (bytes.length < HEADER_BYTES || !bytes.subarray(0, JOURNAL_MAGIC.length).equals(JOURNAL_MAGIC))
    throw altered("not a journal file header");
  const id = bytes.subarray(8, 24);
  try {
    const check = createDecipheriv("aes-256-gcm", key, bytes.subarray(24, 36));
    check.setAAD(Buffer.concat([JOURNAL_MAGIC, id]));
    check.setAuthTag(bytes.subarray(36, 52));
    check.final();
  } catch {
    throw new CliError(
      "PHM_JOURNAL_KEY",
      `record journal file ${name} was not written with this key (or its header was altered)`,
    );
  }
  let at = HEADER_BYTES;
  let seq = 0n;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw altered(`cut inside record ${seq}`);
    const length = bytes.readUInt32LE(at);
    if (length < 28 || length > MAX_RECORD_BYTES + 28) throw altered(`record ${seq} has an impossible length`);
    if (at + 4 + length > bytes.length) throw altered(`cut inside record ${seq}`);
    const body = bytes.subarray(at + 4, at + 4 + length);
    let plain: Buffer;
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, body.subarray(0, 12));
      decipher.setAAD(recordAad(id, seq));
      decipher.setAuthTag(body.subarray(length - 16));
      plain = Buffer.concat([decipher.update(body.subarray(12, length - 16)), decipher.final()]);
    } catch {
      throw altered(`record ${seq} does not authenticate`);
    }
    yield plain.toString("utf8");
    at += 4 + length;
    seq++;
  }
}

function recordAad(id: Buffer, seq: bigint): Buffer {
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(seq);
  return Buffer.concat([JOURNAL_MAGIC, id, n]);
}

function utcDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The longest X-Content-Id taken; printable ASCII and no control characters. */
const CONTENT_ID = /^[\x21-\x7e][\x20-\x7e]{0,1023}$/;

/**
 * The platform's content id from the X-Content-Id header: undefined when there is none (the upload is then not
 * journaled: a record the platform could not act on is kept for nothing); "invalid" when it is not 1 to 1,024
 * printable ASCII characters (the request is refused: the platform meant to journal and got its id wrong).
 */
export function contentIdOf(header: string | string[] | undefined): string | undefined | "invalid" {
  if (header === undefined) return undefined;
  if (Array.isArray(header) || !CONTENT_ID.test(header)) return "invalid";
  return header;
}

/** The accepted-upload record a journal keeps: the hashes only (no path, no error, no name), the id and the time. */
export function journalRecord(
  record: Partial<AcceptedRecord> & { hashes?: Record<string, string> },
  contentId: string,
  uploadedAt: Date,
): AcceptedRecord {
  const kept: AcceptedRecord = { contentId, uploadedAt: uploadedAt.toISOString() };
  for (const field of ["hashes", "quality", "dihedral", "trimmed", "rotated", "parts", "video"] as const)
    if (record[field] !== undefined) (kept as unknown as Record<string, unknown>)[field] = record[field];
  return kept;
}

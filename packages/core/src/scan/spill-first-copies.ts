import { createHash } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  mkdtempSync,
  openSync,
  readSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { PhmatchError } from "../errors/index.js";
import type { ScanFileRecord } from "../report/scan-report.js";
import type { FirstCopies } from "./first-copies.js";

/** Options of {@link SpillFirstCopies}. */
export interface SpillFirstCopiesOptions {
  /** Directory under which the private spill directory is made (default: PHMATCH_TMPDIR, else the OS tmp). */
  tempDir?: string;
}

// Slots of the table: 8-byte key prefix (two uint32) + the record's offset in the spill file plus one (a float64:
// exact to 2^53 bytes; 0 = empty slot). 16 bytes a slot; grown by doubling past 3/4 full, so right after growing a
// table holds 16 / (3/8) = 43 bytes per entry, and while growing (old and new tables both alive) 64.
const MAX_LOAD = 0.75;
const FIRST_CAPACITY = 1024;
// Records not yet written are gathered and written together (fewer system calls); a lookup reads them from here.
const WRITE_BUFFER = 256 * 1024;
// A record is read with one positioned read of this many bytes, a second one when it is longer.
const READ_AHEAD = 4096;
const HEX64 = /^[0-9a-f]{64}$/;

// Spill files open in this process, removed at exit whatever way it ends (process.exit included, a signal's handler
// then calling it); one listener for all of them.
const open = new Set<SpillFirstCopies>();
let exitHook = false;

/**
 * {@link FirstCopies} that keeps only a small table in memory (an 8-byte prefix of each SHA-256 and where its record
 * is; at most 64 bytes per distinct file, measured in test/spill-first-copies.test.ts) and appends the records to a
 * spill file: what a scan of millions of files needs so its memory does not grow with the case.
 *
 * Each record is stored with its full key and a lookup compares it, so two digests sharing a prefix are never taken
 * for each other. The spill file holds records (paths, hashes, matches), never file bytes; it is made in a new
 * private directory (mode 0700, under PHMATCH_TMPDIR or the OS tmp), opened 0600 with O_EXCL, and unlinked at once
 * where the system allows it (POSIX: the open handle keeps it readable, and nothing is left behind even after a
 * kill -9), else at {@link SpillFirstCopies.close} or when the process exits.
 */
export class SpillFirstCopies implements FirstCopies {
  #capacity = 0;
  #keys = new Uint32Array(0); // [hi, lo] per slot
  #offsets = new Float64Array(0);
  #size = 0;
  #fd: number;
  #path: string | undefined;
  #dir: string | undefined;
  #flushed = 0; // bytes on disk
  #buffer = Buffer.alloc(WRITE_BUFFER);
  #buffered = 0; // bytes in #buffer, which continue the file at #flushed
  #closed = false;

  constructor(options: SpillFirstCopiesOptions = {}) {
    const base = options.tempDir ?? process.env.PHMATCH_TMPDIR ?? tmpdir();
    if (!isAbsolute(base) || !statSync(base, { throwIfNoEntry: false })?.isDirectory())
      throw new PhmatchError(
        "PHM_USAGE",
        `the directory for the scan's spill file (${options.tempDir !== undefined ? "tempDir" : "PHMATCH_TMPDIR"}: ` +
          `${base}) is not an absolute path to a directory: set PHMATCH_TMPDIR to one`,
      );
    this.#dir = mkdtempSync(join(base, "phmatch-firsts-")); // mode 0700
    this.#path = join(this.#dir, "first-copies.spill");
    const flags = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);
    try {
      this.#fd = openSync(this.#path, flags, 0o600);
    } catch (error) {
      this.#removeFiles();
      throw error;
    }
    // Made by this process just now in its own 0700 directory; checked all the same (a shared tmp whose directory
    // was swapped): a file not ours, not a plain file, or readable by others is refused, not used.
    const stat = fstatSync(this.#fd);
    const uid = process.getuid?.();
    // (Windows has no such mode bits: there the directory's default ACL of the user's temp folder applies.)
    const posix = process.platform !== "win32";
    const owned = stat.isFile() && stat.nlink === 1 && (!posix || (stat.mode & 0o077) === 0);
    if (!owned || (uid !== undefined && stat.uid !== uid)) {
      this.close();
      throw new PhmatchError("PHM_USAGE", `the scan's spill file ${join(base, "phmatch-firsts-*")} is not private`);
    }
    open.add(this);
    if (!exitHook) {
      exitHook = true;
      process.on("exit", () => {
        for (const copies of open) copies.close();
      });
    }
    this.#removeFiles(); // fails harmlessly where an open file cannot be unlinked (Windows): then at close or exit
    this.#grow(FIRST_CAPACITY);
  }

  /** Where the spill file is while it has a name (undefined once unlinked), for tests and the curious. */
  get spillPath(): string | undefined {
    return this.#path;
  }

  /** The spill file's mode bits and owner, read from its open handle. */
  spillStat(): { mode: number; uid: number; size: number } {
    const stat = fstatSync(this.#fd);
    return { mode: stat.mode & 0o777, uid: stat.uid, size: stat.size };
  }

  get(sha256: string): ScanFileRecord | undefined {
    const slot = this.#find(sha256);
    if (slot.offset === undefined) return undefined;
    return JSON.parse(slot.json as string) as ScanFileRecord;
  }

  has(sha256: string): boolean {
    return this.#find(sha256).offset !== undefined;
  }

  set(sha256: string, record: ScanFileRecord): void {
    if (this.#closed) return; // a file still in flight when its scan ended: nothing is remembered any more
    const offset = this.#append(sha256, JSON.stringify(record));
    const found = this.#find(sha256);
    if (found.offset !== undefined) {
      this.#offsets[found.slot] = offset + 1; // a record set again replaces the first, as a Map would
      return;
    }
    if (this.#size + 1 > this.#capacity * MAX_LOAD) {
      this.#grow(this.#capacity * 2);
    }
    const [hi, lo] = prefix(sha256);
    let slot = this.#home(hi, lo);
    while (this.#offsets[slot] !== 0) slot = (slot + 1) & (this.#capacity - 1);
    this.#keys[2 * slot] = hi;
    this.#keys[2 * slot + 1] = lo;
    this.#offsets[slot] = offset + 1;
    this.#size++;
  }

  get size(): number {
    return this.#size;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    open.delete(this);
    try {
      closeSync(this.#fd);
    } catch {
      // already closed
    }
    this.#removeFiles();
    this.#keys = new Uint32Array(0);
    this.#offsets = new Float64Array(0);
    this.#buffer = Buffer.alloc(0);
    this.#capacity = 0;
    this.#size = 0;
  }

  #removeFiles(): void {
    if (this.#path !== undefined) {
      try {
        unlinkSync(this.#path);
        this.#path = undefined;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") this.#path = undefined;
      }
    }
    if (this.#path === undefined && this.#dir !== undefined) {
      try {
        rmdirSync(this.#dir);
        this.#dir = undefined;
      } catch {
        // left for close or exit
      }
    }
  }

  #home(hi: number, lo: number): number {
    // The prefix is already uniformly distributed (a SHA-256): its low bits pick the slot.
    return (lo ^ Math.imul(hi, 0x9e3779b1)) & (this.#capacity - 1);
  }

  // The slot holding `key`, with its record's text, or the empty slot where it would go.
  #find(key: string): { slot: number; offset?: number; json?: string } {
    if (this.#closed) return { slot: -1 }; // closed: remembers nothing, like a cleared MemoryFirstCopies
    const [hi, lo] = prefix(key);
    const mask = this.#capacity - 1;
    for (let slot = this.#home(hi, lo); ; slot = (slot + 1) & mask) {
      const stored = this.#offsets[slot] as number;
      if (stored === 0) return { slot };
      if (this.#keys[2 * slot] === hi && this.#keys[2 * slot + 1] === lo) {
        const record = this.#read(stored - 1);
        if (record.key === key) return { slot, offset: stored - 1, json: record.json };
      }
    }
  }

  #grow(capacity: number): void {
    const keys = this.#keys;
    const offsets = this.#offsets;
    const old = this.#capacity;
    this.#capacity = capacity;
    this.#keys = new Uint32Array(2 * capacity);
    this.#offsets = new Float64Array(capacity);
    const mask = capacity - 1;
    for (let i = 0; i < old; i++) {
      const stored = offsets[i] as number;
      if (stored === 0) continue;
      const hi = keys[2 * i] as number;
      const lo = keys[2 * i + 1] as number;
      let slot = this.#home(hi, lo);
      while (this.#offsets[slot] !== 0) slot = (slot + 1) & mask;
      this.#keys[2 * slot] = hi;
      this.#keys[2 * slot + 1] = lo;
      this.#offsets[slot] = stored;
    }
  }

  // Appends one record: [uint32 key bytes][uint32 text bytes][key][record JSON], UTF-8; returns its offset.
  #append(key: string, json: string): number {
    const keyBytes = Buffer.byteLength(key);
    const textBytes = Buffer.byteLength(json);
    const length = 8 + keyBytes + textBytes;
    const offset = this.#flushed + this.#buffered;
    if (this.#buffered + length > this.#buffer.length) this.#flush();
    if (length > this.#buffer.length) {
      const record = Buffer.alloc(length);
      this.#encode(record, 0, key, keyBytes, json, textBytes);
      this.#writeAll(record);
      return offset;
    }
    this.#encode(this.#buffer, this.#buffered, key, keyBytes, json, textBytes);
    this.#buffered += length;
    return offset;
  }

  #encode(into: Buffer, at: number, key: string, keyBytes: number, json: string, textBytes: number): void {
    into.writeUInt32LE(keyBytes, at);
    into.writeUInt32LE(textBytes, at + 4);
    into.write(key, at + 8, "utf8");
    into.write(json, at + 8 + keyBytes, "utf8");
  }

  #flush(): void {
    if (this.#buffered === 0) return;
    this.#writeAll(this.#buffer.subarray(0, this.#buffered));
    this.#buffered = 0;
  }

  #writeAll(bytes: Buffer): void {
    for (let done = 0; done < bytes.length; ) {
      done += writeSync(this.#fd, bytes, done, bytes.length - done, this.#flushed + done);
    }
    this.#flushed += bytes.length;
  }

  #read(offset: number): { key: string; json: string } {
    if (offset >= this.#flushed) return decode(this.#buffer.subarray(offset - this.#flushed, this.#buffered));
    let chunk = this.#readAt(offset, READ_AHEAD);
    const length = 8 + chunk.readUInt32LE(0) + chunk.readUInt32LE(4);
    if (length > chunk.length) chunk = this.#readAt(offset, length);
    return decode(chunk);
  }

  #readAt(offset: number, length: number): Buffer {
    const bytes = Buffer.alloc(Math.min(length, this.#flushed - offset));
    for (let done = 0; done < bytes.length; ) {
      const n = readSync(this.#fd, bytes, done, bytes.length - done, offset + done);
      if (n === 0) throw new PhmatchError("PHM_INTERNAL", "the scan's spill file ended early");
      done += n;
    }
    return bytes;
  }
}

function decode(bytes: Buffer): { key: string; json: string } {
  const keyBytes = bytes.readUInt32LE(0);
  const textBytes = bytes.readUInt32LE(4);
  return {
    key: bytes.toString("utf8", 8, 8 + keyBytes),
    json: bytes.toString("utf8", 8 + keyBytes, 8 + keyBytes + textBytes),
  };
}

// The table's key: the first 8 bytes of the SHA-256 (hex), or of the SHA-256 of any other key (a record read back
// from a report may hold anything: it is still found exactly, by the full key stored with it).
function prefix(key: string): [number, number] {
  const hex = HEX64.test(key) ? key : createHash("sha256").update(key).digest("hex");
  return [Number.parseInt(hex.slice(0, 8), 16), Number.parseInt(hex.slice(8, 16), 16)];
}

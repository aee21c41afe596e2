import { open } from "node:fs/promises";
import { basename } from "node:path";
import { PhmatchError } from "../errors/index.js";
import { algorithmOfHexLength, DIGEST_WIDTH, type DigestAlgorithm, parseHexDigest } from "./digest-algorithm.js";
import { type IgnorableDigestSet, MemoryDigestSet, PrefixTable } from "./digest-set.js";
import { sortUniqueDigests } from "./run-sort.js";
import { DIGEST_STORE_MAGIC } from "./store-format.js";
import { type OpenDigestStoreOptions, openDigestStore } from "./store-reader.js";

/** A line of a digest list that is not a digest. */
export interface DigestListProblem {
  /** 1-based line number. */
  line: number;
  reason: string;
}

/** A digest list with lines that are not digests: refused whole, with the first problems by line. */
export class DigestListError extends PhmatchError {
  readonly problems: readonly DigestListProblem[];
  constructor(path: string, problems: readonly DigestListProblem[], total: number) {
    const shown = problems.map((p) => `line ${p.line}: ${p.reason}`).join("; ");
    super(
      "PHM_IGNORABLE_FORMAT",
      `${path}: ${total} line(s) are not ${total > problems.length ? "digests, the first: " : "digests: "}${shown}; ` +
        "the list was not used (fix or remove those lines)",
      { path },
    );
    this.name = "DigestListError";
    this.problems = problems;
  }
}

/** How a plain digest list is read. */
export interface DigestListOptions {
  /** The algorithm the list must hold; by default the first digest's length decides (32, 40 or 64 hex digits). */
  algorithm?: DigestAlgorithm;
  /** Refuse lists with more digests than this (default 10^7: 320 MB of SHA-256); build a store for more. */
  maxEntries?: number;
}

/** Default {@link DigestListOptions.maxEntries}. */
export const DEFAULT_DIGEST_LIST_MAX_ENTRIES = 10_000_000;
/** A line longer than this is refused without being held whole (a digest line is at most 64 hex digits). */
const MAX_LINE_CHARS = 1024;
/** Problems kept for the error message. */
const MAX_PROBLEMS = 20;

/**
 * The digests of a plain text list, in file order: one hex digest per line (either case), blank lines and lines
 * starting with `#` skipped, surrounding spaces and a CR ignored. Every line must be a digest of the one algorithm;
 * otherwise, after reading it all, a {@link DigestListError} names the lines (fail closed: a half-read list is not
 * used). Reads in 64 KiB blocks; a line is never held beyond {@link MAX_LINE_CHARS} characters.
 */
export async function* readDigestList(
  path: string,
  options: Pick<DigestListOptions, "algorithm"> & { onAlgorithm?: (algorithm: DigestAlgorithm) => void } = {},
): AsyncGenerator<Uint8Array> {
  let algorithm = options.algorithm;
  const problems: DigestListProblem[] = [];
  let problemCount = 0;
  const problem = (line: number, reason: string) => {
    problemCount++;
    if (problems.length < MAX_PROBLEMS) problems.push({ line, reason });
  };
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === "ENOENT" ? "PHM_FILE_NOT_FOUND" : "PHM_FILE_UNREADABLE";
    throw new PhmatchError(code, `${path}: cannot open the digest list (${(error as Error).message})`, { path });
  }
  try {
    const decoder = new TextDecoder("utf-8", { fatal: false });
    const block = Buffer.allocUnsafe(64 * 1024);
    let pending = "";
    let tooLong = false;
    let lineNumber = 0;
    const take = function* (raw: string): Generator<Uint8Array> {
      lineNumber++;
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      const hexAlgorithm = algorithmOfHexLength(line.length);
      const digest = parseHexDigest(line);
      if (digest === undefined || hexAlgorithm === undefined) {
        problem(lineNumber, `not a hex MD5, SHA-1 or SHA-256 digest (${line.length} characters)`);
        return;
      }
      if (algorithm === undefined) {
        algorithm = hexAlgorithm;
        options.onAlgorithm?.(algorithm);
      }
      if (hexAlgorithm !== algorithm) {
        problem(lineNumber, `a ${hexAlgorithm} digest in a list of ${algorithm} digests`);
        return;
      }
      yield digest;
    };
    for (;;) {
      const { bytesRead } = await file.read(block, 0, block.length, null);
      const text = bytesRead === 0 ? decoder.decode() : decoder.decode(block.subarray(0, bytesRead), { stream: true });
      let start = 0;
      for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
        if (tooLong) {
          lineNumber++;
          problem(lineNumber, `longer than ${MAX_LINE_CHARS} characters`);
          tooLong = false;
        } else {
          yield* take(pending + text.slice(start, nl));
        }
        pending = "";
        start = nl + 1;
      }
      if (!tooLong) pending += text.slice(start);
      if (pending.length > MAX_LINE_CHARS) {
        tooLong = true;
        pending = "";
      }
      if (bytesRead === 0) break;
    }
    if (tooLong) {
      lineNumber++;
      problem(lineNumber, `longer than ${MAX_LINE_CHARS} characters`);
    } else if (pending !== "") {
      yield* take(pending);
    }
  } finally {
    await file.close();
  }
  if (problemCount > 0) throw new DigestListError(path, problems, problemCount);
}

/**
 * Loads a plain digest list into memory, sorted and deduplicated: width bytes of RAM per distinct digest while in
 * use (plus width + 4 per listed digest while sorting). Empty lists are refused (`PHM_IGNORABLE_FORMAT`): with no
 * digest line the algorithm is unknown and the list says nothing.
 */
export async function loadDigestList(path: string, options: DigestListOptions = {}): Promise<IgnorableDigestSet> {
  const maxEntries = options.maxEntries ?? DEFAULT_DIGEST_LIST_MAX_ENTRIES;
  let algorithm = options.algorithm;
  let buffer = Buffer.alloc(0);
  let count = 0;
  for await (const digest of readDigestList(path, { algorithm, onAlgorithm: (a) => (algorithm = a) })) {
    if (count === maxEntries) {
      throw new PhmatchError(
        "PHM_USAGE",
        `${path}: more than ${maxEntries} digests; build a digest store from it instead (maxEntries)`,
        { path, optionNames: ["maxEntries"] },
      );
    }
    if ((count + 1) * digest.length > buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(4096, buffer.length * 2));
      buffer.copy(grown, 0, 0, count * digest.length);
      buffer = grown;
    }
    buffer.set(digest, count * digest.length);
    count++;
  }
  if (algorithm === undefined || count === 0) {
    throw new PhmatchError("PHM_IGNORABLE_FORMAT", `${path}: the digest list has no digest line; it was not used`, {
      path,
    });
  }
  const width = DIGEST_WIDTH[algorithm];
  const body = Buffer.from(sortUniqueDigests(buffer, count, width));
  const prefixes = new PrefixTable();
  for (let at = 0; at < body.length; at += width) prefixes.add(body[at] as number, body[at + 1] as number);
  prefixes.finish();
  return new MemoryDigestSet(algorithm, body, prefixes, basename(path), path);
}

/**
 * Opens an ignorable source: a digest store (recognised by its magic) or else a plain digest list. What the scan's
 * `--ignorable FILE` will call.
 */
export async function openIgnorable(
  path: string,
  options: OpenDigestStoreOptions & DigestListOptions = {},
): Promise<IgnorableDigestSet> {
  const head = Buffer.alloc(DIGEST_STORE_MAGIC.length);
  try {
    const file = await open(path, "r");
    try {
      await file.read(head, 0, head.length, 0);
    } finally {
      await file.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code === "ENOENT" ? "PHM_FILE_NOT_FOUND" : "PHM_FILE_UNREADABLE";
    throw new PhmatchError(code, `${path}: cannot open the ignorable list (${(error as Error).message})`, { path });
  }
  if (head.equals(DIGEST_STORE_MAGIC)) {
    const set = await openDigestStore(path, options);
    if (options.algorithm !== undefined && set.algorithm !== options.algorithm) {
      await set.close();
      throw new PhmatchError("PHM_USAGE", `${path}: holds ${set.algorithm} digests, not ${options.algorithm}`, {
        path,
      });
    }
    return set;
  }
  return loadDigestList(path, options);
}

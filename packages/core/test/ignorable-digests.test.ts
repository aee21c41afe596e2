// Ignorable known files (issue 22): the sorted digest store built within a RAM budget (external sort in runs),
// exact lookups from memory and from the file, refusal of cut, padded, unsorted and altered stores, and plain
// MD5/SHA-1/SHA-256 lists with bad lines reported by line number.
import { createHash, randomBytes } from "node:crypto";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildDigestStore,
  DIGEST_WIDTH,
  type DigestAlgorithm,
  DigestListError,
  DigestStoreBuilder,
  loadDigestList,
  openDigestStore,
  openIgnorable,
  type PhmatchError,
  readDigestList,
} from "@phmatch/core/internal";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "phmatch-ignorable-test-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ALGORITHMS: DigestAlgorithm[] = ["md5", "sha1", "sha256"];
const digestOf = (algorithm: DigestAlgorithm, i: number) =>
  createHash(algorithm).update(`file ${i}`).digest() as Uint8Array;
const hex = (d: Uint8Array) => Buffer.from(d).toString("hex");

async function refusal(promise: Promise<unknown>): Promise<PhmatchError> {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as PhmatchError | undefined;
  if (error === undefined) throw new Error("expected a refusal");
  return error;
}

describe("digest store: build and look up", () => {
  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: unsorted input with duplicates, a tiny RAM budget forcing runs, every digest found`, async () => {
      const width = DIGEST_WIDTH[algorithm];
      const listed = Array.from({ length: 700 }, (_, i) => digestOf(algorithm, i));
      // Shuffled, with every seventh digest given twice (a repeat inside a run and across runs).
      const given = [...listed, ...listed.filter((_, i) => i % 7 === 0)].sort(() => Math.random() - 0.5);
      const output = join(dir, `${algorithm}.phd`);
      const result = await buildDigestStore(
        // 20 entries per run: 40 runs, merged in one pass.
        { algorithm, output, source: `test list ${algorithm}`, ramBudgetBytes: 20 * (width + 4), tempDir: dir },
        given,
      );
      expect(result.runs).toBeGreaterThan(20);
      expect(result.count).toBe(700);
      expect(result.added).toBe(given.length);
      expect(readFileSync(output).length).toBe(56 + `test list ${algorithm}`.length + 700 * width);
      // The run files are gone.
      expect(readdirSync(dir).filter((name) => name.startsWith("phmatch-digests-"))).toEqual([]);
      expect(readdirSync(dir).filter((name) => name !== `${algorithm}.phd`)).toEqual([]);

      for (const maxMemoryBytes of [undefined, 0]) {
        const set = await openDigestStore(output, { maxMemoryBytes });
        expect(set.residence).toBe(maxMemoryBytes === 0 ? "file" : "memory");
        expect(set.algorithm).toBe(algorithm);
        expect(set.count).toBe(700);
        expect(set.source).toBe(`test list ${algorithm}`);
        for (const d of listed) expect(set.has(d), hex(d)).toBe(true);
        for (let i = 0; i < 300; i++) expect(set.has(randomBytes(width))).toBe(false);
        // Neighbours of listed digests (last byte changed) are not found: the lookup is exact.
        for (const d of listed.slice(0, 50)) {
          const near = Uint8Array.from(d);
          near[width - 1] = (near[width - 1] as number) ^ 1;
          expect(set.has(near)).toBe(false);
        }
        await set.close();
      }
    });
  }

  it("the body is sorted ascending with no repeats, whatever the budget", async () => {
    const listed = Array.from({ length: 300 }, (_, i) => digestOf("sha1", i % 250));
    const small = join(dir, "small.phd");
    const large = join(dir, "large.phd");
    await buildDigestStore({ algorithm: "sha1", output: small, source: "s", ramBudgetBytes: 48 }, listed);
    await buildDigestStore({ algorithm: "sha1", output: large, source: "s" }, listed);
    const body = readFileSync(small).subarray(57);
    expect(body.equals(readFileSync(large).subarray(57))).toBe(true);
    const entries = Array.from({ length: body.length / 20 }, (_, i) => body.subarray(i * 20, i * 20 + 20));
    expect(entries.length).toBe(250);
    const sorted = [...entries].sort(Buffer.compare);
    expect(entries.map(hex)).toEqual(sorted.map(hex));
  });

  it("more runs than one merge pass takes (64) are merged in passes", async () => {
    const listed = Array.from({ length: 400 }, (_, i) => digestOf("md5", i));
    const output = join(dir, "passes.phd");
    // Two entries per run: 200 runs, merged 64 at a time.
    const result = await buildDigestStore({ algorithm: "md5", output, source: "p", ramBudgetBytes: 40 }, listed);
    expect(result.count).toBe(400);
    const set = await openDigestStore(output, { maxMemoryBytes: 0 });
    for (const d of listed) expect(set.has(d)).toBe(true);
    await set.close();
  });

  it("file lookups bisect a prefix bucket too big for one read (64 KiB) before reading it", async () => {
    // 3000 SHA-256 digests sharing their first two bytes: one bucket of 96 000 bytes.
    const listed = Array.from({ length: 3000 }, () => {
      const d = randomBytes(32);
      d[0] = 0;
      d[1] = 7;
      return d as Uint8Array;
    });
    const output = join(dir, "bucket.phd");
    await buildDigestStore({ algorithm: "sha256", output, source: "b" }, listed);
    const set = await openDigestStore(output, { maxMemoryBytes: 0 });
    for (const d of listed) expect(set.has(d)).toBe(true);
    for (let i = 0; i < 200; i++) {
      const other = randomBytes(32);
      other[0] = 0;
      other[1] = 7;
      expect(set.has(other)).toBe(false);
    }
    await set.close();
  });

  it("a digest of the wrong width and a too small budget are usage errors", async () => {
    expect(
      () => new DigestStoreBuilder({ algorithm: "sha256", output: join(dir, "x"), source: "", ramBudgetBytes: 10 }),
    ).toThrow(expect.objectContaining({ code: "PHM_USAGE" }));
    const builder = new DigestStoreBuilder({ algorithm: "sha256", output: join(dir, "x"), source: "" });
    expect((await refusal(builder.add(new Uint8Array(20)))).code).toBe("PHM_USAGE");
    await builder.abort();
  });
});

describe("digest store: damaged stores are refused", () => {
  async function store(): Promise<string> {
    const output = join(dir, "s.phd");
    const digests = Array.from({ length: 100 }, (_, i) => digestOf("sha256", i));
    await buildDigestStore({ algorithm: "sha256", output, source: "NSRL test" }, digests);
    return output;
  }
  const codeOf = async (path: string) => (await refusal(openDigestStore(path))).code;

  it("a cut store (header or body) is refused", async () => {
    const path = await store();
    const size = readFileSync(path).length;
    truncateSync(path, size - 1);
    expect(await codeOf(path)).toBe("PHM_IGNORABLE_FORMAT");
    truncateSync(path, 30);
    expect(await codeOf(path)).toBe("PHM_IGNORABLE_FORMAT");
  });

  it("bytes after the last digest are refused", async () => {
    const path = await store();
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.alloc(32)]));
    expect((await refusal(openDigestStore(path))).message).toMatch(/after the last digest/);
  });

  it("any flipped byte (header, description or body) is refused", async () => {
    const path = await store();
    const original = readFileSync(path);
    // Every header and description byte, and a sample of body bytes.
    const positions = [...Array.from({ length: 65 }, (_, i) => i), 100, 1000, 2000, original.length - 1];
    for (const at of positions) {
      const altered = Buffer.from(original);
      altered[at] = (altered[at] as number) ^ 0x01;
      writeFileSync(path, altered);
      expect(await codeOf(path), `byte ${at}`).toBe("PHM_IGNORABLE_FORMAT");
    }
  });

  it("an algorithm byte and count re-cutting the same body are caught by the checksum", async () => {
    // 10 SHA-256 digests = 320 bytes = 20 MD5 digests: only the checksum over the header tells them apart.
    const output = join(dir, "recut.phd");
    const digests = Array.from({ length: 10 }, (_, i) => digestOf("sha256", i));
    await buildDigestStore({ algorithm: "sha256", output, source: "r" }, digests);
    const altered = readFileSync(output);
    altered.writeUInt8(1, 10);
    altered.writeBigUInt64LE(20n, 12);
    writeFileSync(output, altered);
    expect((await refusal(openDigestStore(output))).message).toMatch(/checksum/);
  });

  it("an unsorted body is refused even with a matching checksum (a binary search could miss a digest)", async () => {
    const path = await store();
    const bytes = readFileSync(path);
    const body = 56 + "NSRL test".length;
    // Swap the first two digests, then write the checksum the format defines over the new body.
    const first = Buffer.from(bytes.subarray(body, body + 32));
    bytes.copy(bytes, body, body + 32, body + 64);
    first.copy(bytes, body + 32);
    const checksum = createHash("sha256")
      .update(bytes.subarray(body))
      .update(bytes.subarray(0, 24))
      .update(bytes.subarray(56, body))
      .digest();
    checksum.copy(bytes, 24);
    writeFileSync(path, bytes);
    expect((await refusal(openDigestStore(path))).message).toMatch(/digest 1 is not above the one before it/);
  });

  it("a source description with control characters is neither written nor read (it is shown in reports)", async () => {
    const output = join(dir, "ctl.phd");
    const builder = new DigestStoreBuilder({ algorithm: "md5", output, source: "NSRL\u001b[2J" });
    await builder.add(digestOf("md5", 1));
    expect((await refusal(builder.finish())).code).toBe("PHM_USAGE");
    // A store written with a clean description of the same length, then edited and re-checksummed.
    await buildDigestStore({ algorithm: "md5", output, source: "NSRL_[2J" }, [digestOf("md5", 1)]);
    const bytes = readFileSync(output);
    bytes[56 + 4] = 0x1b;
    const body = 56 + 8;
    createHash("sha256")
      .update(bytes.subarray(body))
      .update(bytes.subarray(0, 24))
      .update(bytes.subarray(56, body))
      .digest()
      .copy(bytes, 24);
    writeFileSync(output, bytes);
    expect((await refusal(openDigestStore(output))).message).toMatch(/control characters/);
  });

  it("a store looked up from the file stops answering once it is written in place", async () => {
    const output = join(dir, "inplace.phd");
    const listed = Array.from({ length: 50 }, (_, i) => digestOf("sha1", i));
    await buildDigestStore({ algorithm: "sha1", output, source: "p" }, listed);
    const set = await openDigestStore(output, { maxMemoryBytes: 0 });
    expect(set.has(listed[0] as Uint8Array)).toBe(true);
    // Grown by one digest in place. (A same-size rewrite is caught by ctime only when the clock has moved past the
    // file system's timestamp granularity since verification, so the test does not rely on it.)
    appendFileSync(output, Buffer.from(listed[1] as Uint8Array));
    expect(() => set.has(listed[0] as Uint8Array)).toThrow(expect.objectContaining({ code: "PHM_IGNORABLE_FORMAT" }));
    await set.close();
  });

  it("a store that is not a store, or a folder, is refused", async () => {
    const path = join(dir, "text.phd");
    writeFileSync(path, "d41d8cd98f00b204e9800998ecf8427e\n".repeat(4));
    expect(await codeOf(path)).toBe("PHM_IGNORABLE_FORMAT");
    expect(await codeOf(dir)).toBe("PHM_FILE_UNREADABLE");
    expect(await codeOf(join(dir, "missing"))).toBe("PHM_FILE_NOT_FOUND");
  });
});

describe("plain digest lists", () => {
  it("reads MD5, SHA-1 and SHA-256 lists with comments, blank lines, CRLF and either case", async () => {
    for (const algorithm of ALGORITHMS) {
      const listed = Array.from({ length: 50 }, (_, i) => digestOf(algorithm, i));
      const path = join(dir, `${algorithm}.txt`);
      const lines = listed.map((d, i) => (i % 2 ? hex(d).toUpperCase() : `  ${hex(d)}\r`));
      writeFileSync(path, `# known-good ${algorithm}\n\n${lines.join("\n")}\n${lines[0]}\n`);
      const set = await openIgnorable(path);
      expect(set.algorithm).toBe(algorithm);
      expect(set.count).toBe(50);
      for (const d of listed) expect(set.has(d)).toBe(true);
      expect(set.has(randomBytes(DIGEST_WIDTH[algorithm]))).toBe(false);
    }
  });

  it("lines that are not digests are reported by line number and the list is refused", async () => {
    const good = hex(digestOf("sha1", 1));
    const path = join(dir, "bad.txt");
    writeFileSync(
      path,
      [
        "# header",
        good,
        `${good.slice(0, 39)}g`, // line 3: not hex
        good.slice(0, 30), // line 4: a length of no algorithm
        hex(digestOf("md5", 2)), // line 5: another algorithm
        "x".repeat(100_000), // line 6: too long (spans read blocks, never held whole)
        good,
      ].join("\n"),
    );
    const error = await refusal(loadDigestList(path));
    expect(error).toBeInstanceOf(DigestListError);
    expect(error.code).toBe("PHM_IGNORABLE_FORMAT");
    expect((error as DigestListError).problems.map((p) => p.line)).toEqual([3, 4, 5, 6]);
    expect(error.message).toMatch(/line 3: .*line 6: longer than/);
  });

  it("a list with no digest line, and one over maxEntries, are refused", async () => {
    const empty = join(dir, "empty.txt");
    writeFileSync(empty, "# nothing here\n\n");
    expect((await refusal(loadDigestList(empty))).code).toBe("PHM_IGNORABLE_FORMAT");
    const many = join(dir, "many.txt");
    writeFileSync(many, Array.from({ length: 11 }, (_, i) => hex(digestOf("md5", i))).join("\n"));
    expect((await refusal(loadDigestList(many, { maxEntries: 10 }))).code).toBe("PHM_USAGE");
  });

  it("a store built from a list with a bad line is not written, and its run files are removed", async () => {
    const path = join(dir, "late-bad.txt");
    const lines = Array.from({ length: 60 }, (_, i) => hex(digestOf("md5", i)));
    writeFileSync(path, `${lines.join("\n")}\nnot a digest\n`);
    const output = join(dir, "never.phd");
    const runs = join(dir, "runs");
    mkdirSync(runs);
    // A budget of 4 digests: runs are spilled before the bad last line is read.
    const error = await refusal(
      buildDigestStore(
        { algorithm: "md5", output, source: "x", ramBudgetBytes: 80, tempDir: runs },
        readDigestList(path),
      ),
    );
    expect((error as DigestListError).problems).toEqual([{ line: 61, reason: expect.stringMatching(/not a hex/) }]);
    expect(readdirSync(runs)).toEqual([]);
    expect(readdirSync(dir).sort()).toEqual(["late-bad.txt", "runs"]);
  });

  it("openIgnorable tells a store from a list by its magic", async () => {
    const output = join(dir, "s.phd");
    await buildDigestStore({ algorithm: "md5", output, source: "s" }, [digestOf("md5", 1)]);
    const set = await openIgnorable(output);
    expect(set.source).toBe("s");
    expect(set.has(digestOf("md5", 1))).toBe(true);
    expect((await refusal(openIgnorable(output, { algorithm: "sha1" }))).code).toBe("PHM_USAGE");
  });
});

// Worker pools: same records as in-process hashing, in input order; the supervised pool survives its child
// dying and enforces per-file time and memory limits, losing no file.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { HashPool, type HashRecord, hashFile, hashImageBytes, isFailedRecord, SupervisedHashPool } from "@phmatch/core";
import { afterEach, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { syntheticImage } from "../../../test/support/worker-faults.js";

const files = [
  ...readdirSync(fixtures("images")).map((f) => join(fixtures("images"), f)),
  ...readdirSync(fixtures("bad")).map((f) => join(fixtures("bad"), f)),
].sort();

async function collect(source: AsyncIterable<HashRecord>): Promise<HashRecord[]> {
  const out: HashRecord[] = [];
  for await (const record of source) out.push(record);
  return out;
}

async function expected(paths: string[]): Promise<HashRecord[]> {
  const out: HashRecord[] = [];
  for (const path of paths) out.push(await hashFile(path, { dihedral: true }));
  return out;
}

const pools: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe("HashPool (threads in this process)", () => {
  it("returns the in-process records, in input order", async () => {
    const pool = new HashPool({ threads: 2, hashOptions: { dihedral: true } });
    pools.push(pool);
    expect(await collect(pool.hashAll(files))).toEqual(await expected(files));
  });
});

describe("SupervisedHashPool (threads in a supervised child process)", () => {
  it("returns the in-process records, in input order", async () => {
    const pool = new SupervisedHashPool({ jobs: 2, hashOptions: { dihedral: true } });
    pools.push(pool);
    expect(await collect(pool.hashAll(files))).toEqual(await expected(files));
    expect(pool.stats).toMatchObject({ starts: 1, crashes: 0, retries: 0 });
  });

  it("loses no file when its child process is killed mid-run", async () => {
    const many = Array.from({ length: 6 }, () => files).flat();
    const pool = new SupervisedHashPool({ jobs: 2, hashOptions: { dihedral: true } });
    pools.push(pool);
    const records: HashRecord[] = [];
    let killed = 0;
    for await (const record of pool.hashAll(many)) {
      records.push(record);
      // Kill the child twice, at different points of the run.
      if ((records.length === 5 || records.length === 60) && pool.childPid !== undefined) {
        process.kill(pool.childPid, "SIGKILL");
        killed++;
      }
    }
    expect(killed).toBe(2);
    expect(records).toEqual(await expected(many));
    expect(pool.stats.crashes).toBe(2);
    expect(pool.stats.starts).toBe(3);
  });

  it("reports PHM_WORKER_TIMEOUT after one retry when a file exceeds the time limit, then goes on", async () => {
    const pool = new SupervisedHashPool({ jobs: 1, fileTimeoutMs: 1 });
    pools.push(pool);
    // 4 megapixels take far longer than 1 ms to decode and hash on any machine; a small JPEG could come back
    // before the timer on a fast, idle one.
    const record = await pool.hashBytes(await syntheticImage(7, 2000, 2000, "png"), "big.png");
    expect(isFailedRecord(record) && record.error.code).toBe("PHM_WORKER_TIMEOUT");
    expect(pool.stats.timeouts).toBe(2);
    expect(pool.stats.retries).toBe(1);
  });

  it("reports PHM_WORKER_MEMORY after one retry when the child exceeds the memory limit", async () => {
    const pool = new SupervisedHashPool({ jobs: 1, memoryLimitBytes: 1024 * 1024 });
    pools.push(pool);
    const record = await pool.hash(fixtures("images/texture.jpg"));
    expect(isFailedRecord(record) && record.error.code).toBe("PHM_WORKER_MEMORY");
    expect(pool.stats.memoryKills).toBe(2);
  });

  it("hashes bytes in the child as in this process, leaving the caller's buffer as it was", async () => {
    const pool = new SupervisedHashPool({ jobs: 2 });
    pools.push(pool);
    const options = { algorithms: ["pdq", "md5"], dihedral: true };
    const bytes = readFileSync(fixtures("images/shapes.png"));
    const copy = Buffer.from(bytes);
    // A view into a larger buffer travels as its own bytes only (the md5 would differ otherwise).
    const inLarger = Buffer.concat([Buffer.alloc(64, 7), bytes, Buffer.alloc(64, 7)]).subarray(64, 64 + bytes.length);
    const want = await hashImageBytes(bytes, "upload", options);
    expect(await pool.hashBytes(bytes, "upload", options)).toEqual(want);
    expect(await pool.hashBytes(inLarger, "upload", options)).toEqual(want);
    expect(bytes.equals(copy)).toBe(true);
    const corrupt = await pool.hashBytes(readFileSync(fixtures("bad/corrupt.png")), "bad", options);
    expect(isFailedRecord(corrupt) && corrupt.error.code).toBe("PHM_DECODE_CORRUPT");
  });

  it("retries the uploads in flight when the child segfaults, and answers each", async () => {
    const pool = new SupervisedHashPool({ jobs: 2 });
    pools.push(pool);
    const names = ["shapes.png", "texture.jpg", "texture-grey.png", "shapes-mirror.png"];
    const uploads = Array.from({ length: 6 }, () =>
      names.map((name) => readFileSync(fixtures(`images/${name}`))),
    ).flat();
    const answers = uploads.map((bytes, i) => pool.hashBytes(bytes, `upload-${i}`));
    // The first answer comes from a running child with more uploads in flight behind it: it dies now.
    await answers[0];
    process.kill(pool.childPid as number, "SIGSEGV");
    const records = await Promise.all(answers);
    for (const [i, record] of records.entries())
      expect(record).toEqual(await hashImageBytes(uploads[i] as Buffer, `upload-${i}`));
    expect(pool.stats).toMatchObject({ starts: 2, crashes: 1 });
    expect(pool.stats.retries).toBeGreaterThan(0);
  });

  it("drops a queued upload when its signal fires, answering PHM_ABORTED at once", async () => {
    const pool = new SupervisedHashPool({ jobs: 1 });
    pools.push(pool);
    const bytes = readFileSync(fixtures("images/texture.jpg"));
    const before = new AbortController();
    before.abort();
    const early = await pool.hashBytes(bytes, "early", undefined, { signal: before.signal });
    expect(isFailedRecord(early) && early.error.code).toBe("PHM_ABORTED");
    // The child is not started yet, so every one of these is still queued when the signal fires.
    const deadline = new AbortController();
    const queued = Array.from({ length: 4 }, (_, i) =>
      pool.hashBytes(bytes, `queued-${i}`, undefined, { signal: deadline.signal }),
    );
    const kept = pool.hashBytes(bytes, "kept");
    deadline.abort();
    for (const record of await Promise.all(queued))
      expect(isFailedRecord(record) && record.error.code).toBe("PHM_ABORTED");
    expect(await kept).toEqual(await hashImageBytes(bytes, "kept"));
  });

  it("with retryTimedOut off, answers PHM_WORKER_TIMEOUT at once, reporting the thread time it took", async () => {
    const pool = new SupervisedHashPool({ jobs: 1, fileTimeoutMs: 1, retryTimedOut: false });
    pools.push(pool);
    const times: number[] = [];
    // 4 megapixels take far longer than 1 ms to decode and hash on any machine; a small JPEG could come back
    // before the timer is looked at (seen failing so in a full run).
    const record = await pool.hashBytes(await syntheticImage(7, 2000, 2000, "png"), "slow", undefined, {
      onWorkerTime: (ms) => times.push(ms),
    });
    expect(isFailedRecord(record) && record.error.code).toBe("PHM_WORKER_TIMEOUT");
    expect(isFailedRecord(record) && record.error.message).toMatch(/not retried/);
    expect(pool.stats).toMatchObject({ timeouts: 1, retries: 0 });
    expect(times).toHaveLength(1);
    expect(times[0]).toBeGreaterThanOrEqual(1);
  });

  it(
    "at the deadline drops an upload still waiting for " + "a thread, and lets the one a thread started finish",
    async () => {
      // One thread: `waiting` is sent to the worker process with `running` but cannot start before it ends. The
      // deadline fires the moment a thread starts `running`.
      const pool = new SupervisedHashPool({ jobs: 1 });
      pools.push(pool);
      const big = await syntheticImage(5, 2000, 2000, "png");
      const small = readFileSync(fixtures("images/texture.jpg"));
      const deadline = new AbortController();
      const times: number[] = [];
      const running = pool.hashBytes(big, "running", undefined, {
        signal: deadline.signal,
        onStart: () => deadline.abort(),
        onWorkerTime: (ms) => times.push(ms),
      });
      const waiting = pool.hashBytes(small, "waiting", undefined, {
        signal: deadline.signal,
        onWorkerTime: (ms) => times.push(ms),
      });
      const dropped = await waiting;
      expect(isFailedRecord(dropped) && dropped.error.code).toBe("PHM_ABORTED");
      expect(await running).toEqual(await hashImageBytes(big, "running"));
      expect(times).toHaveLength(1); // the dropped upload never ran
      expect(await pool.hashBytes(small, "next")).toEqual(await hashImageBytes(small, "next"));
      expect(pool.stats).toMatchObject({ starts: 1, crashes: 0, timeouts: 0 });
    },
  );

  it("keeps a client's uploads under its cap, and lets another client's pass them", async () => {
    const pool = new SupervisedHashPool({ jobs: 1 });
    pools.push(pool);
    const bytes = readFileSync(fixtures("images/texture.jpg"));
    const started: string[] = [];
    const submit = (name: string, key: string) =>
      pool.hashBytes(bytes, name, undefined, {
        client: { keys: [key], maxRunning: 1 },
        onStart: () => started.push(name),
      });
    // Queued before the worker process is ready: what goes first is the pool's choice alone.
    await Promise.all([submit("x1", "x"), submit("x2", "x"), submit("x3", "x"), submit("y1", "y")]);
    expect(started).toEqual(["x1", "y1", "x2", "x3"]);
  });

  it("answers PHM_POOL_CLOSED after close", async () => {
    const pool = new SupervisedHashPool({ jobs: 1 });
    await pool.close();
    const record = await pool.hash(fixtures("images/texture.jpg"));
    expect(isFailedRecord(record) && record.error.code).toBe("PHM_POOL_CLOSED");
  });

  it("refuses a bad configuration with PHM_USAGE", () => {
    expect(() => new SupervisedHashPool({ jobs: 0 })).toThrow(expect.objectContaining({ code: "PHM_USAGE" }));
    expect(() => new SupervisedHashPool({ hashOptions: { algorithms: ["md6"] } })).toThrow(/unknown algorithm "md6"/);
  });
});

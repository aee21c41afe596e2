// A video upload's time limit (issue 20): the checker sends a video (recognised by its first bytes) to the pool
// with the video's time limit (videoTimeoutSeconds) as that call's per-file limit, an image with none (the pool's
// own), and the supervised pool holds a call to the limit it was given. No FFmpeg: nothing is decoded as a video.
import { readFileSync } from "node:fs";
import {
  type CheckerPool,
  checkerFor,
  type HashCallControl,
  isFailedRecord,
  loadHashSet,
  SupervisedHashPool,
} from "@phmatch/core";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { syntheticImage } from "../../../test/support/worker-faults.js";

// An MP4's first box: a video container to phmatch.
const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom\0\0\x02\0isommp41", "latin1")]);
const jpeg = readFileSync(fixtures("images/texture.jpg"));

describe("a video upload's time limit", () => {
  it("is the checker's video time limit for a video, and the pool's own for an image", async () => {
    const controls: (HashCallControl | undefined)[] = [];
    const pool: CheckerPool = {
      hashBytes: async (_bytes, name, _options, control) => {
        controls.push(control);
        return { path: name };
      },
      hash: async (path) => ({ path: String(path) }),
    };
    const checker = checkerFor([await loadHashSet(fixtures("hashsets/demo.phs"))], {
      pool,
      hash: { video: { videoTimeoutSeconds: 45 } },
    });
    await checker.check(mp4);
    await checker.check(jpeg);
    expect(controls[0]?.timeoutMs).toBe(45_000);
    expect(controls[1]?.timeoutMs).toBeUndefined();
  });

  const pools: SupervisedHashPool[] = [];
  afterAll(async () => Promise.all(pools.map((p) => p.close())));

  it("holds a call to the limit it was given, the others to the pool's", async () => {
    const pool = new SupervisedHashPool({ jobs: 1, fileTimeoutMs: 120_000, retryTimedOut: false });
    pools.push(pool);
    // A 4-megapixel image: decoding and hashing it takes far longer than the 1 ms it is given on any
    // machine (a small JPEG could come back first on a fast, idle one).
    const big = await syntheticImage(7, 2000, 2000, "png");
    const short = await pool.hashBytes(big, "short", undefined, { timeoutMs: 1 });
    expect(isFailedRecord(short) && short.error.code).toBe("PHM_WORKER_TIMEOUT");
    expect(isFailedRecord(short) && short.error.message).toContain("no result within 1 ms");
    const usual = await pool.hashBytes(jpeg, "usual");
    expect(usual.error).toBeUndefined();
    expect(usual.hashes?.pdq).toMatch(/^[0-9a-f]{64}$/);
  }, 60_000);
});

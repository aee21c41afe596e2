// `phmatch match` on a video record (NDJSON as `phmatch hash clip.mp4` prints it) against a store holding a listed
// video's frames: a vpdq hit with its shares, the video policy changed by --video-share, and a damaged frame refused.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HashSetBuilder, listedVideoEntries, serializeStore, type VpdqFrame } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";
import { cleanEnv } from "../../../test/support/env.js";
import { videoRecord } from "../../../test/support/video-records.js";
import { runCli } from "./support/run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "phmatch-match-video-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = cleanEnv({ PHMATCH_STATE_DIR: join(dir, "state") });

function hash(seed: number): Uint8Array {
  let s = seed * 2654435761 + 1;
  return Uint8Array.from({ length: 32 }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 24;
  });
}
const frame = (n: number, bytes: Uint8Array): VpdqFrame => ({
  frame: n * 30,
  timestamp: n,
  hash: { algorithm: "pdq", bytes, quality: 90 },
});

// A listed video of 10 frames; the query shows its first 8 (70% is not enough, 80% is) after 2 frames of its own.
const listed = Array.from({ length: 10 }, (_, i) => frame(i, hash(i + 1)));
const builder = new HashSetBuilder();
builder.addList({ listId: "V", version: 2 });
for (const e of listedVideoEntries({ listId: "V", entryId: "clip-7", category: "A1" }, listed).entries)
  builder.addEntry(e);
const store = join(dir, "videos.phs");
writeFileSync(store, serializeStore(builder));

const videoLine = (frames: VpdqFrame[]) => JSON.stringify(videoRecord("clip.mp4", frames));
const query = [
  frame(0, hash(500)),
  frame(1, hash(501)),
  ...listed.slice(0, 8).map((f, i) => frame(i + 2, f.hash.bytes)),
];

describe("phmatch match, a video record", () => {
  it("answers a vpdq hit with the shares and the matched stretch", async () => {
    const r = await runCli(["match", "--hashset", store], { env, input: `${videoLine(query)}\n` });
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toEqual({
      path: "clip.mp4",
      status: "known",
      checked: ["vpdq"],
      matches: [
        {
          list: "V",
          listVersion: 2,
          algorithm: "vpdq",
          distance: 0,
          policy: "vpdq:d31:q50:t80:s0@1",
          entryId: "clip-7",
          category: "A1",
          video: {
            queryPercent: 80,
            targetPercent: 80,
            queryFramesUsed: 10,
            targetFramesUsed: 10,
            segments: [{ queryStart: 2, queryEnd: 9, targetStart: 0, targetEnd: 7 }],
          },
        },
      ],
    });
  });

  it("takes the shares from --video-share, and refuses shares that are not two percentages", async () => {
    const r = await runCli(["match", "--hashset", store, "--video-share", "90,0"], {
      env,
      input: `${videoLine(query)}\n`,
    });
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect([result.status, result.matches]).toEqual(["unseen", []]);
    expect(result.notes).toEqual([
      "vpdq: best listed video V/clip-7 matched 80.0% of its frames (the query 80.0% of its own), " +
        "below 90% (vpdq:d31:q50:t90:s0@1)",
    ]);
    const bad = await runCli(["match", "--hashset", store, "--video-share", "80"], { env, input: "" });
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain('expected two percentages "LISTED,QUERY"');
  });

  it("refuses a record whose frame hash is not 64 hex digits as not a hash record", async () => {
    const damaged = videoLine(query).replace(/"pdq":"[0-9a-f]{4}/, '"pdq":"zz');
    const r = await runCli(["match", "--hashset", store], { env, input: `${damaged}\n` });
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "error", error: { code: "PHM_MATCH_INPUT" } });
  });
});

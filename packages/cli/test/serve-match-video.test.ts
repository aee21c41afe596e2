// /v1/match with a video's vPDQ hash (issue 20) under the token rules of #12: frame-level detail (shares,
// segments, timestamps, entry ids) only to full tokens, the verdict alone to decision tokens; video frames only from
// a token that may send pdq by hash (fail closed); every frame one unit of the token's rate; at most
// MAX_MATCH_VIDEO_FRAMES frames a request. Records by value: no FFmpeg, no decoding.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { VideoHash } from "@phmatch/core";
import { HashSetBuilder, listedVideoEntries, serializeStore, type VpdqFrame } from "@phmatch/core/internal";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ListHolder } from "../dist/serve/lists.js";
import { isRefusal, MAX_MATCH_VIDEO_FRAMES, parseMatchRequest } from "../dist/serve/match-request.js";
import { createGate } from "../dist/serve/server.js";
import { MATCHABLE_ALGORITHMS, TokenAuth } from "../dist/serve/tokens.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-match-video-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Distinct, well-spread frame hashes (a linear congruential fill per frame): no two within PDQ's 31 bits.
function frameBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(32);
  let x = (n + 1) * 2654435761;
  for (let i = 0; i < 32; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const LISTED = 100;
const listedFrames: VpdqFrame[] = Array.from({ length: LISTED }, (_, n) => ({
  frame: n * 30,
  timestamp: n,
  hash: { algorithm: "pdq", bytes: frameBytes(n), quality: 90 },
}));

/** A video record as `phmatch hash clip.mp4` prints it, of frames `from` to `to` - 1 of the listed video. */
function videoRecord(from: number, to: number): { path: string; video: VideoHash } {
  const frames = Array.from({ length: to - from }, (_, i) => ({
    frame: (from + i) * 30,
    pdq: hex(frameBytes(from + i)),
    quality: 90,
    timestamp: from + i,
  }));
  return {
    path: "clip.mp4",
    video: {
      algorithm: "vpdq",
      secondsPerHash: 1,
      container: "mov,mp4,m4a,3gp,3g2,mj2",
      codec: "h264",
      width: 320,
      height: 240,
      frameRate: 30,
      durationSeconds: to - from,
      frameCount: (to - from) * 30,
      frames,
    },
  };
}
/** n frames none of which is listed. */
function unlistedVideo(n: number) {
  const record = videoRecord(0, n);
  record.video.frames = record.video.frames.map((f, i) => ({ ...f, pdq: hex(frameBytes(1_000_000 + i)) }));
  return record;
}

const T = "token-0123456789abcdef";
const tokens = new TokenAuth(
  JSON.stringify({
    tokens: [
      { name: "backend", token: `${T}-full`, detail: "full" },
      { name: "device", token: `${T}-device`, detail: "decision", matchAlgorithms: ["pdq"], ratePerMinute: 600_000 },
      { name: "slow", token: `${T}-slow`, detail: "decision", matchAlgorithms: ["pdq"], ratePerMinute: 6 },
      { name: "digest", token: `${T}-digest`, detail: "decision", matchAlgorithms: ["sha256"], ratePerMinute: 600 },
    ],
  }),
  "tokens.json",
);

let app: FastifyInstance;
beforeAll(async () => {
  const builder = new HashSetBuilder();
  builder.addList({ listId: "V", version: 1 });
  for (const entry of listedVideoEntries({ listId: "V", entryId: "clip-1", category: "A1" }, listedFrames).entries)
    builder.addEntry(entry);
  const file = join(work, "videos.phs");
  writeFileSync(file, serializeStore(builder));
  const lists = new ListHolder([file], () => ({}), {});
  await lists.load();
  app = await createGate({ lists, auth: tokens, maxBytes: 1 << 20, maxConcurrent: 4, timeoutMs: 10_000 });
}, 60_000);
afterAll(async () => app?.close());

const post = (token: string, payload: object) =>
  app.inject({
    method: "POST",
    url: "/v1/match",
    headers: { authorization: `Bearer ${T}-${token}` },
    payload,
  });

describe("/v1/match with a video", () => {
  it("answers a full token with the hit's shares, segments and entry id", async () => {
    const reply = await post("full", videoRecord(10, 100));
    expect(reply.statusCode).toBe(200);
    const body = reply.json() as { decision: string; matches: Record<string, unknown>[] };
    expect(body.decision).toBe("match");
    const hit = body.matches[0] as { algorithm: string; entryId: string; video: { segments: unknown[] } };
    expect(hit).toMatchObject({ algorithm: "vpdq", list: "V", entryId: "clip-1", category: "A1" });
    expect(hit.video).toMatchObject({ queryPercent: 100, targetPercent: 90 });
    expect(hit.video.segments.length).toBeGreaterThan(0);
  });

  it("answers a decision token with the verdict and reason code alone: no shares, segments or entry ids", async () => {
    const known = await post("device", videoRecord(10, 100));
    expect(known.statusCode).toBe(200);
    expect(Object.keys(known.json()).sort()).toEqual(["decision", "reason_code", "request_id"]);
    expect(known.json()).toMatchObject({ decision: "match", reason_code: "LIST_MATCH" });
    const unseen = await post("device", unlistedVideo(10));
    expect(Object.keys(unseen.json()).sort()).toEqual(["decision", "reason_code", "request_id"]);
    expect(unseen.json()).toMatchObject({ decision: "no_match", reason_code: "NO_MATCH" });
  });

  it("refuses video frames from a token that may not send pdq by hash (403), whatever else it may send", async () => {
    const reply = await post("digest", videoRecord(0, 5));
    expect(reply.statusCode).toBe(403);
    expect(reply.json()).toMatchObject({ decision: "error", reason_code: "ALGORITHM_NOT_GRANTED" });
  });

  it("charges every frame to the token's rate: after 100 frames, the next request waits for 100 units", async () => {
    // ratePerMinute 6: one unit every 10 s, a bucket of one. The 100-frame request takes its unit and is charged its
    // other 99 frames, so the next request waits for 100 units (1000 s); a request of one hash would wait 10 s.
    const first = await post("slow", videoRecord(0, 100));
    expect(first.statusCode).toBe(200);
    const next = await post("slow", { hashes: { pdq: hex(frameBytes(0)) } });
    expect(next.statusCode).toBe(429);
    expect(next.json()).toMatchObject({ reason_code: "RATE_LIMITED" });
    expect(Number(next.headers["retry-after"])).toBeGreaterThanOrEqual(990);
  });

  it(`takes up to ${MAX_MATCH_VIDEO_FRAMES} frames a request, and refuses more (400 VIDEO_FRAMES)`, async () => {
    const most = await post("full", unlistedVideo(MAX_MATCH_VIDEO_FRAMES));
    expect(most.statusCode).toBe(200);
    expect(most.json()).toMatchObject({ decision: "no_match" });
    const over = await post("full", unlistedVideo(MAX_MATCH_VIDEO_FRAMES + 1));
    expect(over.statusCode).toBe(400);
    expect(over.json()).toMatchObject({ reason_code: "VIDEO_FRAMES" });
  });
});

describe("parseMatchRequest with a video", () => {
  const all = new Set(MATCHABLE_ALGORITHMS);

  it("counts one needle per frame, plus the record's other hashes", () => {
    const record = { ...videoRecord(0, 7), hashes: { sha256: "ab".repeat(32) } };
    const parsed = parseMatchRequest(record, all);
    if (isRefusal(parsed)) throw new Error(parsed.message);
    expect(parsed.needles).toBe(8);
    expect(parsed.record.video?.frames).toHaveLength(7);
    expect(parsed.record.path).toBe("request");
  });

  it("refuses a frame that is not exactly as phmatch hash prints it", () => {
    const reason = (mutate: (frame: Record<string, unknown>) => void) => {
      const record = videoRecord(0, 3);
      mutate(record.video.frames[1] as unknown as Record<string, unknown>);
      const parsed = parseMatchRequest(record, all);
      return isRefusal(parsed) ? parsed.reason : "accepted";
    };
    expect(reason(() => undefined)).toBe("accepted");
    expect(reason((f) => (f.pdq = "ab".repeat(31)))).toBe("HASH_LENGTH");
    expect(reason((f) => (f.pdq = "zz".repeat(32)))).toBe("PHM_MATCH_INPUT");
    expect(reason((f) => (f.quality = 101))).toBe("PHM_MATCH_INPUT");
    expect(reason((f) => (f.timestamp = -1))).toBe("PHM_MATCH_INPUT");
    expect(reason((f) => (f.extra = 1))).toBe("PHM_MATCH_INPUT");
  });

  it("refuses an empty frame list, another algorithm, and fields a video hash does not have", () => {
    const refused = (video: object) => {
      const parsed = parseMatchRequest({ video }, all);
      return isRefusal(parsed) ? parsed.reason : "accepted";
    };
    expect(refused({ ...videoRecord(0, 2).video, frames: [] })).toBe("PHM_MATCH_INPUT");
    expect(refused({ ...videoRecord(0, 2).video, algorithm: "tmk" })).toBe("PHM_MATCH_INPUT");
    expect(refused({ ...videoRecord(0, 2).video, pixels: "..." })).toBe("PHM_MATCH_INPUT");
  });
});

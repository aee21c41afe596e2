// The feedback state of issue 21 part 2 (verdicts, proposals, holds in a state folder) and the spread of an entry's
// matches over distinct clients in a window: what is counted, what is forgotten, and a damaged file refused.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EntryHitCounter, EntrySpread, FeedbackState, type Verdict } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";

const tmp = mkdtempSync(join(tmpdir(), "phmatch-feedback-state-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const verdict = (reviewer: string, listVersion = 4, v: Verdict["verdict"] = "reject"): Verdict => ({
  verdict: v,
  list: "hotline",
  listVersion,
  entry: "E1",
  hashes: [{ algorithm: "md5", hash: "00".repeat(16) }],
  reviewer,
  requestId: "r",
  reason: "why",
  time: "2026-12-05T00:00:00Z",
});

describe("FeedbackState", () => {
  it("proposes and holds at the threshold of distinct reviewers in one release, once, and keeps it on disk", () => {
    const state = new FeedbackState(join(tmp, "threshold"));
    expect(state.record(verdict("a"), 2)).toMatchObject({ rejectingReviewers: 1, proposed: [] });
    // Rejections of an older release say nothing of this one.
    expect(state.record(verdict("b", 3), 2)).toMatchObject({ rejectingReviewers: 1, proposed: [] });
    const reached = state.record(verdict("b"), 2);
    expect(reached.proposed).toEqual([
      expect.objectContaining({ action: "disable", list: "hotline", listVersion: 4, entry: "E1", rejects: 2 }),
    ]);
    expect(reached.quarantined).toMatchObject({ cause: "rejections" });
    const again = state.record(verdict("c"), 2);
    expect(again.proposed).toEqual([]);
    expect(again.quarantined).toBeUndefined();
    const reread = new FeedbackState(join(tmp, "threshold")).read();
    expect(reread.verdicts).toHaveLength(4);
    expect(reread.proposals).toHaveLength(1);
    expect(reread.quarantined).toHaveLength(1);
    expect(new FeedbackState(join(tmp, "threshold")).release("hotline", "E1")).toBe(true);
    expect(state.quarantinedKeys().size).toBe(0);
  });

  it("refuses a damaged state file naming it, never a TypeError later", () => {
    const dir = join(tmp, "damaged");
    const state = new FeedbackState(dir);
    writeFileSync(join(dir, "feedback.json"), '{"version":1,"verdicts":[{}],"proposals":[],"quarantined":[]}');
    expect(() => state.read()).toThrow(expect.objectContaining({ message: expect.stringContaining("feedback.json") }));
    writeFileSync(join(dir, "feedback.json"), "not json");
    expect(() => state.record(verdict("a"))).toThrow(expect.objectContaining({ code: "PHM_USAGE" }));
  });
});

describe("EntrySpread", () => {
  it("counts distinct token+address pairs within the window, forgets older ones, and bounds what it keeps", () => {
    const spread = new EntrySpread({ clients: 2, windowMs: 1000 });
    expect(spread.hit("e", "t1", "a1", 0)).toEqual({ clients: 1, over: false });
    expect(spread.hit("e", "t1", "a1", 10)).toEqual({ clients: 1, over: false }); // the same client again
    expect(spread.hit("e", "t1", "a2", 20)).toEqual({ clients: 2, over: false }); // same token, other address
    // Past the window the first two are forgotten.
    expect(spread.hit("e", "t2", "a1", 1015)).toEqual({ clients: 2, over: false });
    expect(spread.hit("e", "t3", "a3", 1016)).toEqual({ clients: 3, over: true });
    // A token name and an address cannot run together into another pair.
    const joined = new EntrySpread({ clients: 1, windowMs: 1000 });
    joined.hit("e", "a b", "c", 0);
    expect(joined.hit("e", "a", "b c", 1)).toEqual({ clients: 2, over: true });
    // At most clients + 1 pairs per entry, and maxEntries entries.
    const bounded = new EntrySpread({ clients: 1, windowMs: 10_000, maxEntries: 2 });
    for (let i = 0; i < 100; i++) bounded.hit("e", `t${i}`, "a", i);
    expect(bounded.hit("e", "t-last", "a", 200).clients).toBe(2);
    bounded.hit("f", "t", "a", 201);
    bounded.hit("g", "t", "a", 202); // "e" is forgotten
    expect(bounded.hit("e", "t", "a", 203)).toEqual({ clients: 1, over: false });
  });

  it("EntryHitCounter keeps at most maxEntries and gives the most hit first", () => {
    const hits = new EntryHitCounter(2);
    for (const e of ["a", "b", "b", "c"]) hits.hit("l", e);
    expect(hits.top(5)).toEqual([
      { list: "l", entry: "b", hits: 2 },
      { list: "l", entry: "a", hits: 1 },
    ]);
    expect(hits.others).toBe(1);
  });
});

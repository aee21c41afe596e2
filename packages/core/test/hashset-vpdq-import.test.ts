// Importing listed videos: every conformance vPDQ text file becomes exactly the frames the reference keeps for
// matching (first of each hash, quality >= 50) under the file's name; ThreatExchange/HMA records and pytx lines keep
// each video's id, tags and category; malformed frames, shifted columns and empty videos are refused line by line
// (fatal with strict); formats are told apart by their content.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  HashSetBuilder,
  type HashSetEntry,
  type ImportOptions,
  importHashSet,
  PhmatchError,
  parseStore,
  serializeStore,
} from "@phmatch/core";
import {
  detectFormatOfText,
  type ExportTally,
  exportCsv,
  exportNdjson,
  listedVideoCounts,
  parseVpdqSignal,
} from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";
import { conformanceDir, hasConformance, skipReason } from "../../../test/support/conformance.js";

const tmp = mkdtempSync(join(tmpdir(), "phmatch-vpdq-import-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
};

async function imported(path: string, options: Partial<ImportOptions> = {}) {
  const builder = new HashSetBuilder();
  const report = await importHashSet(builder, path, { listId: "V", ...options });
  const set = parseStore(serializeStore(builder), "v.phs");
  return { report, set, entries: [...set.entries()] };
}

async function refusal(path: string, options: Partial<ImportOptions> = {}): Promise<PhmatchError> {
  try {
    await imported(path, { strict: true, ...options });
  } catch (error) {
    if (error instanceof PhmatchError) return error;
    throw error;
  }
  throw new Error("expected a PhmatchError");
}

const hex = (n: number) => (n * 0x9e3779b1 + 0x7f4a7c15).toString(16).padStart(8, "0").slice(-8).repeat(8);
const H = [1, 2, 3, 4, 5].map(hex) as [string, string, string, string, string];
const line = (frame: number, quality: number, hash: string, t = frame / 30) =>
  `${frame},${quality},${hash},${t.toFixed(3)}`;
const frameOf = (e: HashSetEntry) => e.fields?.video?.frame;
const hexOf = (e: HashSetEntry) => Buffer.from(e.value).toString("hex");

const vpdqDir = join(conformanceDir, "vpdq");
// An older ../shared without the vPDQ material skips too, saying so.
const hasVpdq = hasConformance && existsSync(vpdqDir);
const vpdqSkipReason = hasConformance ? `${vpdqDir} not found: skipping` : skipReason;
const conformance = hasVpdq
  ? ["", "cpath", "allframes", "allframes-cpath"].flatMap((set) =>
      readdirSync(join(vpdqDir, set))
        .filter((name) => name.endsWith(".vpdq.txt"))
        .map((name) => join(set, name)),
    )
  : [];

describe.skipIf(!hasVpdq)(`vPDQ text import, conformance files (${hasVpdq ? vpdqDir : vpdqSkipReason})`, () => {
  it("finds the 14 videos' hash files in each of the 4 sets", () => expect(conformance).toHaveLength(56));

  it.each(conformance)("%s imports as the reference's kept frames, named by the file", async (name) => {
    const path = join(vpdqDir, name);
    // The oracle, from the raw lines: the first frame of each distinct hash, then quality >= 50.
    const rows = readFileSync(path, "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => l.split(","));
    const first = rows.filter((r, i) => rows.findIndex((o) => o[2] === r[2]) === i);
    const kept = first.filter((r) => Number(r[1]) >= 50);
    const { report, entries, set } = await imported(path, { category: "C" });
    expect(report.format).toBe("vpdq");
    expect(entries.map((e) => [frameOf(e), hexOf(e), e.fields?.video?.quality])).toEqual(
      kept.map((r) => [Number(r[0]), r[2], Number(r[1])]),
    );
    const id = (name.split("/").pop() as string).replace(".vpdq.txt", "");
    for (const e of entries) {
      expect([e.algorithm, e.listId, e.entryId, e.category, e.fields?.video?.frames]).toEqual([
        "pdq",
        "V",
        id,
        "C",
        kept.length,
      ]);
    }
    expect([report.read, report.imported, report.duplicate, report.lowQuality, report.videos]).toEqual([
      rows.length,
      kept.length,
      rows.length - first.length,
      first.length - kept.length,
      1,
    ]);
    expect(listedVideoCounts(set)).toEqual({ videos: 1, frames: kept.length });
  });
});

describe("vPDQ text import (synthetic)", () => {
  it("takes --entry-id over the file's name, and counts the frames it leaves out", async () => {
    const path = file(
      "clip-a.vpdq.txt",
      [line(0, 90, H[0]), line(1, 90, H[0]), line(2, 20, H[1]), line(3, 80, H[2])].join("\n") + "\n",
    );
    const named = await imported(path);
    expect(named.entries.map((e) => e.entryId)).toEqual(["clip-a", "clip-a"]);
    const { entries, report } = await imported(path, { entryId: "case-17/video-3" });
    expect(entries.map((e) => [e.entryId, frameOf(e)])).toEqual([
      ["case-17/video-3", 0],
      ["case-17/video-3", 3],
    ]);
    expect(report.refused).toEqual({ "low-quality": 1 });
    expect(report.duplicate).toBe(1);
  });

  const good = [line(0, 100, H[0]), line(1, 90, H[1]), line(2, 80, H[2])];
  const cases: [string, string, RegExp][] = [
    ["a shifted column (hash where the quality goes)", `0,${H[3]},100,0.100`, /expected frame,quality/],
    ["quality out of range", line(5, 101, H[3]), /quality\(0-100\)/],
    ["a hash of 63 hex digits", line(5, 90, (H[3] as string).slice(1)), /64-hex PDQ hash/],
    ["a hash that is not hex", line(5, 90, `${(H[3] as string).slice(1)}g`), /64-hex PDQ hash/],
    ["frames out of order (two files joined)", line(1, 90, H[3]), /frame 1 after frame 2/],
  ];
  it.each(cases)("refuses %s at its line, keeps the other frames; fatal with strict", async (_what, bad, reason) => {
    const path = file("bad.vpdq.txt", [...good, bad].join("\n") + "\n");
    const { report, entries } = await imported(path);
    expect(report.problems).toEqual([{ file: path, line: 4, reason: expect.stringMatching(reason) }]);
    expect(entries.map(frameOf)).toEqual([0, 1, 2]);
    expect((await refusal(path)).message).toMatch(/bad\.vpdq\.txt:4: .*strict/);
  });

  it("refuses an empty video: no frame line (typed, fatal with strict), or no frame that can match", async () => {
    const empty = file("empty.vpdq.txt", "\n");
    const r = await imported(empty);
    expect([r.entries.length, r.report.invalid, r.report.problems[0]?.reason]).toEqual([
      0,
      1,
      expect.stringMatching(/no frame hashes/),
    ]);
    expect((await refusal(empty)).code).toBe("PHM_HASHSET_PARSE");
    const flat = file("flat.vpdq.txt", `${line(0, 10, H[0])}\n${line(1, 0, H[1])}\n`);
    const f = await imported(flat, { strict: true });
    expect([f.entries.length, f.report.emptyVideos, f.report.lowQuality, f.report.refused]).toEqual([
      0,
      1,
      2,
      { "low-quality": 2, "empty-video": 1 },
    ]);
  });
});

// A listed video as python-threatexchange serialises a VPDQSignal: JSON list of "pdqhex,quality,timestamp".
const signal = (frames: [string, number, string][]) => JSON.stringify(frames.map(([h, q, t]) => `${h},${q},${t}`));
const video1 = signal([
  [H[0] as string, 100, "0.0"],
  [H[1] as string, 95, "1.0"],
  [H[0] as string, 100, "2.0"],
  [H[2] as string, 30, "3.0"],
  [H[3] as string, 90, "1.23e+02"],
]);

describe("ThreatExchange / HMA records", () => {
  const records = [
    // A /threat_updates record: id, type, the signal, descriptors with Graph API tags and statuses.
    {
      id: "4400011",
      indicator: video1,
      type: "HASH_VIDEO_VPDQ",
      last_updated: 1700000000,
      should_delete: false,
      descriptors: {
        data: [
          { id: "9001", owner: { id: "77" }, status: "MALICIOUS", tags: { data: [{ text: "media_priority_s1" }] } },
          { id: "9002", owner: { id: "78" }, status: "UNKNOWN", tags: ["csam_b1"] },
        ],
      },
    },
    // An HMA-style signal record: signal_type and signal, a bank content id, its own category; the older pytx form.
    {
      bank_content_id: 12,
      signal_type: "vpdq",
      signal: JSON.stringify({
        "0": { quality: 90, hash: H[4], timestamp: 0 },
        "30": { quality: 80, hash: H[1], timestamp: 1 },
      }),
      category: "A1",
    },
    { id: "4400012", indicator: H[2], type: "HASH_PDQ", descriptors: { data: [{ status: "MALICIOUS", tags: [] }] } },
    // HMA's bank content: its signals by type name under one id; disabled content is not listed.
    { id: 77, bank: "TEST_BANK", enabled: true, signals: { vpdq: signal([[H[3], 90, "0.0"]]), pdq: H[3] } },
    { id: 78, bank: "TEST_BANK", enabled: false, signals: { pdq: H[1] } },
    { id: "4400013", should_delete: true },
    { id: "4400014", indicator: video1, type: "HASH_VIDEO_VPDQ", descriptors: { data: [{ status: "NON_MALICIOUS" }] } },
    { id: "4400015", indicator: "x", type: "HASH_TMK" },
    { id: "4400016", indicator: signal([[H[0] as string, 101, "0.0"]]), type: "HASH_VIDEO_VPDQ" },
    { id: "4400017", indicator: "[]", type: "HASH_VIDEO_VPDQ" },
    { id: "4400018", indicator: signal([[(H[0] as string).slice(2), 90, "0.0"]]), type: "vpdq" },
  ];
  const text = records.map((r) => JSON.stringify(r)).join("\n") + "\nnot json\n";

  it("is detected from its first record", () => {
    expect(detectFormatOfText(text)?.format).toBe("threatexchange");
  });

  it("lists each video under its id with its tags, statuses and category; pdq records as images", async () => {
    const { entries, report, set } = await imported(file("te.ndjson", text), { category: "fallback" });
    const te = entries.filter((e) => e.entryId === "4400011");
    expect(te.map((e) => [frameOf(e), hexOf(e), e.fields?.video?.timestamp])).toEqual([
      [0, H[0], 0],
      [1, H[1], 1],
      [4, H[3], 123],
    ]);
    expect(te[0]?.fields?.tags).toEqual(["csam_b1", "media_priority_s1"]);
    expect(te[0]?.fields?.extra).toEqual({
      type: "HASH_VIDEO_VPDQ",
      status: "MALICIOUS UNKNOWN",
      lastUpdated: "1700000000",
    });
    expect(te[0]?.category).toBe("fallback");
    const hma = entries.filter((e) => e.entryId === "12");
    expect(hma.map((e) => [frameOf(e), e.category, e.fields?.video?.frames])).toEqual([
      [0, "A1", 2],
      [30, "A1", 2],
    ]);
    const image = entries.find((e) => e.entryId === "4400012");
    expect([image?.algorithm, image?.fields?.video, hexOf(image as HashSetEntry)]).toEqual(["pdq", undefined, H[2]]);
    const bank = entries.filter((e) => e.entryId === "77");
    expect(bank.map((e) => [hexOf(e), frameOf(e), e.fields?.extra?.bank])).toEqual([
      [H[3], 0, "TEST_BANK"],
      [H[3], undefined, "TEST_BANK"],
    ]);
    expect(set.withdrawals()).toEqual([{ listId: "V", entryId: "4400013" }]);
    expect(listedVideoCounts(set)).toEqual({ videos: 3, frames: 6 });
    expect([report.videos, report.lowQuality, report.withdrawn, report.unrecognised]).toEqual([
      3,
      1,
      1,
      { HASH_TMK: 1 },
    ]);
    expect(report.problems.map((p) => [p.line, p.reason])).toEqual([
      [5, expect.stringMatching(/disabled in its HMA bank/)],
      [7, expect.stringMatching(/NON_MALICIOUS/)],
      [8, 'unrecognised hash type "HASH_TMK"'],
      [9, expect.stringMatching(/frame 0 of the vPDQ signal/)],
      [10, expect.stringMatching(/no frames/)],
      [11, expect.stringMatching(/frame 0 of the vPDQ signal/)],
      [12, expect.stringMatching(/not valid JSON/)],
    ]);
    expect((await refusal(file("te2.ndjson", text))).message).toMatch(/te2\.ndjson:5: /);
  });

  it("reads pytx `vpdq <signal>` lines as videos with a stable id from the signal", async () => {
    const path = file("signals.txt", `pdq ${H[4]}\nvpdq ${video1}\nvpdq ["${H[0]},90"]\n`);
    expect(detectFormatOfText(readFileSync(path, "utf8"))?.format).toBe("pytx");
    const { entries, report } = await imported(path);
    const ids = [...new Set(entries.filter((e) => e.fields?.video !== undefined).map((e) => e.entryId))];
    expect(ids).toEqual([expect.stringMatching(/^vpdq-[0-9a-f]{16}$/)]);
    expect((await imported(path)).entries.map((e) => e.entryId)).toEqual(entries.map((e) => e.entryId));
    expect(entries.length).toBe(4);
    expect(report.problems.map((p) => p.line)).toEqual([3]);
  });

  it("parses both signal forms and refuses what is not one", () => {
    expect(parseVpdqSignal("not json")).toMatch(/not JSON/);
    expect(parseVpdqSignal('"text"')).toMatch(/neither a list/);
    expect(parseVpdqSignal(signal([[H[0] as string, 90, "-1"]]))).toMatch(/frame 0/);
    expect(parseVpdqSignal(JSON.stringify({ a: { quality: 1, hash: H[0], timestamp: 0 } }))).toMatch(/frame "a"/);
    const frames = parseVpdqSignal(video1);
    expect(typeof frames === "string" ? frames : frames.map((f) => [f.frame, f.hash.quality, f.timestamp])).toEqual([
      [0, 100, 0],
      [1, 95, 1],
      [2, 100, 2],
      [3, 30, 3],
      [4, 90, 123],
    ]);
  });
});

describe("detection and export of listed videos", () => {
  it("tells the vPDQ text format from hex lists and CSV", () => {
    expect(detectFormatOfText(`${line(0, 100, H[0])}\n${line(1, 99, H[1])}\n`)?.format).toBe("vpdq");
    expect(detectFormatOfText(`${H[0]}\n${H[1]}\n`)?.format).toBe("text");
  });

  it("leaves video frames out of a CSV export, counted, and keeps the images", async () => {
    const path = file(
      "mixed.ndjson",
      [
        JSON.stringify({ id: "v", signal_type: "vpdq", signal: video1 }),
        JSON.stringify({ id: "i", signal_type: "pdq", signal: H[4] }),
      ].join("\n") + "\n",
    );
    const { set } = await imported(path);
    const tally: ExportTally = { entries: 0, withdrawn: 0 };
    const rows = [...exportCsv(set, tally)];
    expect(rows.slice(1).map((r) => r.split(",").slice(0, 4).join(","))).toEqual([`pdq,${H[4]},V,i`]);
    expect(tally).toEqual({ entries: 1, withdrawn: 0, videoFrames: 3 });
  });

  it("round-trips listed videos through NDJSON export, and lists the video of a `phmatch hash` record", async () => {
    const te = [
      { id: "v1", signal_type: "vpdq", signal: video1, category: "A1" },
      {
        id: "v2",
        signal_type: "vpdq",
        signal: signal([
          [H[0], 90, "0.0"],
          [H[4], 70, "1.0"],
        ]),
      },
      { id: "i", signal_type: "pdq", signal: H[4] },
    ];
    const first = await imported(file("rt.ndjson", `${te.map((r) => JSON.stringify(r)).join("\n")}\n`));
    const exported = file("rt-export.ndjson", `${[...exportNdjson(first.set)].join("\n")}\n`);
    const again = await imported(exported);
    const view = (e: HashSetEntry) => [e.entryId, e.category, hexOf(e), e.fields?.video, e.fields?.tags];
    expect(again.entries.map(view).sort()).toEqual(first.entries.map(view).sort());
    expect([again.report.invalid, again.report.videos]).toEqual([0, 2]);
    // A frame line whose place in its video is damaged is refused, not listed as an image.
    const damaged = readFileSync(exported, "utf8").replace('"quality":100', '"quality":"100"');
    const d = await imported(file("rt-damaged.ndjson", damaged));
    expect(d.report.problems.map((p) => p.reason)).toEqual(['"fields.video.quality" is not 0-100']);
    expect(d.entries.every((e) => e.fields?.video !== undefined || e.entryId === "i")).toBe(true);
    const record = {
      path: "clips/one.mp4",
      hashes: { md5: "0a21c8f85a55a9e276ffc2c53f6887c4" },
      video: {
        algorithm: "vpdq",
        frames: [0, 1, 2].map((n) => ({ frame: n * 30, pdq: H[n], quality: 90, timestamp: n })),
      },
    };
    const h = await imported(file("hash.ndjson", `${JSON.stringify(record)}\n`));
    expect(h.entries.map((e) => [e.algorithm, e.entryId, e.fields?.video?.frame])).toEqual([
      ["md5", "clips/one.mp4", undefined],
      ["pdq", "clips/one.mp4", 0],
      ["pdq", "clips/one.mp4", 30],
      ["pdq", "clips/one.mp4", 60],
    ]);
  });
});

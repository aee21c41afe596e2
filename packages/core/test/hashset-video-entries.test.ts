// A listed video as store entries: the frames the reference keeps (duplicates and quality < 50 left out), each a
// pdq entry carrying where it sits in the video, and a store that keeps a frame two videos of one list share.
import {
  HashSetBuilder,
  type HashSetEntry,
  listedVideoEntries,
  parseStore,
  serializeStore,
  type VpdqFrame,
} from "@phmatch/core/internal";
import { describe, expect, it } from "vitest";

function frame(n: number, fill: number, quality: number): VpdqFrame {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = (fill * 37 + i * 11 + (i % 3 === 0 ? 0x5a : 0)) & 0xff;
  return { frame: n, timestamp: n / 2, hash: { algorithm: "pdq", bytes, quality } };
}

describe("listedVideoEntries", () => {
  const frames = [frame(0, 1, 90), frame(1, 1, 90), frame(2, 2, 30), frame(3, 3, 80), frame(4, 4, 100)];
  const { entries, dropped } = listedVideoEntries({ listId: "V", entryId: "clip-1", category: "A1" }, frames);

  it("keeps one entry per distinct frame of quality >= 50, each knowing the kept count", () => {
    expect(entries.map((e) => e.fields?.video?.frame)).toEqual([0, 3, 4]);
    expect(entries.every((e) => e.fields?.video?.frames === 3)).toBe(true);
    expect(entries[1]?.fields?.video).toEqual({ frame: 3, timestamp: 1.5, quality: 80, frames: 3 });
    expect(dropped).toEqual({ duplicate: 1, lowQuality: 1 });
  });

  it("makes pdq entries of the video's list, id and category", () => {
    for (const e of entries) {
      expect([e.algorithm, e.listId, e.entryId, e.category]).toEqual(["pdq", "V", "clip-1", "A1"]);
    }
  });

  it("stores a frame two videos of one list share once per video, and an image entry beside them", () => {
    const other = listedVideoEntries({ listId: "V", entryId: "clip-2" }, [frame(0, 1, 90), frame(1, 9, 70)]);
    const builder = new HashSetBuilder();
    const image: HashSetEntry = { algorithm: "pdq", value: (frames[0] as VpdqFrame).hash.bytes, listId: "V" };
    const taken = [...entries, ...other.entries, image, image].map((e) => builder.addEntry(e));
    expect(taken).toEqual([true, true, true, true, true, true, false]);
    const set = parseStore(serializeStore(builder), "test store");
    expect(set.size).toBe(6);
    const ids = Array.from({ length: 6 }, (_, i) => set.entry("pdq", i)).map((e) => e.entryId ?? "-");
    expect(ids.sort()).toEqual(["-", "clip-1", "clip-1", "clip-1", "clip-2", "clip-2"]);
  });
});

// `phmatch hashset import` of listed videos as a user runs it (no FFmpeg: lists of vPDQ hashes, never videos): a
// vPDQ text file is one video named by the file or --entry-id, with --category; a bad frame line is exit 2 with its
// line; ThreatExchange records list several videos; info counts listed videos and frames; a CSV export leaves the
// frames out, saying how many. Building a list from videos needs FFmpeg: test/system/hashset-video-build.test.ts.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanEnv } from "../../../test/support/env.js";
import { runCli } from "./support/run-cli.js";

const dir = mkdtempSync(join(tmpdir(), "phmatch-cli-hashset-video-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = cleanEnv({ PHMATCH_STATE_DIR: join(dir, "state") });
const phmatch = (args: string[]) => runCli(args, { env });
const path = (name: string) => join(dir, name);
const write = (name: string, text: string) => {
  writeFileSync(path(name), text);
  return path(name);
};

const hex = (n: number) => (n * 0x9e3779b1 + 0x7f4a7c15).toString(16).padStart(8, "0").slice(-8).repeat(8);
// Five frames: two repeat the first hash, one is featureless (quality 20): two are kept.
const clip = [
  `0,100,${hex(1)},0.000`,
  `30,100,${hex(1)},1.000`,
  `60,20,${hex(2)},2.000`,
  `90,95,${hex(3)},3.000`,
  `120,100,${hex(1)},4.000`,
].join("\n");

describe("phmatch hashset import of listed videos", () => {
  it("lists a vPDQ text file as one video of its kept frames, named by the file, and info counts it", async () => {
    const r = await phmatch([
      "hashset",
      "import",
      write("clip-7.vpdq.txt", `${clip}\n`),
      "--list-id",
      "unit",
      "--category",
      "A",
      "-o",
      path("clip.phs"),
      "--report",
      path("clip.json"),
    ]);
    expect(r.stderr).toContain("format vpdq");
    expect(r.status).toBe(0);
    const report = JSON.parse(readFileSync(path("clip.json"), "utf8"));
    expect([report.read, report.imported, report.duplicate, report.videos, report.refused]).toEqual([
      5,
      2,
      2,
      1,
      { "low-quality": 1 },
    ]);
    const info = await phmatch(["hashset", "info", path("clip.phs"), "--json"]);
    expect(JSON.parse(info.stdout).listedVideos).toEqual({ videos: 1, frames: 2 });
    const rows = await phmatch(["hashset", "export", path("clip.phs")]);
    const entries = rows.stdout
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((l) => JSON.parse(l));
    expect(entries.map((e) => [e.id, e.category, e.fields.video.frame, e.fields.video.frames])).toEqual([
      ["clip-7", "A", 0, 2],
      ["clip-7", "A", 90, 2],
    ]);
  });

  it("takes --entry-id, and refuses a damaged frame line with its number (exit 2; fatal with --strict)", async () => {
    const damaged = write("damaged.vpdq.txt", `${clip}\n150,${hex(4)},100,5.000\n`);
    const r = await phmatch([
      "hashset",
      "import",
      damaged,
      "--list-id",
      "u",
      "--entry-id",
      "case-9",
      "-o",
      path("d.phs"),
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("damaged.vpdq.txt:6: expected frame,quality(0-100),64-hex PDQ hash,timestamp");
    const info = await phmatch(["hashset", "info", path("d.phs"), "--json"]);
    expect(JSON.parse(info.stdout).listedVideos).toEqual({ videos: 1, frames: 2 });
    const strict = await phmatch(["hashset", "import", damaged, "--list-id", "u", "--strict", "-o", path("s.phs")]);
    expect(strict.status).toBe(2);
    expect(strict.stderr).toMatch(/PHM_HASHSET_PARSE: .*damaged\.vpdq\.txt:6: /);
  });

  it("lists the videos of ThreatExchange records under their ids; CSV export leaves their frames out", async () => {
    const signal = (n: number) => JSON.stringify([`${hex(n)},100,0.0`, `${hex(n + 1)},90,1.0`]);
    const records = [
      { id: "111", type: "HASH_VIDEO_VPDQ", indicator: signal(10), descriptors: { data: [{ tags: ["t1"] }] } },
      { id: "222", type: "HASH_VIDEO_VPDQ", indicator: signal(20) },
      { id: "333", type: "HASH_PDQ", indicator: hex(30) },
    ];
    const te = write("te.ndjson", `${records.map((x) => JSON.stringify(x)).join("\n")}\n`);
    const r = await phmatch(["hashset", "import", te, "--list-id", "te", "-o", path("te.phs")]);
    expect(r.stderr).toContain("format threatexchange");
    expect(r.status).toBe(0);
    const info = await phmatch(["hashset", "info", path("te.phs")]);
    expect(info.stdout).toContain("listed videos: 2, as 4 pdq frame entries (vPDQ)");
    const csv = await phmatch(["hashset", "export", path("te.phs"), "--format", "csv"]);
    expect(csv.stdout.trimEnd().split("\n").slice(1)).toEqual([expect.stringMatching(/^pdq,[0-9a-f]{64},te,333,/)]);
    expect(csv.stderr).toContain("exported 1 entries; left out 4 frames of listed videos");
  });

  it("lists several vPDQ files as one list through merge, and refuses --entry-id for other formats", async () => {
    const other = [`0,100,${hex(40)},0.000`, `30,90,${hex(41)},1.000`].join("\n");
    const a = await phmatch([
      "hashset",
      "import",
      write("a.vpdq.txt", `${clip}\n`),
      "--list-id",
      "m",
      "-o",
      path("a.phs"),
    ]);
    const b = await phmatch([
      "hashset",
      "import",
      write("b.vpdq.txt", `${other}\n`),
      "--list-id",
      "m",
      "-o",
      path("b.phs"),
    ]);
    expect([a.status, b.status]).toEqual([0, 0]);
    const merged = await phmatch(["hashset", "merge", path("a.phs"), path("b.phs"), "-o", path("m.phs")]);
    expect(merged.status).toBe(0);
    const info = await phmatch(["hashset", "info", path("m.phs"), "--json"]);
    expect(JSON.parse(info.stdout).listedVideos).toEqual({ videos: 2, frames: 4 });
    const te = write("one.ndjson", `${JSON.stringify({ id: "1", type: "HASH_PDQ", indicator: hex(50) })}\n`);
    const r = await phmatch(["hashset", "import", te, "--list-id", "m", "--entry-id", "x", "-o", path("x.phs")]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("PHM_USAGE");
  });
});

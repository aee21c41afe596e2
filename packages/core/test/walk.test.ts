// Walking inputs: byte order, every symbolic link an entry of its own (recorded with its target, not followed by
// default), followed when asked with each target (device and inode) once, so loops and doubling links end.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashFile, type WalkEntry, walkInputs } from "@phmatch/core";
import { displayPath, SYMLINK_NOTES, walkEntries } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";

const root = mkdtempSync(join(tmpdir(), "phmatch-walk-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, "a"));
writeFileSync(join(root, "a", "file.jpg"), "x");
writeFileSync(join(root, "B.jpg"), "y");
symlinkSync(join(root, "a"), join(root, "b-link-to-a"));
symlinkSync(root, join(root, "c-loop-to-root"));
symlinkSync(join(root, "a", "file.jpg"), join(root, "d-link-to-file.jpg"));
symlinkSync(join(root, "nowhere"), join(root, "e-dangling"));

async function walk(followSymlinks: boolean): Promise<string[]> {
  const out: string[] = [];
  for await (const p of walkInputs([root], { followSymlinks })) out.push(displayPath(p).slice(root.length + 1));
  return out;
}

// Each entry as [relative path, kind, link target, duplicateOf (relative)], for comparison.
async function entries(dir: string, followSymlinks: boolean): Promise<(string | undefined)[][]> {
  const rel = (p: Parameters<typeof displayPath>[0]) => displayPath(p).slice(dir.length + 1);
  const out: (string | undefined)[][] = [];
  for await (const e of walkEntries([dir], { followSymlinks }) as AsyncGenerator<WalkEntry>) {
    out.push([
      rel(e.path),
      e.kind,
      e.linkTarget?.toString("utf8"),
      e.kind === "symlink" && e.duplicateOf !== undefined ? rel(e.duplicateOf) : undefined,
    ]);
  }
  return out;
}

describe("walkInputs", () => {
  it("walks in byte order and does not follow symlinks by default (the files only)", async () => {
    expect(await walk(false)).toEqual(["B.jpg", "a/file.jpg"]);
  });

  it(
    "follows symlinks when asked, each target once: a " + "link to a directory already walked is not walked again",
    async () => {
      // d-link-to-file.jpg leads to a file reached by its own path before: followed once, the scan reports it as a
      // copy of a/file.jpg by its SHA-256.
      expect(await walk(true)).toEqual(["B.jpg", "a/file.jpg", "d-link-to-file.jpg"]);
    },
  );

  it("yields a named pipe inside a directory, which hashFile refuses at once with PHM_FILE_UNREADABLE", async () => {
    const dir = mkdtempSync(join(tmpdir(), "phmatch-walk-fifo-"));
    try {
      writeFileSync(join(dir, "a.jpg"), "x");
      execFileSync("mkfifo", [join(dir, "b.pipe")]);
      const out: string[] = [];
      for await (const p of walkInputs([dir])) out.push(displayPath(p).slice(dir.length + 1));
      expect(out).toEqual(["a.jpg", "b.pipe"]);
      expect((await hashFile(join(dir, "b.pipe"), { algorithms: ["sha256"] })).error?.code).toBe("PHM_FILE_UNREADABLE");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    "yields every symbolic link as an entry with its target as " +
      "readlink gives it, dangling and looping ones too, never followed",
    async () => {
      expect(await entries(root, false)).toEqual([
        ["B.jpg", "file", undefined, undefined],
        ["a/file.jpg", "file", undefined, undefined],
        ["b-link-to-a", "symlink", join(root, "a"), undefined],
        ["c-loop-to-root", "symlink", root, undefined],
        ["d-link-to-file.jpg", "symlink", join(root, "a", "file.jpg"), undefined],
        ["e-dangling", "symlink", join(root, "nowhere"), undefined],
      ]);
    },
  );

  it(
    "with followSymlinks: a link to a target already " + "reported names the path it was reported under; loops end",
    async () => {
      expect(await entries(root, true)).toEqual([
        ["B.jpg", "file", undefined, undefined],
        ["a/file.jpg", "file", undefined, undefined],
        ["b-link-to-a", "symlink", join(root, "a"), "a"],
        ["c-loop-to-root", "symlink", root, ""],
        ["d-link-to-file.jpg", "file", join(root, "a", "file.jpg"), undefined],
        ["e-dangling", "symlink", join(root, "nowhere"), undefined],
      ]);
    },
  );

  it("with followSymlinks: 12 levels of doubled links to one file cost one walk of it, not 4,096 paths", async () => {
    // level i holds two links, x and y, to level i+1; the last level holds the one file. Walked naively that is
    // 2^12 paths to it; each target (device and inode) is followed once.
    const dir = mkdtempSync(join(tmpdir(), "phmatch-walk-doubled-"));
    try {
      for (let i = 0; i <= 12; i++) mkdirSync(join(dir, `l${String(i).padStart(2, "0")}`));
      writeFileSync(join(dir, "l12", "file.jpg"), "z");
      for (let i = 0; i < 12; i++)
        for (const name of ["x", "y"])
          symlinkSync(`../l${String(i + 1).padStart(2, "0")}`, join(dir, `l${String(i).padStart(2, "0")}`, name));
      const walked: WalkEntry[] = [];
      for await (const e of walkEntries([join(dir, "l00")], { followSymlinks: true })) walked.push(e);
      const files = walked.filter((e) => e.kind === "file").map((e) => displayPath(e.path).slice(dir.length + 1));
      expect(files).toEqual([`l00/${"x/".repeat(12)}file.jpg`]);
      // One link per level followed into its directory, the other recorded as naming the path already walked.
      const links = walked.filter((e): e is Extract<WalkEntry, { kind: "symlink" }> => e.kind === "symlink");
      expect(links.filter((l) => l.note === SYMLINK_NOTES.followedDirectory)).toHaveLength(12);
      const repeats = links.filter((l) => l.note === SYMLINK_NOTES.visited);
      expect(repeats).toHaveLength(12);
      expect(
        repeats.every(
          (l) =>
            displayPath(l.path).endsWith("/y") &&
            displayPath(l.duplicateOf as string) === displayPath(l.path).slice(0, -1) + "x",
        ),
      ).toBe(true);
      expect(walked).toHaveLength(25);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("yields a missing input as is, for the hasher to report", async () => {
    const out: string[] = [];
    for await (const p of walkInputs([join(root, "missing.jpg")])) out.push(displayPath(p));
    expect(out).toEqual([join(root, "missing.jpg")]);
  });
});

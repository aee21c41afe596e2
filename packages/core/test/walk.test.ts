// Walking inputs: byte order, symlinks not followed by default, followed with loop detection when asked.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { displayPath, hashFile, walkInputs } from "@phmatch/core";

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

describe("walkInputs", () => {
  it("walks in byte order and does not follow symlinks by default", async () => {
    expect(await walk(false)).toEqual(["B.jpg", "a/file.jpg"]);
  });

  it("follows symlinks when asked, never re-entering a directory it is already inside", async () => {
    expect(await walk(true)).toEqual(["B.jpg", "a/file.jpg", "b-link-to-a/file.jpg", "d-link-to-file.jpg"]);
  });

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

  it("yields a missing input as is, for the hasher to report", async () => {
    const out: string[] = [];
    for await (const p of walkInputs([join(root, "missing.jpg")])) out.push(displayPath(p));
    expect(out).toEqual([join(root, "missing.jpg")]);
  });
});

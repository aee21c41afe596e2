// Access times of the directories and symbolic links a scan reads. Node cannot list a directory or read a link
// with O_NOATIME (files are opened with it), so the scan watches them: by default it writes no timestamp and the
// summary lists each entry whose atime its reading changed, with the atime as found; with --restore-atimes it sets
// them back where that is exact, and lists the rest with the reason.
//
// The tree's atimes are set two days back (whole seconds): on a relatime mount (the default, and os.tmpdir() here)
// the kernel then updates them at the first read, which a control directory shows before the scans.
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AccessTimeReport, isoNs } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { runCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-atimes-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env: NodeJS.ProcessEnv = { ...process.env, PHMATCH_STATE_DIR: join(work, "state") };
delete env.PHMATCH_TRUSTED_KEYS;
delete env.PHMATCH_LIST_KEY;

const now = Math.floor(Date.now() / 1000);
const atime = now - 2 * 86_400; // older than a day: relatime updates it at the next read
const mtime = now - 3 * 86_400;

// root/ with a/ and a/b/ (an image in each) and a link; every directory's and the link's times set back.
function makeTree(name: string): string[] {
  const root = join(work, name);
  mkdirSync(join(root, "a", "b"), { recursive: true });
  for (const dir of [root, join(root, "a"), join(root, "a", "b")])
    copyFileSync(fixtures("images/tiny-4x4.png"), join(dir, "x.png"));
  symlinkSync("a/x.png", join(root, "link.png"));
  lutimesSync(join(root, "link.png"), atime, mtime);
  const dirs = [join(root, "a", "b"), join(root, "a"), root];
  for (const dir of dirs) utimesSync(dir, atime, mtime);
  return [...dirs, join(root, "link.png")];
}

const times = (paths: string[]) =>
  paths
    .map((p) => lstatSync(p, { bigint: true }))
    .map((s) => ({ atime: s.atimeNs, mtime: s.mtimeNs, ctime: s.ctimeNs }));

async function scan(
  root: string,
  extra: string[],
): Promise<{ status: number | null; header: { walk: { accessTimes: string } }; atimes: AccessTimeReport }> {
  const out = `${root}.ndjson`;
  const r = await runCli(["scan", root, "--hashset", fixtures("hashsets/demo.phs"), "-o", out, "-j", "1", ...extra], {
    env,
  });
  const lines = readFileSync(out, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    status: r.status,
    header: lines[0] as { walk: { accessTimes: string } },
    atimes: (lines.at(-1) as { atimes: AccessTimeReport }).atimes,
  };
}

describe("scan and the access times of directories and links", () => {
  it("control: here, listing such a directory does update its access time", () => {
    const [control] = makeTree("control");
    readdirSync(control as string);
    expect(lstatSync(control as string, { bigint: true }).atimeNs).not.toBe(BigInt(atime) * 1_000_000_000n);
  });

  it(
    "by default writes no timestamp and lists every entry whose atime its reading changed, " +
      "with the atime as found",
    async () => {
      const entries = makeTree("plain");
      const before = times(entries);
      const { status, header, atimes } = await scan(join(work, "plain"), ["-q"]);
      expect(status).toBe(0);
      expect(header.walk.accessTimes).toContain("no timestamp is ever written");
      const after = times(entries);
      // Nothing written: mtimes and ctimes as they were.
      expect(after.map((t) => [t.mtime, t.ctime])).toEqual(before.map((t) => [t.mtime, t.ctime]));
      // Exactly the entries whose atime moved are listed, each with the atime it had before the scan.
      const moved = entries.filter((_, i) => after[i]?.atime !== before[i]?.atime);
      expect(moved.length).toBeGreaterThan(0);
      expect(atimes.changed.map((c) => c.path).sort()).toEqual([...moved].sort());
      for (const change of atimes.changed)
        expect(change).toMatchObject({
          atime: isoNs(BigInt(atime) * 1_000_000_000n),
          why: "reading it changed its access time",
        });
      expect(atimes.changed.find((c) => c.path.endsWith("link.png"))?.entry).toBe("symlink");
      expect(atimes).toMatchObject({ checked: 4, restored: 0 });
    },
  );

  it(
    "with --restore-atimes sets each one back exactly (its mtime untouched), " +
      "through the scan's and the progress count's walks",
    async () => {
      const entries = makeTree("restored");
      const before = times(entries);
      // progress on: two walks
      const { status, header, atimes } = await scan(join(work, "restored"), ["--restore-atimes"]);
      expect(status).toBe(0);
      expect(header.walk.accessTimes).toContain("set back");
      const after = times(entries);
      expect(after.map((t) => [t.atime, t.mtime])).toEqual(before.map((t) => [t.atime, t.mtime]));
      expect(atimes).toEqual({ checked: 4, restored: 4, changed: [] });
      // The price, stated in the header: writing a timestamp sets the ctime.
      expect(after.every((t, i) => t.ctime > (before[i] as { ctime: bigint }).ctime)).toBe(true);
    },
  );

  it(
    "with --restore-atimes leaves alone an entry whose mtime Node cannot write back exactly, " +
      "and lists it with why",
    async () => {
      const dir = join(work, "fine");
      mkdirSync(dir);
      copyFileSync(fixtures("images/tiny-4x4.png"), join(dir, "x.png"));
      // Nanosecond digits (as ext4 keeps them): Node writes microseconds, so setting the atime back would alter this.
      execFileSync("touch", ["-m", "-d", `@${mtime}.123456789`, dir]);
      execFileSync("touch", ["-a", "-d", `@${atime}`, dir]);
      const [before] = times([dir]);
      const { status, atimes } = await scan(dir, ["-q", "--restore-atimes"]);
      expect(status).toBe(0);
      const [after] = times([dir]);
      expect([after?.mtime, after?.ctime]).toEqual([before?.mtime, before?.ctime]);
      expect(after?.mtime).toBe(BigInt(mtime) * 1_000_000_000n + 123_456_789n);
      expect(atimes.restored).toBe(0);
      expect(atimes.changed).toEqual([
        {
          path: dir,
          entry: "directory",
          atime: isoNs(BigInt(atime) * 1_000_000_000n),
          why: expect.stringContaining("not set back: its atime or mtime has sub-microsecond digits"),
        },
      ]);
    },
  );
});

// A scan over files and directories it may not read completes and reports each with its error code. As root
// (CI), chmod 000 does not stop a read, so the scan runs as nobody through setpriv.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures, projectRoot } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";

const bin = fileURLToPath(new URL("../bin/phmatch.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "phmatch-unreadable-"));
chmodSync(work, 0o777);
afterAll(() => {
  chmodSync(join(work, "tree", "locked-dir"), 0o755);
  rmSync(work, { recursive: true, force: true });
});
const tree = join(work, "tree");
mkdirSync(join(tree, "locked-dir"), { recursive: true });
copyFileSync(fixtures("images/shapes.png"), join(tree, "readable.png"));
copyFileSync(fixtures("images/texture.jpg"), join(tree, "locked.jpg"));
copyFileSync(fixtures("images/texture.jpg"), join(tree, "locked-dir", "inside.jpg"));
writeFileSync(join(tree, "empty.jpg"), "");
chmodSync(tree, 0o755);
chmodSync(join(tree, "locked.jpg"), 0o000);
chmodSync(join(tree, "locked-dir"), 0o000);

const asRoot = process.getuid?.() === 0;
const prefix = asRoot ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : [];
const canRun =
  !asRoot ||
  spawnSync(prefix[0] as string, [
    ...prefix.slice(1),
    process.execPath,
    "-e",
    `require("fs").accessSync(${JSON.stringify(bin)})`,
  ]).status === 0;

describe.skipIf(!canRun)(
  "scan of unreadable files " +
    (canRun ? "" : "(skipped: the unprivileged user cannot read the project here; CI's clone can)"),
  () => {
    it("completes and lists each file with its status or error code", () => {
      const report = join(work, "report.ndjson");
      const state = join(work, "state");
      const [cmd, ...rest] = [
        ...prefix,
        process.execPath,
        bin,
        "scan",
        tree,
        "--hashset",
        fixtures("hashsets/demo.phs"),
        "-o",
        report,
        "-q",
      ];
      const r = spawnSync(cmd as string, rest, {
        cwd: projectRoot,
        encoding: "utf8",
        env: cleanEnv({ PHMATCH_STATE_DIR: state }),
      });
      expect(r.status, r.stderr).toBe(2);
      const files = readFileSync(report, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; path: string; status: string; error?: { code: string } })
        .filter((l) => l.type === "file");
      const byName = Object.fromEntries(files.map((f) => [f.path.slice(tree.length + 1), f]));
      expect(Object.keys(byName).sort()).toEqual(["empty.jpg", "locked-dir", "locked.jpg", "readable.png"]);
      expect(byName["readable.png"]?.status).toBe("known");
      expect(byName["locked.jpg"]).toMatchObject({ status: "error", error: { code: "PHM_FILE_UNREADABLE" } });
      expect(byName["locked-dir"]).toMatchObject({ status: "error", error: { code: "PHM_FILE_UNREADABLE" } });
      expect(byName["empty.jpg"]).toMatchObject({ status: "error", error: { code: "PHM_DECODE_EMPTY" } });
    });
  },
);

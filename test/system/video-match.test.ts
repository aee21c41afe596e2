// System test (needs Debian's ffmpeg package, installed by .ci/run): `phmatch hash` on the conformance videos piped
// into `phmatch match` against a store built from the reference's own hash files of the listed videos (issue 20).
// Every pair of matches.tsv gets the reference's verdict. Only the store (hashes) is written, to a temp dir.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HashSetBuilder, listedVideoEntries, parseVpdqText, serializeStore } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";
import { conformanceDir, hasConformance, readTsv, skipReason } from "../support/conformance.js";
import { cleanEnv } from "../support/env.js";

const bin = fileURLToPath(new URL("../../packages/cli/bin/phmatch.js", import.meta.url));
const vpdqDir = join(conformanceDir, "vpdq");
const hasVpdq = hasConformance && existsSync(join(vpdqDir, "videos"));

describe.skipIf(!hasVpdq)(`phmatch hash | phmatch match on videos (${hasVpdq ? vpdqDir : skipReason})`, () => {
  const dir = mkdtempSync(join(tmpdir(), "phmatch-video-match-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives every pair of matches.tsv the reference's verdict", { timeout: 600_000 }, () => {
    const rows = readTsv(join(vpdqDir, "matches.tsv"));
    const listed = [...new Set(rows.map((r) => r.compared as string))];
    const builder = new HashSetBuilder();
    builder.addList({ listId: "V", version: 1 });
    for (const id of listed) {
      const frames = parseVpdqText(readFileSync(join(vpdqDir, `${id}.vpdq.txt`), "utf8"), id);
      for (const entry of listedVideoEntries({ listId: "V", entryId: id }, frames).entries) builder.addEntry(entry);
    }
    const store = join(dir, "videos.phs");
    writeFileSync(store, serializeStore(builder));
    const queries = [...new Set(rows.map((r) => r.query as string))].map((q) => join(vpdqDir, "videos", `${q}.mp4`));
    const quoted = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const node = quoted(process.execPath);
    const run = spawnSync(
      "/bin/sh",
      [
        "-c",
        `${node} ${quoted(bin)} hash -q ${queries.map(quoted).join(" ")} | ` +
          `${node} ${quoted(bin)} match --hashset ${quoted(store)}`,
      ],
      { env: cleanEnv({ PHMATCH_STATE_DIR: join(dir, "state") }), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
    );
    expect(run.status, run.stderr).toBe(0);
    const results = new Map(
      run.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
        .map((r) => [
          (r.path as string)
            .split("/")
            .pop()
            ?.replace(/\.mp4$/, ""),
          r,
        ]),
    );
    expect(results.size).toBe(queries.length);
    for (const row of rows) {
      const result = results.get(row.query as string);
      const hit = result.matches.find(
        (m: { algorithm: string; entryId: string }) => m.algorithm === "vpdq" && m.entryId === row.compared,
      );
      expect(hit !== undefined ? "MATCH" : "NO_MATCH", `${row.query} against ${row.compared}`).toBe(row.verdict);
      if (hit !== undefined) expect(hit.video.targetPercent).toBeGreaterThanOrEqual(80);
    }
    // A query that matches nothing listed is unseen; one that matches is known.
    expect(results.get("chair-20-sd-bar")?.status).toBe("known");
    expect(results.get("doorknob-hd-no-bar")?.status).toBe("unseen");
  });
});

// System test (needs Debian's ffmpeg package, installed by .ci/run): `phmatch hash` on the conformance videos piped
// into `phmatch match` against a store built from the reference's own hash files of the listed videos (issue 20).
// Every pair of matches.tsv gets the reference's verdict. Only the store (hashes) is written, to a temp dir. Then
// synthetic videos the test makes with FFmpeg, the whole way a user goes: `hashset build` of a clip, and
// `phmatch hash | phmatch match` of a re-encoded, trimmed, smaller copy (known), a still frame taken from it
// (known, at its time), and an unrelated clip (unseen); and the same copy and clip uploaded to `phmatch serve`'s
// POST /v1/check (match with the listed video's shares; no_match).
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

// FFmpeg renders a lavfi source (benign, synthetic) with extra output options into `path`.
function ffmpeg(source: string, path: string, options: string[] = []): void {
  execFileSync("ffmpeg", ["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source, ...options, path]);
}

describe("phmatch hashset build, then phmatch hash | phmatch match, on synthetic videos", () => {
  const dir = mkdtempSync(join(tmpdir(), "phmatch-video-e2e-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = cleanEnv({ PHMATCH_STATE_DIR: join(dir, "state") });
  const phmatch = (args: string[], input?: string) =>
    spawnSync(process.execPath, [bin, ...args], { env, encoding: "utf8", input, maxBuffer: 64 * 1024 * 1024 });

  it("finds a re-encoded, trimmed copy and a still frame of a listed clip; not an unrelated clip", () => {
    const listed = join(dir, "listed");
    mkdirSync(listed);
    const x264 = ["-c:v", "libx264", "-pix_fmt", "yuv420p"];
    ffmpeg("testsrc2=size=320x240:rate=10:duration=12", join(listed, "clip.mp4"), x264);
    const store = join(dir, "list.phs");
    const build = phmatch(["hashset", "build", listed, "--list-id", "synthetic", "--category", "K", "-o", store]);
    expect(build.status, build.stderr).toBe(0);
    // The copy: the first second cut off, scaled down, re-encoded at a lower quality, in another container.
    const copy = join(dir, "copy.mkv");
    execFileSync("ffmpeg", [
      ...["-nostdin", "-v", "error", "-y", "-ss", "1", "-i", join(listed, "clip.mp4")],
      ...["-vf", "scale=256:192", ...x264, "-crf", "32", copy],
    ]);
    const still = join(dir, "still.png");
    execFileSync(
      "ffmpeg",
      ["-nostdin", "-v", "error", "-y", "-ss", "5", "-i", join(listed, "clip.mp4")].concat([
        ...["-frames:v", "1", still],
      ]),
    );
    const other = join(dir, "other.mp4");
    ffmpeg("mandelbrot=size=320x240:rate=10", other, ["-t", "8", ...x264]);
    const hashed = phmatch(["hash", "-q", copy, still, other]);
    expect(hashed.status, hashed.stderr).toBe(0);
    const matched = phmatch(["match", "--hashset", store], hashed.stdout);
    expect(matched.status, matched.stderr).toBe(0);
    const results = new Map(
      matched.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
        .map((r) => [(r.path as string).split("/").pop(), r]),
    );
    const video = results.get("copy.mkv");
    expect(video?.status).toBe("known");
    const hit = video.matches.find((m: { algorithm: string }) => m.algorithm === "vpdq");
    expect(hit).toMatchObject({ list: "synthetic", entryId: "clip.mp4", category: "K" });
    expect(hit.policy).toBe("vpdq:d31:q50:t80:s0@1");
    expect(hit.video.targetPercent).toBeGreaterThanOrEqual(80);
    expect(hit.video.segments.length).toBeGreaterThan(0);
    const frame = results.get("still.png");
    expect(frame?.status).toBe("known");
    const frameHit = frame.matches.find((m: { algorithm: string }) => m.algorithm === "pdq");
    expect(frameHit).toMatchObject({ list: "synthetic", entryId: "clip.mp4" });
    expect(Math.abs(frameHit.timestamp - 5)).toBeLessThanOrEqual(1);
    expect(results.get("other.mp4")?.status).toBe("unseen");
  });

  it("answers POST /v1/check: the copy a match with the listed video's shares, the other clip no_match", async () => {
    const store = join(dir, "list.phs");
    const copy = join(dir, "copy.mkv");
    const other = join(dir, "other.mp4");
    // The first test made these; alone (vitest -t), this one says so rather than testing nothing.
    expect(existsSync(store) && existsSync(copy) && existsSync(other), "run with the test above").toBe(true);
    const child: ChildProcess = spawn(
      process.execPath,
      [bin, "serve", "--port", "0", "--no-auth", "--hashset", store, "--no-watch"],
      { env, stdio: ["ignore", "ignore", "pipe"] },
    );
    try {
      let stderr = "";
      child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
      while (!/listening on (\S+)/.test(stderr)) {
        if (child.exitCode !== null) throw new Error(`gate did not start: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const base = (/listening on (\S+)/.exec(stderr) as RegExpExecArray)[1] as string;
      const check = async (file: string) => {
        const response = await fetch(`${base}/v1/check`, {
          method: "POST",
          headers: { "content-type": "video/mp4" },
          body: readFileSync(file),
        });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      };
      const known = await check(copy);
      expect(known.status).toBe(200);
      expect(known.body).toMatchObject({ decision: "match", reason_code: "LIST_MATCH" });
      const matches = known.body.matches as { algorithm: string; video?: { targetPercent: number } }[];
      const hit = matches.find((m) => m.algorithm === "vpdq");
      expect(hit).toMatchObject({ list: "synthetic", entryId: "clip.mp4", category: "K" });
      expect(hit?.video?.targetPercent).toBeGreaterThanOrEqual(80);
      const unseen = await check(other);
      expect(unseen.status).toBe(200);
      expect(unseen.body).toMatchObject({ decision: "no_match", reason_code: "NO_MATCH" });
    } finally {
      child.kill("SIGTERM");
      if (child.exitCode === null) await once(child, "exit");
    }
  }, 120_000);
});

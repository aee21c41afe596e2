// File names that are not valid UTF-8 (common on seized media) survive into records byte for byte, stay distinct
// even when their readable forms collide, are hashed (found by their exact bytes), and resume correctly.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures, projectRoot, readTsv } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";

const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "phmatch-names-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tree = join(work, "tree");
mkdirSync(tree);
// Two names whose readable forms collide: "fo\uFFFD.jpg" for both.
const names = [Buffer.from([0x66, 0x6f, 0xff, 0x2e, 0x6a, 0x70, 0x67]), Buffer.from([0x66, 0x6f, 0xfe, 0x2e, 0x6a, 0x70, 0x67])];
for (const name of names) writeFileSync(Buffer.concat([Buffer.from(tree + "/"), name]), readFileSync(fixtures("images/texture.jpg")));
writeFileSync(join(tree, "plain.png"), readFileSync(fixtures("images/shapes.png")));
const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state") });
const texturePdq = readTsv(fixtures("golden-hashes.tsv")).find((r) => r.file === "texture.jpg")?.pdq;

describe("non-UTF-8 file names", () => {
  it("phmatch hash keeps them byte for byte (pathBytes) and hashes the files", () => {
    const r = spawnSync(process.execPath, [bin, "hash", tree], { cwd: projectRoot, encoding: "utf8", env });
    expect(r.status).toBe(0);
    const records = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { path: string; pathBytes?: string; hashes: { pdq: string } });
    const odd = records.filter((x) => x.pathBytes !== undefined);
    expect(odd.map((x) => Buffer.from(x.pathBytes as string, "base64"))).toEqual(names.map((n) => Buffer.concat([Buffer.from(tree + "/"), n])).sort(Buffer.compare));
    for (const x of odd) {
      expect(x.path).toBe(`${tree}/fo\uFFFD.jpg`);
      expect(x.hashes.pdq).toBe(texturePdq);
    }
    expect(records.find((x) => x.path.endsWith("plain.png"))?.pathBytes).toBeUndefined();
  });

  it("scan reports each once, with size and bytes, and --resume tells the colliding names apart", async () => {
    const args = (out: string, resume: boolean) => [bin, "scan", tree, "--hashset", fixtures("hashsets/demo.phs"), "-o", out, "-q", "-j", "1", ...(resume ? ["--resume"] : [])];
    const full = join(work, "full.ndjson");
    spawnSync(process.execPath, args(full, false), { cwd: projectRoot, env });
    const files = (report: string) => readFileSync(report, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.type === "file");
    const expected = files(full);
    expect(expected.filter((f) => f.pathBytes !== undefined)).toHaveLength(2);
    expect(expected.every((f) => f.size === readFileSync(fixtures(String(f.path).endsWith("plain.png") ? "images/shapes.png" : "images/texture.jpg")).length)).toBe(true);
    // Simulate a kill right after the first odd name: keep the header and the first file line, then resume.
    const partial = join(work, "partial.ndjson");
    const lines = readFileSync(full, "utf8").split("\n");
    writeFileSync(partial, lines.slice(0, 2).join("\n") + "\n" + lines[2]?.slice(0, 10));
    await new Promise<void>((done) => spawn(process.execPath, args(partial, true), { cwd: projectRoot, env, stdio: "ignore" }).on("exit", () => done()));
    expect(files(partial)).toEqual(expected);
  });
});

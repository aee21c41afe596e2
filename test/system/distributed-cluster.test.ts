// System test (needs Debian's redis-server, installed by .ci/run): `scan --enqueue --cluster`, two workers and
// `report collect` write the same cluster section as a local `scan --cluster` of the tree, byte for byte, sealed and
// signed by the collector's key; `report verify` checks it (issue 22).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSigningKeys } from "@phmatch/core";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, projectRoot } from "../support/conformance.js";
import { cleanEnv } from "../support/env.js";
import { hasRedis, REDIS_SERVER, startRedis } from "../support/services.js";
import { writeSyntheticImages } from "../support/worker-faults.js";

const bin = fileURLToPath(new URL("../../packages/cli/bin/phmatch.js", import.meta.url));
const demo = fixtures("hashsets/demo.phs");
const lines = (file: string) => readFileSync(file, "utf8").trimEnd().split("\n");
const section = (file: string) => lines(file).filter((l) => /^\{"type":"clusters?"/.test(l));

function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [bin, ...args], { cwd: projectRoot, env, stdio: "ignore" });
  return { child, exit: new Promise((resolve) => child.once("exit", (code) => resolve(code))) };
}

describe.skipIf(!hasRedis)(
  `distributed scan --cluster${hasRedis ? "" : ` (${REDIS_SERVER} not installed: .ci/run installs it)`}`,
  () => {
    let redis: Awaited<ReturnType<typeof startRedis>>;
    const work = mkdtempSync(join(tmpdir(), "phmatch-distributed-cluster-"));
    const tree = join(work, "tree");
    const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state") });
    const keys = generateSigningKeys();
    const key = join(work, "examiner.pem");

    beforeAll(async () => {
      redis = await startRedis();
      cpSync(fixtures("images"), join(tree, "fixtures"), { recursive: true });
      // A family of edits of one synthetic picture (unseen: not on the demo list), and unrelated pictures.
      mkdirSync(join(tree, "gen"));
      const [base] = await writeSyntheticImages(join(tree, "gen"), 6, 22);
      await sharp(base)
        .resize(150)
        .jpeg({ quality: 60 })
        .toFile(join(tree, "gen", "family-small.jpg"));
      await sharp(base)
        .png()
        .toFile(join(tree, "gen", "family-copy.png"));
      writeFileSync(key, keys.privateKeyPem);
    });
    afterAll(async () => {
      await redis?.stop();
      rmSync(work, { recursive: true, force: true });
    });

    it("the collected report's cluster section is the local scan's", async () => {
      const local = join(work, "local.ndjson");
      const scan = spawnSync(
        process.execPath,
        [bin, "scan", tree, "--hashset", demo, "--cluster", "--sign", key, "-o", local, "-q", "-j", "1"],
        { cwd: projectRoot, env, encoding: "utf8" },
      );
      expect(scan.status, scan.stderr).toBe(0);
      expect(section(local).length).toBeGreaterThanOrEqual(2); // at least one cluster and the seal

      const queue = redis.url(5);
      const out = join(work, "collected.ndjson");
      const coordinator = start(["scan", tree, "--hashset", demo, "--queue", queue, "--enqueue", "--cluster"], env);
      const workers = [1, 2].map((n) =>
        start(["worker", "--queue", queue, "--hashset", demo, "-j", "1", "--name", `w${n}`], env),
      );
      const collector = start(["report", "collect", "--queue", queue, "--out", out, "--sign", key, "-q"], env);
      expect(await collector.exit).toBe(0);
      expect(await coordinator.exit).toBe(0);
      for (const worker of workers) expect(await worker.exit).toBe(0);

      expect(lines(out).filter((l) => l.startsWith('{"type":"file"'))).toEqual(
        lines(local).filter((l) => l.startsWith('{"type":"file"')),
      );
      expect(section(out)).toEqual(section(local));
      writeFileSync(join(work, "examiner.pub"), keys.publicKeyPem);
      const verify = spawnSync(
        process.execPath,
        [bin, "report", "verify", out, "--trusted-keys", join(work, "examiner.pub")],
        { cwd: projectRoot, env, encoding: "utf8" },
      );
      expect(verify.status, verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/cluster section OK \(\d+ clusters, sealed by key [0-9a-f]{16}\)/);
    });
  },
);

// System test (needs Debian's redis-server, installed by .ci/run): a distributed scan on BullMQ. A coordinator
// enqueues a fixture tree, three workers consume it and one is killed with SIGKILL in the middle of a batch; the
// collected report has every file exactly once and its file records are the local scan's, line for line.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateSigningKeys, scanReportSchema, signStore } from "@phmatch/core";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, projectRoot } from "../support/conformance.js";
import { cleanEnv } from "../support/env.js";
import { hasRedis, REDIS_SERVER, startRedis } from "../support/services.js";
import { writeSyntheticImages } from "../support/worker-faults.js";

const bin = fileURLToPath(new URL("../../packages/cli/bin/phmatch.js", import.meta.url));
const demo = fixtures("hashsets/demo.phs");
const validate = new Ajv2020({ strict: true }).compile(scanReportSchema());

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[], env: NodeJS.ProcessEnv): Run {
  const child = spawn(process.execPath, [bin, ...args], { cwd: projectRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  const run: Run = {
    child,
    stdout: "",
    stderr: "",
    exit: new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal }))),
  };
  child.stdout?.on("data", (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (run.stderr += chunk.toString()));
  return run;
}

const lines = (file: string) => readFileSync(file, "utf8").trimEnd().split("\n");
const fileLines = (file: string) => lines(file).filter((l) => l.startsWith('{"type":"file"'));
// Without the end time, and the access-time account: each walk's own (the local scan read the tree first).
const summaryOf = (file: string) => {
  const {
    finishedAt: _finishedAt,
    atimes: _atimes,
    ...rest
  } = JSON.parse(lines(file).at(-1) as string) as Record<string, unknown>;
  return rest;
};

describe.skipIf(!hasRedis)(
  `distributed scan on BullMQ and Redis${hasRedis ? "" : ` (${REDIS_SERVER} not installed: .ci/run installs it)`}`,
  () => {
    let redis: Awaited<ReturnType<typeof startRedis>>;
    let work: string;
    let tree: string;
    let local: string;
    let env: NodeJS.ProcessEnv;
    // One worker takes the list from a list server (http URL) and verifies its signature, as machines sharing one
    // list location would; the bytes, and so the release, are the coordinator's.
    const keys = generateSigningKeys();
    const store = readFileSync(demo);
    const listServer = createServer((request, response) => {
      if (request.url === "/demo.phs") response.writeHead(200).end(store);
      else if (request.url === "/demo.phs.sig") response.writeHead(200).end(signStore(store, keys.privateKeyPem));
      else response.writeHead(404).end();
    });
    let listUrl: string;

    beforeAll(async () => {
      redis = await startRedis();
      work = mkdtempSync(join(tmpdir(), "phmatch-distributed-"));
      tree = join(work, "tree");
      // Four copies of the benign fixtures (so most files are duplicates of an earlier one) and the bad ones.
      for (let i = 0; i < 4; i++) cpSync(fixtures("images"), join(tree, `set${i}`), { recursive: true });
      cpSync(fixtures("bad"), join(tree, "bad"), { recursive: true });
      // Distinct synthetic images, so that a worker has real hashing to do (copies it has seen cost only a read).
      mkdirSync(join(tree, "gen"));
      await writeSyntheticImages(join(tree, "gen"), 40, 11);
      // A name that is not valid UTF-8 travels through the queue as its exact bytes.
      copyFileSync(
        fixtures("images/texture.jpg"),
        Buffer.concat([Buffer.from(`${join(tree, "bad")}/`), Buffer.from([0x6e, 0xff, 0x2e, 0x6a, 0x70, 0x67])]),
      );
      // Symbolic links are records of their own, recorded by the coordinator's walk as a local scan records them.
      symlinkSync("../set0/shapes.png", join(tree, "bad", "link-to-shapes.png"));
      symlinkSync("nowhere.png", join(tree, "bad", "dangling.png"));
      symlinkSync(Buffer.from([0x6e, 0xfe, 0x2e, 0x6a, 0x70, 0x67]), join(tree, "bad", "odd-target"));
      writeFileSync(join(work, "trusted.pub"), keys.publicKeyPem);
      listServer.listen(0, "127.0.0.1");
      await once(listServer, "listening");
      listUrl = `http://127.0.0.1:${(listServer.address() as AddressInfo).port}/demo.phs`;
      env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state") });
      local = join(work, "local.ndjson");
      const scan = spawnSync(process.execPath, [bin, "scan", tree, "--hashset", demo, "-o", local, "-q", "-j", "2"], {
        cwd: projectRoot,
        env,
        encoding: "utf8",
      });
      expect(scan.status, scan.stderr).toBe(2); // the bad fixtures are errors
    });

    afterAll(async () => {
      await redis?.stop();
      listServer.close();
      if (work !== undefined) rmSync(work, { recursive: true, force: true });
    });

    it(
      "three workers, one killed with SIGKILL mid-batch: " + "every file once, the same records as a local scan",
      async () => {
        const queue = redis.url(1);
        const out = join(work, "distributed.ndjson");
        // At most 3 batches wait in the queue: the walk pauses until workers take them.
        const coordinator = start(
          ["scan", tree, "--hashset", demo, "--queue", queue, "--enqueue", "--batch-size", "4", "--max-queued", "3"],
          env,
        );
        // The collector is killed too, once it has written some records while one worker runs alone (so that much is
        // still to come), and a second one finishes its report.
        const firstCollector = start(["report", "collect", "--queue", queue, "--out", out, "-q"], env);
        const collectorKilled = new Promise<void>((resolve) => {
          const poll = setInterval(() => {
            let written = 0;
            try {
              written = fileLines(out).length;
            } catch {
              // not created yet
            }
            if (written >= 8) {
              clearInterval(poll);
              firstCollector.child.kill("SIGKILL");
              resolve();
            }
          }, 5);
        });
        const list = (n: number) =>
          n === 3 ? ["--hashset", listUrl, "--trusted-keys", join(work, "trusted.pub")] : ["--hashset", demo];
        const worker = (n: number) =>
          start(["worker", "--queue", queue, ...list(n), "-j", "1", "--lock-ms", "2000", "--name", `w${n}`, "-v"], env);
        const second = worker(2);
        await collectorKilled;
        expect((await firstCollector.exit).signal).toBe("SIGKILL");
        // The lone worker is paused until the victim has been killed: on a fast, idle machine it would otherwise
        // finish the tree before the victim got a second batch (its lock may run out meanwhile: one more re-run).
        second.child.kill("SIGSTOP");
        const collector = start(["report", "collect", "--queue", queue, "--out", out, "--resume", "-q"], env);
        const workers = [worker(1), second, worker(3)];
        const victim = workers[0] as Run;
        // SIGKILL the first worker once it has finished a batch and started another that it has not finished: its
        // lock runs out, another worker re-runs that batch, and the records it may have stored already are repeats.
        const killed = await new Promise<string>((resolve, reject) => {
          const poll = setInterval(() => {
            const started = [...victim.stderr.matchAll(/batch (\S+) started/g)].map((m) => m[1] as string);
            const done = new Set([...victim.stderr.matchAll(/batch (\S+) done/g)].map((m) => m[1] as string));
            const open = started.filter((id) => !done.has(id));
            if (done.size >= 1 && open.length > 0) {
              clearInterval(poll);
              victim.child.kill("SIGKILL");
              second.child.kill("SIGCONT");
              resolve(open[0] as string);
            }
          }, 5);
          void victim.exit.then(() => {
            clearInterval(poll);
            second.child.kill("SIGCONT");
            reject(new Error(`worker 1 ended before it could be killed mid-batch: ${victim.stderr}`));
          });
        });
        expect(killed).toMatch(/^[bf][0-9a-f]{40}$/);
        expect((await victim.exit).signal).toBe("SIGKILL");
        for (const worker of workers.slice(1))
          expect(await worker.exit, worker.stderr).toEqual({ code: 0, signal: null });
        // as the local scan: some files are errors
        expect(await collector.exit, collector.stderr).toEqual({ code: 2, signal: null });
        expect(await coordinator.exit, coordinator.stderr).toEqual({ code: 0, signal: null });

        // Every file exactly once, in walk order, with the local scan's record, byte for byte.
        const records = fileLines(out);
        const paths = records.map((l) => (JSON.parse(l) as { path: string }).path);
        expect(new Set(paths).size).toBe(paths.length);
        expect(records).toEqual(fileLines(local));
        expect(records.length).toBeGreaterThan(100);
        expect(records.some((l) => l.includes('"duplicateOf"'))).toBe(true);
        expect(records.some((l) => l.includes('"pathBytes"'))).toBe(true);
        expect(records.filter((l) => l.includes('"status":"symlink"'))).toHaveLength(3);
        expect(records.some((l) => l.includes('"linkTargetBytes"'))).toBe(true);
        expect(summaryOf(out)).toEqual(summaryOf(local));
        for (const line of lines(out)) expect(validate(JSON.parse(line)), JSON.stringify(validate.errors)).toBe(true);
        const header = JSON.parse(lines(out)[0] as string) as {
          type: string;
          inputs: string[];
          lists: { listId: string }[];
        };
        expect(header).toMatchObject({ type: "header", inputs: [tree], lists: [{ listId: "phmatch-demo" }] });

        // The summary says what the queue had to do: the killed worker's batch was run again.
        const collected = JSON.parse(collector.stdout) as {
          files: number;
          distributed: {
            workers: Record<string, number>;
            restartedBatches: number;
            repeatsDropped: number;
            deadLetters: unknown[];
          };
        };
        expect(collected.files).toBe(records.length);
        expect(collected.distributed.restartedBatches).toBeGreaterThanOrEqual(1);
        expect(collected.distributed.deadLetters).toEqual([]);
        // The second collector took from Redis only what the first had not written (the rest was deleted as written).
        const taken = Object.values(collected.distributed.workers).reduce((a, b) => a + b, 0);
        expect(taken).toBeLessThan(records.length);
        expect(taken).toBeGreaterThan(0);
        // Progress across the workers on the coordinator, to the end.
        expect(coordinator.stderr).toContain(`phmatch scan done: ${records.length} of ${records.length} files`);

        const verify = spawnSync(process.execPath, [bin, "report", "verify", out], {
          cwd: projectRoot,
          env,
          encoding: "utf8",
        });
        expect(verify.status, verify.stderr).toBe(0);
      },
    );

    it(
      "a file that kills every worker that takes it is retried, split " +
        "out of its batch, then dead-lettered; the others are reported",
      async () => {
        const queue = redis.url(3);
        const small = join(work, "small");
        cpSync(fixtures("images"), small, { recursive: true });
        const smallLocal = join(work, "small-local.ndjson");
        expect(
          spawnSync(process.execPath, [bin, "scan", small, "--hashset", demo, "-o", smallLocal, "-q", "-j", "1"], {
            cwd: projectRoot,
            env,
            encoding: "utf8",
          }).status,
        ).toBe(0);
        // The poison file's batch and its own single-file job, by the ids the coordinator derives from paths and sizes.
        const { batchJobId, queuedFile } = (await import(
          new URL("../../packages/cli/dist/queue/scan-queue.js", import.meta.url).href
        )) as typeof import("../../packages/cli/src/queue/scan-queue.js");
        const order = fileLines(smallLocal).map((l) => JSON.parse(l) as { path: string; size: number });
        const poisonSeq = 5;
        const batchOf = order.slice(4, 8).map((r, i) => queuedFile(4 + i, r.path, r.size));
        const poison = batchOf[poisonSeq - 4] as ReturnType<typeof queuedFile>;
        const poisonIds = new Set([batchJobId("dead", batchOf), batchJobId("dead", [poison])]);

        const out = join(work, "dead.ndjson");
        const collector = start(["report", "collect", "--queue", queue, "--scan", "dead", "--out", out, "-q"], env);
        const enqueue = spawnSync(
          process.execPath,
          [
            bin,
            "scan",
            small,
            "--hashset",
            demo,
            "--queue",
            queue,
            "--scan",
            "dead",
            "--enqueue",
            "--batch-size",
            "4",
            "--no-wait",
            "-q",
          ],
          { cwd: projectRoot, env, encoding: "utf8" },
        );
        expect(enqueue.status, enqueue.stderr).toBe(0);
        // One worker at a time; whichever takes a job holding the poison file dies at once (as if the file took its
        // process down), and a new worker starts, until the scan is complete.
        let kills = 0;
        const log: string[] = [];
        let collected = false;
        void collector.exit.then(() => (collected = true));
        while (!collected) {
          const worker = start(
            [
              "worker",
              "--queue",
              queue,
              "--scan",
              "dead",
              "--hashset",
              demo,
              "-j",
              "1",
              "--concurrency",
              "1",
              "--lock-ms",
              "1000",
              "-v",
            ],
            env,
          );
          const poll = setInterval(() => {
            if ([...worker.stderr.matchAll(/batch (\S+) started/g)].some((m) => poisonIds.has(m[1] as string))) {
              clearInterval(poll);
              worker.child.kill("SIGKILL");
              kills++;
            }
          }, 5);
          await worker.exit;
          clearInterval(poll);
          log.push(worker.stderr);
        }
        expect(await collector.exit, collector.stderr + log.join("\n")).toEqual({ code: 2, signal: null });
        // Three stalls for the batch, three for the file alone (MAX_STALLED = 2 recoveries each).
        expect(kills, `${collector.stdout}\n${log.join("\n")}`).toBe(6);

        const records = fileLines(out).map((l) => JSON.parse(l) as { path: string; error?: { code: string } });
        expect(records.map((r) => r.path)).toEqual(order.map((r) => r.path));
        const dead = records[poisonSeq] as { path: string; status: string; error: { code: string } };
        expect(dead).toMatchObject({
          path: poison.path,
          status: "error",
          error: { code: "PHM_QUEUE_DEAD_LETTER" },
          size: poison.size,
        });
        expect(fileLines(out).filter((_, i) => i !== poisonSeq)).toEqual(
          fileLines(smallLocal).filter((_, i) => i !== poisonSeq),
        );
        const summary = JSON.parse(collector.stdout) as {
          errors: Record<string, number>;
          distributed: { splitBatches: number; deadLetters: { path: string }[] };
        };
        expect(summary.errors).toEqual({ PHM_QUEUE_DEAD_LETTER: 1 });
        expect(summary.distributed.splitBatches).toBe(1);
        expect(summary.distributed.deadLetters.map((d) => d.path)).toEqual([poison.path]);
      },
    );

    it(
      "a worker with another release of a list refuses " + "the scan; so does a coordinator resuming it with one",
      async () => {
        const queue = redis.url(2);
        const state = { ...env, PHMATCH_STATE_DIR: join(work, "state-v2") };
        const v2 = join(work, "demo-v2.phs");
        const build = spawnSync(
          process.execPath,
          [
            bin,
            "hashset",
            "build",
            fixtures("images/shapes.png"),
            "--list-id",
            "phmatch-demo",
            "--list-version",
            "2",
            "-o",
            v2,
          ],
          { cwd: projectRoot, env: state, encoding: "utf8" },
        );
        expect(build.status, build.stderr).toBe(0);
        const enqueue = spawnSync(
          process.execPath,
          [bin, "scan", tree, "--hashset", demo, "--queue", queue, "--enqueue", "--no-wait", "-q"],
          { cwd: projectRoot, env, encoding: "utf8" },
        );
        expect(enqueue.status, enqueue.stderr).toBe(0);
        const worker = spawnSync(process.execPath, [bin, "worker", "--queue", queue, "--hashset", v2, "-j", "1"], {
          cwd: projectRoot,
          env: state,
          encoding: "utf8",
          timeout: 60_000,
        });
        expect(worker.status, worker.stderr).toBe(3);
        expect(worker.stderr).toContain("PHM_QUEUE_LIST_MISMATCH");
        expect(worker.stderr).toMatch(/phmatch-demo v1 .*phmatch-demo v2/);
        const again = spawnSync(
          process.execPath,
          [bin, "scan", tree, "--hashset", v2, "--queue", queue, "--enqueue", "--no-wait", "-q"],
          { cwd: projectRoot, env: state, encoding: "utf8" },
        );
        expect(again.status, again.stderr).toBe(3);
        expect(again.stderr).toContain("PHM_QUEUE_LIST_MISMATCH");
      },
    );

    it(
      "with --ignorable: a worker with other list bytes is refused; " +
        "workers with their own copies give the local scan's records",
      async () => {
        const queue = redis.url(4);
        const small = join(work, "ignorable-tree");
        cpSync(fixtures("images"), small, { recursive: true });
        writeFileSync(join(small, "system.dll"), "a known-good system file\n");
        writeFileSync(join(small, "system-copy.dll"), "a known-good system file\n");
        const digest = createHash("sha256").update("a known-good system file\n").digest("hex");
        const list = join(work, "known-good.txt");
        writeFileSync(list, `${digest}\n`);
        mkdirSync(join(work, "worker-lists"));
        const copy = join(work, "worker-lists", "copy.txt"); // the worker's own copy: another path, the same bytes
        copyFileSync(list, copy);
        const stale = join(work, "worker-lists", "stale.txt");
        writeFileSync(stale, `${digest}\n${"ab".repeat(32)}\n`);
        const run = (args: string[]) =>
          spawnSync(process.execPath, [bin, ...args], { cwd: projectRoot, env, encoding: "utf8", timeout: 60_000 });
        const localReport = join(work, "ignorable-local.ndjson");
        const scan = run(["scan", small, "--hashset", demo, "--ignorable", list, "-o", localReport, "-q", "-j", "1"]);
        expect(scan.status, scan.stderr).toBe(0);
        const enqueue = run([
          "scan",
          small,
          "--hashset",
          demo,
          "--ignorable",
          list,
          "--queue",
          queue,
          "--enqueue",
          "--no-wait",
          "-q",
        ]);
        expect(enqueue.status, enqueue.stderr).toBe(0);

        const refused = run(["worker", "--queue", queue, "--hashset", demo, "--ignorable", stale, "-j", "1"]);
        expect(refused.status, refused.stderr).toBe(3);
        expect(refused.stderr).toContain("PHM_QUEUE_IGNORABLE_MISMATCH");
        const without = run(["worker", "--queue", queue, "--hashset", demo, "-j", "1"]);
        expect(without.stderr).toContain("PHM_QUEUE_IGNORABLE_MISMATCH");

        const out = join(work, "ignorable-distributed.ndjson");
        const collector = start(["report", "collect", "--queue", queue, "--out", out, "-q"], env);
        const worker = start(["worker", "--queue", queue, "--hashset", demo, "--ignorable", copy, "-j", "1"], env);
        expect(await worker.exit, worker.stderr).toEqual({ code: 0, signal: null });
        expect(await collector.exit, collector.stderr).toEqual({ code: 0, signal: null });

        expect(fileLines(out)).toEqual(fileLines(localReport));
        expect(fileLines(out).filter((l) => l.includes('"status":"ignorable"'))).toHaveLength(2);
        expect(summaryOf(out)).toEqual(summaryOf(localReport));
        expect(summaryOf(out)).toMatchObject({ ignorable: 2, ignorableLists: { "known-good.txt": 2 } });
        const header = JSON.parse(lines(out)[0] as string) as { ignorable: { name: string; sha256: string }[] };
        expect(header.ignorable).toMatchObject([{ name: "known-good.txt", file: list }]);
        for (const line of lines(out)) expect(validate(JSON.parse(line)), JSON.stringify(validate.errors)).toBe(true);
      },
    );
  },
);

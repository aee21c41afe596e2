// System test (needs Debian's nginx, installed by .ci/run): three `phmatch serve` replicas behind nginx, taking a
// signed list from one list server (an http URL; not watched, as a file is: SIGHUP reloads it). Under a steady
// stream of uploads through the load balancer, a new release of the list is rolled across the replicas one at a
// time (SIGHUP), then one replica is restarted: no request fails, every answer names the list version it was
// decided with, and once the roll is over every replica answers with the new release.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { generateSigningKeys } from "@phmatch/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, projectRoot } from "../support/conformance.js";
import { cleanEnv } from "../support/env.js";
import { freePort, hasNginx, NGINX, type Service, startNginx, waitForPort } from "../support/services.js";
import { writeSignedList } from "../support/signed-list.js";

const bin = fileURLToPath(new URL("../../packages/cli/bin/phmatch.js", import.meta.url));
const keys = generateSigningKeys();

interface Replica {
  port: number;
  child: ChildProcess;
  stderr: string;
}

describe.skipIf(!hasNginx)(
  `gate replicas behind nginx${hasNginx ? "" : ` (${NGINX} not installed: .ci/run installs it)`}`,
  () => {
    let root: string;
    let listsDir: string;
    let listUrl: string;
    let nginx: Service | undefined;
    const replicas: Replica[] = [];
    const listServer = createServer((request, response) => {
      try {
        response.writeHead(200).end(readFileSync(join(listsDir, (request.url ?? "/").replace(/^\/lists\//, ""))));
      } catch {
        response.writeHead(404).end();
      }
    });

    // A signed release of the list "hotline" holding the given fixtures, replaced atomically on the list server.
    const publish = (version: number, files: string[]) =>
      writeSignedList(join(listsDir, "hotline.phs"), version, files, keys.privateKeyPem);

    async function startReplica(port: number, n: number): Promise<Replica> {
      const state = join(root, `state-${n}`);
      const args = [
        bin,
        "serve",
        "--hashset",
        listUrl,
        "--trusted-keys",
        join(root, "trusted.pub"),
        "--no-auth",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--threads",
        "1",
      ];
      const child = spawn(process.execPath, args, {
        cwd: projectRoot,
        env: cleanEnv({ PHMATCH_STATE_DIR: state }),
        stdio: ["ignore", "ignore", "pipe"],
      });
      const replica: Replica = { port, child, stderr: "" };
      child.stderr?.on("data", (chunk: Buffer) => (replica.stderr += chunk.toString()));
      await waitForPort(port, 30_000);
      return replica;
    }

    async function listVersionOf(replica: Replica): Promise<number | undefined> {
      const ready = (await (await fetch(`http://127.0.0.1:${replica.port}/readyz`)).json()) as {
        lists?: { version: number }[];
      };
      return ready.lists?.[0]?.version;
    }

    beforeAll(async () => {
      root = mkdtempSync(join(tmpdir(), "phmatch-replicas-"));
      listsDir = join(root, "lists");
      mkdirSync(listsDir);
      writeFileSync(join(root, "trusted.pub"), keys.publicKeyPem);
      await publish(1, ["texture.jpg"]);
      listServer.listen(0, "127.0.0.1");
      await once(listServer, "listening");
      listUrl = `http://127.0.0.1:${(listServer.address() as AddressInfo).port}/lists/hotline.phs`;
      const ports = await Promise.all([0, 1, 2].map(() => freePort()));
      for (const [n, port] of ports.entries()) replicas.push(await startReplica(port, n));
      nginx = await startNginx(ports);
    });

    afterAll(async () => {
      for (const r of replicas) if (r.child.exitCode === null) r.child.kill("SIGTERM");
      await Promise.all(replicas.map((r) => (r.child.exitCode === null ? once(r.child, "exit") : undefined)));
      await nginx?.stop();
      listServer.close();
      if (root !== undefined) rmSync(root, { recursive: true, force: true });
    });

    it("rolls a new list release across the replicas, and restarts one, without a request failing", async () => {
      const probe = readFileSync(fixtures("images/shapes.png"));
      const answers: { status: number; decision?: string; version?: number }[] = [];
      let running = true;
      const client = async () => {
        while (running) {
          try {
            const response = await fetch(`http://127.0.0.1:${nginx?.port}/v1/check`, {
              method: "POST",
              body: probe,
              headers: { "content-type": "image/png" },
            });
            const body = (await response.json()) as {
              decision?: string;
              lists?: { listId: string; version: number }[];
            };
            answers.push({
              status: response.status,
              ...(body.decision !== undefined && { decision: body.decision }),
              ...(body.lists?.[0] !== undefined && { version: body.lists[0].version }),
            });
          } catch (error) {
            answers.push({ status: 0, decision: (error as Error).message });
          }
        }
      };
      const clients = [client(), client(), client()];
      const waitForAnswers = async (n: number) => {
        const target = answers.length + n;
        while (answers.length < target) await sleep(20);
      };
      await waitForAnswers(15);
      expect(new Set(answers.map((a) => a.version))).toEqual(new Set([1]));

      // The new release on the list server (shapes.png added), then each replica reloads in turn.
      await publish(2, ["texture.jpg", "shapes.png"]);
      for (const replica of replicas) {
        replica.child.kill("SIGHUP");
        for (let i = 0; i < 200 && (await listVersionOf(replica)) !== 2; i++) await sleep(50);
        expect(await listVersionOf(replica)).toBe(2);
        await waitForAnswers(6);
      }
      // A rolling restart of one replica: nginx sends its requests to the others while it is down.
      const first = replicas[0] as Replica;
      first.child.kill("SIGTERM");
      await once(first.child, "exit");
      await waitForAnswers(6);
      replicas[0] = await startReplica(first.port, 0);
      expect(await listVersionOf(replicas[0] as Replica)).toBe(2);
      await waitForAnswers(6);
      const rolled = answers.length;
      await waitForAnswers(15);
      running = false;
      await Promise.all(clients);

      const failed = answers.filter((a) => a.status !== 200);
      expect(failed, JSON.stringify(failed.slice(0, 5))).toEqual([]);
      // Each answer is the one its list version gives: v1 does not hold the probe, v2 does.
      for (const a of answers)
        expect([a.version, a.decision]).toEqual(a.version === 1 ? [1, "no_match"] : [2, "match"]);
      expect(answers.slice(rolled).every((a) => a.version === 2)).toBe(true);
      for (const r of replicas) expect(r.stderr).not.toContain("reload refused");
    });
  },
);

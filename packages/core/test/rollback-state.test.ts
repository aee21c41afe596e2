// The rollback state folder shared by a deployment's replicas (issue 16 item 16): every write is read, merge
// (maximum), write under an O_EXCL lock, so processes admitting lists at once keep every maximum; a lock left by a
// dead process is taken over, a live one is waited for; a read-only state checks and records nothing.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { RollbackState } from "@phmatch/core";
import { withLock } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../../test/support/conformance.js";

const tmp = mkdtempSync(join(tmpdir(), "phmatch-rollback-state-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the rollback state folder", () => {
  it("keeps every maximum when several processes admit lists, overrides releases and audit heads at once", async () => {
    const dir = join(tmp, "shared");
    const go = join(tmp, "go");
    const PROCESSES = 6;
    const ROUNDS = 40;
    // Each writer: its own lists (p<n>-<i>), one list all share (a replica admitting a newer release), an overrides
    // binding all share, and its own audit log's head. They start together (a barrier file), as replicas do.
    const script = `
      import { existsSync, writeFileSync } from "node:fs";
      import { ListVersionState } from "@phmatch/core/internal";
      const [dir, go, me, rounds] = process.argv.slice(1);
      const p = Number(me);
      const state = new ListVersionState(dir);
      writeFileSync(go + "." + p, "");
      while (!existsSync(go)) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      for (let i = 0; i < Number(rounds); i++) {
        // force: a writer behind another is not refused, its release is merged (the maximum stays)
        state.admit(
          [{ listId: "p" + p + "-" + i, version: i + 1 }, { listId: "shared", version: p * 1000 + i }],
          "writer " + p,
          true,
        );
        if (typeof state.admitOverrides === "function")
          state.admitOverrides(["hotline"], p * 1000 + i + 1, "writer " + p, true);
        if (typeof state.recordAuditHead === "function")
          state.recordAuditHead("/logs/gate-" + p + ".ndjson", { seq: i, head: String(i % 10).repeat(64) });
      }
    `;
    const children = Array.from({ length: PROCESSES }, (_, p) =>
      spawn(process.execPath, ["--input-type=module", "-e", script, dir, go, String(p), String(ROUNDS)], {
        cwd: projectRoot,
        stdio: ["ignore", "ignore", "pipe"],
      }),
    );
    const errors: string[] = [];
    for (const child of children) child.stderr!.on("data", (d: Buffer) => errors.push(d.toString()));
    const ready = () => Array.from({ length: PROCESSES }, (_, p) => existsSync(`${go}.${p}`)).every(Boolean);
    while (!ready() && children.every((c) => c.exitCode === null)) await new Promise((r) => setTimeout(r, 10));
    writeFileSync(go, "");
    const codes = await Promise.all(children.map(async (c) => (c.exitCode ?? (await once(c, "exit"))[0]) as number));
    expect(errors.join("")).toBe("");
    expect(codes).toEqual(Array(PROCESSES).fill(0));

    const versions = JSON.parse(readFileSync(join(dir, "list-versions.json"), "utf8")) as Record<string, number>;
    const expected: Record<string, number> = { shared: (PROCESSES - 1) * 1000 + ROUNDS - 1 };
    for (let p = 0; p < PROCESSES; p++) for (let i = 0; i < ROUNDS; i++) expected[`p${p}-${i}`] = i + 1;
    expect(versions).toEqual(expected);
    const state = new RollbackState(dir);
    expect(state.overridesRelease(["hotline"])).toBe((PROCESSES - 1) * 1000 + ROUNDS);
    for (let p = 0; p < PROCESSES; p++)
      expect(state.auditHead(`/logs/gate-${p}.ndjson`)).toEqual({
        seq: ROUNDS - 1,
        head: String((ROUNDS - 1) % 10).repeat(64),
      });
    expect(existsSync(join(dir, "state.lock"))).toBe(false);
  }, 120_000);

  it("takes over a lock left by a process that died, and waits for (never breaks) a live one", () => {
    const dir = join(tmp, "locks");
    mkdirSync(dir, { recursive: true });
    const lock = join(dir, "state.lock");
    const dead = spawnSync(process.execPath, ["-e", ""]).pid; // exited: its pid is free
    writeFileSync(lock, JSON.stringify({ pid: dead, host: hostname(), token: "left-behind" }));
    const state = new RollbackState(dir);
    state.admit([{ listId: "L", version: 2 }], "L.phs");
    expect(state.highest("L")).toBe(2);
    expect(existsSync(lock)).toBe(false);

    // Held by a live process (this one): never broken, and after the wait nothing was done.
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), token: "alive" }));
    let ran = false;
    expect(() => withLock(lock, () => (ran = true), { waitMs: 0 })).toThrow(
      expect.objectContaining({ code: "PHM_STATE_LOCKED" }),
    );
    expect(ran).toBe(false);
    expect(JSON.parse(readFileSync(lock, "utf8"))).toMatchObject({ token: "alive" });

    // Held from another host: judged by age (an injected clock), stale only past STATE_LOCK_STALE_MS.
    writeFileSync(lock, JSON.stringify({ pid: 1, host: "another-host", token: "remote" }));
    const written = statSync(lock).mtimeMs;
    expect(() => withLock(lock, () => (ran = true), { waitMs: 0, now: () => written + 1_000 })).toThrow(
      expect.objectContaining({ code: "PHM_STATE_LOCKED" }),
    );
    expect(withLock(lock, () => (ran = true), { waitMs: 0, now: () => written + 60_000 })).toBe(true);
    expect(existsSync(lock)).toBe(false);
    // A lock file without content (its writer died between creating and filling it) is judged by age too.
    writeFileSync(lock, "");
    utimesSync(lock, new Date(0), new Date(0));
    expect(withLock(lock, () => "ok", { waitMs: 0 })).toBe("ok");
  });

  it("read-only: refuses what would be refused, records nothing", () => {
    const dir = join(tmp, "read-only");
    new RollbackState(dir).admit([{ listId: "R", version: 5 }], "R-5.phs");
    const readOnly = new RollbackState(dir, { readOnly: true });
    expect(() => readOnly.admit([{ listId: "R", version: 4 }], "R-4.phs")).toThrow(
      expect.objectContaining({ code: "PHM_HASHSET_ROLLBACK" }),
    );
    readOnly.admit(
      [
        { listId: "R", version: 6 },
        { listId: "S", version: 1 },
      ],
      "R-6.phs",
    );
    readOnly.admitOverrides(["R"], 3, "o");
    expect([readOnly.highest("R"), readOnly.highest("S"), readOnly.overridesRelease(["R"])]).toEqual([
      5,
      undefined,
      undefined,
    ]);
  });

  it("a refusal names the folder and says how an old case is re-run", () => {
    const dir = join(tmp, "message");
    const state = new RollbackState(dir);
    state.admit([{ listId: "M", version: 9 }], "M-9.phs");
    expect(() => state.admit([{ listId: "M", version: 8 }], "M-8.phs")).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(
          new RegExp(
            `version 8, older than version 9 already loaded with the rollback state ` +
              `${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*one state per case`,
          ),
        ),
      }),
    );
    expect(() => new RollbackState(" ")).toThrow(expect.objectContaining({ code: "PHM_USAGE" }));
  });
});

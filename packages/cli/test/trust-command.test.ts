// Trust in lists and in the audit log, as a user meets it on the command line (issue 16 items 4, 9, 10, 16):
// trusted keys that are asked for must be usable; overrides must be signed under trusted keys and say so in
// verify, info and the scan report; the rollback state lives per deployment (required) or per case (beside the
// report), never under $HOME, and read-only commands neither trip nor move it; an audit log cut back behind the
// head kept in the state is refused, and unclean stops are reported.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog, generateSigningKeys } from "@phmatch/core";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures, projectRoot } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { bin, runCli, spawnCli } from "./support/run-cli.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-cli-trust-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const home = join(work, "home"); // every run gets this HOME: it must stay empty
mkdirSync(home);
const at = (name: string) => join(work, name);

async function phmatch(args: string[], env: Record<string, string> = {}, input = "") {
  const r = await runCli(args, {
    cwd: work,
    input,
    env: cleanEnv({ HOME: home, XDG_STATE_HOME: join(home, ".local", "state"), ...env }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const signer = generateSigningKeys();
writeFileSync(at("signer.pem"), signer.privateKeyPem);
writeFileSync(at("signer.pub"), signer.publicKeyPem);
// Overrides are signed by a key of their own role (issue 21), trusted with --trusted-override-keys.
const overrider = generateSigningKeys();
writeFileSync(at("overrides.pem"), overrider.privateKeyPem);
writeFileSync(at("overrides.pub"), overrider.publicKeyPem);
const overridesRole = ["--trusted-override-keys", at("overrides.pub")];
const stranger = generateSigningKeys();
writeFileSync(at("stranger.pem"), stranger.privateKeyPem);
const image = fixtures("images/texture.jpg");
const imageMd5 = createHash("md5").update(readFileSync(image)).digest("hex");
writeFileSync(at("md5.txt"), `${imageMd5}\n`);
const evidence = at("evidence");
mkdirSync(evidence);
cpSync(image, join(evidence, "texture.jpg"));

// A list "hotline" at a version holding the MD5 of the evidence image, signed by the signer.
async function signedList(name: string, version: number, listId = "hotline"): Promise<string> {
  const file = at(name);
  expect(
    (
      await phmatch([
        "hashset",
        "import",
        at("md5.txt"),
        "--algorithm",
        "md5",
        "--list-id",
        listId,
        "--list-version",
        String(version),
        "-o",
        file,
      ])
    ).code,
  ).toBe(0);
  expect((await phmatch(["hashset", "sign", file, "--key", at("signer.pem")])).code).toBe(0);
  return file;
}
const hotline7 = await signedList("hotline-7.phs", 7);
const hotline6 = await signedList("hotline-6.phs", 6);
const scanReport = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("trusted keys that are asked for (item 9)", () => {
  it(
    "an empty --trusted-keys file or PHMATCH_TRUSTED_KEYS=' ' is an error, " + "never an unsigned list loaded",
    async () => {
      const forged = at("forged.phs");
      expect(
        (
          await phmatch([
            "hashset",
            "import",
            at("md5.txt"),
            "--algorithm",
            "md5",
            "--list-id",
            "hotline",
            "-o",
            forged,
          ])
        ).code,
      ).toBe(0); // not signed
      writeFileSync(at("empty.pub"), "");
      const state = { PHMATCH_STATE_DIR: at("state-item9") };
      for (const [args, env] of [
        [["--trusted-keys", at("empty.pub")], state],
        [[], { ...state, PHMATCH_TRUSTED_KEYS: " " }],
        [[], { ...state, PHMATCH_TRUSTED_KEYS: "" }],
      ] as const) {
        const r = await phmatch(
          ["match", "--hashset", forged, ...args],
          env,
          JSON.stringify({ path: "upload", hashes: { md5: imageMd5 } }) + "\n",
        );
        expect(r, JSON.stringify(env)).toMatchObject({ code: 64, stdout: "" });
        expect(r.stderr).toMatch(
          /PHM_USAGE: no PEM public key found in (--trusted-keys .*empty\.pub|PHMATCH_TRUSTED_KEYS)/,
        );
      }
      // check (an upload pipeline): exit 2, not 1 for a "match" against the forged list
      expect(
        (await phmatch(["check", image, "--hashset", forged, "--trusted-keys", at("empty.pub")], state)).code,
      ).toBe(2);
      // the gate refuses to start
      const serve = await phmatch([
        "serve",
        "--no-auth",
        "--port",
        "0",
        "--no-watch",
        "--hashset",
        forged,
        "--trusted-keys",
        at("empty.pub"),
        "--state-dir",
        at("state-item9-serve"),
      ]);
      expect(serve).toMatchObject({ code: 64, stderr: expect.stringContaining("no PEM public key found") });
      // audit verify too: asked-for keys that are not there never mean "signatures not checked"
      expect((await phmatch(["audit", "verify", at("md5.txt")], { PHMATCH_TRUSTED_KEYS: " " })).code).toBe(64);
    },
  );
});

describe("overrides under trusted keys (item 10)", () => {
  it(
    "an unsigned overrides file beside a signed list: refused under trusted keys; " + "verify never says plain OK",
    async () => {
      const store = at("unsigned-overrides.phs");
      cpSync(hotline7, store);
      cpSync(`${hotline7}.sig`, `${store}.sig`);
      writeFileSync(
        `${store}.overrides.ndjson`,
        JSON.stringify({
          action: "allow",
          algorithm: "md5",
          hash: imageMd5,
          who: "anyone",
          when: "2026-01-01T00:00:00Z",
          why: "forged",
        }) + "\n",
      );
      const verify = await phmatch(["hashset", "verify", store, "--trusted-keys", at("signer.pub")]);
      expect(verify).toMatchObject({ code: 3, stdout: "" });
      expect(verify.stderr).toContain("PHM_HASHSET_SIGNATURE");
      expect(verify.stderr).toContain("not signed");
      const scan = await phmatch([
        "scan",
        evidence,
        "--hashset",
        store,
        "--trusted-keys",
        at("signer.pub"),
        "-o",
        at("case-unsigned/report.ndjson"),
      ]);
      expect(scan.code).toBe(3);
      // without trusted keys they apply as before, and info says they are unsigned
      expect((await phmatch(["hashset", "info", store])).stdout).toContain(
        "local overrides: 1 (1 allow, 0 disable), unsigned",
      );
    },
  );

  it(
    "signed overrides: verify, info and the scan report header name them; " +
      "the allowed file says which override set it aside",
    async () => {
      const store = at("signed-overrides.phs");
      cpSync(hotline7, store);
      cpSync(`${hotline7}.sig`, `${store}.sig`);
      const add = await phmatch([
        "hashset",
        "override",
        "add",
        store,
        "--action",
        "allow",
        "--algorithm",
        "md5",
        "--hash",
        imageMd5,
        "--who",
        "J. Doe",
        "--why",
        "confirmed false positive, ticket 12",
        "--sign-key",
        at("overrides.pem"),
      ]);
      expect(add.code).toBe(0);
      expect(add.stdout).toContain("release 1, signed by key");
      // Issue 21: under list keys, signed overrides need the overrides role configured (fail closed, said how).
      const noRole = await phmatch(["hashset", "verify", store, "--trusted-keys", at("signer.pub")]);
      expect(noRole.code).toBe(3);
      expect(noRole.stderr).toContain("--trusted-override-keys");
      // The override names the release of the list it was decided about, taken from the store.
      expect(JSON.parse(readFileSync(`${store}.overrides.ndjson`, "utf8").split("\n")[1] as string)).toMatchObject({
        listId: "hotline",
        listVersion: 7,
      });
      const verify = await phmatch(["hashset", "verify", store, "--trusted-keys", at("signer.pub"), ...overridesRole]);
      expect(verify.code).toBe(0);
      expect(verify.stdout).toMatch(
        new RegExp(
          /OK, signed by key [0-9a-f]{16}, 1 entries \(hotline v7\); /.source +
            /overrides: 1 \(1 allow, 0 disable\), release 1, signed by key [0-9a-f]{16}/.source,
        ),
      );
      const info = (await phmatch(["hashset", "info", store, "--trusted-keys", at("signer.pub"), ...overridesRole]))
        .stdout;
      expect(info).toContain("local overrides: 1 (1 allow, 0 disable), release 1, signed by key");
      expect(info).toContain(`override #0: allow md5 ${imageMd5} in list hotline release 7, by J. Doe at `);
      expect(info).toContain(": confirmed false positive, ticket 12");

      const report = at("case-signed/report.ndjson");
      const scan = await phmatch([
        "scan",
        evidence,
        "--hashset",
        store,
        "--trusted-keys",
        at("signer.pub"),
        ...overridesRole,
        "-o",
        report,
      ]);
      expect(scan.code).toBe(0);
      const [header, file] = scanReport(report);
      expect(header?.overrides).toEqual([
        {
          store,
          count: 1,
          release: 1,
          signedBy: expect.stringMatching(/^[0-9a-f]{16}$/),
          sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
      ]);
      expect(file).toMatchObject({
        status: "unseen",
        matches: [
          { list: "hotline", override: { action: "allow", who: "J. Doe", release: 1, signedBy: expect.any(String) } },
        ],
      });

      // A change without --sign-key is a new, unsigned release: refused under trusted keys, and said at once.
      const unsigned = await phmatch([
        "hashset",
        "override",
        "add",
        store,
        "--action",
        "disable",
        "--algorithm",
        "md5",
        "--hash",
        "00".repeat(16),
        "--who",
        "x",
        "--why",
        "y",
      ]);
      expect(unsigned.stdout).toContain("release 2, unsigned (the old signature no longer matched and was removed)");
      expect(
        (await phmatch(["hashset", "verify", store, "--trusted-keys", at("signer.pub"), ...overridesRole])).code,
      ).toBe(3);
      expect((await phmatch(["hashset", "override", "sign", store, "--key", at("overrides.pem")])).stdout).toContain(
        "release 2, signed by key",
      );
      expect(
        (await phmatch(["hashset", "verify", store, "--trusted-keys", at("signer.pub"), ...overridesRole])).stdout,
      ).toContain("overrides: 2 (1 allow, 1 disable), release 2, signed by key");
    },
  );
});

describe("where the rollback state lives (item 16)", () => {
  it("npm start writes nothing under $HOME, and says it keeps no rollback state", () => {
    const emptyHome = join(work, "npm-start-home");
    mkdirSync(emptyHome);
    const start = (
      JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { scripts: { start: string } }
    ).scripts.start;
    const env = cleanEnv({ HOME: emptyHome });
    delete env.XDG_STATE_HOME; // the old default was $XDG_STATE_HOME, else $HOME/.local/state
    const r = spawnSync("sh", ["-c", start], { cwd: projectRoot, encoding: "utf8", timeout: 120_000, env });
    expect(r.status).toBe(0);
    expect(readdirSync(emptyHome)).toEqual([]);
    expect(r.stdout.split("\n")[0]).toContain("path,");
    expect(r.stderr).toContain("rollback state: none; give --state-dir");
  });

  it(
    "deployments refuse to start without a state folder: serve, worker, " + "and the distributed scan's coordinator",
    async () => {
      const demo = fixtures("hashsets/demo.phs");
      const runs = [
        ["serve", "--no-auth", "--port", "0", "--no-watch", "--hashset", demo],
        ["worker", "--queue", "redis://127.0.0.1:9/0", "--hashset", demo, "--wait-ms", "1000"],
        ["scan", evidence, "--hashset", demo, "--queue", "redis://127.0.0.1:9/0", "--enqueue"],
      ];
      for (const args of runs) {
        const r = await phmatch(args);
        expect(r.code, args[0]).toBe(64);
        expect(r.stderr).toContain("give one --state-dir per gate deployment, shared by its replicas");
      }
      expect(await phmatch(["check", image, "--hashset", demo], { PHMATCH_STATE_DIR: "" })).toMatchObject({
        code: 2,
        stderr: expect.stringContaining("PHMATCH_STATE_DIR is set but empty"),
      });
      expect((await phmatch(["match", "--hashset", demo], { PHMATCH_STATE_DIR: " " })).code).toBe(64);
    },
  );

  it(
    "a scan writing its report keeps the state with the case: an old case re-run in its folder works, " +
      "an older release in a case is refused",
    async () => {
      const case1 = at("case-2024-17");
      const case2 = at("case-2026-3");
      for (const d of [case1, case2]) mkdirSync(d);
      // The 2026 case is scanned with release 7 first.
      expect(
        (
          await phmatch([
            "scan",
            evidence,
            "--hashset",
            hotline7,
            "--trusted-keys",
            at("signer.pub"),
            "-o",
            join(case2, "report.ndjson"),
          ])
        ).code,
      ).toBe(0);
      // The 2024 case, scanned with release 6 back then, is re-run with release 6 in its own folder: no refusal.
      expect(
        (
          await phmatch([
            "scan",
            evidence,
            "--hashset",
            hotline6,
            "--trusted-keys",
            at("signer.pub"),
            "-o",
            join(case1, "report.ndjson"),
          ])
        ).code,
      ).toBe(0);
      expect(
        (
          await phmatch([
            "scan",
            evidence,
            "--hashset",
            hotline6,
            "--trusted-keys",
            at("signer.pub"),
            "-o",
            join(case1, "rerun.ndjson"),
          ])
        ).code,
      ).toBe(0);
      // Within the 2026 case, an older release is refused.
      const older = await phmatch([
        "scan",
        evidence,
        "--hashset",
        hotline6,
        "--trusted-keys",
        at("signer.pub"),
        "-o",
        join(case2, "again.ndjson"),
      ]);
      expect(older).toMatchObject({ code: 3, stderr: expect.stringContaining("PHM_HASHSET_ROLLBACK") });
      expect(older.stderr).toContain(join(case2, ".phmatch-state"));
      expect(JSON.parse(readFileSync(join(case2, ".phmatch-state", "list-versions.json"), "utf8"))).toEqual({
        hotline: 7,
      });
      expect(JSON.parse(readFileSync(join(case1, ".phmatch-state", "list-versions.json"), "utf8"))).toEqual({
        hotline: 6,
      });
      expect(scanReport(join(case2, "report.ndjson"))[0]?.rollbackState).toEqual({
        kind: "case",
        dir: join(case2, ".phmatch-state"),
      });
      // To stdout: no state, said on stderr and in the header.
      const stdout = await phmatch(["scan", evidence, "--hashset", hotline6, "--trusted-keys", at("signer.pub")]);
      expect(stdout.code).toBe(0);
      expect(stdout.stderr).toContain("phmatch scan: rollback state: none; give --state-dir");
      expect((JSON.parse(stdout.stdout.split("\n")[0] as string) as Record<string, unknown>).rollbackState).toEqual({
        kind: "none",
        note: expect.stringContaining("rollback state: none; give --state-dir"),
      });
      // --state-dir (a deployment's, say) takes precedence over the case folder.
      const given = await phmatch([
        "scan",
        evidence,
        "--hashset",
        hotline6,
        "--trusted-keys",
        at("signer.pub"),
        "--state-dir",
        at("state-given"),
        "-o",
        join(case2, "given.ndjson"),
      ]);
      expect(given.code).toBe(0);
      expect(scanReport(join(case2, "given.ndjson"))[0]?.rollbackState).toEqual({
        kind: "state-dir",
        dir: at("state-given"),
      });
      expect(readdirSync(home)).toEqual([]);
    },
  );

  it("read-only commands (info, diff, export, merge, verify) neither trip nor move the state", async () => {
    const state = at("state-read-only");
    const env = { PHMATCH_STATE_DIR: state };
    expect((await phmatch(["match", "--hashset", hotline7], env)).code).toBe(0);
    const before = readFileSync(join(state, "list-versions.json"));
    expect((await phmatch(["hashset", "info", hotline6], env)).code).toBe(0);
    expect((await phmatch(["hashset", "diff", hotline6, hotline7], env)).code).toBe(0);
    expect((await phmatch(["hashset", "export", hotline6], env)).code).toBe(0);
    expect((await phmatch(["hashset", "merge", hotline6, "-o", at("merged.phs")], env)).code).toBe(0);
    // verify with a state folder checks it (would a deployment refuse this release?) and records nothing
    expect(await phmatch(["hashset", "verify", hotline6, "--trusted-keys", at("signer.pub")], env)).toMatchObject({
      code: 3,
      stderr: expect.stringContaining("PHM_HASHSET_ROLLBACK"),
    });
    const newer = await signedList("hotline-8.phs", 8);
    expect((await phmatch(["hashset", "verify", newer, "--trusted-keys", at("signer.pub")], env)).stdout).toContain(
      `not older than the rollback state ${state}`,
    );
    expect(readFileSync(join(state, "list-versions.json"))).toEqual(before);
  });
});

describe("the audit log's head kept outside it (item 4)", () => {
  it(
    "a case's audit log cut back to an earlier run's closing checkpoint is refused by the next scan " +
      "and by audit verify --state-dir",
    async () => {
      const dir = at("case-audit");
      mkdirSync(dir);
      const log = join(dir, "decisions.ndjson");
      const pub = at("signer.pub");
      const scan = (n: number) =>
        phmatch([
          "scan",
          evidence,
          "--hashset",
          hotline7,
          "--trusted-keys",
          pub,
          "-o",
          join(dir, `report-${n}.ndjson`),
          "--audit-log",
          log,
          "--audit-key",
          at("signer.pem"),
        ]);
      expect((await scan(1)).code).toBe(0);
      const afterFirst = readFileSync(log, "utf8");
      expect((await scan(2)).code).toBe(0);
      const whole = readFileSync(log, "utf8");
      const state = join(dir, ".phmatch-state");

      writeFileSync(log, afterFirst); // cut back to the first run's genuine closing checkpoint
      const third = await scan(3);
      expect(third).toMatchObject({ code: 3, stderr: expect.stringContaining("PHM_AUDIT_ALTERED") });
      expect(third.stderr).toContain("records were cut from its end or the log was replaced");
      expect(readFileSync(log, "utf8")).toBe(afterFirst); // nothing signed on top of it
      expect(existsSync(join(dir, "report-3.ndjson"))).toBe(false);
      // the log alone cannot tell
      expect((await phmatch(["audit", "verify", log, "--trusted-keys", pub])).code).toBe(0);
      expect(await phmatch(["audit", "verify", log, "--trusted-keys", pub, "--state-dir", state])).toMatchObject({
        code: 3,
        stderr: expect.stringContaining("kept outside the log"),
      });

      writeFileSync(log, whole);
      expect(await phmatch(["audit", "verify", log, "--trusted-keys", pub, "--state-dir", state])).toMatchObject({
        code: 0,
        stdout: expect.stringContaining("holds the head kept in the rollback state"),
      });
      expect((await scan(3)).code).toBe(0);
    },
  );

  it(
    "a gate restarted over its audit log cut back to an earlier run's end refuses to start (exit 3), " +
      "signing nothing on top",
    async () => {
      const log = at("gate-decisions.ndjson");
      const args = [
        "serve",
        "--no-auth",
        "--port",
        "0",
        "--no-watch",
        "--hashset",
        hotline7,
        "--trusted-keys",
        at("signer.pub"),
        "--state-dir",
        at("state-gate"),
        "--audit-log",
        log,
        "--audit-key",
        at("signer.pem"),
      ];
      const run = async () => {
        const child = spawn(process.execPath, [bin, ...args], {
          cwd: work,
          env: cleanEnv({ HOME: home }),
          stdio: ["ignore", "ignore", "pipe"],
        });
        let err = "";
        child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
        const exited = once(child, "exit");
        while (!err.includes("listening on") && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
        child.kill("SIGTERM");
        await exited;
        return err;
      };
      expect(await run()).toContain("audit log closed, head");
      const afterFirst = readFileSync(log, "utf8");
      expect(await run()).toContain("audit log closed, head");
      writeFileSync(log, afterFirst);
      // Spawned: a gate that did start would listen until killed.
      const restarted = spawnCli(args, {
        cwd: work,
        env: cleanEnv({ HOME: home, XDG_STATE_HOME: join(home, ".local", "state") }),
      });
      expect(restarted).toMatchObject({ status: 3, stderr: expect.stringContaining("PHM_AUDIT_ALTERED") });
      expect(readFileSync(log, "utf8")).toBe(afterFirst);
    },
  );

  it("audit verify reports unclean stops, never a plain 'OK ... closed'", async () => {
    const log = at("crashed.ndjson");
    const crashed = AuditLog.open(log, { signingKeyPem: signer.privateKeyPem });
    crashed.record({ source: "scan", path: "a.jpg", decision: "no_match", reasonCode: "NO_MATCH", lists: [] });
    // never closed, as after kill -9; the next run continues it
    AuditLog.open(log, { signingKeyPem: signer.privateKeyPem }).close();
    const r = await phmatch(["audit", "verify", log, "--trusted-keys", at("signer.pub")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/closed; 1 unclean stop\(s\).*line 3: resumed after record 1 \(head [0-9a-f]{64}\)/);
    expect(existsSync(join(work, ".phmatch-state"))).toBe(false);
  });
});

// The gate's tokens: what a token file may grant (checked at start-up, PHM_USAGE otherwise), and the rate limiter
// driven by a clock the test holds.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PhmatchError } from "@phmatch/core";
import { describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import { RateLimiter, TokenAuth } from "../dist/serve/tokens.js";
import { runCli } from "./support/run-cli.js";

const T = "a-token-of-at-least-16-chars";
const tokens = (...specs: object[]) =>
  JSON.stringify({ tokens: specs.map((s, i) => ({ name: `t${i}`, token: `${T}-${i}`, ...s })) });
const usage = (json: string) => {
  try {
    new TokenAuth(json, "tokens.json");
  } catch (error) {
    expect(error).toBeInstanceOf(PhmatchError);
    expect((error as PhmatchError).code).toBe("PHM_USAGE");
    return (error as PhmatchError).message;
  }
  throw new Error("accepted");
};

describe("token grants", () => {
  it("gives a decision token no /v1/match unless granted, and a full token every algorithm phmatch matches", () => {
    const auth = new TokenAuth(
      tokens(
        { detail: "decision" },
        { detail: "full" },
        { detail: "decision", matchAlgorithms: ["pdq", "sha256"], ratePerMinute: 60 },
        { detail: "full", matchAlgorithms: ["phash"] },
      ),
      "tokens.json",
    );
    const granted = (i: number) => [...(auth.authenticate(`Bearer ${T}-${i}`)?.matchAlgorithms ?? ["missing"])].sort();
    expect(granted(0)).toEqual([]);
    expect(granted(1)).toEqual(expect.arrayContaining(["pdq", "phash", "dhash", "md5", "phash16"]));
    expect(granted(1)).not.toContain("photodna");
    expect(granted(2)).toEqual(["pdq", "sha256"]);
    expect(granted(3)).toEqual(["phash"]);
  });

  it("gives a token without scopes `check` only, and one with scopes exactly those; refuses unknown scopes", () => {
    const auth = new TokenAuth(
      tokens(
        { detail: "full" },
        { detail: "full", scopes: ["feedback", "report"] },
        { detail: "decision", scopes: ["check"] },
      ),
      "tokens.json",
    );
    const scopes = (i: number) => [...(auth.authenticate(`Bearer ${T}-${i}`)?.scopes ?? ["missing"])].sort();
    expect(scopes(0)).toEqual(["check"]);
    expect(scopes(1)).toEqual(["feedback", "report"]);
    expect(scopes(2)).toEqual(["check"]);
    expect(usage(tokens({ detail: "full", scopes: [] }))).toContain('"scopes" must be a non-empty array');
    expect(usage(tokens({ detail: "full", scopes: ["admin"] }))).toContain('"scopes" must be a non-empty array');
    expect(usage(tokens({ detail: "full", scopes: "feedback" }))).toContain('"scopes" must be a non-empty array');
  });

  it("refuses to grant a decision token a 64-bit algorithm by hash", () => {
    for (const id of ["phash", "dhash", "ahash", "whash", "blockhash8"]) {
      expect(usage(tokens({ detail: "decision", matchAlgorithms: ["pdq", id], ratePerMinute: 60 }))).toMatch(
        new RegExp(`decision token cannot send ${id} \\(64-bit\\) by hash`),
      );
    }
  });

  it("refuses unknown or unmatched algorithm ids, a grant without a rate, a bad shape and a token given twice", () => {
    expect(usage(tokens({ detail: "full", matchAlgorithms: ["PDQ"] }))).toContain('"PDQ"');
    expect(usage(tokens({ detail: "decision", matchAlgorithms: ["photodna"], ratePerMinute: 6 }))).toContain(
      '"photodna"',
    );
    expect(usage(tokens({ detail: "decision", matchAlgorithms: "pdq", ratePerMinute: 6 }))).toContain(
      "must be an array",
    );
    expect(usage(tokens({ detail: "decision", matchAlgorithms: ["pdq"] }))).toContain('needs a "ratePerMinute"');
    expect(
      usage(
        JSON.stringify({
          tokens: [
            { name: "a", token: T, detail: "full" },
            { name: "b", token: T, detail: "decision" },
          ],
        }),
      ),
    ).toContain("given twice");
  });

  it("stops phmatch serve at start-up (exit 64) when a token file grants a decision token a 64-bit hash", async () => {
    const dir = mkdtempSync(join(tmpdir(), "phmatch-serve-tokens-"));
    try {
      const file = join(dir, "tokens.json");
      writeFileSync(file, tokens({ detail: "decision", matchAlgorithms: ["phash"], ratePerMinute: 600 }));
      const run = await runCli(
        [
          "serve",
          "--port",
          "0",
          "--hashset",
          fixtures("hashsets/demo.phs"),
          "--state-dir",
          join(dir, "state"),
          "--tokens",
          file,
          "--no-watch",
        ],
        {
          env: cleanEnv({ PHMATCH_TOKENS: "" }),
        },
      );
      expect(run.status).toBe(64);
      expect(run.stderr).toContain("cannot send phash (64-bit) by hash");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("RateLimiter", () => {
  it("allows a burst of ten seconds' worth, then one unit per 60/rate seconds", () => {
    let now = 1_000_000;
    const limiter = new RateLimiter(() => now);
    for (let i = 0; i < 10; i++) expect(limiter.take("a", 60)).toEqual({ ok: true });
    expect(limiter.take("a", 60)).toEqual({ ok: false, retryAfterSeconds: 1 });
    now += 999;
    expect(limiter.take("a", 60).ok).toBe(false);
    now += 1;
    expect(limiter.take("a", 60)).toEqual({ ok: true });
    // Another name has its own bucket.
    expect(limiter.take("b", 60)).toEqual({ ok: true });
  });

  it(
    "takes n units at once; more than a full bucket is allowed only from a full bucket, " + "and leaves it below zero",
    () => {
      let now = 0;
      const limiter = new RateLimiter(() => now);
      expect(limiter.take("a", 60, 8)).toEqual({ ok: true }); // 10 - 8 = 2
      expect(limiter.take("a", 60, 3)).toEqual({ ok: false, retryAfterSeconds: 1 });
      now += 1_000;
      expect(limiter.take("a", 60, 3)).toEqual({ ok: true }); // 3 - 3 = 0
      now += 10_000; // full again (10)
      expect(limiter.take("a", 60, 25)).toEqual({ ok: true }); // 10 - 25 = -15
      expect(limiter.take("a", 60)).toEqual({ ok: false, retryAfterSeconds: 16 });
      now += 15_000;
      expect(limiter.take("a", 60)).toEqual({ ok: false, retryAfterSeconds: 1 });
      now += 1_000;
      expect(limiter.take("a", 60)).toEqual({ ok: true });
    },
  );

  it("charges units whatever the bucket holds, and a clock going back adds none", () => {
    let now = 50_000;
    const limiter = new RateLimiter(() => now);
    expect(limiter.take("a", 6)).toEqual({ ok: true }); // capacity 1: 1 - 1 = 0
    limiter.charge("a", 6, 7); // -7
    expect(limiter.take("a", 6)).toEqual({ ok: false, retryAfterSeconds: 80 });
    now -= 40_000;
    expect(limiter.take("a", 6)).toEqual({ ok: false, retryAfterSeconds: 80 });
    now += 40_000 + 70_000;
    expect(limiter.take("a", 6)).toEqual({ ok: false, retryAfterSeconds: 10 });
  });
});

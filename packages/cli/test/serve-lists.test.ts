// The gate's lists on reload, and what its answers say about overrides (issue 16 items 10 and 11), in process:
// the ListHolder serve uses, and the gate built on it answering /v1/match through fastify's inject.
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditLog, generateSigningKeys, parseTrustedKeys } from "@phmatch/core";
import { addOverride, keyId, removeOverride } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { writeSignedList } from "../../../test/support/signed-list.js";
import { ListHolder } from "../dist/serve/lists.js";
import { createGate } from "../dist/serve/server.js";

const work = mkdtempSync(join(tmpdir(), "phmatch-serve-lists-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const keys = generateSigningKeys();
const trustedKeys = parseTrustedKeys(keys.publicKeyPem);
// Overrides are signed by a key of their own role (issue 21), never the list key.
const overrider = generateSigningKeys();
const trustedOverrideKeys = parseTrustedKeys(overrider.publicKeyPem);
const md5Of = (f: string) =>
  createHash("md5")
    .update(readFileSync(fixtures(`images/${f}`)))
    .digest("hex");
const listed = { path: "upload", hashes: { md5: md5Of("shapes.png") } };

describe("reloading the gate's lists", () => {
  // Issue 16 item 11: hotline v7 replaced by hotline-test v1, signed by the same key, was accepted on reload, and
  // the listed image passed.
  it(
    "refuses a reload that drops a list id being served " + "(another list signed by the same key in its place)",
    async () => {
      const file = join(work, "served.phs");
      await writeSignedList(file, 7, ["shapes.png"], keys.privateKeyPem, "hotline");
      const holder = new ListHolder([file], () => ({ trustedKeys }), {});
      await holder.load();
      expect(holder.current?.checker.matchRecord(listed).decision).toBe("match");

      await writeSignedList(file, 1, ["texture.jpg"], keys.privateKeyPem, "hotline-test");
      const refused = await holder.reload();
      expect(refused).toMatchObject({
        ok: false,
        error: {
          code: "PHM_HASHSET_LIST_CHANGE",
          message: expect.stringContaining("no longer hold list(s) hotline being served"),
        },
      });
      expect(holder.current?.checker.lists).toEqual([{ listId: "hotline", version: 7 }]);
      expect(holder.current?.checker.matchRecord(listed).decision).toBe("match");

      // A newer release of the same list is taken as ever; adding a list id is not dropping one.
      await writeSignedList(file, 8, ["shapes.png"], keys.privateKeyPem, "hotline");
      expect(await holder.reload()).toEqual({ ok: true, changed: true });
      expect(holder.current?.checker.lists).toEqual([{ listId: "hotline", version: 8 }]);

      // Allowed by the operator (serve --allow-list-change): the replacement is swapped in.
      const allowing = new ListHolder([file], () => ({ trustedKeys }), {}, { allowListChange: true });
      await writeSignedList(file, 8, ["shapes.png"], keys.privateKeyPem, "hotline");
      await allowing.load();
      await writeSignedList(file, 1, ["texture.jpg"], keys.privateKeyPem, "hotline-test");
      expect(await allowing.reload()).toEqual({ ok: true, changed: true });
      expect(allowing.current?.checker.lists).toEqual([{ listId: "hotline-test", version: 1 }]);
    },
  );
});

describe("the gate's answers and audit log with overrides", () => {
  it(
    "a full answer and the audit record say which signed override turned a match into no_match; " +
      "a new release is picked up on reload",
    async () => {
      const file = join(work, "overridden.phs");
      await writeSignedList(file, 3, ["shapes.png"], keys.privateKeyPem);
      const allow = {
        action: "allow" as const,
        algorithm: "md5",
        hash: listed.hashes.md5,
        listId: "hotline",
        listVersion: 3, // the release the decision was made about (signed overrides name it)
        who: "reviewer",
        when: "2026-02-03T00:00:00Z",
        why: "appeal 9 upheld",
      };
      await addOverride(file, allow, { lists: ["hotline"], signingKeyPem: overrider.privateKeyPem });
      const holder = new ListHolder([file], () => ({ trustedKeys, trustedOverrideKeys }), {});
      await holder.load();
      const auditFile = join(work, "audit.ndjson");
      const audit = AuditLog.open(auditFile);
      const app = await createGate({
        lists: holder,
        auth: undefined,
        maxBytes: 1 << 20,
        maxConcurrent: 4,
        timeoutMs: 10_000,
        audit,
      });
      const ask = async () =>
        (await app.inject({ method: "POST", url: "/v1/match", payload: { hashes: listed.hashes } })).json() as Record<
          string,
          unknown
        >;
      try {
        const answer = await ask();
        expect(answer).toMatchObject({ decision: "no_match", reason_code: "NO_MATCH" });
        expect(answer.matches).toEqual([
          expect.objectContaining({
            list: "hotline",
            entryId: "E-shapes.png",
            override: {
              action: "allow",
              who: allow.who,
              when: allow.when,
              why: allow.why,
              release: 1,
              signedBy: keyId(trustedOverrideKeys[0]!),
            },
          }),
        ]);

        // The reviewer withdraws the allow (release 2, signed): a reload picks it up, the image matches again.
        await removeOverride(file, 0, { lists: ["hotline"], signingKeyPem: overrider.privateKeyPem });
        expect(await holder.reload()).toEqual({ ok: true, changed: true });
        expect((await ask()).decision).toBe("match");
      } finally {
        await app.close();
        audit.close();
      }
      const decisions = readFileSync(auditFile, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((r) => r.type === "decision");
      expect(decisions[0]).toMatchObject({
        decision: "no_match",
        overridden: [
          expect.objectContaining({
            list: "hotline",
            override: expect.objectContaining({ action: "allow", release: 1 }),
          }),
        ],
      });
      expect(decisions[0]?.hashes).toBeUndefined(); // no hashes of a non-match
      expect(decisions[1]).toMatchObject({ decision: "match" });
    },
  );
});

import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import type { AuditLog, LoadedHashSet } from "@phmatch/core";
import { listedValues, type ReleaseStep } from "@phmatch/core/internal";
import type { OnMatchHook } from "./hook.js";
import type { RecordJournal } from "./journal.js";
import type { RematchJob, RematchMessage } from "./rematch-child.js";

/** What a retroactive run after a reload needs from the gate. */
export interface RetroactiveOptions {
  before: LoadedHashSet[];
  after: LoadedHashSet[];
  journal: { writer: RecordJournal; dir: string; key: Buffer };
  listKey?: Buffer;
  hook?: OnMatchHook;
  audit?: AuditLog;
  report?: (message: string) => void;
}

/** How a run ended. */
export type RetroactiveOutcome =
  | { ok: true; read: number; failed: number; matched: number; added: number }
  | { ok: false; code: string; message: string };

/**
 * Matches the journal against what a reload added, in a child process at the lowest priority (rematch-child.ts), and
 * delivers each hit through the on-match hook with `retroactive: true`, the content id and upload time (and records
 * it in the audit log as a decision of source `rematch`). The previous release is in memory only (its file may be
 * replaced already): the values it listed are taken here, as plain bytes, and sent with the job; the new stores are
 * named with the SHA-256 the gate verified, which the child checks on the bytes it reads.
 */
export function runRetroactive(options: RetroactiveOptions): Promise<RetroactiveOutcome> {
  const report = options.report ?? ((m: string) => process.stderr.write(`${m}\n`));
  const beforeByPath = new Map(options.before.map((s) => [s.path, s]));
  const versions = new Map(options.before.flatMap((s) => s.set.lists.map((l) => [l.listId, l.version] as const)));
  const steps: ReleaseStep[] = options.after.flatMap((s) =>
    s.set.lists.map((l) => {
      const since = versions.get(l.listId);
      return since === undefined
        ? { listId: l.listId, version: l.version }
        : { listId: l.listId, version: l.version, since };
    }),
  );
  const job: RematchJob = {
    journal: {
      dir: options.journal.dir,
      key: options.journal.key.toString("hex"),
      committed: [...options.journal.writer.committed()],
    },
    stores: options.after.map((s) => {
      const previous = beforeByPath.get(s.path);
      return {
        path: s.path,
        storeSha256: s.storeSha256,
        ...(previous !== undefined && { before: [...listedValues(previous.set)] }),
        overrides: s.overrides,
        ...(s.overridesProvenance !== undefined && { overridesProvenance: s.overridesProvenance }),
        ...(s.signedBy !== undefined && { signedBy: s.signedBy }),
      };
    }),
    steps,
    ...(options.listKey !== undefined && { listKey: options.listKey.toString("hex") }),
  };
  const lists = steps.map((s) => ({ listId: s.listId, version: s.version }));
  return new Promise((resolve) => {
    const child = fork(new URL("./rematch-child.js", import.meta.url), [], {
      serialization: "advanced",
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      env: {},
    });
    let outcome: RetroactiveOutcome | undefined;
    child.on("message", (message: RematchMessage) => {
      if (message.type === "hit") {
        const requestId = randomUUID();
        const hit = message.hit as { matches: unknown[] };
        options.audit?.record({
          source: "rematch",
          requestId,
          decision: "match",
          reasonCode: "LIST_MATCH",
          lists,
          matches: hit.matches,
        });
        options.hook?.fire({ request_id: requestId, time: new Date().toISOString(), lists, ...hit });
      } else if (message.type === "done") {
        outcome = { ok: true, ...message.summary, added: message.added };
      } else {
        outcome = { ok: false, code: message.code, message: message.message };
      }
    });
    child.on("error", (error) => {
      outcome ??= { ok: false, code: "PHM_INTERNAL", message: error.message };
    });
    child.on("exit", (code, signal) => {
      outcome ??= { ok: false, code: "PHM_INTERNAL", message: `the retroactive run exited with ${code ?? signal}` };
      if (outcome.ok)
        report(
          `phmatch serve: retroactive run: ${outcome.added} entries added, ${outcome.read} journal records read, ` +
            `${outcome.matched} matched${outcome.failed > 0 ? `, ${outcome.failed} unreadable` : ""}`,
        );
      else report(`phmatch serve: retroactive run failed: ${outcome.code}: ${outcome.message}`);
      resolve(outcome);
    });
    child.send(job);
  });
}

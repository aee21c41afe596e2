// The retroactive run after a list reload, in a process of its own at the lowest CPU priority (serve forks it, see
// retroactive.ts): the gate's event loop and worker threads keep their time. It gets everything over IPC, nothing
// on its command line or in its environment: the journal key, the values the previous release listed (plain bytes:
// that release may be gone from disk), and the new stores' paths with the SHA-256 the gate verified. A store whose
// bytes are no longer those is refused (the next reload's run covers it): the child never matches a list the gate
// did not verify.
import { setPriority } from "node:os";
import { type LoadedHashSet, loadHashSet, Matcher, type Override } from "@phmatch/core";
import {
  addedSince,
  type OverridesProvenance,
  type ReleaseStep,
  rematchRecords,
  toPhmatchError,
} from "@phmatch/core/internal";
import { readJournal } from "./journal.js";

/** What the gate sends the child. */
export interface RematchJob {
  journal: { dir: string; key: string; committed: [string, number][] };
  stores: {
    path: string;
    storeSha256: string;
    /** The previous release's values per list and algorithm (listedValues); absent: the store is new. */
    before?: [string, Uint8Array][];
    overrides: Override[];
    overridesProvenance?: OverridesProvenance;
    signedBy?: string;
  }[];
  steps: ReleaseStep[];
  listKey?: string;
}

/** What the child sends back: a hit, then the summary (or an error). */
export type RematchMessage =
  | { type: "hit"; hit: unknown }
  | { type: "done"; summary: { read: number; failed: number; matched: number }; added: number }
  | { type: "error"; code: string; message: string };

async function run(job: RematchJob): Promise<void> {
  try {
    setPriority(19);
  } catch {
    // Not allowed to change it (a sandbox): it still runs in its own process, off the gate's event loop.
  }
  const sets: LoadedHashSet[] = [];
  let added = 0;
  for (const store of job.stores) {
    const loaded = await loadHashSet(
      store.path,
      job.listKey !== undefined ? { key: Buffer.from(job.listKey, "hex") } : {},
    );
    if (loaded.storeSha256 !== store.storeSha256)
      throw toPhmatchError(
        new Error(
          `${store.path} changed again since the gate verified it: this run is dropped, the next reload's run ` +
            "covers the release",
        ),
      );
    loaded.overrides = store.overrides;
    if (store.overridesProvenance !== undefined) loaded.overridesProvenance = store.overridesProvenance;
    else delete loaded.overridesProvenance;
    if (store.signedBy !== undefined) loaded.signedBy = store.signedBy;
    const diff = addedSince(new Map(store.before ?? []), loaded);
    added += diff.count;
    if (diff.count > 0) sets.push(diff.added);
  }
  if (sets.length === 0) {
    send({ type: "done", summary: { read: 0, failed: 0, matched: 0 }, added });
    return;
  }
  const matcher = new Matcher(sets);
  const key = Buffer.from(job.journal.key, "hex");
  const lines = async function* () {
    for (const text of readJournal(job.journal.dir, key, new Map(job.journal.committed))) yield `${text}\n`;
  };
  const summary = await rematchRecords(lines(), matcher, job.steps, async (hit) => {
    await send({ type: "hit", hit });
  });
  await send({
    type: "done",
    summary: { read: summary.read, failed: summary.failed, matched: summary.matched },
    added,
  });
}

function send(message: RematchMessage): Promise<void> {
  return new Promise((resolve, reject) =>
    (process.send as NonNullable<typeof process.send>)(message, undefined, {}, (error) =>
      error ? reject(error) : resolve(),
    ),
  );
}

process.once("message", (job: RematchJob) => {
  run(job)
    .catch(async (error: unknown) => {
      const e = toPhmatchError(error);
      await send({ type: "error", code: e.code, message: e.message }).catch(() => undefined);
    })
    .finally(() => process.disconnect?.());
});

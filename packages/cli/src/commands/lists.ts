import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { PhmatchError } from "@phmatch/core";
import { Command } from "commander";
import { stateOf } from "../feedback-options.js";

/** One line of `lists stats`: an entry's hits and verdicts. */
export interface EntryStats {
  list: string;
  entry: string;
  /** Uploads whose answer (match or review) the entry decided, in the audit log. */
  hits: number;
  /** Distinct token names and client addresses among them. */
  tokens: number;
  addresses: number;
  confirms: number;
  rejects: number;
  quarantined: boolean;
}

// While counting: the distinct token names and addresses seen.
type Counted = EntryStats & { who?: Set<string>; where?: Set<string> };

/** `phmatch lists stats`: per-entry hits (from serve's audit log) and verdicts and holds (from its feedback state). */
export function listsCommand(): Command {
  const lists = new Command("lists").description("what the gate saw of its lists' entries");
  lists.addHelpText(
    "after",
    "\nExample:\n  phmatch lists stats --audit-log /var/log/phmatch/decisions.ndjson --state-dir /var/lib/phmatch\n",
  );
  lists
    .command("stats")
    .description(
      "per list entry, as NDJSON: hits, distinct tokens and client addresses (from --audit-log), confirms, " +
        "rejects and whether it is held (from the feedback state); only entries hit or reviewed",
    )
    .option("--audit-log <file>", "serve's audit log (hits); without it, hits are not counted")
    .option("--list <id>", "only this list")
    .option("--feedback-dir <dir>", "serve's feedback folder (default <state-dir>/feedback)")
    .option("--state-dir <dir>", "serve's rollback state folder (or PHMATCH_STATE_DIR)")
    .action(async (o: { auditLog?: string; list?: string; feedbackDir?: string; stateDir?: string }) => {
      const stats = new Map<string, Counted>();
      const of = (list: string, entry: string): Counted => {
        const k = JSON.stringify([list, entry]);
        let s = stats.get(k);
        if (s === undefined) {
          s = { list, entry, hits: 0, tokens: 0, addresses: 0, confirms: 0, rejects: 0, quarantined: false };
          s.who = new Set();
          s.where = new Set();
          stats.set(k, s);
        }
        return s;
      };
      if (o.auditLog !== undefined) await countHits(o.auditLog, o.list, of);
      const state = stateOf(o).read();
      for (const v of state.verdicts) {
        if (o.list !== undefined && v.list !== o.list) continue;
        const s = of(v.list, v.entry);
        if (v.verdict === "confirm") s.confirms++;
        else s.rejects++;
      }
      for (const q of state.quarantined)
        if (o.list === undefined || q.list === o.list) of(q.list, q.entry).quarantined = true;
      for (const { who, where, ...s } of stats.values())
        process.stdout.write(`${JSON.stringify({ ...s, tokens: who?.size ?? 0, addresses: where?.size ?? 0 })}\n`);
    });
  return lists;
}

// Hits from the decisions of an audit log. Its hash chain is checked on the way (each record's `seq` follows the
// last, its `prev` is the SHA-256 of the line before): counts from an edited, reordered or spliced log would be
// numbers nobody can stand behind, so such a log is refused (PHM_AUDIT_ALTERED), naming the line. Signed checkpoints
// and a cut tail are `phmatch audit verify`'s (it needs the keys).
async function countHits(
  file: string,
  only: string | undefined,
  of: (list: string, entry: string) => Counted,
): Promise<void> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  let prev = "0".repeat(64);
  let seq = 0;
  try {
    for await (const line of lines) {
      n++;
      if (line.trim() === "") continue;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new PhmatchError("PHM_AUDIT_ALTERED", `${file}:${n}: not JSON: not a phmatch audit log`, { path: file });
      }
      if (record.prev !== prev || record.seq !== seq++)
        throw new PhmatchError(
          "PHM_AUDIT_ALTERED",
          `${file}:${n}: the hash chain breaks here (a record edited, removed, reordered or added): no counts ` +
            "from it (phmatch audit verify says more)",
          { path: file },
        );
      prev = createHash("sha256").update(line).digest("hex");
      if (record.type !== "decision" || (record.decision !== "match" && record.decision !== "review")) continue;
      const seen = new Set<string>();
      for (const m of Array.isArray(record.matches) ? record.matches : []) {
        const hit = m as { list?: unknown; entryId?: unknown; override?: unknown };
        if (typeof hit.list !== "string" || typeof hit.entryId !== "string" || hit.override !== undefined) continue;
        if (only !== undefined && hit.list !== only) continue;
        const k = JSON.stringify([hit.list, hit.entryId]);
        if (seen.has(k)) continue; // one upload is one hit of an entry, however many of its hashes matched
        seen.add(k);
        const s = of(hit.list, hit.entryId);
        s.hits++;
        if (typeof record.token === "string") s.who?.add(record.token);
        if (typeof record.client === "string") s.where?.add(record.client);
      }
    }
  } catch (error) {
    if (error instanceof PhmatchError) throw error;
    throw new PhmatchError("PHM_FILE_UNREADABLE", `cannot read ${file}: ${(error as Error).message}`, { path: file });
  }
}

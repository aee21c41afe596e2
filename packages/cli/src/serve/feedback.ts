// Reviewers' verdicts on matches (POST /v1/feedback) and the entries held for review (quarantine), for the gate.
// The logic of what is counted and kept is in core (feedback/); this is the gate's side: checking a verdict's body
// against the lists loaded, the audit events, the hook's alerts, and turning a held entry's matches into `review`.
import { statSync } from "node:fs";
import { type AuditLog, type CheckResult, type MatchHit, PhmatchError } from "@phmatch/core";
import {
  addOverride,
  DEFAULT_REJECT_THRESHOLD,
  EntryHitCounter,
  EntrySpread,
  entryKey,
  type FeedbackState,
  type Proposal,
  proposalOverride,
  type QuarantineRecord,
  type Verdict,
} from "@phmatch/core/internal";
import type { OnMatchHook } from "./hook.js";
import type { ListGeneration } from "./lists.js";

/** Options of {@link GateFeedback}. */
export interface GateFeedbackOptions {
  /** Where verdicts, proposals and held entries are kept (a folder; shared by the gate's replicas). */
  state: FeedbackState;
  /** Distinct reviewer tokens whose rejections of one entry propose an override and hold it (default 3). */
  rejectThreshold?: number;
  /** Hold an entry matched by more than this many distinct clients (token + address) within `quarantineWindowMs`. */
  quarantineClients?: number;
  quarantineWindowMs?: number;
  /** An overrides key (PEM): proposals are signed into the overrides file at once (off unless given). */
  autoOverrideKeyPem?: string;
  /** Called after an automatic override was written (the gate reloads its lists). */
  onOverride?: () => void;
  audit?: AuditLog;
  hook?: OnMatchHook;
}

/** What /v1/feedback answers: an HTTP status and its body. */
export interface FeedbackAnswer {
  status: number;
  body: Record<string, unknown>;
}

// The fields a verdict's body may carry; `reviewer` (and its spellings) never: the reviewer is the token.
const FIELDS = new Set(["verdict", "list", "entry", "request_id", "reason"]);
const REVIEWER_FIELDS = new Set(["reviewer", "who", "token", "by", "user"]);
const MAX_ID = 256;
const MAX_REASON = 2000;
// Control characters (and DEL) never reach the audit log or the state file from a client.
// biome-ignore lint/suspicious/noControlCharactersInRegex: they are what is refused
const CONTROL = /[\u0000-\u001f\u007f]/;
/** Entries the /metrics exposition shows, most hit first (a bounded label count). */
export const METRICS_TOP_ENTRIES = 50;
// How often the held entries are read again from the state folder (another replica may have held one).
const REFRESH_MS = 1000;

/**
 * The gate's feedback: verdicts recorded (persisted, audited), proposals made at the threshold, per-entry hit
 * counts, and quarantine. A held entry's matches answer `review` (reason QUARANTINED: hold, do not publish).
 */
export class GateFeedback {
  readonly #o: GateFeedbackOptions;
  readonly #spread: EntrySpread | undefined;
  readonly hits = new EntryHitCounter();
  #held: Map<string, QuarantineRecord>;
  #heldAt = 0;
  #heldMtime = -1;
  readonly #entries = new WeakMap<ListGeneration, Map<string, { algorithm: string; hash: string }[]>>();

  constructor(options: GateFeedbackOptions) {
    this.#o = options;
    const { quarantineClients: clients, quarantineWindowMs: windowMs } = options;
    if ((clients === undefined) !== (windowMs === undefined))
      throw new PhmatchError("PHM_USAGE", "--quarantine-clients and --quarantine-window go together: give both");
    this.#spread = clients !== undefined && windowMs !== undefined ? new EntrySpread({ clients, windowMs }) : undefined;
    this.#held = options.state.quarantinedKeys();
  }

  /** How many entries are held now. */
  get heldCount(): number {
    return this.#refresh().size;
  }

  /**
   * A match as the gate answers it: every decisive hit counted (hits, spread); when each decisive hit is of a held
   * entry, `review` with QUARANTINED instead of `match`. Other decisions pass as they are.
   */
  review(result: CheckResult, client: { token: string; address: string; requestId: string }): CheckResult {
    if (result.decision !== "match") return result;
    const decisive = result.matches.filter((m) => m.override === undefined);
    for (const m of decisive) {
      if (m.entryId === undefined) continue;
      this.hits.hit(m.list, m.entryId);
      const k = entryKey(m.list, m.entryId);
      const spread = this.#spread?.hit(k, client.token, client.address, Date.now());
      // Held already: nothing to write (each hold is one write of the state file, not one per upload after it).
      if (spread?.over === true && !this.#held.has(k)) {
        this.#hold(
          {
            list: m.list,
            entry: m.entryId,
            cause: "spread",
            detail:
              `matched uploads from ${spread.clients} distinct clients (token and address) within ` +
              `${Math.round((this.#o.quarantineWindowMs ?? 0) / 1000)} s (limit ${this.#o.quarantineClients})`,
            since: new Date().toISOString(),
          },
          client.requestId,
        );
      }
    }
    const held = this.#refresh();
    const isHeld = (m: MatchHit) => m.entryId !== undefined && held.has(entryKey(m.list, m.entryId));
    if (decisive.length === 0 || !decisive.every(isHeld)) return result;
    const notes = [
      ...(result.notes ?? []),
      ...decisive.map(
        (m) => `list ${m.list} entry ${m.entryId} is held for review (quarantined): hold, do not publish`,
      ),
    ];
    return { ...result, decision: "review", reason_code: "QUARANTINED", notes };
  }

  /** Checks and records one verdict from the token named `reviewer`, against the lists answering now. */
  verdict(body: unknown, reviewer: string, generation: ListGeneration | undefined): FeedbackAnswer {
    const refused = (status: number, reason: string, message: string): FeedbackAnswer => ({
      status,
      body: { decision: "error", reason_code: reason, message },
    });
    if (typeof body !== "object" || body === null || Array.isArray(body))
      return refused(
        400,
        "BAD_FEEDBACK",
        'expected {"verdict":"confirm"|"reject","list","entry","request_id","reason"}',
      );
    const b = body as Record<string, unknown>;
    const named = Object.keys(b).filter((k) => REVIEWER_FIELDS.has(k.toLowerCase()));
    if (named.length > 0)
      return refused(
        400,
        "REVIEWER_FIELD",
        `the body names a reviewer (${named.join(", ")}): the reviewer is the token that sends the verdict, ` +
          "never a field; leave it out",
      );
    const extra = Object.keys(b).filter((k) => !FIELDS.has(k));
    if (extra.length > 0)
      return refused(400, "BAD_FEEDBACK", `/v1/feedback takes verdict, list, entry, request_id, reason, not ${extra}`);
    if (b.verdict !== "confirm" && b.verdict !== "reject")
      return refused(400, "BAD_FEEDBACK", '"verdict" must be "confirm" or "reject"');
    for (const [field, max] of [
      ["list", MAX_ID],
      ["entry", MAX_ID],
      ["request_id", MAX_ID],
      ["reason", MAX_REASON],
    ] as const) {
      const v = b[field];
      if (typeof v !== "string" || v.trim() === "" || v.length > max || CONTROL.test(v))
        return refused(400, "BAD_FEEDBACK", `"${field}" must be text of 1 to ${max} characters, no control characters`);
    }
    if (generation === undefined) return refused(503, "NOT_READY", "no lists are loaded yet");
    const list = b.list as string;
    const entry = b.entry as string;
    const info = generation.checker.lists.find((l) => l.listId === list);
    if (info === undefined)
      return refused(
        404,
        "LIST_NOT_LOADED",
        `list ${list} is not loaded here (loaded: ${generation.checker.lists.map((l) => l.listId).join(", ")})`,
      );
    const hashes = this.#entriesOf(generation).get(entryKey(list, entry));
    if (hashes === undefined)
      return refused(422, "ENTRY_NOT_FOUND", `list ${list} version ${info.version} holds no entry ${entry}`);
    const verdict: Verdict = {
      verdict: b.verdict,
      list,
      listVersion: info.version,
      entry,
      hashes,
      reviewer,
      requestId: b.request_id as string,
      reason: b.reason as string,
      time: new Date().toISOString(),
    };
    const threshold = this.#o.rejectThreshold ?? DEFAULT_REJECT_THRESHOLD;
    const outcome = this.#o.state.record(verdict, threshold);
    const { hashes: _hashes, ...audited } = verdict;
    this.#o.audit?.event({ type: "feedback", ...audited });
    for (const p of outcome.proposed) this.#o.audit?.event({ type: "proposal", ...p });
    if (outcome.quarantined !== undefined) this.#announce(outcome.quarantined, verdict.requestId);
    let applied = false;
    if (outcome.proposed.length > 0 && this.#o.autoOverrideKeyPem !== undefined)
      applied = this.#apply(outcome.proposed, generation);
    return {
      status: 200,
      body: {
        verdict: verdict.verdict,
        list,
        list_version: info.version,
        entry,
        reviewed_request_id: verdict.requestId,
        confirms: outcome.confirms,
        rejects: outcome.rejects,
        rejecting_reviewers: outcome.rejectingReviewers,
        proposed: outcome.proposed.length > 0,
        ...(applied && { override_applied: true }),
        quarantined: this.#refresh().has(entryKey(list, entry)),
      },
    };
  }

  /** The /metrics lines of the entries hit most (only entries that were hit), and the held count. */
  metricsLines(): string[] {
    const label = (t: string) => t.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
    return [
      `# HELP phmatch_entry_hits_total Matches per list entry since start (the ${METRICS_TOP_ENTRIES} most hit).`,
      "# TYPE phmatch_entry_hits_total counter",
      ...this.hits
        .top(METRICS_TOP_ENTRIES)
        .map((h) => `phmatch_entry_hits_total{list="${label(h.list)}",entry="${label(h.entry)}"} ${h.hits}`),
      "# HELP phmatch_quarantined_entries List entries held for review (their matches answer review).",
      "# TYPE phmatch_quarantined_entries gauge",
      `phmatch_quarantined_entries ${this.heldCount}`,
    ];
  }

  #hold(record: QuarantineRecord, requestId: string): void {
    const held = this.#o.state.quarantine(record);
    if (held !== undefined) this.#announce(held, requestId);
  }

  // A new hold: into the cache now, an audit event, and an alert through the on-match hook.
  #announce(held: QuarantineRecord, requestId: string): void {
    this.#held.set(entryKey(held.list, held.entry), held);
    this.#o.audit?.event({ type: "quarantine", ...held, requestId });
    this.#o.hook?.fire({ type: "quarantine", request_id: requestId, time: held.since, ...held });
  }

  // Signs the proposals into the overrides file of the store holding their list, as disable overrides naming the
  // list and the release; the gate then reloads. A failure is said on stderr: the proposals stay open.
  #apply(proposals: Proposal[], generation: ListGeneration): boolean {
    const first = proposals[0] as Proposal;
    const loaded = generation.sets.find((s) => s.set.lists.some((l) => l.listId === first.list));
    if (loaded === undefined) return false;
    const lists = loaded.set.lists.map((l) => l.listId);
    void (async () => {
      try {
        let last: Awaited<ReturnType<typeof addOverride>> | undefined;
        for (const p of proposals) {
          last = await addOverride(loaded.path, proposalOverride(p, "phmatch serve --auto-override"), {
            lists,
            signingKeyPem: this.#o.autoOverrideKeyPem as string,
          });
        }
        this.#o.state.markApplied(proposals, {
          time: new Date().toISOString(),
          ...(last?.release !== undefined && { release: last.release }),
          ...(last?.signedBy !== undefined && { signedBy: last.signedBy }),
        });
        this.#o.onOverride?.();
      } catch (error) {
        process.stderr.write(
          `phmatch serve: --auto-override could not write the override: ${(error as Error).message}\n`,
        );
      }
    })();
    return true;
  }

  // The held entries, read again from the state folder when it changed (at most once a second).
  #refresh(): Map<string, QuarantineRecord> {
    const now = Date.now();
    if (now - this.#heldAt < REFRESH_MS) return this.#held;
    this.#heldAt = now;
    let mtime = -1;
    try {
      mtime = statSync(`${this.#o.state.dir}/feedback.json`).mtimeMs;
    } catch {
      return this.#held;
    }
    if (mtime !== this.#heldMtime) {
      this.#heldMtime = mtime;
      // Every hold is written to the file before it is cached, so the file is the whole truth (a release made
      // with \`phmatch feedback release\` is seen here too).
      this.#held = this.#o.state.quarantinedKeys();
    }
    return this.#held;
  }

  // Entry ids of the lists answering now -> their hashes; built once per list generation, on the first verdict.
  #entriesOf(generation: ListGeneration): Map<string, { algorithm: string; hash: string }[]> {
    let index = this.#entries.get(generation);
    if (index !== undefined) return index;
    index = new Map();
    for (const s of generation.sets) {
      for (const e of s.set.entries()) {
        if (e.entryId === undefined) continue;
        const k = entryKey(e.listId, e.entryId);
        const hash = Buffer.from(e.value).toString("hex");
        const known = index.get(k) ?? [];
        if (!known.some((h) => h.algorithm === e.algorithm && h.hash === hash))
          known.push({ algorithm: e.algorithm, hash });
        index.set(k, known);
      }
    }
    this.#entries.set(generation, index);
    return index;
  }
}

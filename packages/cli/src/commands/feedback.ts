import { createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { PhmatchError, parseStore, verifyStore } from "@phmatch/core";
import {
  addOverride,
  decryptStore,
  isEncryptedStore,
  keyId,
  type Proposal,
  proposalOverride,
  type Verdict,
} from "@phmatch/core/internal";
import { Command } from "commander";
import { type StateChoice, stateOf } from "../feedback-options.js";
import { loadOptions, readText, type TrustOptions, withTrustOptions } from "./hashset/options.js";

/** `phmatch feedback`: reviewers' verdicts on matches, the overrides they propose, and what goes back to lists. */
export function feedbackCommand(): Command {
  const feedback = new Command("feedback").description(
    "reviewers' verdicts on matches (confirm, reject) sent to a running serve; the overrides they propose; " +
      "verdicts exported for the list's owner",
  );
  feedback.addHelpText(
    "after",
    "\nExample:\n  phmatch feedback reject --list hotline --entry E-123 --request-id <request_id> --reason 'a meme' " +
      "--server http://127.0.0.1:8080 --token-file reviewer.token\n  phmatch feedback proposals --state-dir " +
      "/var/lib/phmatch\n  phmatch feedback apply lists/hotline.phs --state-dir /var/lib/phmatch --sign-key " +
      "overrides.pem --trusted-keys hotline.pub\n  phmatch feedback export --list hotline --state-dir " +
      "/var/lib/phmatch > verdicts.ndjson\n",
  );
  for (const verdict of ["confirm", "reject"] as const) {
    feedback
      .command(verdict)
      .description(
        verdict === "confirm"
          ? "confirm a match: the list entry is right about the upload"
          : "reject a match: a false match (distinct reviewers' rejections propose an override and hold the entry)",
      )
      .requiredOption("--list <id>", "the list id of the match")
      .requiredOption("--entry <id>", "the entry id of the match")
      .requiredOption("--request-id <id>", "the gate's request_id of the upload, recorded as given")
      .requiredOption("--reason <text>", "why (recorded in the audit log and exported to the list's owner)")
      .requiredOption("--server <url>", "the running phmatch serve, e.g. http://127.0.0.1:8080")
      .option(
        "--token-file <file>",
        "a file holding the reviewer's bearer token (or PHMATCH_TOKEN); never the token on the command line",
      )
      .addHelpText(
        "after",
        `\nExample:\n  PHMATCH_TOKEN=... phmatch feedback ${verdict} --list hotline --entry E-123 --request-id ` +
          "<request_id> --reason 'ticket 77' --server http://127.0.0.1:8080\n\nThe reviewer is the token's name " +
          "in serve's --tokens file (scope feedback), never an option.\n",
      )
      .action(
        async (o: {
          list: string;
          entry: string;
          requestId: string;
          reason: string;
          server: string;
          tokenFile?: string;
        }) => {
          const token = reviewerToken(o.tokenFile);
          let url: URL;
          try {
            url = new URL("/v1/feedback", o.server);
          } catch {
            throw new PhmatchError("PHM_USAGE", `--server ${o.server} is not a URL (e.g. http://127.0.0.1:8080)`);
          }
          if (url.protocol !== "http:" && url.protocol !== "https:")
            throw new PhmatchError("PHM_USAGE", `--server ${o.server}: http or https only`);
          const response = await fetch(url, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ verdict, list: o.list, entry: o.entry, request_id: o.requestId, reason: o.reason }),
            signal: AbortSignal.timeout(30_000),
          }).catch((error: Error) => {
            throw new PhmatchError("PHM_USAGE", `cannot reach ${url.origin}: ${error.message}`);
          });
          const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
          if (response.status !== 200)
            throw new PhmatchError(
              "PHM_USAGE",
              `${url.origin} refused the verdict: ${response.status} ${String(body.reason_code ?? "")}` +
                `${body.message !== undefined ? `: ${String(body.message)}` : ""}`,
            );
          process.stdout.write(`${JSON.stringify(body)}\n`);
        },
      );
  }
  withState(
    feedback
      .command("proposals")
      .description("the disable overrides proposed by reviewers' rejections (NDJSON), open ones unless --all")
      .option("--all", "also those already applied", false),
  ).action((o: StateChoice & { all: boolean }) => {
    for (const p of stateOf(o).read().proposals)
      if (o.all || p.applied === undefined) process.stdout.write(`${JSON.stringify(p)}\n`);
  });
  withState(
    feedback
      .command("export")
      .description(
        "verdicts of one list per entry and release, as NDJSON for the list's owner: entry, hash, algorithm, list " +
          "version, confirms, rejects, reasons (reviewers only as counts)",
      )
      .requiredOption("--list <id>", "the list id"),
  ).action((o: StateChoice & { list: string }) => {
    for (const line of exportVerdicts(stateOf(o).read().verdicts, o.list))
      process.stdout.write(`${JSON.stringify(line)}\n`);
  });
  withState(
    withTrustOptions(
      feedback
        .command("apply")
        .alias("override")
        .description(
          "sign the open proposals for a store's lists into its overrides file, as disable overrides naming the " +
            "list and the release (only proposals made about the release the store holds)",
        )
        .argument("<store>", "the .phs store the overrides sit beside")
        .requiredOption("--sign-key <file>", "the overrides key (Ed25519 private key, PEM): never a list key"),
    ),
  ).action(async (store: string, o: StateChoice & TrustOptions & { signKey: string }) => {
    const state = stateOf(o);
    const pem = readText(o.signKey, "--sign-key");
    const load = loadOptions(o);
    const signer = keyId(createPublicKey(pem));
    if ((load.trustedKeys ?? []).some((k) => keyId(k) === signer))
      throw new PhmatchError(
        "PHM_USAGE",
        `--sign-key is key ${signer}, a list key (in --trusted-keys): overrides are signed by an overrides key`,
      );
    const lists = await storeLists(store, o);
    const open = state.read().proposals.filter((p) => p.applied === undefined);
    const mine: Proposal[] = [];
    for (const p of open) {
      const list = lists.find((l) => l.listId === p.list);
      if (list === undefined) continue;
      if (list.version !== p.listVersion) {
        process.stderr.write(
          `phmatch feedback apply: skipped ${p.list} ${p.entry} ${p.algorithm} ${p.hash}: proposed about release ` +
            `${p.listVersion}, the store holds release ${list.version} (decide again about this release)\n`,
        );
        continue;
      }
      mine.push(p);
    }
    if (mine.length === 0) {
      process.stdout.write(`no open proposals for the lists of ${store}\n`);
      return;
    }
    let release: number | undefined;
    for (const p of mine) {
      const written = await addOverride(store, proposalOverride(p, "phmatch feedback apply"), {
        lists: lists.map((l) => l.listId),
        signingKeyPem: pem,
      });
      release = written.release;
    }
    state.markApplied(mine, {
      time: new Date().toISOString(),
      ...(release !== undefined && { release }),
      signedBy: signer,
    });
    process.stdout.write(
      `applied ${mine.length} proposal(s) beside ${store}: release ${release ?? "-"}, signed by key ${signer}\n`,
    );
  });
  withState(
    feedback
      .command("release")
      .description("release a held (quarantined) entry: its matches answer match again")
      .requiredOption("--list <id>", "the list id")
      .requiredOption("--entry <id>", "the entry id"),
  ).action((o: StateChoice & { list: string; entry: string }) => {
    const released = stateOf(o).release(o.list, o.entry);
    process.stdout.write(released ? `released ${o.list} ${o.entry}\n` : `${o.list} ${o.entry} was not held\n`);
  });
  return feedback;
}

/** One line of `feedback export`: an entry's verdicts in one release, reviewers reduced to counts. */
export interface ExportedVerdicts {
  list: string;
  entry: string;
  listVersion: number;
  hashes: { algorithm: string; hash: string }[];
  confirms: number;
  rejects: number;
  /** Distinct reviewer tokens (a count: no reviewer is named). */
  reviewers: number;
  reasons: { verdict: string; reason: string; time: string }[];
}

/** The verdicts of one list grouped by entry and release. */
export function exportVerdicts(verdicts: Verdict[], list: string): ExportedVerdicts[] {
  const groups = new Map<string, ExportedVerdicts & { who: Set<string> }>();
  for (const v of verdicts) {
    if (v.list !== list) continue;
    const k = JSON.stringify([v.entry, v.listVersion]);
    let g = groups.get(k);
    if (g === undefined) {
      g = {
        list,
        entry: v.entry,
        listVersion: v.listVersion,
        hashes: v.hashes,
        confirms: 0,
        rejects: 0,
        reviewers: 0,
        reasons: [],
        who: new Set(),
      };
      groups.set(k, g);
    }
    if (v.verdict === "confirm") g.confirms++;
    else g.rejects++;
    g.who.add(v.reviewer);
    g.reasons.push({ verdict: v.verdict, reason: v.reason, time: v.time });
  }
  return [...groups.values()].map(({ who, ...g }) => ({ ...g, reviewers: who.size }));
}

function withState(command: Command): Command {
  return command
    .option("--feedback-dir <dir>", "serve's feedback folder (default <state-dir>/feedback)")
    .option("--state-dir <dir>", "serve's rollback state folder (or PHMATCH_STATE_DIR)");
}

// The reviewer's token: from a file or PHMATCH_TOKEN, never an argument (it would show in ps and shell history).
function reviewerToken(file: string | undefined): string {
  const text = file !== undefined ? readText(file, "--token-file") : process.env.PHMATCH_TOKEN;
  const token = text?.trim();
  if (token === undefined || token === "")
    throw new PhmatchError("PHM_USAGE", "give the reviewer's token with --token-file or PHMATCH_TOKEN");
  if (/\s/.test(token)) throw new PhmatchError("PHM_USAGE", "the token file holds more than one token: give one");
  return token;
}

// The lists of a store with their versions, read as a load would (signature checked with trusted keys, decrypted).
async function storeLists(store: string, options: TrustOptions): Promise<{ listId: string; version: number }[]> {
  const bytes = await readFile(store).catch((error: Error) => {
    throw new PhmatchError("PHM_FILE_NOT_FOUND", `cannot read the store ${store}: ${error.message}`, { path: store });
  });
  const load = loadOptions(options);
  if (load.trustedKeys !== undefined)
    verifyStore(bytes, await readFile(`${store}.sig`, "utf8").catch(() => undefined), load.trustedKeys, store);
  const plain = isEncryptedStore(bytes) ? decryptStore(bytes, load.key, store) : bytes;
  return parseStore(plain, store).lists.map((l) => ({ listId: l.listId, version: l.version }));
}

import { existsSync } from "node:fs";
import { hasherSpec, loadHashSet, type StoreProvenance } from "@phmatch/core";
import { listedVideoCounts } from "@phmatch/core/internal";
import { Command } from "commander";
import { describeOverrides, loadOptions, type TrustOptions, withTrustOptions } from "./options.js";

/** `phmatch hashset info`: what a store holds, where it came from, how it is protected. */
export function infoCommand(): Command {
  return withTrustOptions(
    new Command("info")
      .description(
        "describe a .phs store: lists, versions, counts, signature, encryption, overrides (reads the rollback " +
          "state never)",
      )
      .addHelpText("after", "\nExample:\n  phmatch hashset info pvic.phs --trusted-keys keys.pem\n")
      .argument("<store>", "the .phs store")
      .option("--json", "print JSON", false),
  ).action(async (store: string, options: TrustOptions & { json: boolean }) => {
    const loaded = await loadHashSet(store, loadOptions(options));
    const { set } = loaded;
    const o = loaded.overridesProvenance;
    const info = {
      store,
      lists: set.lists,
      entries: set.size,
      byAlgorithm: set.header.counts.byAlgorithm,
      withdrawals: set.header.counts.withdrawals,
      listedVideos: listedVideoCounts(set),
      createdBy: set.header.createdBy,
      createdAt: set.header.createdAt,
      encrypted: loaded.encrypted,
      signature:
        loaded.signedBy !== undefined
          ? `verified, key ${loaded.signedBy}`
          : existsSync(`${store}.sig`)
            ? "present, not verified (no trusted keys given)"
            : "none",
      overrides: loaded.overrides.length,
      ...(o !== undefined && {
        overridesFile: {
          path: o.path,
          sha256: o.sha256,
          ...(o.release !== undefined && { release: o.release }),
          ...(o.lists !== undefined && { lists: o.lists }),
          signature:
            o.signedBy !== undefined
              ? `verified, key ${o.signedBy}`
              : existsSync(`${o.path}.sig`)
                ? "present, not verified (no trusted keys given)"
                : "none (unsigned)",
          entries: loaded.overrides,
        },
      }),
      notComputable: Object.keys(set.header.counts.byAlgorithm).filter((a) => hasherSpec(a)?.input === "imported"),
      provenance: set.header.provenance ?? null,
    };
    if (options.json) {
      process.stdout.write(JSON.stringify(info, null, 2) + "\n");
      return;
    }
    const lines = [`${store}`];
    for (const l of set.lists)
      lines.push(
        `  list ${l.listId} version ` +
          `${l.version}${l.name !== undefined ? ` "${l.name}"` : ""}` +
          `${l.source !== undefined ? `, source ${l.source}` : ""}` +
          `${l.usageTerms !== undefined ? `, terms: ${l.usageTerms}` : ""}`,
      );
    lines.push(
      `  ${info.entries} entries: ${Object.entries(info.byAlgorithm)
        .map(([a, n]) => `${a} ${n}`)
        .join(", ")}; ${info.withdrawals} withdrawals`,
    );
    if (info.listedVideos.videos > 0)
      lines.push(
        `  listed videos: ${info.listedVideos.videos}, as ${info.listedVideos.frames} pdq frame entries (vPDQ)`,
      );
    for (const a of info.notComputable)
      lines.push(`  ${a}: carried only; phmatch cannot compute ${a}, so these entries never match`);
    lines.push(
      `  signature: ${info.signature}; encrypted: ${info.encrypted ? "yes" : "no"}; local ${describeOverrides(loaded)}`,
    );
    // Each override changes outcomes for its value: who decided it, and why, are part of what the list is here.
    loaded.overrides.forEach((x, i) => {
      lines.push(
        `    override #${i}: ${x.action} ${x.algorithm} ` +
          `${x.hash}${x.listId !== undefined ? ` in list ${x.listId}` : ""}` +
          `${x.listVersion !== undefined ? ` release ${x.listVersion}` : ""}` +
          `${x.entryId !== undefined ? ` (entry ${x.entryId})` : ""}, ` +
          `by ${x.who} at ${x.when}: ${x.why}`,
      );
    });
    for (const why of loaded.overridesNotApplied ?? []) lines.push(`    not applied: ${why}`);
    lines.push(`  created ${info.createdAt} by ${info.createdBy}`);
    lines.push(...provenanceLines(set.header.provenance));
    process.stdout.write(lines.join("\n") + "\n");
  });
}

/** How the store was made, one line per step (import, build, merge), or that it does not say. */
export function provenanceLines(provenance: StoreProvenance[] | undefined): string[] {
  if (provenance === undefined)
    return ["  provenance: not recorded (made before phmatch recorded what a store was made from)"];
  return provenance.flatMap((p) => {
    const refused = Object.entries(p.refused).map(([reason, n]) => `${reason} ${n}`);
    const what =
      p.input !== undefined
        ? ` of ${p.input.file} (${p.input.format}, ${p.input.bytes} bytes, sha256 ${p.input.sha256}; input ` +
          `${p.input.ending}${p.strict === true ? ", strict" : ""})`
        : p.stores !== undefined
          ? ` of ${p.stores.map((s) => `${s.store} (sha256 ${s.sha256})`).join(", ")}`
          : "";
    const line =
      `  ${p.step}${what} into ${p.lists.join(", ")} at ${p.at} by ${p.by}: read ${p.read}, took ` +
      `${p.taken} entries and ${p.withdrawals} withdrawals, duplicate ${p.duplicate}, refused ` +
      `${refused.length > 0 ? refused.join(", ") : "none"}`;
    if (p.input === undefined || p.input.ending === "complete") return [line];
    return [
      line,
      `  warning: ${p.input.file} was not read whole (input ${p.input.ending}): the store may not hold the ` +
        "whole list; get the file again from its source",
    ];
  });
}

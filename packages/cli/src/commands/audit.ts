import { readFileSync } from "node:fs";
import { type AuditHead, PhmatchError, RollbackState, verifyAuditLog } from "@phmatch/core";
import { auditLogKey } from "@phmatch/core/internal";
import { Command } from "commander";
import { cliText } from "../output.js";
import { trustedKeys } from "./hashset/options.js";

/** `phmatch audit verify`: check a decision audit log's hash chain and signed checkpoints. */
export function auditCommand(): Command {
  const audit = new Command("audit")
    .description("work with decision audit logs (written by serve and scan --audit-log)")
    .addHelpText(
      "after",
      "\nExample:\n  phmatch audit verify decisions.ndjson --trusted-keys gate.pub --head 3f2a...\n",
    );
  audit
    .command("verify")
    .description(
      "check an audit log: chain of SHA-256s, signed checkpoints, closing checkpoint, unclean stops; exit 3 " +
        "if altered or cut",
    )
    .argument("<log>", "the audit log (NDJSON)")
    .option(
      "--trusted-keys <file>",
      "PEM public keys whose checkpoint signatures are trusted (or PHMATCH_TRUSTED_KEYS)",
    )
    .option(
      "--head <sha256>",
      "the head printed when the log was closed, kept elsewhere: proves nothing was cut after it",
    )
    .option(
      "--state-dir <dir>",
      "the rollback state folder the writer used (on the writer's host, same log path): its last head for " +
        "this log, as --head",
    )
    .addHelpText(
      "after",
      "\nExample:\n  phmatch audit verify decisions.ndjson --trusted-keys gate.pub --state-dir /var/lib/phmatch\n",
    )
    .action((file: string, options: { trustedKeys?: string; head?: string; stateDir?: string }) => {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (error) {
        throw new PhmatchError(
          "PHM_FILE_UNREADABLE",
          `cannot read the audit log ${file}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const keys = trustedKeys(options.trustedKeys) ?? [];
      if (options.head !== undefined && options.stateDir !== undefined)
        throw new PhmatchError("PHM_USAGE", "give --head or --state-dir, not both");
      let head: string | AuditHead | undefined = options.head?.toLowerCase();
      if (options.stateDir !== undefined) {
        if (options.stateDir.trim() === "") throw new PhmatchError("PHM_USAGE", "--state-dir is empty: name a folder");
        head = new RollbackState(options.stateDir, { readOnly: true }).auditHead(file);
        if (head === undefined) {
          throw new PhmatchError(
            "PHM_USAGE",
            `the rollback state ${options.stateDir} holds no head for ${auditLogKey(file)} (heads are kept by ` +
              "host and path of the log as written): verify on the writer's host, or give --head",
          );
        }
      }
      const result = verifyAuditLog(text, keys, head === undefined ? {} : { head });
      const stops = result.uncleanStops.map(
        (s) => `line ${s.line}: resumed after record ${s.afterSeq} (head ${s.head})`,
      );
      if (!result.ok) {
        for (const p of result.problems) process.stderr.write(`${file}:${p.line}: ${cliText(p.problem)}\n`);
        for (const s of stops) process.stderr.write(`${file}: unclean stop, ${s}\n`);
        throw new PhmatchError(
          "PHM_AUDIT_ALTERED",
          `${file} does not verify: ${result.problems.length} problem(s), the first at line ` +
            `${result.problems[0]?.line ?? 0}`,
        );
      }
      const signatures =
        keys.length > 0
          ? `, ${result.checkpoints} checkpoint(s) signed by trusted keys`
          : `, ${result.checkpoints} checkpoint(s) (signatures not checked: no --trusted-keys)`;
      const legacy =
        result.legacyCheckpoints > 0
          ? ` (${result.legacyCheckpoints} in the legacy format, signed without their final flag)`
          : "";
      const against =
        head === undefined
          ? ""
          : typeof head === "string"
            ? ", holds the head given"
            : `, holds the head kept in the rollback state (record ${head.seq})`;
      // An unclean stop is not an alteration (a crash leaves one too), but it is never passed over in silence.
      const unclean =
        stops.length > 0
          ? `; ${stops.length} unclean stop(s), where the writer stopped without closing the log or records were ` +
            `cut from its end: ${stops.join("; ")}`
          : "";
      process.stdout.write(
        `${file}: OK, ${result.records} records, ${result.decisions} ` +
          `decisions${signatures}${legacy}${against}, closed${unclean}\n`,
      );
    });
  return audit;
}

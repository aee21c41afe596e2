import { readFileSync } from "node:fs";
import { Command } from "commander";
import { PhmatchError, parseTrustedKeys, verifyAuditLog } from "@phmatch/core";
import { trustedKeysPem } from "./hashset/options.js";

/** `phmatch audit verify`: check a decision audit log's hash chain and signed checkpoints. */
export function auditCommand(): Command {
  const audit = new Command("audit")
    .description("work with decision audit logs (written by serve and scan --audit-log)")
    .addHelpText("after", "\nExample:\n  phmatch audit verify decisions.ndjson --trusted-keys gate.pub --head 3f2a...\n");
  audit
    .command("verify")
    .description("check an audit log: chain of SHA-256s, signed checkpoints, closing checkpoint; exit 3 if altered or cut")
    .argument("<log>", "the audit log (NDJSON)")
    .option("--trusted-keys <file>", "PEM public keys whose checkpoint signatures are trusted (or PHMATCH_TRUSTED_KEYS)")
    .option("--head <sha256>", "the head printed when the log was closed, kept elsewhere: proves nothing was cut after it")
    .addHelpText("after", "\nExample:\n  phmatch audit verify decisions.ndjson --trusted-keys gate.pub\n")
    .action((file: string, options: { trustedKeys?: string; head?: string }) => {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (error) {
        throw new PhmatchError("PHM_FILE_UNREADABLE", `cannot read the audit log ${file}: ${(error as Error).message}`, { cause: error });
      }
      const pem = trustedKeysPem(options.trustedKeys);
      const keys = pem !== undefined ? parseTrustedKeys(pem) : [];
      const result = verifyAuditLog(text, keys, options.head === undefined ? {} : { head: options.head.toLowerCase() });
      if (!result.ok) {
        for (const p of result.problems) process.stderr.write(`${file}:${p.line}: ${p.problem}\n`);
        throw new PhmatchError("PHM_AUDIT_ALTERED", `${file} does not verify: ${result.problems.length} problem(s), the first at line ${result.problems[0]?.line ?? 0}`);
      }
      const signatures = keys.length > 0 ? `, ${result.checkpoints} checkpoint(s) signed by trusted keys` : `, ${result.checkpoints} checkpoint(s) (signatures not checked: no --trusted-keys)`;
      process.stdout.write(`${file}: OK, ${result.records} records, ${result.decisions} decisions${signatures}, closed\n`);
    });
  return audit;
}

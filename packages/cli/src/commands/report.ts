import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { createHash } from "node:crypto";
import { Command } from "commander";
import { PhmatchError, parseTrustedKeys, verifyStore } from "@phmatch/core";
import { readText, trustedKeysPem } from "./hashset/options.js";

/** `phmatch report verify`: show that a scan report is the one phmatch wrote (checksum, and signature with keys). */
export function reportCommand(): Command {
  const report = new Command("report")
    .description("work with scan reports")
    .addHelpText("after", "\nExample:\n  phmatch report verify case-117.ndjson --trusted-keys examiner.pub\n");
  report
    .command("verify")
    .description("check a scan report against its .sha256, and its .sig with trusted keys; exit 3 if altered")
    .argument("<report>", "the report file")
    .option("--trusted-keys <file>", "PEM public keys whose report signatures are trusted (or PHMATCH_TRUSTED_KEYS)")
    .addHelpText("after", "\nExample:\n  phmatch report verify case-117.ndjson --trusted-keys examiner.pub\n")
    .action((file: string, options: { trustedKeys?: string }) => {
      const bytes = readFileSync(file);
      const recorded = readText(`${file}.sha256`, "checksum").trim().split(/\s+/)[0];
      const actual = createHash("sha256").update(bytes).digest("hex");
      if (recorded !== actual) {
        throw new PhmatchError("PHM_REPORT_ALTERED", `${file} does not match ${basename(file)}.sha256: the report was altered or damaged`);
      }
      const pem = trustedKeysPem(options.trustedKeys);
      let signed = "";
      if (pem !== undefined) {
        let signature: string | undefined;
        try {
          signature = readFileSync(`${file}.sig`, "utf8");
        } catch {
          signature = undefined;
        }
        try {
          signed = `, signed by key ${verifyStore(bytes, signature, parseTrustedKeys(pem), file)}`;
        } catch (error) {
          throw new PhmatchError("PHM_REPORT_ALTERED", (error as Error).message.replace("refused", "the report cannot be attributed"), { cause: error });
        }
      }
      process.stdout.write(`${file}: OK, SHA-256 ${actual}${signed}\n`);
    });
  return report;
}

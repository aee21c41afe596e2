import { verifyReport, writeReportIntegrity } from "@phmatch/core";
import { VICS_SCHEMES, type VicsExportOptions } from "@phmatch/core/internal";
import { Command, Option } from "commander";
import { CommandExit, EXIT_CODES } from "../exit-codes.js";
import { parsePositiveInt } from "../parse.js";
import { checkScanName, DEFAULT_SCAN_NAME, parseQueueUrl } from "../queue/names.js";
import type { CybertipCommandOptions } from "../report/cybertip-command.js";
import { readText, trustedKeys } from "./hashset/options.js";

/**
 * `phmatch report`: `verify` shows that a scan report is the one phmatch wrote (checksum, and signature with keys);
 * `collect` writes a distributed scan's; `vics` exports one's files as VICS JSON; `cybertip` reports a match to NCMEC.
 */
export function reportCommand(): Command {
  const report = new Command("report")
    .description("work with scan reports")
    .addHelpText("after", "\nExample:\n  phmatch report verify case-117.ndjson --trusted-keys examiner.pub\n");
  report
    .command("verify")
    .description(
      "check a scan report against its .sha256, its cluster section against its seal, and its .sig (and the " +
        "seal's signature) with trusted keys; exit 3 if altered",
    )
    .argument("<report>", "the report file")
    .option("--trusted-keys <file>", "PEM public keys whose report signatures are trusted (or PHMATCH_TRUSTED_KEYS)")
    .addHelpText("after", "\nExample:\n  phmatch report verify case-117.ndjson --trusted-keys examiner.pub\n")
    .action((file: string, options: { trustedKeys?: string }) => {
      const keys = trustedKeys(options.trustedKeys);
      const { sha256, signedBy, clusterSection } = verifyReport(file, {
        ...(keys !== undefined && { trustedKeys: keys }),
      });
      const signed = signedBy === undefined ? "" : `, signed by key ${signedBy}`;
      const section =
        clusterSection === undefined
          ? ""
          : `; cluster section OK (${clusterSection.clusters} clusters` +
            `${clusterSection.signedBy === undefined ? "" : `, sealed by key ${clusterSection.signedBy}`})`;
      process.stdout.write(`${file}: OK, SHA-256 ${sha256}${signed}${section}\n`);
    });
  report
    .command("collect")
    .description(
      "write a distributed scan's report: drain the results workers stored in the queue into one NDJSON " +
        "report (every file once, in walk order, as a local scan writes it)",
    )
    .requiredOption("--queue <url>", "the scan's Redis queue, redis://HOST:PORT/N")
    .requiredOption("-o, --out <file>", "the report to write (its SHA-256 beside it); must not exist unless --resume")
    .option(
      "--resume",
      "finish the report an interrupted collector left at --out (records already written are not asked of Redis again)",
      false,
    )
    .option("--scan <name>", "name of the distributed scan", DEFAULT_SCAN_NAME)
    .option("--sign <key>", "sign the finished report with this Ed25519 private key (PEM): <report>.sig")
    .option("--wait-ms <n>", "give up if the scan does not appear within this long (default: wait)", parsePositiveInt)
    .option("--keep", "leave the scan's queue and results in Redis after the report is written", false)
    .option("-q, --quiet", "no progress lines on stderr", false)
    .addHelpText(
      "after",
      "\nExample:\n  phmatch report collect --queue redis://10.0.0.5:6379/0 --out case-117.ndjson --sign " +
        "examiner.pem\n",
    )
    .action(
      async (options: {
        queue: string;
        out: string;
        scan: string;
        sign?: string;
        keep: boolean;
        quiet: boolean;
        resume: boolean;
        waitMs?: number;
      }) => {
        const seal = options.sign === undefined ? {} : { signingKeyPem: readText(options.sign, "--sign") };
        const { collectScan } = await import("../queue/collector.js"); // not at the top: see program.ts
        const result = await collectScan({
          address: parseQueueUrl(options.queue),
          scan: checkScanName(options.scan),
          out: options.out,
          quiet: options.quiet,
          keep: options.keep,
          resume: options.resume,
          ...seal,
          ...(options.waitMs !== undefined && { waitMs: options.waitMs }),
        });
        await writeReportIntegrity(options.out, seal);
        // The report went to a file: stdout is free for its summary and what the queue had to do to get it.
        process.stdout.write(JSON.stringify({ ...result.summary, distributed: result.distributed }) + "\n");
        throw new CommandExit(result.summary.error > 0 ? EXIT_CODES.INPUT_FAILED : EXIT_CODES.OK);
      },
    );
  report
    .command("vics")
    .description(
      "export every file of a finished NDJSON scan report as Project VIC VICS 2.0 JSON (status, hashes, times, " +
        "cluster), checked against its .sha256 first when it is beside it",
    )
    .argument("<report>", "the NDJSON scan report (schema version 1, 2 or 3)")
    .option("-o, --out <file>", "write the VICS JSON here (must not exist) instead of stdout")
    .option("--known-only", "only the known files, as `scan --format vics` writes them", false)
    .addOption(
      new Option("--scheme <name>", "the categorisation scheme the context URL names (what Category numbers mean)")
        .choices([...VICS_SCHEMES])
        .default("Default"),
    )
    .addHelpText("after", "\nExample:\n  phmatch report vics case-117.ndjson -o case-117.vics.json\n")
    .action(
      async (file: string, options: { out?: string; knownOnly: boolean; scheme: VicsExportOptions["scheme"] }) => {
        const { exportVicsTo } = await import("../report/vics-command.js"); // not at the top: see program.ts
        await exportVicsTo(file, options);
      },
    );
  report
    .command("cybertip")
    .description(
      "build the CyberTipline report (NCMEC's XML) for a match, check it against the documented structure, and " +
        "optionally submit it with the file streamed from --file; writes a preservation record",
    )
    .option("--match <file>", "the match result (check/match/serve answer, rematch or hook payload; - for stdin)")
    .option("--platform <file>", "what the platform supplies: reporter, incident time, uploader, content id, upload")
    .option("--viewed <yes|no>", "REQUIRED, no default: did the platform's staff view the file?")
    .option("--public <yes|no>", "REQUIRED, no default: was the file publicly available?")
    .option("-o, --out <file>", "write the report XML here instead of stdout")
    .option("--check <file>", "only check an XML document (report, fileDetails) against the documented structure")
    .option("--submit <url>", "submit to this CyberTipline base URL (https://report.cybertip.org/ispws)")
    .option("--file <path>", "with --submit: the file to upload, streamed and not kept (- for stdin)")
    .option(
      "--credentials <file>",
      "JSON {username, password}, mode 600 (else PHMATCH_CYBERTIP_USERNAME and PHMATCH_CYBERTIP_PASSWORD)",
    )
    .option("--dry-run", "print the --submit sequence (methods, URLs, XML bodies) without sending", false)
    .option("--preservation <file>", "write the preservation record (JSON) here; never overwrites")
    .option("--audit-log <file>", "find the match's decision here by request id, and append a preservation event")
    .option("--audit-key <file>", "Ed25519 private key (PEM) that signs the audit log's checkpoints")
    .option("--timeout-ms <n>", "time limit of each request to the server", parsePositiveInt)
    .addHelpText(
      "after",
      "\nUntested against NCMEC's own test environment: written from its public documentation " +
        "(docs/commands/report.md).\nExample:\n  phmatch report cybertip --match hit.json --platform platform.json " +
        "--viewed no --public no > report.xml\n  phmatch report cybertip --match hit.json --platform platform.json " +
        "--viewed no --public no \\\n    --submit https://exttest.cybertip.org/ispws --file upload.jpg " +
        "--preservation " +
        "p.json\n",
    )
    .action(async (options: CybertipCommandOptions) => {
      const { runCybertip } = await import("../report/cybertip-command.js"); // not at the top: see program.ts
      await runCybertip(options);
    });
  return report;
}

import { createHash, type KeyObject } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { readFileOnce } from "../decode/read-file.js";
import { PhmatchError } from "../errors/index.js";
import { signStore, verifyStore } from "../hashset/signature.js";
import { type ClusterSectionCheck, checkClusterSection } from "./cluster-seal.js";

/**
 * Seals a finished report: its SHA-256 beside it as `<report>.sha256` (sha256sum format), so an examiner can show
 * it is unaltered, and with `signingKeyPem` (Ed25519, PEM) a detached signature over its bytes as `<report>.sig`,
 * so an alteration is also attributable. {@link verifyReport} checks both.
 */
export async function writeReportIntegrity(report: string, options: { signingKeyPem?: string } = {}): Promise<void> {
  const { digests } = await readFileOnce(report, { digests: ["sha256"], keepBytes: false });
  writeFileSync(`${report}.sha256`, `${digests.sha256 as string}  ${basename(report)}\n`);
  if (options.signingKeyPem !== undefined)
    writeFileSync(`${report}.sig`, signStore(readFileSync(report), options.signingKeyPem));
}

/** What {@link verifyReport} showed: the report's SHA-256, and the key that signed it when keys were given. */
export interface ReportVerification {
  sha256: string;
  /** Key id of the trusted key whose signature (`<report>.sig`) the report carries. */
  signedBy?: string;
  /** The cluster section of a report written with `--cluster`: its clusters, and its seal's signer with keys. */
  clusterSection?: ClusterSectionCheck;
}

/**
 * Shows that a report is the one phmatch wrote: its bytes against `<report>.sha256`, its cluster section (if any)
 * against its seal (checkClusterSection), then, with `trustedKeys`, its `<report>.sig` and the seal's signature
 * against them. A changed report, or a signature missing, unreadable or by a key not trusted,
 * is PHM_REPORT_ALTERED; a missing `.sha256` is PHM_USAGE.
 *
 * ```ts
 * const { sha256, signedBy } = verifyReport("case-117.ndjson", { trustedKeys: parseTrustedKeys(pem) });
 * ```
 */
export function verifyReport(report: string, options: { trustedKeys?: KeyObject[] } = {}): ReportVerification {
  const bytes = readFileSync(report);
  let checksum: string;
  try {
    checksum = readFileSync(`${report}.sha256`, "utf8");
  } catch (error) {
    throw new PhmatchError("PHM_USAGE", `checksum ${report}.sha256: ${(error as Error).message}`);
  }
  const recorded = checksum.trim().split(/\s+/)[0];
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (recorded !== sha256) {
    throw new PhmatchError(
      "PHM_REPORT_ALTERED",
      `${report} does not match ${basename(report)}.sha256: the report was altered or damaged`,
    );
  }
  const section = checkClusterSection(bytes, report, options.trustedKeys);
  const clusterSection = section === undefined ? {} : { clusterSection: section };
  if (options.trustedKeys === undefined) return { sha256, ...clusterSection };
  let signature: string | undefined;
  try {
    signature = readFileSync(`${report}.sig`, "utf8");
  } catch {
    signature = undefined;
  }
  try {
    return { sha256, signedBy: verifyStore(bytes, signature, options.trustedKeys, report), ...clusterSection };
  } catch (error) {
    throw new PhmatchError(
      "PHM_REPORT_ALTERED",
      (error as Error).message.replace("refused", "the report cannot be attributed"),
      { cause: error },
    );
  }
}

// Digests stream: a 1 GB (sparse) file hashes with flat memory. The run happens in its own process so that its
// peak RSS is its own; the bound is memory, never time. A scale case (6 GB of digests, 9 s of CPU): it runs with
// the system tests, not in npm test (README: slow and scale cases go to test:fuzz or test:system).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot } from "../support/conformance.js";

const GB = 1024 * 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), "phmatch-sparse-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("digests of a 1 GB file", () => {
  it("equal node:crypto's and keep the peak RSS far below the file size", () => {
    const file = join(dir, "sparse.bin");
    writeFileSync(file, "");
    truncateSync(file, GB); // a sparse file: 1 GB of zeros, no disk used
    // The child's own peak (VmHWM): getrusage's maxRSS keeps the RSS of the test worker it was forked from.
    const script = `
      import { existsSync, readFileSync } from "node:fs";
      import { hashFile } from "@phmatch/core";
      const record = await hashFile(${JSON.stringify(file)}, { algorithms: ["md5", "sha1", "sha256", "pdq"] });
      const status = existsSync("/proc/self/status") ? readFileSync("/proc/self/status", "utf8") : "";
      const hwm = /^VmHWM:\\s+(\\d+) kB/m.exec(status);
      const peakKiB = hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS;
      console.log(JSON.stringify({ record, maxRssBytes: peakKiB * 1024 }));`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: projectRoot,
      encoding: "utf8",
    });
    expect(run.status, run.stderr).toBe(0);
    const { record, maxRssBytes } = JSON.parse(run.stdout) as {
      record: { hashes: Record<string, string>; error: { code: string } };
      maxRssBytes: number;
    };

    const expected = ["md5", "sha1", "sha256"].map((id) => {
      const hash = createHash(id);
      const zeros = Buffer.alloc(16 * 1024 * 1024);
      for (let done = 0; done < GB; done += zeros.length) hash.update(zeros);
      return [id, hash.digest("hex")];
    });
    expect(record.hashes).toEqual(Object.fromEntries(expected));
    // The file is over the decode limit: its pixels are not read, and the record says so next to its digests.
    expect(record.error.code).toBe("PHM_FILE_TOO_LARGE");
    console.info(`1 GB file: peak RSS ${(maxRssBytes / 2 ** 20).toFixed(0)} MiB`);
    expect(maxRssBytes).toBeLessThan(256 * 1024 * 1024);
  });
});

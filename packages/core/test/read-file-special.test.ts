// A named pipe or a device named as an input is refused at once (PHM_FILE_UNREADABLE), never waited on: opening
// a FIFO for reading blocks until some process writes to it, which on seized media or in an upload directory is
// never, so `phmatch check pipe` hung for ever and `phmatch hash pipe` until the pool's timeout, twice.
import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashFile } from "@phmatch/core";
import { readFileOnce, readImageFile } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "phmatch-special-"));
const fifo = join(dir, "pipe.jpg");
execFileSync("mkfifo", [fifo]);
afterAll(() => {
  // Were a reader still blocked on the FIFO (the bug), a writer's open and close releases it with EOF.
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // no reader left, as it should be
  }
  rmSync(dir, { recursive: true, force: true });
});

// The answer within 5 s, or "hung".
const within = <T>(promise: Promise<T>) =>
  Promise.race([promise, new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 5000).unref())]);
const codeOf = (promise: Promise<unknown>) =>
  within(
    promise.then(
      () => "read",
      (e: { code?: string }) => e.code ?? String(e),
    ),
  );

describe("special files are refused without waiting", () => {
  it("a FIFO: PHM_FILE_UNREADABLE from readFileOnce, readImageFile and hashFile", async () => {
    expect(await codeOf(readFileOnce(fifo, { digests: ["sha256"], keepBytes: true }))).toBe("PHM_FILE_UNREADABLE");
    expect(await codeOf(readImageFile(fifo))).toBe("PHM_FILE_UNREADABLE");
    const record = await within(hashFile(fifo, { algorithms: ["pdq", "md5"] }));
    expect(record === "hung" ? "hung" : record.error?.code).toBe("PHM_FILE_UNREADABLE");
  });

  it("a character device: PHM_FILE_UNREADABLE", async () => {
    expect(await codeOf(readFileOnce("/dev/zero", { digests: ["sha256"], keepBytes: true }))).toBe(
      "PHM_FILE_UNREADABLE",
    );
  });
});

// Which single files `phmatch check` and `phmatch hash` decode in their own process (fitsInProcess): small JPEG,
// PNG, WebP and GIF files whose header declares at most IN_PROCESS_MAX_PIXELS; everything else, and every doubt,
// goes to the supervised worker process with its time and memory limits.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fitsInProcess, IN_PROCESS_MAX_BYTES, IN_PROCESS_MAX_PIXELS } from "@phmatch/core/internal";
import { afterAll, describe, expect, it } from "vitest";

const fixtures = new URL("../../../test-fixtures/", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "phmatch-in-process-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// texture.jpg with the frame header (SOF0) saying width x height: the header is all fitsInProcess reads.
function jpegDeclaring(width: number, height: number): string {
  const bytes = Buffer.from(readFileSync(join(fixtures, "images/texture.jpg")));
  const sof = bytes.indexOf(Buffer.from([0xff, 0xc0]));
  expect(sof).toBeGreaterThan(0);
  bytes.writeUInt16BE(height, sof + 5);
  bytes.writeUInt16BE(width, sof + 7);
  const file = join(dir, `declares-${width}x${height}.jpg`);
  writeFileSync(file, bytes);
  return file;
}

describe("fitsInProcess", () => {
  it.each(["images/texture.jpg", "images/shapes.png", "images/texture.webp", "images/animated.gif"])(
    "takes a small %s",
    async (name) => {
      expect(await fitsInProcess(join(fixtures, name))).toBe(true);
    },
  );

  it("takes a header at the pixel bound and leaves one just over it to the worker", async () => {
    expect(IN_PROCESS_MAX_PIXELS).toBe(40_000_000);
    expect(await fitsInProcess(jpegDeclaring(8000, 5000))).toBe(true);
    expect(await fitsInProcess(jpegDeclaring(8000, 5001))).toBe(false);
  });

  it.each([
    ["HEIC (decoded by libheif's WebAssembly, not libvips)", "images/shapes.heic"],
    ["a PNG declaring a decompression bomb's size", "bad/bomb.png"],
    ["an empty file", "bad/empty.jpg"],
    ["bytes that are no image", "bad/not-an-image.jpg"],
    ["SVG", "bad/vector.svg"],
    ["a directory", "images"],
    ["a missing file", "images/no-such-file.jpg"],
  ])("leaves %s to the worker process", async (_what, name) => {
    expect(await fitsInProcess(join(fixtures, name))).toBe(false);
  });

  it("leaves a file over IN_PROCESS_MAX_BYTES to the worker, whatever its header says", async () => {
    const file = join(dir, "large.jpg");
    writeFileSync(file, readFileSync(join(fixtures, "images/texture.jpg")));
    expect(await fitsInProcess(file)).toBe(true);
    truncateSync(file, IN_PROCESS_MAX_BYTES + 1);
    expect(await fitsInProcess(file)).toBe(false);
  });

  it("answers a named pipe at once (false), without waiting for a writer", async () => {
    const fifo = join(dir, "pipe.jpg");
    execFileSync("mkfifo", [fifo]);
    expect(await fitsInProcess(fifo)).toBe(false);
  });
});

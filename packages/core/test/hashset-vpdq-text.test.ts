// The reference's vPDQ text format (frame,quality,hash,timestamp): every conformance file read and written back
// byte for byte, a synthetic round trip, and the lines a strict reader must refuse.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, PhmatchError } from "@phmatch/core";
import { formatVpdqText, parseVpdqText, type VpdqFrame } from "@phmatch/core/internal";
import { describe, expect, it } from "vitest";
import { conformanceDir, hasConformance, skipReason } from "../../../test/support/conformance.js";

const vpdqDir = join(conformanceDir, "vpdq");
// An older ../shared without the vPDQ material skips too, saying so.
const hasVpdq = hasConformance && existsSync(vpdqDir);
const vpdqSkipReason = hasConformance ? `${vpdqDir} not found: skipping` : skipReason;
const SETS = ["", "cpath", "allframes", "allframes-cpath"];
const files = hasVpdq
  ? SETS.flatMap((set) =>
      readdirSync(join(vpdqDir, set))
        .filter((name) => name.endsWith(".vpdq.txt"))
        .map((name) => join(set, name)),
    )
  : [];

describe.skipIf(!hasVpdq)(`vPDQ text, conformance files (${hasVpdq ? vpdqDir : vpdqSkipReason})`, () => {
  it("finds the 14 videos' hash files in each of the 4 sets", () => {
    expect(files).toHaveLength(56);
  });

  it.each(files)("%s reads as the reference wrote it and writes back byte-identical", (file) => {
    const text = readFileSync(join(vpdqDir, file), "utf8");
    const frames = parseVpdqText(text, file);
    const lines = text.trimEnd().split("\n");
    expect(frames).toHaveLength(lines.length);
    const [frame, quality, hash, timestamp] = (lines[0] as string).split(",");
    expect(frames[0]?.frame).toBe(Number(frame));
    expect(frames[0]?.hash.quality).toBe(Number(quality));
    expect(bytesToHex(frames[0]?.hash.bytes as Uint8Array)).toBe(hash);
    expect(frames[0]?.timestamp).toBe(Number(timestamp));
    // Timestamps are frame / 30 (avg_frame_rate 30/1 for all 14), quality second: a swapped column would show here.
    for (const f of frames) expect(f.timestamp).toBeCloseTo(f.frame / 30, 3);
    expect(formatVpdqText(frames)).toBe(text);
  });

  it("reads chair-19-sd-bar at 1 s: frames 0, 30, ..., 540 with their qualities", () => {
    const frames = parseVpdqText(readFileSync(join(vpdqDir, "chair-19-sd-bar.vpdq.txt"), "utf8"));
    expect(frames.map((f) => f.frame)).toEqual(Array.from({ length: 19 }, (_, i) => i * 30));
    expect(bytesToHex(frames[0]?.hash.bytes as Uint8Array)).toBe(
      "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c",
    );
    expect(frames.every((f) => f.hash.algorithm === "pdq" && f.hash.quality >= 0 && f.hash.quality <= 100)).toBe(true);
  });
});

function synthetic(count: number, fps: number): VpdqFrame[] {
  return Array.from({ length: count }, (_, i) => {
    const bytes = new Uint8Array(32);
    for (let b = 0; b < 32; b++) bytes[b] = (i * 37 + b * 11) & 0xff;
    return { frame: i * 7, hash: { algorithm: "pdq", bytes, quality: (i * 13) % 101 }, timestamp: (i * 7) / fps };
  });
}

describe("vPDQ text, synthetic", () => {
  it("round-trips frames: text -> frames -> text is identity, frames keep index, quality and hash", () => {
    const frames = synthetic(50, 29.97);
    const text = formatVpdqText(frames);
    const back = parseVpdqText(text);
    expect(formatVpdqText(back)).toBe(text);
    expect(back.map((f) => [f.frame, f.hash.quality, bytesToHex(f.hash.bytes)])).toEqual(
      frames.map((f) => [f.frame, f.hash.quality, bytesToHex(f.hash.bytes)]),
    );
    for (let i = 0; i < frames.length; i++) {
      expect(Math.abs((back[i] as VpdqFrame).timestamp - (frames[i] as VpdqFrame).timestamp)).toBeLessThanOrEqual(
        0.0005,
      );
    }
  });

  it("prints timestamps as C++ std::fixed does: 3 decimals, exact ties to even", () => {
    const at = (timestamp: number): string =>
      formatVpdqText([{ frame: 0, hash: { algorithm: "pdq", bytes: new Uint8Array(32), quality: 0 }, timestamp }]);
    expect(at(0)).toMatch(/,0\.000\n$/);
    expect(at(1 / 3)).toMatch(/,0\.333\n$/);
    expect(at(2 / 3)).toMatch(/,0\.667\n$/);
    // 0.0625 and 0.1875 are exact in binary: printf rounds the tie to even, toFixed would round up.
    expect(at(0.0625)).toMatch(/,0\.062\n$/);
    expect(at(0.1875)).toMatch(/,0\.188\n$/);
    expect(at(15 / 240)).toMatch(/,0\.062\n$/);
    expect(at(1234.5)).toMatch(/,1234\.500\n$/);
  });

  it("accepts CRLF endings, blank lines and no final newline", () => {
    const text = formatVpdqText(synthetic(3, 30));
    const crlf = `${text.replace(/\n/g, "\r\n")}\r\n`;
    expect(formatVpdqText(parseVpdqText(crlf))).toBe(text);
    expect(formatVpdqText(parseVpdqText(text.trimEnd()))).toBe(text);
  });

  it.each([
    [
      "quality and frame swapped past 100",
      "0,1000,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000",
    ],
    ["a short hash", "0,100,e27101783724,0.000"],
    ["a missing timestamp", "0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c"],
    ["a fifth field", "0,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000,x"],
    ["a negative frame", "-1,100,e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,0.000"],
    ["a PDQ hash list line (hash,quality)", "e271017837246aaccddea259648fb7d62f435c89d9e99b2497763e216c8d055c,100"],
  ])("refuses %s with PHM_HASHSET_PARSE and the line number", (_what, line) => {
    const text = `0,100,${"ab".repeat(32)},0.000\n${line}\n`;
    const error = (() => {
      try {
        parseVpdqText(text, "list.vpdq.txt");
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(PhmatchError);
    expect((error as PhmatchError).code).toBe("PHM_HASHSET_PARSE");
    expect((error as PhmatchError).message).toContain("list.vpdq.txt line 2:");
  });

  it("refuses an empty text, as the reference does", () => {
    expect(() => parseVpdqText("\n", "empty.vpdq.txt")).toThrow(/empty\.vpdq\.txt: no frame hashes/);
  });
});

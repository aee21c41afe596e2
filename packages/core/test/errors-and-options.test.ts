// Core's errors speak the library's language: its error table holds only its own codes and no command-line flag,
// and a message names the API option that is the way out (`maxPixels`, listed in optionNames) so that the CLI can
// print its flag instead. The registry alone says which algorithms can be computed, and addOverride checks an
// override itself, whoever calls it.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import {
  decodeImage,
  ERROR_CODES,
  HashSetBuilder,
  type Override,
  PhmatchError,
  SUPPORTED_ALGORITHMS,
  serializeStore,
} from "@phmatch/core";
import {
  addOverride,
  overridesPath,
  readImageFile,
  readOverridesFile,
  validateHashOptions,
  whyNotComputable,
} from "@phmatch/core/internal";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";

const tmp = mkdtempSync(join(tmpdir(), "phmatch-errors-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function thrown(promise: Promise<unknown>): Promise<PhmatchError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PhmatchError);
  return error as PhmatchError;
}

const FLAG = /(^|[\s(])--[a-z]/;

describe("core's error table", () => {
  it("holds core's codes only: the queue's and serve's are the CLI's", () => {
    expect(Object.keys(ERROR_CODES).filter((code) => code.startsWith("PHM_QUEUE_"))).toEqual([]);
    expect(Object.hasOwn(ERROR_CODES, "PHM_HASHSET_LIST_CHANGE")).toBe(false);
    expect(Object.hasOwn(ERROR_CODES, "PHM_DECODE_TOO_MANY_PIXELS")).toBe(true);
  });

  it("names no command-line flag", () => {
    expect(Object.entries(ERROR_CODES).filter(([, text]) => FLAG.test(text))).toEqual([]);
    expect(ERROR_CODES.PHM_DECODE_TOO_MANY_PIXELS).toContain("maxPixels");
  });
});

describe("messages name API options, not flags", () => {
  it("a file over maxFileBytes", async () => {
    const file = join(tmp, "big.bin");
    writeFileSync(file, Buffer.alloc(4096));
    const error = await thrown(readImageFile(file, 1024));
    expect(error.code).toBe("PHM_FILE_TOO_LARGE");
    expect(error.message).toContain("raise `maxFileBytes`");
    expect(error.message).not.toMatch(FLAG);
    expect(error.optionNames).toEqual(["maxFileBytes"]);
  });

  it("an image over maxPixels", async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#808080" } })
      .png()
      .toBuffer();
    const error = await thrown(decodeImage(png, { maxPixels: 100 }));
    expect(error.code).toBe("PHM_DECODE_TOO_MANY_PIXELS");
    expect(error.message).toContain("raise `maxPixels`");
    expect(error.message).not.toMatch(FLAG);
    expect(error.optionNames).toEqual(["maxPixels"]);
  });
});

describe("which algorithms can be computed: the registry says", () => {
  it("refuses imported-only and unknown ids, with the same words for every caller", () => {
    expect(whyNotComputable("pdq")).toBeUndefined();
    expect(whyNotComputable("md5")).toBeUndefined();
    expect(whyNotComputable("photodna")).toMatch(/^photodna cannot be computed/);
    expect(whyNotComputable("nope")).toBe(`unknown algorithm "nope"; supported: ${SUPPORTED_ALGORITHMS.join(", ")}`);
    expect(SUPPORTED_ALGORITHMS).not.toContain("photodna");
    expect(() => validateHashOptions({ algorithms: ["photodna"] })).toThrow(whyNotComputable("photodna") as string);
  });
});

describe("addOverride checks the override itself", () => {
  const builder = new HashSetBuilder();
  builder.addList({ listId: "hotline", version: 1 });
  builder.addEntry({ algorithm: "md5", value: Buffer.alloc(16, 7), listId: "hotline", entryId: "E1" });
  const store = join(tmp, "list.phs");
  writeFileSync(store, serializeStore(builder));
  const good: Override = {
    action: "disable",
    algorithm: "md5",
    hash: "07".repeat(16),
    who: "reviewer",
    when: "2026-01-02T00:00:00Z",
    why: "appeal upheld",
  };

  it.each([
    ["an unknown algorithm", { algorithm: "nope" }, /"algorithm" "nope" is not a known algorithm/],
    ["a value of the wrong length", { hash: "12" }, /"hash" is not 32 hex digits of md5/],
    ["a value that is not hex", { hash: "zz".repeat(16) }, /"hash" is not 32 hex digits of md5/],
    ["no one who decided", { who: " " }, /needs `who` and `why`/],
    ["no reason", { why: "" }, /needs `who` and `why`/],
    ["a list the store does not hold", { listId: "other" }, /holds no list "other" \(it holds hotline\)/],
  ])("refuses %s with PHM_USAGE, writing nothing", async (_what, change, message) => {
    const error = await thrown(addOverride(store, { ...good, ...change } as Override, { lists: ["hotline"] }));
    expect(error.code).toBe("PHM_USAGE");
    expect(error.message).toMatch(message);
    expect(existsSync(overridesPath(store))).toBe(false);
  });

  it("names who and why as API options", async () => {
    const error = await thrown(addOverride(store, { ...good, who: "" }, { lists: ["hotline"] }));
    expect(error.optionNames).toEqual(["who", "why"]);
    expect(error.message).not.toMatch(FLAG);
  });

  it("takes a valid override", async () => {
    await addOverride(store, good, { lists: ["hotline"] });
    expect((await readOverridesFile(store))?.overrides).toEqual([good]);
  });
});

describe("no text core writes names a command-line flag", () => {
  // Every string, template and message in core's sources (comments left out): notes in records, import problems,
  // audit log problems and errors are core's words; the CLI maps the API names in them to its flags (cliText).
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
    );
  const coreSrc = join(dirname(fileURLToPath(import.meta.url)), "..", "src");

  // Arguments core hands to another program, not words a user reads: setpriv's own option (decode/video.ts).
  const OTHER_PROGRAMS_OPTIONS = new Set(['"--pdeathsig"']);

  it("in any string literal of packages/core/src", () => {
    const found: string[] = [];
    for (const file of sources(coreSrc)) {
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          const code = line.trimStart();
          if (code.startsWith("//") || code.startsWith("*") || code.startsWith("/*")) return;
          for (const literal of code.match(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`/g) ?? []) {
            if (OTHER_PROGRAMS_OPTIONS.has(literal)) continue;
            if (/(^|[\s(])--[a-z][a-z-]+/.test(literal.slice(1, -1))) {
              found.push(`${relative(coreSrc, file)}:${i + 1}: ${literal}`);
            }
          }
        });
    }
    expect(found).toEqual([]);
  });
});

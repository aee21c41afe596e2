// The fast subset of the hostile-input corpus (test-fixtures/hostile/generate.mjs, size "fast": a few of every
// kind: truncations, bit flips, bombs, thousands of frames, SVG with external references, polyglots, mislabelled
// files, hostile metadata) through every interface: `phmatch hash` and `phmatch scan` over all of it in one run
// each, `phmatch check` on some of each kind, and the gate's POST /v1/check on all of it. Each input gets the
// answer it calls for (a typed decode or file error, or a hash where the file really is an image), the runs go
// on to the next file, the gate answers the next request, and nothing fetches the loopback canary or opens the
// canary FIFO the SVG and XML inputs name. The full corpus, with times and memory, is bench/hostile/run.mjs.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../../../test/support/conformance.js";
import { cleanEnv } from "../../../test/support/env.js";
import {
  HOSTILE_KINDS,
  hostileCorpus,
  meetsExpectation,
  writeCorpus,
} from "../../../test-fixtures/hostile/generate.mjs";
import { bin, runCli } from "./support/run-cli.js";

type Input = {
  name: string;
  kind: string;
  bytes: Uint8Array;
  expect: "error" | "hash" | "any";
  codes?: string[];
  note: string;
  path: string;
};
type Answer = { name: string; answer: string };

const demo = fixtures("hashsets/demo.phs");
const benign = fixtures("images/shapes.png");
const work = mkdtempSync(join(tmpdir(), "phmatch-hostile-"));
const env = cleanEnv({ PHMATCH_STATE_DIR: join(work, "state") });

// Canaries: an HTTP server on loopback and a FIFO; opening a FIFO for writing without blocking succeeds only
// while a reader has it open, so a poll sees any process that opens it.
const canaryRequests: string[] = [];
const canary = createServer((req, res) => {
  canaryRequests.push(`${req.method} ${req.url}`);
  res.writeHead(404).end();
});
canary.listen(0, "127.0.0.1");
await once(canary, "listening");
const fifo = join(work, "canary.fifo");
execFileSync("mkfifo", [fifo]);
let fifoOpens = 0;
const fifoWatch = setInterval(() => {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    fifoOpens++;
  } catch {
    // ENXIO: nobody reads it, as it must be
  }
}, 20);

const corpus = (await hostileCorpus({
  size: "fast",
  canary: { url: `http://127.0.0.1:${(canary.address() as { port: number }).port}/canary`, file: fifo },
})) as Omit<Input, "path">[];
const corpusDir = join(work, "corpus");
const paths = writeCorpus(corpusDir, corpus) as string[];
const inputs: Input[] = corpus.map((input, i) => ({ ...input, path: paths[i] as string }));
const byPath = new Map(inputs.map((i) => [i.path, i]));

afterAll(() => {
  clearInterval(fifoWatch);
  canary.close();
  rmSync(work, { recursive: true, force: true });
});

// The CLI runs in this process (its decoding in the pool's worker process, as always), so the event loop stays free
// and the FIFO canary keeps polling meanwhile.
const phmatch = (args: string[]) => runCli(args, { env });

// Inputs as it.each rows: each gets a test (and a time limit) of its own, named by kind and name.
const named = (list: Input[]) => list.map((input) => [`${input.kind}/${input.name}`, input] as const);

const misses = (answers: Answer[]) =>
  answers
    .map((a) => ({ ...a, input: inputs.find((i) => i.name === a.name) as Input }))
    .filter((a) => !meetsExpectation(a.input, a.answer))
    .map(
      (a) =>
        `${a.input.kind}/${a.name}: expected ${a.input.expect}` +
        `${a.input.codes ? ` (${a.input.codes.join("|")})` : ""}, got ${a.answer} [${a.input.note}]`,
    );

describe("the hostile corpus (fast subset)", () => {
  it("has every kind, a few dozen inputs or more, all distinct", () => {
    expect(new Set(inputs.map((i) => i.kind))).toEqual(new Set(HOSTILE_KINDS));
    expect(inputs.length).toBeGreaterThan(60);
    expect(new Set(inputs.map((i) => `${i.kind}/${i.name}`)).size).toBe(inputs.length);
  });

  it("is the same bytes each time (seeded)", async () => {
    const again = (await hostileCorpus({ size: "fast", kinds: ["bitflip"], canary: { url: "x", file: "y" } })) as Omit<
      Input,
      "path"
    >[];
    const first = inputs.filter((i) => i.kind === "bitflip");
    expect(again.map((i) => i.name)).toEqual(first.map((i) => i.name));
    expect(again.every((i, k) => Buffer.from(i.bytes).equals(Buffer.from((first[k] as Input).bytes)))).toBe(true);
  });
});

describe("phmatch hash over the whole fast corpus in one run", () => {
  it(
    "finishes with exit 2 (some inputs failed), one JSON record per file, " + "the benign image last and hashed",
    async () => {
      const result = await phmatch(["hash", "-j", "2", "--file-timeout", "60", corpusDir, benign]);
      const lines = result.stdout.trim().split("\n");
      expect(result.status).toBe(2);
      const records = lines.map(
        (l) => JSON.parse(l) as { path: string; hashes?: Record<string, string>; error?: { code: string } },
      );
      expect(records).toHaveLength(inputs.length + 1);
      expect(records.at(-1)).toMatchObject({ path: benign, hashes: { pdq: expect.stringMatching(/^[0-9a-f]{64}$/) } });
      expect(records.every((r) => r.error !== undefined || /^[0-9a-f]{64}$/.test(r.hashes?.pdq ?? ""))).toBe(true);
      expect(
        misses(
          records
            .filter((r) => r.path !== benign)
            .map((r) => ({ name: (byPath.get(r.path) as Input).name, answer: r.error?.code ?? "hash" })),
        ),
      ).toEqual([]);
    },
  );
});

describe("phmatch scan over the whole fast corpus in one run", () => {
  it("accounts for every input with a header and summary, exit 2", async () => {
    const result = await phmatch(["scan", "-q", "-j", "2", "--hashset", demo, corpusDir]);
    const lines = result.stdout
      .trim()
      .split("\n")
      .map(
        (l) =>
          JSON.parse(l) as { type: string; path?: string; status?: string; error?: { code: string }; files?: number },
      );
    expect(result.status).toBe(2);
    const files = lines.filter((l) => l.type === "file");
    expect(files).toHaveLength(inputs.length);
    expect(lines.at(-1)).toMatchObject({ type: "summary", files: inputs.length });
    expect(
      misses(
        files.map((f) => ({ name: (byPath.get(f.path as string) as Input).name, answer: f.error?.code ?? "hash" })),
      ),
    ).toEqual([]);
  });
});

describe("phmatch check, a few inputs of every kind", () => {
  // A process each, so not all of them: the first of each kind, the SVGs, and the bombs at and over the limit.
  const chosen = HOSTILE_KINDS.flatMap((kind) =>
    inputs.filter((i) => i.kind === kind).slice(0, kind === "svg" ? 4 : kind === "bomb" ? 3 : 1),
  );

  // One test per input, each with its own time limit: under load, one test for all of them ran out of time.
  it.each(named(chosen))("%s: exit 0, 1 or 2, a typed result as expected", async (_, input) => {
    const r = await phmatch(["check", "--json", "--hashset", demo, input.path]);
    expect([0, 1, 2], `${input.name}: exit ${r.status}, ${r.stderr}`).toContain(r.status);
    const result = JSON.parse(r.stdout) as { status: string; error?: { code: string } };
    expect(result.status).toMatch(/^(known|unseen|low_quality|error)$/);
    expect(misses([{ name: input.name, answer: result.error?.code ?? "hash" }])).toEqual([]);
  });
});

describe("phmatch serve: POST /v1/check with every input, and a benign upload after each", () => {
  let gate: ChildProcess;
  let url = "";
  beforeAll(async () => {
    mkdirSync(join(work, "serve-state"), { recursive: true });
    gate = spawn(
      process.execPath,
      [bin, "serve", "--port", "0", "--no-auth", "--hashset", demo, "--state-dir", join(work, "serve-state")],
      { env, stdio: ["ignore", "ignore", "pipe"] },
    );
    let err = "";
    gate.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    while (!/listening on (\S+)/.test(err)) {
      if (gate.exitCode !== null) throw new Error(`gate did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    url = (/listening on (\S+)/.exec(err) as RegExpExecArray)[1] as string;
  }, 60_000);
  afterAll(async () => {
    if (gate.exitCode !== null) return;
    gate.kill("SIGTERM");
    await once(gate, "exit");
  });
  const post = async (body: Uint8Array) => {
    const r = await fetch(`${url}/v1/check`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body,
    });
    return { status: r.status, body: (await r.json()) as { decision: string; reason_code: string } };
  };

  // One test per input, each with its own time limit (the gate stays up across them).
  const benignBytes = readFileSync(benign);
  it.each(named(inputs))(
    "%s: a decision or a typed error (4xx, never 5xx), then the benign one matches",
    async (_, input) => {
      const r = await post(input.bytes);
      expect(r.status, `${input.name}: ${JSON.stringify(r.body)}`).toBeLessThan(500);
      const answer = r.body.decision === "error" ? r.body.reason_code : "hash";
      expect(misses([{ name: input.name, answer }])).toEqual([]);
      expect((await post(benignBytes)).body.decision, `after ${input.name}`).toBe("match");
      expect(gate.exitCode).toBeNull();
    },
  );
});

describe("nothing fetched or opened what the SVG and XML inputs reference", () => {
  it("the canaries saw nothing", () => {
    expect(canaryRequests).toEqual([]);
    expect(fifoOpens).toBe(0);
  });

  it("and would have seen a fetch and an open (the canaries work)", async () => {
    await fetch(`http://127.0.0.1:${(canary.address() as { port: number }).port}/canary/self-test`);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    // Held open until the poller has seen it, however late its timer fires on a busy machine.
    while (fifoOpens === 0) await new Promise((r) => setTimeout(r, 20));
    closeSync(reader);
    expect(canaryRequests).toEqual(["GET /canary/self-test"]);
    expect(fifoOpens).toBeGreaterThan(0);
  });
});

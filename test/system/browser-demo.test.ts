// System test (needs Debian's chromium, installed by .ci/run; driven by playwright-core, no browser download):
// the device-side demo in a real browser. The page hashes each fixture with @phmatch/wasm and sends only the
// hashes to the demo backend, which asks `phmatch serve` (/v1/match) with its own token. For 8-bit opaque PNGs
// the browser's PDQ, pHash and dHash must equal `phmatch hash`; JPEGs are decoded by another decoder, so their
// distances are reported and PDQ must stay within the port tolerance (10 bits at quality >= 80). The test also
// checks every request the page made: no image bytes, no token. A screenshot after a match goes to test-results/.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page, type Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, projectRoot } from "../support/conformance.js";
import { cleanEnv } from "../support/env.js";

const CHROMIUM = "/usr/bin/chromium";
const bin = join(projectRoot, "packages/cli/bin/phmatch.js");
const demoServer = join(projectRoot, "packages/wasm-bindings/demo/server.mjs");
const work = mkdtempSync(join(tmpdir(), "phmatch-browser-"));
const TOKEN = "demo-backend-token-0123456789";
const ALGORITHMS = ["pdq", "phash", "dhash"] as const;

async function start(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, {
    cwd: projectRoot,
    env: cleanEnv(env),
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 20_000;
  while (!ready.test(err)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${args.join(" ")} did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url: ready.exec(err)![1] as string };
}

function hammingHex(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < a.length; i += 2) {
    let x = parseInt(a.slice(i, i + 2), 16) ^ parseInt(b.slice(i, i + 2), 16);
    while (x) {
      d += x & 1;
      x >>= 1;
    }
  }
  return d;
}

interface DemoState {
  checks: number;
  file: string;
  hashes: { hashes: Record<string, string>; quality?: Record<string, number>; dihedral?: Record<string, string[]> };
  decision: { decision: string; reason_code: string };
  hashMs: number;
}

describe("the device-side demo in Chromium", () => {
  let gate: { child: ChildProcess; url: string };
  let backend: { child: ChildProcess; url: string };
  let browser: Browser;
  let page: Page;
  const requests: Request[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); .ci/run does`);
    const tokens = join(work, "tokens.json");
    writeFileSync(
      tokens,
      JSON.stringify({
        tokens: [
          { name: "demo-backend", token: TOKEN, detail: "decision", matchAlgorithms: ["pdq"], ratePerMinute: 60_000 },
        ],
      }),
    );
    gate = await start(
      [
        bin,
        "serve",
        "--port",
        "0",
        "--hashset",
        fixtures("hashsets/demo.phs"),
        "--tokens",
        tokens,
        "--state-dir",
        join(work, "state"),
        "--no-watch",
      ],
      {},
      /listening on (\S+)/,
    );
    backend = await start([demoServer, "--port", "0"], { GATE_URL: gate.url, GATE_TOKEN: TOKEN }, /listening on (\S+)/);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    page = await browser.newPage();
    page.on("request", (r) => requests.push(r));
    await page.goto(backend.url);
    await page.waitForSelector("body[data-ready=true]");
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const p of [backend?.child, gate?.child]) {
      if (p !== undefined && p.exitCode === null) {
        p.kill("SIGTERM");
        await once(p, "exit");
      }
    }
    rmSync(work, { recursive: true, force: true });
  });

  async function check(file: string): Promise<DemoState> {
    const before = await page.evaluate(
      () => (globalThis as unknown as { phmatchDemo?: { checks: number } }).phmatchDemo?.checks ?? 0,
    );
    await page.setInputFiles("#file", fixtures(`images/${file}`));
    await page.waitForFunction(
      (n) => ((globalThis as unknown as { phmatchDemo?: { checks: number } }).phmatchDemo?.checks ?? 0) > n,
      before,
    );
    return page.evaluate(() => (globalThis as unknown as { phmatchDemo: DemoState }).phmatchDemo);
  }

  function server(file: string): {
    hashes: Record<string, string>;
    quality: Record<string, number>;
    dihedral: Record<string, string[]>;
  } {
    const r = spawnSync(
      process.execPath,
      [bin, "hash", "--dihedral", "-a", ALGORITHMS.join(","), fixtures(`images/${file}`)],
      { encoding: "utf8" },
    );
    return JSON.parse(r.stdout) as ReturnType<typeof server>;
  }

  const pngs = readdirSync(fixtures("images")).filter((f) => f.endsWith(".png") && !/alpha|16bit/.test(f));
  it.each(pngs)("hashes %s in the page exactly as phmatch hash does", async (file) => {
    const state = await check(file);
    const expected = server(file);
    expect(state.hashes).toEqual({ hashes: expected.hashes, quality: expected.quality, dihedral: expected.dihedral });
  });

  // CMYK JPEGs are left out of the tolerance: there the browser and phmatch (ImageMagick's formula, as the
  // reference decodes) convert CMYK to RGB differently, a colour-model difference rather than a decoder's.
  it(
    "keeps YCbCr JPEGs within the PDQ port tolerance of " + "phmatch hash (another decoder), and reports every JPEG",
    async () => {
      const rows: { file: string; pdq: number; quality: number; text: string }[] = [];
      for (const file of readdirSync(fixtures("images")).filter((f) => f.endsWith(".jpg"))) {
        const state = await check(file);
        const expected = server(file);
        const d = Object.fromEntries(
          ALGORITHMS.map((a) => [a, hammingHex(state.hashes.hashes[a] as string, expected.hashes[a] as string)]),
        );
        rows.push({
          file,
          pdq: d.pdq as number,
          quality: expected.quality.pdq ?? 0,
          text: `${file}: pdq ${d.pdq} (quality ${expected.quality.pdq}), phash ${d.phash}, dhash ${d.dhash}`,
        });
      }
      process.stderr.write(
        `browser vs phmatch hash, JPEG fixtures (Hamming distances):\n  ${rows.map((r) => r.text).join("\n  ")}\n`,
      );
      const ycbcr = rows.filter((r) => !r.file.includes("cmyk") && r.quality >= 80);
      expect(ycbcr.length).toBeGreaterThanOrEqual(3);
      for (const r of ycbcr) expect(r.pdq, r.file).toBeLessThanOrEqual(10);
    },
  );

  it(
    "answers through the gate: a listed image and its mirror " + "match, a new one does not; screenshot after a match",
    async () => {
      expect((await check("texture-grey.png")).decision).toEqual({ decision: "no_match", reason_code: "NO_MATCH" });
      expect((await check("shapes-mirror.png")).decision).toEqual({ decision: "match", reason_code: "LIST_MATCH" });
      expect((await check("shapes.png")).decision.decision).toBe("match");
      mkdirSync(join(projectRoot, "test-results"), { recursive: true });
      const shot = join(projectRoot, "test-results", "browser-demo-match.png");
      await page.screenshot({ path: shot, fullPage: true });
      expect(existsSync(shot)).toBe(true);
    },
  );

  it("never sent image bytes or a token: every request the page made carried hashes at most", () => {
    const posts = requests.filter((r) => r.method() !== "GET");
    expect(posts.length).toBeGreaterThan(5);
    for (const r of requests) {
      const body = r.postDataBuffer() ?? Buffer.alloc(0);
      const headers = JSON.stringify(r.headers()).toLowerCase();
      expect(headers).not.toContain("authorization");
      expect(headers + body.toString("latin1")).not.toContain(TOKEN);
      expect(new URL(r.url()).origin).toBe(new URL(backend.url).origin); // the page talks only to its own backend
      if (r.method() === "GET") continue;
      expect(r.url()).toMatch(/\/api\/check$/);
      expect(body.length).toBeLessThan(4096);
      const parsed = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
      expect(Object.keys(parsed).sort()).toEqual(["dihedral", "hashes", "quality"]);
      for (const magic of ["\x89PNG", "\xff\xd8\xff", "RIFF", "GIF8"])
        expect(body.toString("latin1")).not.toContain(magic);
    }
  });
});

// The WebAssembly kernels from pixels to hash, in Node and in Debian's Chromium (driven by playwright-core, no
// download), side by side in one run: a 12 MP (4240x2832) RGBA image of photo-like noise, generated in memory on
// each side from the same seed (never written to disk), hashed with PDQ alone, PDQ with its 8 dihedral variants,
// and PDQ + pHash + dHash with variants (what the demo page sends). One thread on each side.
// Usage: npm run bench:wasm [-- --rounds 5]   (needs /usr/bin/chromium: apt-get install chromium)
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { HashKernel, hashImage } from "@phmatch/wasm";
import { chromium } from "playwright-core";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "5" } } });
const ROUNDS = Number(values.rounds);
const WIDTH = 4240;
const HEIGHT = 2832;
const pkg = new URL("../../packages/wasm-bindings/", import.meta.url);

// Runs on both sides (serialised into the page): pixels, then timed hashing per configuration.
async function measure(HashKernelClass, hashImageFn, wasmBytes, width, height, rounds) {
  let s = 12345;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 24;
  };
  const data = new Uint8ClampedArray(width * height * 4);
  // Smooth blocks plus grain: photo-like enough for PDQ's quality, cheap to make.
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const base = ((x >> 6) * 37 + (y >> 6) * 91) & 255;
      data[o] = base ^ (next() & 15);
      data[o + 1] = (base * 3) & 255;
      data[o + 2] = 255 - base;
      data[o + 3] = 255;
    }
  }
  const kernel = await HashKernelClass.load(wasmBytes);
  const image = { width, height, data };
  const configs = {
    pdq: { algorithms: ["pdq"], dihedral: false },
    "pdq + 8 variants": { algorithms: ["pdq"], dihedral: true },
    "pdq + phash + dhash, variants (the demo page)": { algorithms: ["pdq", "phash", "dhash"], dihedral: true },
  };
  const out = {};
  for (const [name, options] of Object.entries(configs)) {
    hashImageFn(kernel, image, options); // warm-up (compilation tiers)
    const times = [];
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      hashImageFn(kernel, image, options);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    out[name] = times[Math.floor(times.length / 2)];
  }
  return out;
}

const wasm = await readFile(new URL("build/phmatch.wasm", pkg));
process.stderr.write(`Node: ${ROUNDS} rounds per configuration ...\n`);
const node = await measure(HashKernel, hashImage, wasm, WIDTH, HEIGHT, ROUNDS);

// The browser side: a loopback server for the package's module files and the kernel.
const server = createServer(async (req, res) => {
  const files = {
    "/": ["<!doctype html><title>bench</title>", "text/html"],
    "/phmatch.wasm": [new URL("build/phmatch.wasm", pkg), "application/wasm"],
  };
  for (const f of ["index.js", "record.js", "hamming.js", "orientation.js"])
    files[`/dist/${f}`] = [new URL(`dist/${f}`, pkg), "text/javascript"];
  const entry = files[req.url];
  if (entry === undefined) return void res.writeHead(404).end();
  res
    .writeHead(200, { "content-type": entry[1] })
    .end(typeof entry[0] === "string" ? entry[0] : await readFile(entry[0]));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
let version;
let inBrowser;
try {
  version = browser.version();
  const page = await browser.newPage();
  await page.goto(base);
  process.stderr.write(`Chromium ${version}: ${ROUNDS} rounds per configuration ...\n`);
  inBrowser = await page.evaluate(
    async ({ source, width, height, rounds }) => {
      const { HashKernel, hashImage } = await import("/dist/index.js");
      const bytes = await (await fetch("/phmatch.wasm")).arrayBuffer();
      const fn = new Function(`return (${source})`)();
      return fn(HashKernel, hashImage, bytes, width, height, rounds);
    },
    { source: measure.toString(), width: WIDTH, height: HEIGHT, rounds: ROUNDS },
  );
} finally {
  await browser.close();
  server.close();
}

console.log(
  `\nWebAssembly kernels, pixels to hash, ${WIDTH}x${HEIGHT} (12.0 MP) RGBA, one thread, median of ${ROUNDS}: Node ` +
    `${process.version} vs Chromium ${version}\n`,
);
console.log("| hashes | Node ms | Node MP/s | Chromium ms | Chromium MP/s | Chromium / Node |");
console.log("|---|---:|---:|---:|---:|---:|");
const mp = (WIDTH * HEIGHT) / 1e6;
for (const name of Object.keys(node)) {
  console.log(
    `| ${name} | ${node[name].toFixed(0)} | ${(mp / (node[name] / 1000)).toFixed(0)} | ` +
      `${inBrowser[name].toFixed(0)} | ${(mp / (inBrowser[name] / 1000)).toFixed(0)} | ` +
      `${(inBrowser[name] / node[name]).toFixed(2)}x |`,
  );
}

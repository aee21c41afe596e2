// The demo backend, standing in for a platform's own server: serves the page and @phmatch/wasm, and turns the
// page's hashes into a decision by calling the upload gate's POST /v1/match with its server-side token. The page
// never holds the token and never uploads the image.
// Usage: GATE_URL=http://127.0.0.1:8080 GATE_TOKEN=... node packages/wasm-bindings/demo/server.mjs [--port 8090]
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT ?? "8090" },
    host: { type: "string", default: "127.0.0.1" },
  },
});
const gate = process.env.GATE_URL ?? "http://127.0.0.1:8080";
const token = process.env.GATE_TOKEN;
if (token === undefined || token === "")
  throw new Error(
    'set GATE_TOKEN to a token of the gate (a decision token with "matchAlgorithms":["pdq"] and a "ratePerMinute" is enough)',
  );

const here = new URL("./", import.meta.url);
const pkg = new URL("../", import.meta.url);
const files = {
  "/": [new URL("index.html", here), "text/html; charset=utf-8"],
  "/page.js": [new URL("page.js", here), "text/javascript"],
  "/pkg/build/phmatch.wasm": [new URL("build/phmatch.wasm", pkg), "application/wasm"],
};
// Every module of the built package (a fixed list once missed two modules a refactor added): the names are the
// build's own, read once at start, and only those are served.
for (const f of readdirSync(new URL("dist/", pkg)).filter((name) => /^[a-z-]+\.js$/.test(name)))
  files[`/pkg/dist/${f}`] = [new URL(`dist/${f}`, pkg), "text/javascript"];

const server = createServer(async (req, res) => {
  try {
    if (req.method === "GET" && files[req.url] !== undefined) {
      const [file, type] = files[req.url];
      res.writeHead(200, { "content-type": type, "cache-control": "no-store" }).end(await readFile(file));
      return;
    }
    if (req.method === "POST" && req.url === "/api/check") {
      // Hashes are small: anything big is not what this page sends.
      let body = "";
      for await (const chunk of req) {
        body += chunk;
        if (body.length > 16_384) return void res.writeHead(413).end();
      }
      // Only PDQ goes on: the gate lets a decision token send 256-bit hashes, never the 64-bit pHash and dHash the
      // page also computes (random 64-bit values find listed entries; SECURITY.md).
      let record;
      try {
        record = JSON.parse(body);
      } catch {
        return void res.writeHead(400).end();
      }
      const pdq = { hashes: { pdq: record?.hashes?.pdq } };
      if (record?.quality?.pdq !== undefined) pdq.quality = { pdq: record.quality.pdq };
      if (record?.dihedral?.pdq !== undefined) pdq.dihedral = { pdq: record.dihedral.pdq };
      const answer = await fetch(`${gate}/v1/match`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(pdq),
      });
      const { decision, reason_code } = await answer.json();
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ decision, reason_code }));
      return;
    }
    res.writeHead(404).end();
  } catch (error) {
    res
      .writeHead(502, { "content-type": "application/json" })
      .end(JSON.stringify({ decision: "error", reason_code: "GATE_UNREACHABLE" }));
    process.stderr.write(`demo backend: ${error.message}\n`);
  }
});
server.listen(Number(values.port), values.host, () => {
  const { port } = server.address();
  process.stderr.write(`demo backend listening on http://${values.host}:${port} (gate ${gate})\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));

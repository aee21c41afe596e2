// Bundles the `phmatch` command into dist/bundle/: the CLI, the core and the kernels' JavaScript as a few files
// instead of about 200 ES modules. On Node 20 resolving and linking each module costs a millisecond or two on one
// core, which every `phmatch check` of an upload paid before it read a byte (`npm run bench`, start-up rows).
// Three entries, flat in one folder so the core's `new URL("./pool-host.js", import.meta.url)` finds its
// siblings: phmatch.js (the command), pool-host.js (the supervised worker process) and hash-worker.js (its
// threads). Pure JavaScript dependencies (commander, the list readers' parsers) are bundled in; the EXTERNAL ones
// stay in node_modules (native code or files of their own, or loaded only by serve and the queue) and are
// dependencies of this package, so they resolve from here; the files the code reads beside itself with
// `new URL("<relative>", import.meta.url)` (schemas, package.json, the .wasm kernels) are copied to assets/ and the
// URL rewritten to them, so the bundle reads the same bytes the modules would.
// Usage: node scripts/bundle.mjs (run by `npm run build`, after tsc).
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { rolldown } from "rolldown";

const here = dirname(fileURLToPath(import.meta.url));
const cli = resolve(here, "..");
const packages = resolve(cli, "..");
const out = resolve(cli, "dist/bundle");
const core = resolve(packages, "core/dist");

const entries = {
  phmatch: resolve(cli, "dist/bin.js"),
  "pool-host": resolve(core, "pool/pool-host.js"),
  "hash-worker": resolve(core, "pool/hash-worker.js"),
  "rematch-child": resolve(cli, "dist/serve/rematch-child.js"),
};
/** Resolved from node_modules at run time; each must be a dependency in package.json (checked below). */
const EXTERNAL = [
  "sharp",
  "piscina",
  "libheif-js",
  "fastify",
  "@fastify/multipart",
  "bullmq",
  "ioredis",
  "node-sqlite3-wasm",
];
const declared = JSON.parse(readFileSync(resolve(cli, "package.json"), "utf8")).dependencies ?? {};
for (const name of EXTERNAL) {
  if (declared[name] === undefined) throw new Error(`${name} is left external but is not a dependency of @phmatch/cli`);
}
const isExternal = (id) => id.startsWith("node:") || EXTERNAL.some((name) => id === name || id.startsWith(`${name}/`));

const entryNames = new Map(Object.entries(entries).map(([name, file]) => [file, name]));

/** `new URL("<relative>", import.meta.url)` in a bundled module: an entry, or a file copied to assets/. */
const siblingUrls = {
  name: "phmatch-sibling-urls",
  transform(code, id) {
    if (!code.includes("import.meta.url")) return null;
    const pattern = /new URL\((["'])(\.{1,2}\/[^"']+)\1, import\.meta\.url\)/g;
    let changed = false;
    const rewritten = code.replace(pattern, (match, _quote, target) => {
      const file = resolve(dirname(id), target);
      const entry = entryNames.get(file);
      if (entry !== undefined) {
        changed = true;
        return `new URL("./${entry}.js", import.meta.url)`;
      }
      if (!existsSync(file)) throw new Error(`${id}: ${match} names ${file}, which does not exist`);
      const asset = relative(packages, file).replaceAll("/", "__");
      mkdirSync(resolve(out, "assets"), { recursive: true });
      copyFileSync(file, resolve(out, "assets", asset));
      changed = true;
      return `new URL("./assets/${asset}", import.meta.url)`;
    });
    // Any other URL built from the module's own location would point into dist/bundle/ and miss: refuse to
    // build rather than ship it.
    const left = [...rewritten.matchAll(/new URL\(([^()]*), import\.meta\.url\)/g)].filter(
      ([, target]) => !/^"\.\/(assets\/[^"]+|[a-z-]+\.js)"$/.test(target),
    );
    if (left.length > 0) throw new Error(`${id}: cannot bundle ${left.map(([m]) => m).join(", ")}`);
    return changed ? { code: rewritten, map: null } : null;
  },
};

rmSync(out, { recursive: true, force: true });
const bundle = await rolldown({
  input: entries,
  platform: "node",
  external: isExternal,
  plugins: [siblingUrls],
  logLevel: "warn",
});
await bundle.write({
  dir: out,
  format: "esm",
  entryFileNames: "[name].js",
  chunkFileNames: "[name]-[hash].js",
  sourcemap: false,
});
await bundle.close();
console.error(`phmatch: bundled ${Object.keys(entries).join(", ")} into ${relative(process.cwd(), out)}/`);

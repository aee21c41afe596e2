// The robustness corpus: benign photographs and artwork from Debian's wallpaper packages, fetched with
// `apt-get download` (no root needed) into bench/.cache/robustness and unpacked there; nothing is committed.
// Each source image (at least 1000 px on its long side) becomes up to twenty 384x384 tiles (cover-resized to
// 1920x1536, cut 5x4), which behave as distinct photographs of one style; featureless and look-alike tiles are
// left out by pixel statistics alone, so no hasher is favoured. Sources are split
// into known and distractor by source, so no tile of a known image's source is a distractor. Near-duplicate
// sources (the same wallpaper shipped by two packages, or at two sizes) are dropped by PDQ distance.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { hammingDistance, hashImageBytes } from "@phmatch/core";
import sharp from "sharp";

export const PACKAGES = [
  "gnome-backgrounds",
  "mate-backgrounds",
  "plasma-workspace-wallpapers",
  "lomiri-wallpapers",
  "lomiri-wallpapers-16.04",
  "lomiri-wallpapers-20.04",
  "ukui-wallpapers",
  "sway-backgrounds",
  "desktop-base",
  "lxqt-themes",
];
const MIN_SIDE = 1000;
const TILE = 384;
const GRID_X = 5;
const GRID_Y = 4;
const MIN_STDEV = 20;
const MIN_ENTROPY = 5;
const MIN_THUMB_DIFFERENCE = 8;

function meanAbsoluteDifference(a, b) {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

const cache = new URL("../.cache/robustness/", import.meta.url).pathname;

/** Downloads and unpacks the packages once; returns the directory holding their files. */
export function fetchPackages(log) {
  const debs = join(cache, "debs");
  const root = join(cache, "files");
  mkdirSync(debs, { recursive: true });
  const have = readdirSync(debs).filter((f) => f.endsWith(".deb"));
  const missing = PACKAGES.filter((p) => !have.some((f) => f.startsWith(`${p}_`)));
  if (missing.length > 0) {
    log(`apt-get download ${missing.join(" ")} ...`);
    execFileSync("apt-get", ["download", ...missing], { cwd: debs, stdio: ["ignore", "ignore", "inherit"] });
  }
  mkdirSync(join(root, ".unpacked"), { recursive: true });
  for (const f of readdirSync(debs).filter((x) => x.endsWith(".deb"))) {
    if (existsSync(join(root, ".unpacked", f))) continue;
    execFileSync("dpkg-deb", ["-x", join(debs, f), root]);
    writeFileSync(join(root, ".unpacked", f), "");
  }
  return root;
}

function walk(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

// Candidate source files: raster images in the wallpaper and boot-splash folders; for KDE's wallpaper packages
// only the light variant at its largest size; GNOME's dark variants left out (the light one is kept).
export function candidates(root) {
  const files = walk(join(root, "usr/share")).filter(
    (p) =>
      /\.(jpe?g|png|webp)$/i.test(p) && /\/(backgrounds|wallpapers|plymouth|desktop-base|lxqt\/wallpapers)\//.test(p),
  );
  const byTheme = new Map();
  const out = [];
  for (const p of files) {
    if (/screenshot|images_dark|-d\.webp$|logo|icon|emblem/i.test(p)) continue;
    const kde = /wallpapers\/([^/]+)\/contents\/images\/(\d+)x(\d+)\./.exec(p);
    if (kde !== null) {
      const area = Number(kde[2]) * Number(kde[3]);
      const best = byTheme.get(kde[1]);
      if (best === undefined || area > best.area) byTheme.set(kde[1], { p, area });
      continue;
    }
    out.push(p);
  }
  return [...out, ...[...byTheme.values()].map((b) => b.p)].sort();
}

/**
 * The corpus: `known` and `distractor` tiles (PNG bytes, with their source), from sources split alternately
 * after sorting by a hash of their path (stable, and not by package). Made once and cached as PNG tiles.
 */
export async function buildCorpus(log) {
  const tilesDir = join(cache, `tiles-${TILE}-${GRID_X}x${GRID_Y}-${MIN_STDEV}-${MIN_ENTROPY}-${MIN_THUMB_DIFFERENCE}`);
  if (existsSync(join(tilesDir, "manifest.json"))) {
    const manifest = JSON.parse(readFileSync(join(tilesDir, "manifest.json"), "utf8"));
    const load = (list) => list.map((t) => ({ id: t.id, png: readFileSync(join(tilesDir, t.file)) }));
    const corpus = { known: load(manifest.known), distractor: load(manifest.distractor), sources: manifest.sources };
    log(
      `corpus (cached in ${relative(process.cwd(), tilesDir)}): ${corpus.sources} sources -> ` +
        `${corpus.known.length} known and ${corpus.distractor.length} distractor tiles`,
    );
    return corpus;
  }
  const corpus = await makeCorpus(log);
  mkdirSync(tilesDir, { recursive: true });
  const save = (list, kind) =>
    list.map((t, i) => {
      writeFileSync(join(tilesDir, `${kind}-${i}.png`), t.png);
      return { id: t.id, file: `${kind}-${i}.png` };
    });
  writeFileSync(
    join(tilesDir, "manifest.json"),
    JSON.stringify({
      sources: corpus.sources,
      known: save(corpus.known, "known"),
      distractor: save(corpus.distractor, "distractor"),
    }),
  );
  return corpus;
}

async function makeCorpus(log) {
  const root = fetchPackages(log);
  const sources = [];
  for (const path of candidates(root)) {
    const meta = await sharp(path)
      .metadata()
      .catch(() => undefined);
    if (
      meta === undefined ||
      Math.min(meta.width ?? 0, meta.height ?? 0) < MIN_SIDE * 0.6 ||
      Math.max(meta.width ?? 0, meta.height ?? 0) < MIN_SIDE
    )
      continue;
    const small = await sharp(path).resize(512, 512, { fit: "fill" }).png().toBuffer();
    const pdq = (await hashImageBytes(small, path, { algorithms: ["pdq"] })).hashes?.pdq;
    if (pdq === undefined) continue;
    const bytes = new Uint8Array(Buffer.from(pdq, "hex"));
    if (sources.some((s) => hammingDistance(s.pdq, bytes) <= 48)) continue; // a near-duplicate source
    sources.push({ path, name: relative(root, path), pdq: bytes });
  }
  const order = sources
    .map((s) => ({ s, key: [...s.name].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7) }))
    .sort((a, b) => a.key - b.key);
  const known = [];
  const distractor = [];
  const kept = [];
  let featureless = 0;
  let similar = 0;
  for (const [i, { s }] of order.entries()) {
    const page = await sharp(s.path)
      .removeAlpha()
      .resize(GRID_X * TILE, GRID_Y * TILE, { fit: "cover" })
      .raw()
      .toBuffer({ resolveWithObject: true });
    for (let ty = 0; ty < GRID_Y; ty++) {
      for (let tx = 0; tx < GRID_X; tx++) {
        const tile = sharp(page.data, { raw: page.info }).extract({
          left: tx * TILE,
          top: ty * TILE,
          width: TILE,
          height: TILE,
        });
        // Hasher-neutral filters: tiles with too little detail to be a photograph's worth of content (flat sky,
        // a plain gradient), and tiles that look like one already taken (repeated patterns), by pixels alone.
        const grey = await tile.clone().greyscale().resize(16, 16, { fit: "fill" }).raw().toBuffer();
        const stats = await tile.clone().stats();
        const std = stats.channels.reduce((sum, c) => sum + c.stdev, 0) / stats.channels.length;
        if (std < MIN_STDEV || stats.entropy < MIN_ENTROPY) {
          featureless++;
          continue;
        }
        if (kept.some((g) => meanAbsoluteDifference(g, grey) < MIN_THUMB_DIFFERENCE)) {
          similar++;
          continue;
        }
        kept.push(grey);
        const png = await tile.png().toBuffer();
        (i % 2 === 0 ? known : distractor).push({ id: `${s.name}#${ty * GRID_X + tx}`, png });
      }
    }
  }
  log(
    `tiles: ${featureless} left out as featureless (stdev < ${MIN_STDEV} or entropy < ${MIN_ENTROPY}), ${similar} ` +
      `as looking like another (16x16 thumbnails within ${MIN_THUMB_DIFFERENCE} levels)`,
  );
  log(
    `corpus: ${sources.length} sources from ${PACKAGES.length} Debian packages -> ${known.length} known and ` +
      `${distractor.length} distractor tiles of ${TILE}x${TILE}`,
  );
  return { known, distractor, sources: sources.length };
}

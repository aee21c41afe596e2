// The robustness corpus: benign photographs and artwork from Debian's wallpaper packages, fetched with
// `apt-get download` (no root needed) into bench/.cache/robustness and unpacked there; nothing is committed.
// Each source image (at least 1200 px on its short side... or long side, see MIN_SIDE) becomes six 512x512 tiles
// (cover-resized to 1536x1024, cut 3x2), which behave as distinct photographs of one style. Sources are split
// into known and distractor by source, so no tile of a known image's source is a distractor. Near-duplicate
// sources (the same wallpaper shipped by two packages, or at two sizes) are dropped by PDQ distance.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import sharp from "sharp";
import { hashImageBytes, hammingDistance } from "@phmatch/core";

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
];
const MIN_SIDE = 1000;
const TILE = 512;

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
  if (!existsSync(join(root, ".done"))) {
    mkdirSync(root, { recursive: true });
    for (const f of readdirSync(debs).filter((x) => x.endsWith(".deb"))) execFileSync("dpkg-deb", ["-x", join(debs, f), root]);
    execFileSync("touch", [join(root, ".done")]);
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
function candidates(root) {
  const files = walk(join(root, "usr/share")).filter((p) => /\.(jpe?g|png|webp)$/i.test(p) && /\/(backgrounds|wallpapers|plymouth|desktop-base)\//.test(p));
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
 * The corpus: `known` and `distractor` tiles (PNG bytes in memory, with their source), from sources split
 * alternately after sorting by a hash of their path (stable, and not by package).
 */
export async function buildCorpus(log) {
  const root = fetchPackages(log);
  const sources = [];
  for (const path of candidates(root)) {
    const meta = await sharp(path).metadata().catch(() => undefined);
    if (meta === undefined || Math.min(meta.width ?? 0, meta.height ?? 0) < MIN_SIDE * 0.6 || Math.max(meta.width ?? 0, meta.height ?? 0) < MIN_SIDE) continue;
    const small = await sharp(path).resize(512, 512, { fit: "fill" }).png().toBuffer();
    const pdq = (await hashImageBytes(small, path, { algorithms: ["pdq"] })).hashes?.pdq;
    if (pdq === undefined) continue;
    const bytes = new Uint8Array(Buffer.from(pdq, "hex"));
    if (sources.some((s) => hammingDistance(s.pdq, bytes) <= 48)) continue; // a near-duplicate source
    sources.push({ path, name: relative(root, path), pdq: bytes });
  }
  const order = sources.map((s) => ({ s, key: [...s.name].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7) })).sort((a, b) => a.key - b.key);
  const known = [];
  const distractor = [];
  for (const [i, { s }] of order.entries()) {
    const page = await sharp(s.path).removeAlpha().resize(3 * TILE, 2 * TILE, { fit: "cover" }).raw().toBuffer({ resolveWithObject: true });
    for (let ty = 0; ty < 2; ty++) {
      for (let tx = 0; tx < 3; tx++) {
        const png = await sharp(page.data, { raw: page.info }).extract({ left: tx * TILE, top: ty * TILE, width: TILE, height: TILE }).png().toBuffer();
        (i % 2 === 0 ? known : distractor).push({ id: `${s.name}#${ty * 3 + tx}`, png });
      }
    }
  }
  log(`corpus: ${sources.length} sources from ${PACKAGES.length} Debian packages -> ${known.length} known and ${distractor.length} distractor tiles of ${TILE}x${TILE}`);
  return { known, distractor, sources: sources.length };
}


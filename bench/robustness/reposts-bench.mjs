// The re-post section of the robustness benchmark (issue 19): the edits of reposts.mjs, parameters drawn per image
// from a seed, measured with the default matcher and default query views against the list a hotline ships (PDQ,
// MD5, SHA-1 of the originals) and against a list built as `hashset build --augment` does. Sources are split into
// a tune set and a report set by a stable hash of the source's name (not of the tile), so that no tile of a source
// one tuned on is reported; the table reports one set and says which.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { hammingDistance, hashImageBytes } from "@phmatch/core";
import sharp from "sharp";
import { measureFalsePairs, printFalsePairs, withoutParts } from "./false-matches.mjs";
import { hexToBytes, listMatcher } from "./lists.mjs";
import { drawFor, REPOSTS } from "./reposts.mjs";
import { SIZE } from "./transforms.mjs";

const FPR = 1e-4;
const PLAIN = ["pdq", "md5", "sha1"];
const AUGMENTED = ["pdq", "phash16", "md5", "sha1"];
const pct = (n, of) => (of === 0 ? "n/a" : `${((100 * n) / of).toFixed(1)}%`);

/** `tune` or `report`, from the source's name (a tile id is `source#n`); salted so as not to follow corpus.mjs. */
export function setOf(tileId) {
  const source = tileId.slice(0, tileId.lastIndexOf("#"));
  return createHash("sha256").update(`issue-19 split\u0000${source}`).digest()[0] % 2 === 0 ? "tune" : "report";
}

// Queries as `phmatch scan` checks them by default (dihedral variants, trimmed content, rotation hypotheses,
// parts); list images as `hashset build --augment` hashes them (sub-windows).
const hashQuery = (bytes, name) =>
  hashImageBytes(bytes, name, { algorithms: AUGMENTED, dihedral: true, trim: true, rotations: true, parts: true });
const hashListed = (bytes, name) =>
  hashImageBytes(bytes, name, { algorithms: AUGMENTED, dihedral: true, augment: true });

const matchesOf = (matcher, record) => matcher.match(record).matches.filter((h) => h.override === undefined);

// Every PDQ hash a query record carries, labelled by the view it comes from.
function pdqQueries(r) {
  const out = [];
  const add = (view, hashes, dihedral) => {
    if (hashes?.pdq !== undefined) out.push([view, hexToBytes(hashes.pdq)]);
    for (const v of dihedral?.pdq ?? []) out.push([`${view} (dihedral)`, hexToBytes(v)]);
  };
  add("whole", r.hashes, r.dihedral);
  add("trimmed", r.trimmed?.hashes, r.trimmed?.dihedral);
  for (const x of r.rotated ?? []) add("rotated", x.hashes, x.dihedral);
  for (const x of r.parts ?? []) add("part", x.hashes);
  return out;
}

const near = (a, b) => a.every((v, i) => Math.abs(v - b[i]) <= 2);
const tally = () => ({ plain: 0, augmented: 0, boxes: 0, trimmedExact: 0, foundWhenExact: 0, missedBoxes: [] });

/**
 * Runs the section on `corpus` (corpus.mjs) and prints its markdown to stdout; `log` gets progress.
 * Options: seed (number), set ("report" or "tune"), known and distractors (limits, for short runs).
 */
export async function runReposts(corpus, { seed, set = "report", known: knownLimit, distractors: dLimit }, log) {
  const started = performance.now();
  const inSet = (t) => setOf(t.id) === set;
  const sources = (list) => new Set(list.filter(inSet).map((t) => t.id.slice(0, t.id.lastIndexOf("#")))).size;
  const known = [];
  const listed = [];
  let lowQuality = 0;
  for (const k of corpus.known.filter(inSet)) {
    if (known.length >= (knownLimit ?? Infinity)) break;
    const r = await hashListed(k.png, k.id);
    // A PDQ list leaves out hashes of quality below 50 (too little detail), so a list maker would not list these.
    if ((r.quality?.pdq ?? 0) < 50) {
      lowQuality++;
      continue;
    }
    known.push(k);
    listed.push(r);
  }
  const distractors = corpus.distractor.filter(inSet).slice(0, dLimit ?? Infinity);
  log(
    `re-posts: ${set} set, ${known.length} known and ${distractors.length} distractor tiles; hashing distractors ...`,
  );
  const distractorRecords = [];
  for (const d of distractors) distractorRecords.push(await hashQuery(d.png, d.id));
  // check, scan and serve look up the part views only in lists that hold sub-windows (partsCanMatch): the plain
  // list is matched without them.
  const matchOn = (name, record) => matchesOf(lists[name], name === "plain" ? withoutParts(record) : record);
  const lists = {
    plain: listMatcher(listed, { algorithms: PLAIN, listId: "reposts" }),
    augmented: listMatcher(listed, { algorithms: AUGMENTED, augment: true, listId: "reposts" }),
  };
  // The false-match budget also takes the other set's distractors: nothing is tuned on false matches, and more
  // pairs reach further into the tail. Each distractor is hashed once.
  const budgetStarted = performance.now();
  const others = corpus.distractor.filter((t) => !inSet(t)).slice(0, dLimit ?? Infinity);
  log(`re-posts: hashing ${others.length} distractor tiles of the other set for the false-match budget ...`);
  const otherRecords = [];
  for (const d of others) otherRecords.push(await hashQuery(d.png, d.id));
  const pool = [...distractorRecords, ...otherRecords];
  const poolFlagged = { plain: 0, augmented: 0 };
  for (const d of pool) for (const name of Object.keys(lists)) if (matchOn(name, d).length > 0) poolFlagged[name]++;
  const falsePairs = measureFalsePairs({
    listed,
    distractors: pool,
    policies: lists.augmented.policies,
    algorithms: ["pdq", "phash16"],
  });
  const budgetSeconds = ((performance.now() - budgetStarted) / 1000).toFixed(0);

  // Pairwise PDQ: the largest distance t with at most FPR of distractor-known whole-image pairs within it.
  const knownPdq = listed.map((r) => hexToBytes(r.hashes.pdq));
  const histogram = new Array(257).fill(0);
  for (const d of distractorRecords) {
    const q = hexToBytes(d.hashes.pdq);
    for (const k of knownPdq) histogram[hammingDistance(q, k)]++;
  }
  const pairs = known.length * distractors.length;
  let t = -1;
  for (let d = 0, sum = 0; d <= 256; d++) {
    sum += histogram[d];
    if (sum / pairs > FPR) break;
    t = d;
  }

  // Distractors: flagged per list, false matches by algorithm and query view, closest PDQ distance per view.
  const flagged = { plain: 0, augmented: 0 };
  const falseByView = new Map();
  for (const d of distractorRecords)
    for (const name of Object.keys(lists)) {
      const hits = matchOn(name, d);
      if (hits.length > 0) flagged[name]++;
      for (const h of hits) {
        const key = `${name} list: ${h.algorithm}, query ${h.query ?? "whole"}${h.part ? ` ${h.part}` : ""}`;
        falseByView.set(key, (falseByView.get(key) ?? 0) + 1);
      }
    }
  const listPdq = {
    plain: knownPdq,
    augmented: listed.flatMap((r) => [r.hashes.pdq, ...(r.windows ?? []).map((w) => w.hashes.pdq)].map(hexToBytes)),
  };
  const closest = { plain: new Map(), augmented: new Map() };
  for (const d of distractorRecords)
    for (const name of ["plain", "augmented"])
      for (const [view, q] of pdqQueries(name === "plain" ? withoutParts(d) : d)) {
        let min = closest[name].get(view) ?? 256;
        for (const k of listPdq[name]) min = Math.min(min, hammingDistance(q, k));
        closest[name].set(view, min);
      }

  // Recall per edit: the edited image as PNG (the edit alone), then re-encoded as JPEG at a quality drawn from 60
  // to 90 (as a re-post is), since compression ringing at the picture's edge changes what trimming finds.
  const rows = [];
  for (const [edit, apply] of Object.entries(REPOSTS)) {
    const row = { edit, png: tally(), jpeg: tally(), pdqAtFpr: 0 };
    for (const [i, k] of known.entries()) {
      const out = await apply(k.png, drawFor(seed, k.id, edit));
      if (i === 0) row.example = out.params;
      const quality = drawFor(seed, k.id, `${edit} jpeg`).integer(60, 90);
      const jpeg = await sharp(out.png).jpeg({ quality }).toBuffer();
      for (const [encoding, bytes] of [
        ["png", out.png],
        ["jpeg", jpeg],
      ]) {
        const r = await hashQuery(bytes, `${k.id} ${edit} ${encoding}`);
        const c = row[encoding];
        const plainHit = matchOn("plain", r).some((h) => h.entryId === String(i));
        if (plainHit) c.plain++;
        if (matchOn("augmented", r).some((h) => h.entryId === String(i))) c.augmented++;
        if (encoding === "png" && hammingDistance(hexToBytes(r.hashes.pdq), knownPdq[i]) <= t) row.pdqAtFpr++;
        if (out.box === undefined) continue;
        c.boxes++;
        if (r.trimmed !== undefined && near(r.trimmed.box, out.box)) {
          c.trimmedExact++;
          if (plainHit) c.foundWhenExact++;
        } else if (!plainHit && c.missedBoxes.length < 3)
          c.missedBoxes.push(`${JSON.stringify(r.trimmed?.box ?? "none")} for ${JSON.stringify(out.box)}`);
      }
    }
    rows.push(row);
    log(
      `${edit}: plain ${pct(row.png.plain, known.length)} (jpeg ${pct(row.jpeg.plain, known.length)}), ` +
        `augmented ${pct(row.png.augmented, known.length)} (jpeg ${pct(row.jpeg.augmented, known.length)})`,
    );
  }

  const root = new URL("../..", import.meta.url).pathname;
  const git = (...args) => spawnSync("git", args, { cwd: root, encoding: "utf8" }).stdout.trim();
  const dirty = git("status", "--porcelain", "--untracked-files=no") !== "";
  const commit = `${git("rev-parse", "--short", "HEAD")}${dirty ? " (with uncommitted changes)" : ""}`;
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  const print = (line = "") => console.log(line);
  print(`\n## Re-posts, parameters drawn at random per image (issue 19)\n`);
  print(
    `Seed ${seed}; ${set} set: ${known.length} known tiles from ${sources(corpus.known)} sources ` +
      `(${lowQuality} of PDQ quality < 50 left out) and ${distractors.length} distractor tiles from ` +
      `${sources(corpus.distractor)} sources; ${SIZE}x${SIZE} tiles of Debian wallpapers; commit ${commit}; ` +
      `Node ${process.version}; ${seconds} s.`,
  );
  print(
    `Default matcher and default query views; plain list = PDQ, MD5, SHA-1 of the originals; augmented list = ` +
      `\`hashset build --augment\`. PDQ alone: whole-image PDQ at d <= ${t}, the distance with at most ${FPR} of ` +
      `the ${pairs.toLocaleString("en")} distractor-known pairs.\n`,
  );
  const n = known.length;
  const listHashes = (r) => [r.hashes, ...(r.windows ?? []).map((w) => w.hashes)].filter((h) => h.pdq).length;
  print(
    `List size: the plain list holds 1 PDQ hash per listed image, the augmented list ` +
      `${(listed.reduce((sum, r) => sum + listHashes(r), 0) / n).toFixed(1)} (the whole image and its sub-windows).\n`,
  );
  print(
    `| edit | plain list | augmented list | plain list, JPEG | augmented list, JPEG | PDQ alone, FPR ${FPR} | ` +
      `trim finds the picture (PNG / JPEG) | example (first image) |`,
  );
  print("|---|---:|---:|---:|---:|---:|---:|---|");
  for (const r of rows)
    print(
      `| ${r.edit} | ${pct(r.png.plain, n)} | ${pct(r.png.augmented, n)} | ${pct(r.jpeg.plain, n)} | ` +
        `${pct(r.jpeg.augmented, n)} | ${pct(r.pdqAtFpr, n)} | ` +
        `${r.png.boxes === 0 ? "" : `${pct(r.png.trimmedExact, n)} / ${pct(r.jpeg.trimmedExact, n)}`} | ` +
        `${r.example.replaceAll("|", "/")} |`,
    );
  print(
    `| **distractors flagged** | ${pct(flagged.plain, distractors.length)} | ` +
      `${pct(flagged.augmented, distractors.length)} | | | | | |`,
  );
  print(
    `\nJPEG: the edited image re-encoded at a quality drawn from 60 to 90. "trim finds the picture": the trimmed ` +
      `view's box is the picture's to 2 px. Found with the plain list when it does (PNG, JPEG): ` +
      rows
        .filter((r) => r.png.boxes > 0)
        .map(
          (r) =>
            `${r.edit.split(",")[0]} ${r.png.foundWhenExact}/${r.png.trimmedExact}, ` +
            `${r.jpeg.foundWhenExact}/${r.jpeg.trimmedExact}`,
        )
        .join("; ") +
      ".",
  );
  print(
    `Some misses of the plain list, trimmed box found for the picture's box: ` +
      rows
        .filter((r) => r.png.boxes > 0)
        .map((r) => `${r.edit.split(",")[0]}: ${[...r.png.missedBoxes, ...r.jpeg.missedBoxes].join(", ") || "none"}`)
        .join("; ") +
      ".",
  );
  if (pairs * FPR < 1)
    print(`(${pairs} pairs are too few for an FPR of ${FPR}: PDQ alone uses the largest distance with no pair.)`);
  print(`\nFalse matches of distractors by list, algorithm and query view: ${falseByView.size === 0 ? "none" : ""}`);
  for (const [key, n] of [...falseByView].sort()) print(`- ${key}: ${n}`);
  print(`\nClosest PDQ distance of any distractor to any list hash, per query view (no quality gate):\n`);
  print("| query view | plain list | augmented list (with sub-windows) |");
  print("|---|---:|---:|");
  // The plain list is not looked up with the parts (check, scan and serve skip them for it): "-".
  for (const view of closest.augmented.keys())
    print(`| ${view} | ${closest.plain.get(view) ?? "-"} | ${closest.augmented.get(view)} |`);
  printFalsePairs(falsePairs, {
    listedImages: listed.length,
    pooled:
      `${distractors.length} of the ${set} set, ${others.length} of the other set; flagged by the default ` +
      `matcher: ${pct(poolFlagged.plain, pool.length)} with the plain list, ` +
      `${pct(poolFlagged.augmented, pool.length)} with the augmented list; ${budgetSeconds} s of the section's ` +
      `time for this budget (hashing the other set's distractors, counting)`,
    print,
  });
}

// The false-match budget of issue 19, in the re-post section: every perceptual query hash the default matcher looks
// up for a distractor (per query view, after the matcher's gates) against every list hash of the same algorithm
// (per list hash kind: the whole image, or the augmented list's window as stored), counted by distance; then an
// extrapolation of false matches per million uploads to lists of 10^6 and 10^7 listed images, from the lower tail
// of that distance distribution (no pair is observed at the threshold, so the estimate needs a model) and from the
// rule of three (a bound that needs none).
import { defaultPolicy } from "@phmatch/core";
import { AUGMENT_WINDOWS } from "@phmatch/core/internal";
import { listMatcher, listSet } from "./lists.mjs";

/** The query views, as this section names them; "dihedral" rows are the 7 variants besides the hash itself. */
export const QUERY_VIEWS = ["whole", "whole dihedral", "trimmed", "trimmed dihedral", "rotated", "part"];
const WHOLE = "whole image";
/** The views check, scan and serve look up against a list without sub-windows: all but the parts (partsCanMatch). */
const PLAIN_VIEWS = (view) => view !== "part";
// The lower-tail ranges the model is fitted on: quantiles of P(d <= x), and at least MIN_COUNT pairs at or below x.
const FITS = [
  { name: "A", lo: 1e-4, hi: 1e-2 },
  { name: "B", lo: 1e-5, hi: 1e-3 },
];
const MIN_COUNT = 5;
const LIST_SIZES = [1e6, 1e7];

function popcount32(v) {
  let x = v - ((v >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
const words = (bytes) => new Uint32Array(Uint8Array.from(bytes).buffer);
const hexWords = (hex) => words(Buffer.from(hex, "hex"));

/**
 * The hashes of `algorithm` the matcher looks up for `record`, as [view, 32-bit words], mirroring Matcher#matchHashes:
 * a view whose own quality is below the policy's minimum (PDQ: 50, the view's quality, not the image's) is not looked
 * up, nor a degenerate value (within the default threshold of all zeros or all ones, as hashset/hash-value.ts
 * says, which core does not export); a view with dihedral variants is looked up with all 8 (the first is the hash
 * itself), one without (rotated, parts) with its hash alone. Skipped views are counted in `skipped`.
 */
function queryHashes(record, algorithm, policy, skipped) {
  const out = [];
  const add = (view, source) => {
    const hex = source?.hashes?.[algorithm];
    if (hex === undefined) return;
    const quality = source.quality?.[algorithm];
    if (policy.minQuality !== undefined && quality !== undefined && quality < policy.minQuality) {
      skipped.quality++;
      return;
    }
    const own = hexWords(hex);
    const ones = own.reduce((sum, w) => sum + popcount32(w), 0);
    const near = defaultPolicy(algorithm).maxDistance;
    if (ones <= near || own.length * 32 - ones <= near) {
      skipped.degenerate++;
      return;
    }
    const variants = source.dihedral?.[algorithm];
    if (variants === undefined) out.push([view, own]);
    else for (const [i, v] of variants.entries()) out.push([i === 0 ? view : `${view} dihedral`, hexWords(v)]);
  };
  add("whole", record);
  add("trimmed", record.trimmed);
  for (const x of record.rotated ?? []) add("rotated", x);
  for (const x of record.parts ?? []) add("part", x);
  return out;
}

/**
 * Distances of every distractor query hash to every list hash, per algorithm, query view and list hash kind.
 * `listed`: the known images' records (with windows); `distractors`: query records, each hashed once;
 * `policies`: the matcher's (Matcher#policies), whose gates are mirrored.
 */
export function measureFalsePairs({ listed, distractors, policies, algorithms }) {
  return algorithms.map((algorithm) => {
    const policy = policies.get(algorithm);
    // The augmented list as the matcher holds it; the plain list is its whole-image hashes.
    const set = listSet(listed, { algorithms: [algorithm], augment: true });
    const { count, values, bytesPerValue } = set.packed(algorithm);
    const perValue = bytesPerValue / 4;
    const list = words(values);
    const names = Array.from({ length: count }, (_, i) => set.entry(algorithm, i).fields?.window ?? WHOLE);
    // In the order core lists its windows (a window it does not list, last).
    const order = [WHOLE, ...AUGMENT_WINDOWS.map((w) => w.name)];
    const rank = (name) => (order.includes(name) ? order.indexOf(name) : order.length);
    const kinds = [...new Set([WHOLE, ...names])].sort((x, y) => rank(x) - rank(y));
    const kindOf = Uint8Array.from(names, (name) => kinds.indexOf(name));
    const listHashes = kinds.map((_, k) => kindOf.filter((x) => x === k).length);
    const bits = bytesPerValue * 8;
    const histogram = QUERY_VIEWS.map(() => kinds.map(() => new Float64Array(bits + 1)));
    const queries = QUERY_VIEWS.map(() => 0);
    const skipped = { quality: 0, degenerate: 0 };
    // Each distractor's closest distance to the plain and to the augmented list, for the check against the matcher.
    const closest = { plain: distractors.map(() => Infinity), augmented: distractors.map(() => Infinity) };
    let nearest = { distance: Infinity };
    distractors.forEach((record, r) => {
      for (const [view, q] of queryHashes(record, algorithm, policy, skipped)) {
        const v = QUERY_VIEWS.indexOf(view);
        queries[v]++;
        const h = histogram[v];
        for (let i = 0, o = 0; i < count; i++, o += perValue) {
          let d = 0;
          for (let j = 0; j < perValue; j++) d += popcount32(q[j] ^ list[o + j]);
          h[kindOf[i]][d]++;
          if (d < nearest.distance) nearest = { distance: d, query: record.path, view, entry: i };
          if (d < closest.augmented[r]) closest.augmented[r] = d;
          if (kindOf[i] === 0 && PLAIN_VIEWS(view) && d < closest.plain[r]) closest.plain[r] = d;
        }
      }
    });
    const check = checkAgainstMatcher({ listed, distractors, algorithm, closest });
    if (nearest.entry !== undefined) {
      const entry = set.entry(algorithm, nearest.entry);
      nearest = { ...nearest, entry: listed[Number(entry.entryId)].path, kind: entry.fields?.window ?? WHOLE };
    }
    return {
      nearest,
      algorithm,
      policy,
      kinds,
      listHashes,
      histogram,
      queries,
      skipped,
      check,
      distractors: distractors.length,
    };
  });
}

/**
 * The mirror's check: at a radius where about half the distractors come within it (the median of their closest
 * distances, of those with a hash looked up), the distractors this count puts within it must be those the Matcher
 * flags with its maximum distance set to that radius (its gates unchanged), on the plain and on the augmented list
 * of this algorithm alone.
 */
function checkAgainstMatcher({ listed, distractors, algorithm, closest }) {
  return Object.entries(closest).flatMap(([name, min]) => {
    if (name === "plain" && algorithm !== "pdq") return [];
    const finite = min.filter(Number.isFinite).sort((x, y) => x - y);
    if (finite.length === 0) return [];
    const radius = finite[finite.length >> 1];
    const matcher = listMatcher(listed, {
      algorithms: [algorithm],
      augment: name === "augmented",
      options: { policies: { [algorithm]: { maxDistance: radius } } },
    });
    const flagged = distractors.filter(
      (d) => matcher.match(name === "plain" ? withoutParts(d) : d).matches.length > 0,
    ).length;
    return [{ list: name, radius, counted: min.filter((x) => x <= radius).length, flagged }];
  });
}

/** A query record as check, scan and serve make it for lists without sub-windows: no part views. */
export const withoutParts = ({ parts: _parts, ...record }) => record;

const sum = (a) => a.reduce((s, x) => s + x, 0);
const merged = (arrays) => arrays.reduce((m, a) => m.map((x, i) => x + a[i]), new Float64Array(arrays[0].length));
const closestOf = (h) => h.findIndex((x) => x > 0);
const within = (h, t) => sum(h.slice(0, t + 1));

/**
 * The model: ln P(d <= x) linear in x, fitted by least squares over the distances x whose P(d <= x) lies in
 * [lo, hi] with at least MIN_COUNT pairs at or below x, and extrapolated to x = t. Undefined with fewer than 3 points.
 */
function tailFit(h, t, { lo, hi }) {
  const n = sum(h);
  const xs = [];
  const ys = [];
  for (let x = 0, cumulative = 0; x < h.length; x++) {
    cumulative += h[x];
    const p = cumulative / n;
    if (cumulative >= MIN_COUNT && p >= lo && p <= hi) {
      xs.push(x);
      ys.push(Math.log(p));
    }
  }
  if (xs.length < 3) return undefined;
  const mx = sum(xs) / xs.length;
  const my = sum(ys) / ys.length;
  const slope = sum(xs.map((x, i) => (x - mx) * (ys[i] - my))) / sum(xs.map((x) => (x - mx) ** 2));
  return { p: Math.exp(my + slope * (t - mx)), from: xs[0], to: xs.at(-1) };
}

// ln Gamma(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 significant digits).
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
function lnGamma(x) {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0];
  const g = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(g) - g + Math.log(a);
}

/**
 * The second model: the whole distance distribution as a beta-binomial over the hash's bits (bits that flip
 * together, as in pictures alike in layout, widen a binomial), its two parameters from the distribution's mean and
 * variance; P(d <= t) is its lower tail. Also how it predicts the lowest observed quantile with at least MIN_COUNT
 * pairs at or below (predicted / observed): below 1 means the model's tail is lighter than the data's there, and
 * its estimate at the threshold is not to be trusted as an upper one.
 */
function betaBinomial(h, t) {
  const bits = h.length - 1;
  const n = sum(h);
  const mean = sum(h.map((c, x) => c * x)) / n;
  const variance = sum(h.map((c, x) => c * (x - mean) ** 2)) / n;
  const q = mean / bits;
  const rho = (variance / (bits * q * (1 - q)) - 1) / (bits - 1);
  if (!(rho > 0 && rho < 1)) return undefined;
  const [alpha, beta] = [q * (1 / rho - 1), (1 - q) * (1 / rho - 1)];
  const lnB = (a, b) => lnGamma(a) + lnGamma(b) - lnGamma(a + b);
  const pmf = (k) =>
    Math.exp(
      lnGamma(bits + 1) - lnGamma(k + 1) - lnGamma(bits - k + 1) + lnB(k + alpha, bits - k + beta) - lnB(alpha, beta),
    );
  const cdf = (x) => sum(Array.from({ length: x + 1 }, (_, k) => pmf(k)));
  let at = -1;
  for (let x = 0, cumulative = 0; x <= bits && at < 0; x++) {
    cumulative += h[x];
    if (cumulative >= MIN_COUNT) at = x;
  }
  const observed = sum(h.slice(0, at + 1)) / n;
  return { p: cdf(t), at, ratio: cdf(at) / observed };
}

const fmt = (n) => n.toLocaleString("en");
const sci = (x) => (x === undefined ? "n/a" : x === 0 ? "0" : x.toExponential(1));

/** Prints the measurement as markdown (tables with units) through `print`. */
export function printFalsePairs(measured, { listedImages, pooled, print }) {
  const views = (m) => QUERY_VIEWS.map((view, v) => ({ view, v })).filter(({ v }) => m.queries[v] > 0);
  print(`\n### False-match budget: distractor pairs per query view and list hash\n`);
  print(
    `${fmt(measured[0].distractors)} distractor tiles (${pooled}) against the ${fmt(listedImages)} listed ` +
      `images. Every query hash the default matcher looks up (per view, after its gates, mirrored from ` +
      `\`Matcher#matchHashes\`: a view of PDQ quality below 50 is not looked up, the view's own quality; a hash ` +
      `within the threshold of all zeros or all ones is not looked up; the matcher does not gate list hashes: ` +
      `\`hashset build\` leaves out images and windows of PDQ quality below 50, and so does this list) against ` +
      `every list hash of its algorithm. Policies: ${measured.map((m) => m.policy.id).join(", ")}. A false pair is ` +
      `a distractor query hash within the threshold of a list hash.\n`,
  );
  for (const m of measured) {
    const t = m.policy.maxDistance;
    const whole = (v) => m.histogram[v][0];
    const all = (v) => merged(m.histogram[v]);
    const checks = m.check.map(
      (c) => `${c.list} list at d <= ${c.radius}: ${c.counted} counted, ${c.flagged} flagged by the Matcher`,
    );
    if (m.check.some((c) => c.counted !== c.flagged))
      throw new Error(`${m.algorithm}: the mirror disagrees: ${checks}`);
    print(
      `${m.algorithm}: ${m.skipped.quality} view hashes not looked up for quality, ${m.skipped.degenerate} as ` +
        `degenerate; list hashes: ${m.listHashes[0]} whole-image, ${sum(m.listHashes)} with windows. Check of the ` +
        `mirror, distractors within a radius: ${checks.join("; ")}. Closest pair: distractor ` +
        `${m.nearest.query} (${m.nearest.view}) to listed ${m.nearest.entry} (${m.nearest.kind}), ` +
        `${m.nearest.distance} bits.\n`,
    );
    print(
      `| ${m.algorithm} query view | query hashes per distractor | plain list: pairs | false pairs (d <= ${t}) | ` +
        `closest (bits) | augmented list: pairs | false pairs (d <= ${t}) | closest (bits) |`,
    );
    print("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (const { view, v } of views(m)) {
      const plain = m.algorithm === "pdq" && PLAIN_VIEWS(view) ? whole(v) : undefined;
      const cells = (h) => (h === undefined ? ["-", "-", "-"] : [fmt(sum(h)), fmt(within(h, t)), closestOf(h)]);
      print(
        `| ${view} | ${(m.queries[v] / m.distractors).toFixed(2)} | ${cells(plain).join(" | ")} | ` +
          `${cells(all(v)).join(" | ")} |`,
      );
    }
    print(
      `\n${m.algorithm}, augmented list, per list hash kind: closest distance in bits (false pairs at ` +
        `d <= ${t} in brackets when any); pairs in a cell = the view's query hashes x the kind's list hashes.\n`,
    );
    const shown = views(m);
    print(`| list hash | list hashes | pairs | false pairs | ${shown.map(({ view }) => view).join(" | ")} |`);
    print(`|---|---:|---:|---:|${shown.map(() => "---:").join("|")}|`);
    print(`| (query hashes) | | | | ${shown.map(({ v }) => fmt(m.queries[v])).join(" | ")} |`);
    m.kinds.forEach((kind, k) => {
      const hs = shown.map(({ v }) => m.histogram[v][k]);
      const cell = (h) => `${closestOf(h)}${within(h, t) > 0 ? ` (${within(h, t)})` : ""}`;
      print(
        `| ${kind} | ${fmt(m.listHashes[k])} | ${fmt(sum(hs.map(sum)))} | ${fmt(sum(hs.map((h) => within(h, t))))} | ` +
          `${hs.map(cell).join(" | ")} |`,
      );
    });
    print();
  }
  printExtrapolation(measured, { listedImages, print });
}

function printExtrapolation(measured, { listedImages, print }) {
  const [a, b] = FITS;
  print(`### False matches per million uploads, extrapolated\n`);
  print(
    `Per upload, against a list of N listed images with h list hashes per image: expected false matches = sum ` +
      `over algorithms of (query hashes per upload x N x h x p), p = P(d <= threshold) for one query hash and one ` +
      `list hash, over the pairs as an upload makes them (expectations add, however the pairs depend on each ` +
      `other; summing over algorithms counts an upload matched by both twice, an upper estimate). No pair is ` +
      `observed at the threshold, so p comes from a model: ln P(d <= x) linear in x, fitted by least squares on ` +
      `the observed lower tail and extrapolated to the threshold; fit ${a.name} on the distances x where ` +
      `P(d <= x) is ${a.lo}..${a.hi}, fit ${b.name} where it is ${b.lo}..${b.hi} (at least ${MIN_COUNT} pairs at ` +
      `or below x in both). The estimate fits all of a list's pairs at once (all views, as uploads make them); the ` +
      `sum of per-view fits is its sensitivity check. A binomial or Gaussian tail bends down faster than a line ` +
      `in ln P, so if the tail is that light the line over-estimates; a heavier tail (near duplicates among real ` +
      `uploads, which these tiles of distinct wallpapers do not have) would not show on this corpus at all. The ` +
      `rule of three, p < 3 / pairs observed (95%, pairs taken as independent, which tiles of one source and ` +
      `windows of one image are not), is the bound without a model. The second model is a beta-binomial over the ` +
      `hash's bits (a binomial widened by bits that flip together), fitted to the whole distribution's mean and ` +
      `variance; beside its p, how it predicts the lowest observed quantile (with at least ${MIN_COUNT} pairs ` +
      `at or below): a ratio below 1 means its tail is lighter than the data's there, so it is no upper estimate. ` +
      `Uploads are modelled by the distractor tiles (their views, qualities and query hashes).\n`,
  );
  print(
    `| list | algorithm | query view | query hashes per upload | pairs observed | closest (bits) | ` +
      `p, fit ${a.name} (fitted on bits) | p, fit ${b.name} (fitted on bits) | p, rule of three | ` +
      `p, beta-binomial (predicted / observed, at bits) |`,
  );
  print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
  const lists = [
    { name: "plain", hashes: (m) => (m.algorithm === "pdq" ? [0] : []), views: PLAIN_VIEWS },
    { name: "augmented", hashes: (m) => m.kinds.map((_, k) => k), views: () => true },
  ];
  const fitted = (f) => (f === undefined ? "n/a" : `${sci(f.p)} (${f.from}..${f.to})`);
  const bbCell = (f) => (f === undefined ? "n/a" : `${sci(f.p)} (${f.ratio.toPrecision(2)}, at ${f.at})`);
  // Expected false matches per upload and list image, per estimate: pooled fits A, B; per-view fits A, B; 3/pairs.
  const totals = [];
  for (const list of lists) {
    const total = { list: list.name, perImage: [], pairs: 0, rates: [0, 0, 0, 0, 0, 0], missing: [] };
    for (const m of measured) {
      const kinds = list.hashes(m);
      if (kinds.length === 0) continue;
      const t = m.policy.maxDistance;
      const h = sum(kinds.map((k) => m.listHashes[k])) / listedImages;
      total.perImage.push(`${m.algorithm} ${h.toFixed(2)}`);
      const shown = QUERY_VIEWS.map((view, v) => ({ view, v })).filter(
        ({ view, v }) => m.queries[v] > 0 && list.views(view),
      );
      const perView = shown.map(({ v }) => merged(kinds.map((k) => m.histogram[v][k])));
      const pooled = merged(perView);
      const queries = sum(shown.map(({ v }) => m.queries[v])) / m.distractors;
      const add = (i, p, weight) => {
        if (p === undefined) total.missing[i] = true;
        else total.rates[i] += weight * h * p;
      };
      shown.forEach(({ view, v }, i) => {
        const perUpload = m.queries[v] / m.distractors;
        const fits = FITS.map((f) => tailFit(perView[i], t, f));
        for (const [j, f] of fits.entries()) add(2 + j, f?.p, perUpload);
        print(
          `| ${list.name} | ${m.algorithm} | ${view} | ${perUpload.toFixed(2)} | ${fmt(sum(perView[i]))} | ` +
            `${closestOf(perView[i])} | ${fitted(fits[0])} | ${fitted(fits[1])} | ${sci(3 / sum(perView[i]))} | ` +
            `${bbCell(betaBinomial(perView[i], t))} |`,
        );
      });
      const fits = FITS.map((f) => tailFit(pooled, t, f));
      for (const [j, f] of fits.entries()) add(j, f?.p, queries);
      add(4, 3 / sum(pooled), queries);
      const bb = betaBinomial(pooled, t);
      add(5, bb?.p, queries);
      total.pairs += queries * h;
      print(
        `| ${list.name} | ${m.algorithm} | **all views** | ${queries.toFixed(2)} | ${fmt(sum(pooled))} | ` +
          `${closestOf(pooled)} | ${fitted(fits[0])} | ${fitted(fits[1])} | ${sci(3 / sum(pooled))} | ${bbCell(bb)} |`,
      );
    }
    totals.push(total);
  }
  print(
    `\n| list | list hashes per listed image | listed images | pairs per upload | false matches per 10^6 ` +
      `uploads: fit ${a.name} | fit ${b.name} | per-view fits ${a.name} | per-view fits ${b.name} | ` +
      `rule-of-three bound | beta-binomial |`,
  );
  print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const total of totals)
    for (const n of LIST_SIZES)
      print(
        `| ${total.list} | ${total.perImage.join(", ")} | 10^${Math.log10(n)} | ${sci(total.pairs * n)} | ` +
          `${total.rates.map((r, i) => `${total.missing[i] ? ">= " : ""}${sci(r * n * 1e6)}`).join(" | ")} |`,
      );
  if (totals.some((total) => total.missing.some(Boolean)))
    print(`\n(">=": a fit had fewer than 3 points, so the sum leaves it out.)`);
}

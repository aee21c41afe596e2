// Re-post edits with random parameters (issue 19): how images are really re-posted (crops anywhere, a side cut,
// caption bars, frames, pages, logos), each edit's parameters drawn per image from a seed, so that no fixed
// position or size can be tuned for. Each edit takes a SIZE x SIZE PNG tile and a generator and returns the
// edited PNG, the parameters drawn (printed in examples) and, where the picture survives whole inside what was
// added, its box [left, top, width, height] in the edited image (to check what trimming finds).
import sharp from "sharp";
import { seededRandom } from "../seeded-random.mjs";
import { SIZE } from "./transforms.mjs";

sharp.cache(false);

/** A generator for one image and one edit: the same seed, image and edit always draw the same parameters. */
export function drawFor(seed, id, edit) {
  // FNV-1a over the key, so that adding an edit or an image does not shift the draws of the others.
  let h = 0x811c9dc5;
  for (const c of `${seed}\u0000${id}\u0000${edit}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  const next = seededRandom(h);
  const uniform = (lo, hi) => lo + (next() / 4294967296) * (hi - lo);
  const integer = (lo, hi) => Math.floor(uniform(lo, hi + 1)); // lo..hi inclusive
  const pick = (list) => list[integer(0, list.length - 1)];
  return { uniform, integer, pick };
}

// Benign caption and logo words, as memes and watermarks carry them.
const WORDS = [
  "when",
  "the",
  "weekend",
  "finally",
  "arrives",
  "monday",
  "coffee",
  "me",
  "trying",
  "to",
  "relax",
  "nobody",
  "nature",
  "is",
  "healing",
  "view",
  "from",
  "my",
  "window",
  "sunset",
  "mood",
  "today",
  "holiday",
  "vibes",
  "share",
  "follow",
  "daily",
  "photo",
];
const hex = (r, g, b) => `#${[r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("")}`;
const png = (s) => s.png().toBuffer();

/** Dark text-like strokes: random benign words rendered by sharp (pango) to fit width x height, as RGBA. */
async function words(draw, width, height, colour) {
  const text = Array.from({ length: draw.integer(2, 6) }, () => draw.pick(WORDS)).join(" ");
  const { data, info } = await sharp({
    text: { text: `<span foreground="${colour}">${text}</span>`, font: "sans bold", width, height, rgba: true },
  })
    .png()
    .toBuffer({ resolveWithObject: true });
  return { input: data, width: info.width, height: info.height, text };
}

const AREA_KEPT = 0.9; // a 10%-area crop keeps 90% of the area, the aspect unchanged
const CROP = Math.round(SIZE * Math.sqrt(AREA_KEPT));
const extract = (p, left, top, width, height) => png(sharp(p).extract({ left, top, width, height }));

// What is left of the tile after `cut` pixels are cut from one side: left, top, width, height.
const sideCut = (side, cut) =>
  ({
    top: [0, cut, SIZE, SIZE - cut],
    bottom: [0, 0, SIZE, SIZE - cut],
    left: [cut, 0, SIZE - cut, SIZE],
    right: [0, 0, SIZE - cut, SIZE],
  })[side];

/** The edits, by the name the table prints. */
export const REPOSTS = {
  // The fixed case the augmented list's centred windows were built for: the reference the others are read against.
  "crop 10% of the area, centred (fixed)": async (p) => {
    const off = Math.floor((SIZE - CROP) / 2);
    return { png: await extract(p, off, off, CROP, CROP), params: `at ${off},${off}` };
  },
  "crop 10% of the area, random position": async (p, draw) => {
    const left = draw.integer(0, SIZE - CROP);
    const top = draw.integer(0, SIZE - CROP);
    return { png: await extract(p, left, top, CROP, CROP), params: `at ${left},${top}` };
  },
  "crop 10% of the area, random corner": async (p, draw) => {
    const corner = draw.pick(["top-left", "top-right", "bottom-left", "bottom-right"]);
    const left = corner.endsWith("left") ? 0 : SIZE - CROP;
    const top = corner.startsWith("top") ? 0 : SIZE - CROP;
    return { png: await extract(p, left, top, CROP, CROP), params: corner };
  },
  "cut 15% of the width or height, random side": async (p, draw) => {
    const side = draw.pick(["top", "bottom", "left", "right"]);
    const cut = Math.round(SIZE * 0.15);
    return { png: await extract(p, ...sideCut(side, cut)), params: side };
  },
  // Not the one size the rows above use, so that list windows tuned to exactly that size cannot flatter the table.
  "crop 5-20% of the area, random position": async (p, draw) => {
    const side = Math.round(SIZE * Math.sqrt(draw.uniform(0.8, 0.95)));
    const left = draw.integer(0, SIZE - side);
    const top = draw.integer(0, SIZE - side);
    return { png: await extract(p, left, top, side, side), params: `${side} px at ${left},${top}` };
  },
  "cut 10-20% of the width or height, random side": async (p, draw) => {
    const side = draw.pick(["top", "bottom", "left", "right"]);
    const cut = Math.round(SIZE * draw.uniform(0.1, 0.2));
    return { png: await extract(p, ...sideCut(side, cut)), params: `${cut} px ${side}` };
  },
  "caption bar 5-15% of the height, above or below": async (p, draw) => {
    const height = Math.round(SIZE * draw.uniform(0.05, 0.15));
    const where = draw.pick(["above", "below"]);
    const level = draw.integer(235, 255);
    const background = hex(level, level, level);
    const ink = draw.integer(0, 60);
    const text = await words(draw, SIZE - 2 * draw.integer(6, 40), Math.round(height * 0.7), hex(ink, ink, ink));
    const barTop = where === "above" ? 0 : SIZE;
    const edited = await png(
      sharp(p)
        .extend({ top: where === "above" ? height : 0, bottom: where === "below" ? height : 0, background })
        .composite([
          {
            input: text.input,
            left: Math.floor((SIZE - text.width) / 2),
            top: barTop + Math.floor((height - text.height) / 2),
          },
        ]),
    );
    return {
      png: edited,
      params: `${height} px ${where}, ${background}, "${text.text}"`,
      box: [0, where === "above" ? height : 0, SIZE, SIZE],
    };
  },
  "frame of random colour, 5-15% of the short side": async (p, draw) => {
    const width = Math.round(SIZE * draw.uniform(0.05, 0.15));
    const background = hex(draw.integer(0, 255), draw.integer(0, 255), draw.integer(0, 255));
    const edited = await png(sharp(p).extend({ top: width, bottom: width, left: width, right: width, background }));
    return { png: edited, params: `${width} px ${background}`, box: [width, width, SIZE, SIZE] };
  },
  "on a white page 1.2-2x its size, random offset": async (p, draw) => {
    const width = Math.round(SIZE * draw.uniform(1.2, 2));
    const height = Math.round(SIZE * draw.uniform(1.2, 2));
    const left = draw.integer(0, width - SIZE);
    const top = draw.integer(0, height - SIZE);
    const edited = await png(
      sharp({ create: { width, height, channels: 3, background: "#ffffff" } }).composite([{ input: p, left, top }]),
    );
    return { png: edited, params: `${width}x${height} at ${left},${top}`, box: [left, top, SIZE, SIZE] };
  },
  "opaque logo over 10% of the area, random place": async (p, draw) => {
    const side = Math.round(SIZE * Math.sqrt(0.1));
    const background = hex(draw.integer(0, 255), draw.integer(0, 255), draw.integer(0, 255));
    const label = await words(draw, side - 12, Math.round(side / 3), "#ffffff");
    const logo = await png(
      sharp({ create: { width: side, height: side, channels: 4, background } }).composite([
        { input: label.input, gravity: "centre" },
      ]),
    );
    const left = draw.integer(0, SIZE - side);
    const top = draw.integer(0, SIZE - side);
    return {
      png: await png(sharp(p).composite([{ input: logo, left, top }])),
      params: `${side} px ${background} at ${left},${top}`,
    };
  },
};

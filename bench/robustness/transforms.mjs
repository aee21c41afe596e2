// The fixed edits of the robustness benchmark (Thorn's `perception` benchmark's kinds, with fixed parameters), each
// from a SIZE x SIZE PNG tile to encoded bytes, in memory. Shared by run.mjs and any study of one transform.
import sharp from "sharp";
import { seededRandom } from "../seeded-random.mjs";

/** Side of the corpus tiles (corpus.mjs). */
export const SIZE = 384;

sharp.cache(false);

// Seeded Gaussian noise, sigma in 8-bit levels.
function gaussianNoise(raw, sigma, seed) {
  const next = seededRandom(seed);
  const u = () => (next() + 1) / 4294967297;
  const out = Buffer.from(raw.data);
  for (let i = 0; i < out.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u()));
    const t = 2 * Math.PI * u();
    out[i] = Math.max(0, Math.min(255, Math.round(out[i] + sigma * r * Math.cos(t))));
    if (i + 1 < out.length) out[i + 1] = Math.max(0, Math.min(255, Math.round(out[i + 1] + sigma * r * Math.sin(t))));
  }
  return sharp(out, { raw: raw.info }).png().toBuffer();
}

async function raw(png) {
  return sharp(png).raw().toBuffer({ resolveWithObject: true });
}

// A logo/text badge covering 10% of the image's area, in its lower right corner (raster: the core blocks SVG).
const BADGE = Math.round(SIZE * Math.sqrt(0.1));
const badgeText = await sharp({
  text: {
    text: '<span foreground="white" font_weight="bold">SHARE</span>',
    font: "sans",
    width: BADGE - 16,
    height: Math.round(BADGE / 3),
    rgba: true,
  },
})
  .png()
  .toBuffer();
const overlay = await sharp({ create: { width: BADGE, height: BADGE, channels: 4, background: "#e8462bff" } })
  .composite([{ input: badgeText, gravity: "centre" }])
  .png()
  .toBuffer();
const BORDER = Math.round(SIZE * 0.1);

// Fixed transforms, each from a SIZE x SIZE PNG to encoded bytes; `i` seeds the noise.
export const TRANSFORMS = {
  "jpeg q30": (p) => sharp(p).jpeg({ quality: 30 }).toBuffer(),
  "jpeg q70": (p) => sharp(p).jpeg({ quality: 70 }).toBuffer(),
  "webp q80": (p) => sharp(p).webp({ quality: 80 }).toBuffer(),
  "png re-encode": (p) => sharp(p).png({ compressionLevel: 9 }).toBuffer(),
  "resize 25%": (p) =>
    sharp(p)
      .resize(SIZE / 4)
      .png()
      .toBuffer(),
  "resize 50%": (p) =>
    sharp(p)
      .resize(SIZE / 2)
      .png()
      .toBuffer(),
  "resize 200%": (p) =>
    sharp(p)
      .resize(SIZE * 2)
      .jpeg({ quality: 90 })
      .toBuffer(),
  "blur sigma 2": (p) => sharp(p).blur(2).png().toBuffer(),
  "noise sigma 10": async (p, i) => gaussianNoise(await raw(p), 10, 1000 + i),
  "gamma 1.8": async (p) => {
    const r = await raw(p);
    const lut = Uint8Array.from({ length: 256 }, (_, v) => Math.round(255 * (v / 255) ** (1 / 1.8)));
    return sharp(Buffer.from(r.data.map((v) => lut[v])), { raw: r.info })
      .png()
      .toBuffer();
  },
  "brightness +30%": (p) => sharp(p).modulate({ brightness: 1.3 }).png().toBuffer(),
  "contrast up": (p) =>
    sharp(p)
      .linear(1.3, -0.3 * 128)
      .png()
      .toBuffer(),
  "contrast down": (p) =>
    sharp(p)
      .linear(0.7, 0.3 * 128)
      .png()
      .toBuffer(),
  greyscale: (p) => sharp(p).greyscale().png().toBuffer(),
  "mirror (horizontal)": (p) => sharp(p).flop().png().toBuffer(),
  "rotate 90": (p) => sharp(p).rotate(90).png().toBuffer(),
  "rotate 180": (p) => sharp(p).rotate(180).png().toBuffer(),
  "rotate 270": (p) => sharp(p).rotate(270).png().toBuffer(),
  "rotate 5 degrees": (p) => sharp(p).rotate(5, { background: "#ffffff" }).png().toBuffer(),
  "crop 5% (centre)": (p) => centreCrop(p, 0.05),
  "crop 10% (centre)": (p) => centreCrop(p, 0.1),
  "crop 20% (centre)": (p) => centreCrop(p, 0.2),
  "border 10%": (p) =>
    sharp(p)
      .extend({ top: BORDER, bottom: BORDER, left: BORDER, right: BORDER, background: "#1c1c1c" })
      .png()
      .toBuffer(),
  "pasted at 1/1.5 on white (screenshot)": async (p) => {
    const small = await sharp(p)
      .resize(Math.round(SIZE / 1.5))
      .png()
      .toBuffer();
    return sharp({ create: { width: SIZE, height: SIZE, channels: 3, background: "#ffffff" } })
      .composite([{ input: small, left: Math.round(SIZE * 0.08), top: Math.round(SIZE * 0.18) }])
      .png()
      .toBuffer();
  },
  "logo overlay 10%": (p) =>
    sharp(p)
      .composite([{ input: overlay, left: SIZE - BADGE - 16, top: SIZE - BADGE - 16 }])
      .png()
      .toBuffer(),
  "stretch width 120%": (p) =>
    sharp(p)
      .resize(Math.round(SIZE * 1.2), SIZE, { fit: "fill" })
      .png()
      .toBuffer(),
};

// Keeps the centre, removing `fraction` of the area.
function centreCrop(p, fraction) {
  const side = Math.round(SIZE * Math.sqrt(1 - fraction));
  const off = Math.floor((SIZE - side) / 2);
  return sharp(p).extract({ left: off, top: off, width: side, height: side }).png().toBuffer();
}

// Generates the benign synthetic fixtures (shapes, gradients, smooth noise) and the hostile inputs built from
// them. Deterministic (seeded PRNG); the outputs are committed, so tests need only `npm install`.
// Run: npm run fixtures

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import sharp from "sharp";

const here = new URL("./", import.meta.url);
const images = new URL("images/", here);
const bad = new URL("bad/", here);
rmSync(bad, { recursive: true, force: true });
mkdirSync(images, { recursive: true });
mkdirSync(bad, { recursive: true });

// mulberry32: small, seeded, reproducible.
function prng(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Smooth colour noise: random coarse grid, bicubic upscale, plus fine grain: photo-like texture. */
export async function smoothNoise(width, height, seed, channels = 3) {
  const rand = prng(seed);
  const gw = Math.max(2, Math.round(width / 24));
  const gh = Math.max(2, Math.round(height / 24));
  const coarse = Buffer.alloc(gw * gh * channels);
  for (let i = 0; i < coarse.length; i++) coarse[i] = Math.floor(rand() * 256);
  const smooth = await sharp(coarse, { raw: { width: gw, height: gh, channels } })
    .resize(width, height, { kernel: "cubic" })
    .raw()
    .toBuffer();
  for (let i = 0; i < smooth.length; i++)
    smooth[i] = Math.max(0, Math.min(255, smooth[i] + Math.floor(rand() * 17) - 8));
  return sharp(smooth, { raw: { width, height, channels } });
}

const shapesSvg = (w, h, background = true) => `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">
  <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
    <stop offset="0" stop-color="#1d4e89"/><stop offset="1" stop-color="#f2c14e"/></linearGradient></defs>
  ${background ? '<rect width="100%" height="100%" fill="url(#g)"/>' : ""}
  <circle cx="${w * 0.3}" cy="${h * 0.4}" r="${h * 0.22}" fill="#e4572e"/>
  <rect x="${w * 0.55}" y="${h * 0.15}" width="${w * 0.3}" height="${h * 0.5}" fill="#76b041" transform="rotate(12 ${w * 0.7} ${h * 0.4})"/>
  <polygon points="${w * 0.1},${h * 0.95} ${w * 0.45},${h * 0.65} ${w * 0.8},${h * 0.92}" fill="#17bebb"/>
</svg>`;

async function write(name, pipeline) {
  await pipeline.toFile(new URL(name, images).pathname);
}

// --- benign images: npm start hashes these ---
// Shapes over a texture: flat colour alone is too featureless for PDQ (quality < 50).
const shapes = await (await smoothNoise(480, 360, 3))
  .composite([{ input: Buffer.from(shapesSvg(480, 360, false)) }])
  .png()
  .toBuffer();
await write("shapes.png", sharp(shapes));
await write("shapes-rotate90.png", sharp(shapes).rotate(90));
await write("shapes-mirror.png", sharp(shapes).flop());
await write("shapes-small.jpg", sharp(shapes).resize(240).jpeg({ quality: 80 }));
// 5% of the area cropped away, centred (1.27% off each side): PDQ lands just past 31, pHash and dHash hold.
await write("shapes-crop5.png", sharp(shapes).extract({ left: 6, top: 5, width: 480 - 12, height: 360 - 10 }));
await write("texture.jpg", (await smoothNoise(800, 600, 7)).jpeg({ quality: 90 }));
await write("texture-grey.png", (await smoothNoise(300, 200, 11, 1)).toColourspace("b-w").png());
const rgba = await (await smoothNoise(256, 192, 13, 3)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
for (let y = 0; y < 192; y++) for (let x = 0; x < 256; x++) rgba.data[(y * 256 + x) * 4 + 3] = x < 64 ? 0 : 255;
await write("texture-alpha.png", sharp(rgba.data, { raw: rgba.info }).png());
await write("texture.webp", (await smoothNoise(320, 240, 17)).webp({ quality: 85 }));
// EXIF orientation 6 (rotate 90 clockwise to display): hashed as stored unless --auto-orient.
await write(
  "texture-exif6.jpg",
  (await smoothNoise(320, 240, 19)).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }),
);
// Two-frame GIF: only the first frame is hashed.
const frameA = await (await smoothNoise(120, 90, 23)).raw().toBuffer();
const frameB = await (await smoothNoise(120, 90, 29)).raw().toBuffer();
await write(
  "animated.gif",
  sharp(Buffer.concat([frameA, frameB]), { raw: { width: 120, height: 180, channels: 3, pageHeight: 90 } }).gif(),
);
await write("flat.png", sharp({ create: { width: 200, height: 200, channels: 3, background: "#808080" } }).png());
await write("tiny-4x4.png", sharp({ create: { width: 4, height: 4, channels: 3, background: "#203040" } }).png());

// 16-bit RGB PNG (Pillow and the PDQ reference read its samples differently: see decode-image.ts).
await write("texture-16bit.png", (await smoothNoise(160, 120, 31)).toColourspace("rgb16").png());
// CMYK JPEG.
await write("texture-cmyk.jpg", (await smoothNoise(200, 150, 37)).toColourspace("cmyk").jpeg({ quality: 90 }));
// HEIC (HEVC), as iPhones write: made with Debian's heif-enc (package libheif-examples), when it is installed;
// the committed file stays otherwise.
if (existsSync("/usr/bin/heif-enc")) {
  execFileSync(
    "/usr/bin/heif-enc",
    ["-q", "60", "-o", new URL("shapes.heic", images).pathname, new URL("shapes.png", images).pathname],
    { stdio: "ignore" },
  );
} else {
  console.warn("heif-enc not found (apt-get install libheif-examples): keeping the committed images/shapes.heic");
}

// --- hostile inputs: each must give a typed error, and the next file must still hash ---
const texture = readFileSync(new URL("texture.jpg", images));
const shapesPng = readFileSync(new URL("shapes.png", images));
writeFileSync(new URL("empty.jpg", bad), Buffer.alloc(0));
writeFileSync(new URL("truncated.jpg", bad), texture.subarray(0, Math.floor(texture.length * 0.6)));
writeFileSync(new URL("truncated.png", bad), shapesPng.subarray(0, Math.floor(shapesPng.length * 0.5)));
writeFileSync(new URL("not-an-image.jpg", bad), "This is a text file with an image extension.\n".repeat(20));
writeFileSync(new URL("vector.svg", bad), shapesSvg(64, 48));
writeFileSync(new URL("vector-renamed.png", bad), `<?xml version="1.0"?>\n${shapesSvg(64, 48)}`);
// A PNG whose IDAT stream is garbage (valid chunk CRCs, broken zlib data).
writeFileSync(
  new URL("corrupt.png", bad),
  pngFile(64, 64, 2, Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 37 + 11) & 0xff))),
);
// Decompression bomb: a 100000 x 100000 PNG declared in a few hundred bytes.
const bombRow = Buffer.alloc(1 + 100000);
writeFileSync(new URL("bomb.png", bad), pngFile(100000, 100000, 0, deflateSync(Buffer.concat([bombRow, bombRow]))));

const heic = readFileSync(new URL("shapes.heic", images));
writeFileSync(new URL("truncated.heic", bad), heic.subarray(0, Math.floor(heic.length * 0.5)));

// Minimal PNG writer: colour type 0 (grey) or 2 (RGB), 8-bit, the given IDAT payload.
function pngFile(width, height, colourType, idat) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colourType;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", idat),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function crc32(bytes) {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
console.log("fixtures written to test-fixtures/images and test-fixtures/bad");

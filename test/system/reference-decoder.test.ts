// System test (needs Debian's imagemagick, installed by .ci/run): decode every conformance vector the way the
// reference CLI does (ImageMagick `convert FILE pnm:-`, then CImg's nearest-neighbour squash to 512x512 when a
// side exceeds 512) and hash the pixels with phmatch's kernel. Every row must then equal the reference in both
// conventions, hash and quality: the kernel is exact, and the rows where phmatch's own decode differs
// (CMYK.jpg) differ by decoding alone.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, type Pixels } from "@phmatch/core";
import { pdqHash } from "@phmatch/core/internal";
import { describe, expect, it } from "vitest";
import { conformanceDir, hasConformance, readTsv, skipReason } from "../support/conformance.js";

const CONVERT = "/usr/bin/convert";

// PBM (P4), PGM (P5) and PPM (P6) as ImageMagick writes them. 16-bit samples (maxval > 255) are big-endian;
// the reference keeps their low byte. PBM's 1 is black.
function parsePnm(buf: Buffer): Pixels {
  const magic = buf.subarray(0, 2).toString("latin1");
  const tokens: number[] = [];
  let pos = 2;
  const need = magic === "P4" ? 2 : 3;
  while (tokens.length < need) {
    while (/\s/.test(String.fromCharCode(buf[pos] as number))) pos++;
    const start = pos;
    while (!/\s/.test(String.fromCharCode(buf[pos] as number))) pos++;
    tokens.push(Number(buf.subarray(start, pos).toString("latin1")));
  }
  pos++;
  const [width, height, max] = [tokens[0] as number, tokens[1] as number, tokens[2] ?? 1];
  if (magic === "P4") {
    const rowBytes = Math.ceil(width / 8);
    const data = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++)
        data[y * width + x] = ((buf[pos + y * rowBytes + (x >> 3)] as number) >> (7 - (x & 7))) & 1 ? 0 : 255;
    }
    return { width, height, channels: 1, data };
  }
  if (magic !== "P5" && magic !== "P6") throw new Error(`unexpected PNM type ${magic}`);
  const channels = magic === "P6" ? 3 : 1;
  const n = width * height * channels;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = max > 255 ? (buf[pos + 2 * i + 1] as number) : (buf[pos + i] as number);
  return { width, height, channels, data };
}

// The reference CLI's pre-resize: CImg resize(512, 512) with interpolation 1, source index floor(x * W / 512).
function squashTo512(p: Pixels): Pixels {
  if (p.width <= 512 && p.height <= 512) return p;
  const data = new Uint8Array(512 * 512 * p.channels);
  for (let y = 0; y < 512; y++) {
    const sy = Math.floor((y * p.height) / 512);
    for (let x = 0; x < 512; x++) {
      const sx = Math.floor((x * p.width) / 512);
      for (let c = 0; c < p.channels; c++)
        data[(y * 512 + x) * p.channels + c] = p.data[(sy * p.width + sx) * p.channels + c] as number;
    }
  }
  return { width: 512, height: 512, channels: p.channels, data };
}

describe.skipIf(!hasConformance)(
  `kernel on ImageMagick-decoded pixels equals the reference (${hasConformance ? "" : skipReason})`,
  () => {
    const dir = join(conformanceDir, "pdq");
    const rows = hasConformance ? readTsv(join(dir, "pdq-vectors.tsv")) : [];

    it("has ImageMagick (apt-get install imagemagick; .ci/run installs it)", () => {
      expect(existsSync(CONVERT), `${CONVERT} not found: install Debian's imagemagick`).toBe(true);
    });

    it.each(rows.map((r) => [r.file as string, r] as const))("%s: hash_fullres and hash_cli512", (file, row) => {
      const pnm = execFileSync(CONVERT, [join(dir, file), "pnm:-"], {
        maxBuffer: 1 << 28,
        stdio: ["ignore", "pipe", "ignore"],
      });
      const pixels = parsePnm(pnm);
      const full = pdqHash(pixels);
      const cli = pdqHash(squashTo512(pixels));
      expect([bytesToHex(full.bytes), full.quality]).toEqual([row.hash_fullres, Number(row.quality_fullres)]);
      expect([bytesToHex(cli.bytes), cli.quality]).toEqual([row.hash_cli512, Number(row.quality_cli512)]);
    });
  },
);

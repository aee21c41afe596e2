// What the worker-fault tests share: finding the worker processes a phmatch process runs (from /proc, so the
// product needs no hook for it), a seeded PRNG for the kill schedule, and benign synthetic images.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";

/** Ids of the live processes whose parent is `pid` (Linux /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the command name (which may hold spaces and parentheses): state, ppid, ...
      const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(ppid) === pid && state !== "Z") out.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/** mulberry32: small, seeded, reproducible. */
export function prng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A benign synthetic image: a diagonal colour gradient with a few random blocks and a little grain, `width` x
 * `height`, as PNG or JPEG bytes. Different seeds give different images (and different hashes). Without grain a
 * PNG compresses to a few bytes per hundred pixels (a large image in a small upload).
 */
export async function syntheticImage(
  seed: number,
  width: number,
  height: number,
  format: "png" | "jpeg",
  grain = true,
): Promise<Buffer> {
  const rand = prng(seed);
  const raw = Buffer.alloc(width * height * 3);
  const tint = [rand() * 255, rand() * 255, rand() * 255];
  const blocks = Array.from({ length: 4 }, () => ({
    x: rand() * width,
    y: rand() * height,
    w: (0.1 + rand() * 0.3) * width,
    h: (0.1 + rand() * 0.3) * height,
    c: [rand() * 255, rand() * 255, rand() * 255],
  }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const block = blocks.find((b) => x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h);
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const base =
          block !== undefined
            ? (block.c[c] as number)
            : ((x / width) * 255 + (tint[c] as number) + (y / height) * 128) % 256;
        raw[i + c] = Math.max(0, Math.min(255, base + (grain ? ((rand() * 9) | 0) - 4 : 0)));
      }
    }
  }
  const image = sharp(raw, { raw: { width, height, channels: 3 } });
  return format === "png" ? image.png().toBuffer() : image.jpeg({ quality: 85 }).toBuffer();
}

/** Writes `count` distinct synthetic images (200-520 px a side, PNG and JPEG) into `dir`; returns their paths. */
export async function writeSyntheticImages(dir: string, count: number, seed: number): Promise<string[]> {
  const rand = prng(seed);
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const format = i % 3 === 0 ? "png" : "jpeg";
    const path = join(dir, `img-${String(i).padStart(4, "0")}.${format === "png" ? "png" : "jpg"}`);
    writeFileSync(
      path,
      await syntheticImage(seed * 1000 + i, 200 + Math.floor(rand() * 320), 200 + Math.floor(rand() * 320), format),
    );
    paths.push(path);
  }
  return paths;
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

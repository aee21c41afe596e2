// Issue 20, step 3: a query video against a list of 10^5 and 10^6 vPDQ frame hashes (synthetic, seeded), through
// VideoIndex as the index chooses it (MIH) and through a flat scan, side by side: build time, and the median time of
// a 100-frame query (one searchMany plus pairing). Prints a markdown table.
// Usage: npm run bench:video-match [-- --frames 100000,1000000 --queries 20]
import { parseArgs } from "node:util";
import { VideoIndex } from "@phmatch/core/internal";
import { seededRandom } from "../seeded-random.mjs";

const { values } = parseArgs({
  options: { frames: { type: "string", default: "100000,1000000" }, queries: { type: "string", default: "20" } },
});
const next = seededRandom(20);
const hash = () => Uint8Array.from({ length: 32 }, () => next() & 0xff);
const FRAMES_PER_VIDEO = 100;

/** A listed video's 100 frames with 0-20 bits flipped each (a re-encoded copy). */
function queryOf(video) {
  return video.frames.map((f) => {
    const bytes = Uint8Array.from(f.hash.bytes);
    const flips = next() % 21;
    for (let i = 0; i < flips; i++) bytes[i] ^= 1;
    return { ...f, hash: { ...f.hash, bytes } };
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

console.log("| listed frames | index | build s | query ms (median, 100 frames) | flat / index |");
console.log("|---:|---|---:|---:|---:|");
for (const total of values.frames.split(",").map(Number)) {
  const videos = Array.from({ length: total / FRAMES_PER_VIDEO }, (_, v) => ({
    id: `v${v}`,
    frames: Array.from({ length: FRAMES_PER_VIDEO }, (_, n) => ({
      frame: n * 30,
      timestamp: n,
      hash: { algorithm: "pdq", bytes: hash(), quality: 90 },
    })),
  }));
  const queries = Array.from({ length: Number(values.queries) }, () => queryOf(videos[next() % videos.length]));
  const rows = [];
  for (const kind of [undefined, "flat"]) {
    let t = performance.now();
    const index = new VideoIndex({ videos }, kind === undefined ? {} : { kind });
    const build = (performance.now() - t) / 1000;
    const times = queries.map((q) => {
      t = performance.now();
      const result = index.matchVideo(q);
      const ms = performance.now() - t;
      if (!result.videos[0]?.match) throw new Error("a query copy of a listed video did not match");
      return ms;
    });
    rows.push({ kind: index.index.kind, build, ms: median(times) });
  }
  const [chosen, flat] = rows;
  for (const row of rows) {
    const ratio = row === chosen ? `${(flat.ms / chosen.ms).toFixed(1)}x` : "";
    console.log(`| ${total} | ${row.kind} | ${row.build.toFixed(2)} | ${row.ms.toFixed(1)} | ${ratio} |`);
  }
}

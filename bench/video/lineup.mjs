// Issue 20's first step: phmatch's PDQ on the frames of the 14 vPDQ conformance videos, frame by frame against
// Meta's reference hashes (../shared/conformance/vpdq: the main set, x86 SIMD yuv->rgb, and cpath/, the portable C
// conversion). Frames are decoded by Debian's FFmpeg from memory (./ffmpeg-frames.mjs) and chosen the way
// `vpdq-hash-video -r SECONDS` chooses them; each is hashed with @phmatch/core's exact PDQ. Per video and RGB path,
// against both reference sets: frame counts, identical hashes, differing qualities, the PDQ bit distance (median,
// p90, max), whether our vPDQ text file is byte-identical, and the decoder's CPU time.
// Usage: npm run bench:video-lineup [-- --rgb native,c --seconds 1 --out bench/results/video-lineup.md]
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { formatVpdqText, hammingDistance, parseVpdqText, pdqHash } from "@phmatch/core/internal";
import { decodeFrames } from "./ffmpeg-frames.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    dir: { type: "string", default: join(here, "../../../shared/conformance/vpdq") },
    rgb: { type: "string", default: "native,c" },
    seconds: { type: "string", default: "1" },
    only: { type: "string" },
    out: { type: "string" },
  },
});
const seconds = Number(values.seconds);
const referenceDir = {
  1: { native: "", c: "cpath" },
  0: { native: "allframes", c: "allframes-cpath" },
}[seconds];
if (referenceDir === undefined) throw new Error("--seconds must be 1 or 0 (every frame): the reference sets given");

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;

function compare(ours, reference) {
  const byFrame = new Map(reference.map((f) => [f.frame, f]));
  const distances = [];
  let qualityDiffers = 0;
  let missing = 0;
  for (const f of ours) {
    const r = byFrame.get(f.frame);
    if (r === undefined) {
      missing++;
      continue;
    }
    distances.push(hammingDistance(f.hash.bytes, r.hash.bytes));
    if (f.hash.quality !== r.hash.quality) qualityDiffers++;
  }
  distances.sort((a, b) => a - b);
  const exact = distances.filter((d) => d === 0).length;
  return {
    exact,
    compared: distances.length,
    unmatchedFrames: missing + (reference.length - distances.length),
    qualityDiffers,
    median: quantile(distances, 0.5),
    p90: quantile(distances, 0.9),
    max: distances.at(-1) ?? NaN,
  };
}

// CPU seconds used by this process's finished children (cutime + cstime in /proc/self/stat, clock ticks of 1/100 s
// on Linux): the decoder's cost on however many cores it took, independent of how busy the machine is.
function childCpuSeconds() {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

const SET_NAMES = { native: "main", c: "cpath" };
const readSet = (rgbPath, stem) => {
  const text = readFileSync(join(values.dir, referenceDir[rgbPath], `${stem}.vpdq.txt`), "utf8");
  return { text, frames: parseVpdqText(text, `${referenceDir[rgbPath] || "."}/${stem}.vpdq.txt`) };
};
const fmt = (c) => `${c.median}/${c.p90}/${c.max}`;

const videos = readdirSync(join(values.dir, "videos"))
  .filter((name) => name.endsWith(".mp4"))
  .filter((name) => values.only === undefined || name.includes(values.only))
  .sort();
const paths = values.rgb.split(",");
const rows = [];
const started = performance.now();
let videoSeconds = 0;
for (const name of videos) {
  const stem = name.slice(0, -4);
  const bytes = readFileSync(join(values.dir, "videos", name));
  const sets = { native: readSet("native", stem), c: readSet("c", stem) };
  for (const rgbPath of paths) {
    const frames = [];
    let hashMs = 0;
    const cpu0 = childCpuSeconds();
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    const info = await decodeFrames(bytes, { secondsPerHash: seconds, rgbPath }, (n, rgb, stream) => {
      const h0 = performance.now();
      const hash = pdqHash({ width: stream.width, height: stream.height, channels: 3, data: rgb });
      hashMs += performance.now() - h0;
      frames.push({ frame: n, hash, timestamp: n / stream.frameRate });
    });
    const wallMs = performance.now() - t0;
    const own = process.cpuUsage(own0);
    const set = rgbPath === "native" ? sets.native : sets.c;
    const row = {
      video: stem,
      rgbPath,
      size: `${info.width}x${info.height}`,
      frames: `${frames.length}/${set.frames.length}`,
      vsMain: compare(frames, sets.native.frames),
      vsCpath: compare(frames, sets.c.frames),
      identicalFile: formatVpdqText(frames) === set.text,
      decoderCpuS: childCpuSeconds() - cpu0,
      ownCpuS: (own.user + own.system) / 1e6,
      wallMs: Math.round(wallMs),
      hashMs: Math.round(hashMs),
    };
    rows.push(row);
    if (rgbPath === paths[0]) videoSeconds += info.frames === 0 ? 0 : (set.frames.at(-1)?.timestamp ?? 0) + seconds;
    console.error(
      `${stem} [${rgbPath}] frames ${row.frames} vs main ${row.vsMain.exact}/${row.vsMain.compared} exact ` +
        `${fmt(row.vsMain)}, vs cpath ${row.vsCpath.exact}/${row.vsCpath.compared} exact ${fmt(row.vsCpath)}, ` +
        `file identical to ${SET_NAMES[rgbPath]}: ${row.identicalFile}; decoder CPU ${row.decoderCpuS.toFixed(2)} s, ` +
        `our CPU ${row.ownCpuS.toFixed(2)} s (hash ${row.hashMs} ms), wall ${row.wallMs} ms`,
    );
  }
}

const cell = (c) =>
  `${c.exact}/${c.compared}${c.qualityDiffers > 0 ? ` (quality differs: ${c.qualityDiffers})` : ""} | ${fmt(c)}`;
const lines = [
  `vPDQ lineup at ${seconds === 0 ? "every frame" : `${seconds} s per hash`}, ${new Date().toISOString()}, ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s in all. Route native: FFmpeg's own yuv->rgb24 ` +
    "(x86 SIMD); route c: decode as native, the chosen frames converted by FFmpeg -cpuflags 0 (libswscale's C). " +
    "Distances are PDQ bits as median/p90/max over frames present in both; frames ours/ref against the route's " +
    "own set. Decoder CPU: user+system seconds of the FFmpeg processes (one decoder thread); our CPU: this " +
    "process's (PDQ, reading the pipes).",
  "",
  "| video | size | route | frames ours/ref | identical vs main | bits vs main | identical vs cpath | " +
    "bits vs cpath | file identical | decoder CPU s | our CPU s |",
  `|${"---|".repeat(11)}`,
  ...rows.map(
    (r) =>
      `| ${r.video} | ${r.size} | ${r.rgbPath} | ${r.frames} | ${cell(r.vsMain)} | ${cell(r.vsCpath)} | ` +
      `${r.identicalFile ? `yes (${SET_NAMES[r.rgbPath]})` : "no"} | ${r.decoderCpuS.toFixed(2)} | ` +
      `${r.ownCpuS.toFixed(2)} |`,
  ),
  "",
  ...paths.map((rgbPath) => {
    const mine = rows.filter((r) => r.rgbPath === rgbPath);
    const cpu = mine.reduce((sum, r) => sum + r.decoderCpuS, 0);
    const ours = mine.reduce((sum, r) => sum + r.ownCpuS, 0);
    return (
      `Route ${rgbPath}: ${videoSeconds.toFixed(0)} s of video, decoder ${cpu.toFixed(1)} CPU s + ours ` +
      `${ours.toFixed(1)} CPU s = ${((60 * (cpu + ours)) / videoSeconds).toFixed(2)} CPU s per minute of video.`
    );
  }),
];
console.log(lines.join("\n"));
if (values.out !== undefined) writeFileSync(values.out, `${lines.join("\n")}\n`);

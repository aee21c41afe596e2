// Issue 20: seconds of decode + hash per minute of video, phmatch beside Meta's vPDQ reference in the same run.
// Inputs: 60 s videos this bench generates with FFmpeg (moving synthetic sources at SD, HD and full HD, H.264 at a
// normal bitrate, in a temp dir it removes) and the 14 real conformance videos (../shared/conformance/vpdq/videos).
// Per input, N repetitions in alternating order: `phmatch hash --format vpdq V` run as a user runs it (node, the
// CLI, ffprobe and the two FFmpeg children) and `vpdq-hash-video -r 1 -s 0 -t 1` (the reference at 1 s per hash,
// one hashing thread), each under `taskset -c 0` so that the whole process tree, FFmpeg's threads included, shares
// one core. Wall and CPU seconds (user + system of the tree, from GNU time's rusage) per minute of video, min and
// median; and from the same runs the frames each produced and the PDQ bit distance between them, frame by frame.
// Then where our time goes (one pinned run per generated input, stage by stage) and the match time against
// 10^6 listed frames through the Matcher (./matcher.mjs, run as it is).
// Usage: npm run bench:video [-- --reps 3 --seconds 60 --generated sd-testsrc2,hd-mandelbrot --real all|none|NAME
//   --reference PATH/vpdq-hash-video --no-breakdown --no-match --out bench/results/video.md]
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { decodeVideo, hammingDistance, parseVpdqText, pdqHash } from "@phmatch/core/internal";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../..");
const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "3" },
    seconds: { type: "string", default: "60" },
    generated: { type: "string", default: "sd-testsrc2,sd-noise,hd-mandelbrot,hd-testsrc2,fhd-testsrc2" },
    real: { type: "string", default: "all" },
    conformance: { type: "string", default: join(root, "../shared/conformance/vpdq") },
    reference: { type: "string" },
    "no-breakdown": { type: "boolean", default: false },
    "no-match": { type: "boolean", default: false },
    "match-frames": { type: "string", default: "1000000" },
    out: { type: "string" },
    // Internal: the in-process child of the breakdown (decodeVideo + pdqHash on one file, JSON on stdout).
    "in-process": { type: "string" },
  },
});

if (values["in-process"] !== undefined) {
  // What hashVideoBytes does, with the PDQ time taken apart from the rest: the FFmpeg children's CPU is the
  // tree's CPU minus this process's own.
  const bytes = readFileSync(values["in-process"]);
  let pdqMs = 0;
  let frames = 0;
  const t0 = performance.now();
  await decodeVideo(bytes, "input", { secondsPerHash: 1 }, ({ width, height, rgb }) => {
    const h0 = performance.now();
    pdqHash({ width, height, channels: 3, data: rgb });
    pdqMs += performance.now() - h0;
    frames++;
  });
  const own = process.cpuUsage();
  process.stdout.write(
    JSON.stringify({ frames, wallMs: performance.now() - t0, pdqMs, ownCpuS: (own.user + own.system) / 1e6 }),
  );
  process.exit(0);
}

const CORE = "0";
const TIME = "/usr/bin/time";
const REPS = Number(values.reps);
const SECONDS = Number(values.seconds);
const cli = join(root, "packages/cli/bin/phmatch.js");
const log = (line) => process.stderr.write(`${line}\n`);
for (const [tool, hint] of [
  [TIME, "apt-get install time"],
  ["/usr/bin/taskset", "apt-get install util-linux"],
]) {
  if (!existsSync(tool)) throw new Error(`${tool} is needed: ${hint}`);
}
const ffmpegVersion = (() => {
  try {
    return execFileSync("ffmpeg", ["-version"], { encoding: "utf8" }).split(" Copyright")[0];
  } catch {
    throw new Error("ffmpeg is needed (decoding, and making the generated inputs): apt-get install ffmpeg");
  }
})();

// --- the reference: built once into bench/.cache (or --reference) ------------------------------------------------
const INSTALL =
  "apt-get install cmake g++ pkg-config libavcodec-dev libavformat-dev libavutil-dev libswscale-dev \
libswresample-dev libavfilter-dev libavdevice-dev";
function referenceBinary() {
  if (values.reference !== undefined) return values.reference;
  const out = join(root, "bench/.cache/vpdq-reference");
  const binary = join(out, "vpdq-hash-video");
  if (existsSync(binary)) return binary;
  const script = join(root, "../shared/anchors/vpdq-cpp/build.sh");
  log(`building Meta's vPDQ reference with ${script} into ${out} (once)`);
  mkdirSync(out, { recursive: true });
  try {
    execFileSync("bash", [script, out], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    log(String(error.stderr ?? error.message).slice(0, 2000));
    log(`the reference did not build (log: ${join(out, "cmake.log")}).`);
    log(`It needs Debian's build tools and FFmpeg development packages:\n  ${INSTALL}`);
    log("or pass --reference /path/to/vpdq-hash-video. No reference, no bench.");
    process.exit(1);
  }
  if (!existsSync(binary)) throw new Error(`${script} ran but left no ${binary}`);
  return binary;
}
const reference = referenceBinary();

// --- inputs ---------------------------------------------------------------------------------------------------------
// Moving synthetic sources (benign: test patterns, a fractal zoom, noise), H.264 High at a normal bitrate for the
// size, 30 fps, yuv420p, as a phone or a web encoder would make them.
const SOURCES = {
  "sd-testsrc2": { size: "640x480", kbps: 1500, source: "testsrc2=size=640x480:rate=30" },
  "sd-noise": {
    size: "720x480",
    kbps: 1500,
    source: "testsrc2=size=720x480:rate=30,noise=alls=30:allf=t+u",
  },
  "hd-mandelbrot": {
    size: "1280x720",
    kbps: 4000,
    // A zooming fractal; 256 iterations instead of 7189 keep it quick to draw.
    source: "mandelbrot=size=1280x720:rate=30:maxiter=256",
  },
  "hd-testsrc2": { size: "1280x720", kbps: 4000, source: "testsrc2=size=1280x720:rate=30" },
  "fhd-testsrc2": { size: "1920x1080", kbps: 8000, source: "testsrc2=size=1920x1080:rate=30" },
};
const work = mkdtempSync(join(tmpdir(), "phmatch-bench-video-"));
const cleanUp = () => rmSync(work, { recursive: true, force: true });
// Also on an error: the generated videos never outlive the run.
process.on("exit", cleanUp);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

function probeSeconds(path) {
  const out = execFileSync(
    "ffprobe",
    ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=duration,width,height", "-of", "json", path],
    { encoding: "utf8" },
  );
  const stream = JSON.parse(out).streams[0];
  return { seconds: Number(stream.duration), size: `${stream.width}x${stream.height}` };
}

const inputs = [];
const generated = values.generated === "" ? [] : values.generated.split(",");
for (const name of generated) {
  const spec = SOURCES[name];
  if (spec === undefined) throw new Error(`unknown --generated ${name}: one of ${Object.keys(SOURCES).join(", ")}`);
  const path = join(work, `${name}.mp4`);
  const t0 = performance.now();
  execFileSync("ffmpeg", [
    ...["-nostdin", "-v", "error", "-f", "lavfi", "-i", spec.source, "-t", String(SECONDS)],
    ...["-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p"],
    ...["-b:v", `${spec.kbps}k`, "-maxrate", `${spec.kbps}k`, "-bufsize", `${2 * spec.kbps}k`],
    ...["-movflags", "+faststart", path],
  ]);
  log(`generated ${name} (${spec.size}, ${SECONDS} s) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  inputs.push({ name, kind: "generated", path, ...probeSeconds(path) });
}
if (values.real !== "none") {
  const dir = join(values.conformance, "videos");
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".mp4") && (values.real === "all" || f.includes(values.real)))
    .sort()) {
    const path = join(dir, file);
    inputs.push({ name: file.slice(0, -4), kind: "real", path, ...probeSeconds(path) });
  }
}

// --- one timed run: the command pinned to one core, under GNU time (rusage of the whole waited-for tree) ----------
function timed(argv, { stdin } = {}) {
  const timeFile = join(work, `time-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(TIME, ["-f", "%e %U %S", "-o", timeFile, "taskset", "-c", CORE, ...argv], {
      stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out = [];
    const err = [];
    child.stdout.on("data", (c) => out.push(c));
    child.stderr.on("data", (c) => err.push(c));
    child.on("error", reject);
    child.on("close", (code) => {
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) {
        reject(
          new Error(`${argv.slice(0, 2).join(" ")} exited ${code}: ${Buffer.concat(err).toString().slice(0, 600)}`),
        );
        return;
      }
      const [, user, sys] = readFileSync(timeFile, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
      rmSync(timeFile);
      resolve({ wall, cpu: user + sys, stdout: Buffer.concat(out) });
    });
    if (stdin !== undefined) stdin(child);
  });
}

const TOOLS = {
  phmatch: async (input) => {
    const run = await timed([process.execPath, cli, "hash", "--format", "vpdq", input.path]);
    return { ...run, text: run.stdout.toString("utf8") };
  },
  reference: async (input) => {
    const out = join(work, `${input.name}.ref.vpdq.txt`);
    const run = await timed([reference, "-r", "1", "-s", "0", "-t", "1", "-i", input.path, "-o", out]);
    const text = readFileSync(out, "utf8");
    rmSync(out);
    return { ...run, text };
  },
};

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;

/** Frames both produced, frame by frame: counts, same frame indices, PDQ bit distances (median/p90/max). */
function agreement(oursText, refText) {
  const ours = parseVpdqText(oursText, "phmatch");
  const ref = parseVpdqText(refText, "reference");
  const byFrame = new Map(ref.map((f) => [f.frame, f]));
  const both = ours.filter((f) => byFrame.has(f.frame));
  const distancesOf = (frames) =>
    frames.map((f) => hammingDistance(f.hash.bytes, byFrame.get(f.frame).hash.bytes)).sort((a, b) => a - b);
  const distances = distancesOf(both);
  // The frames matching uses: quality >= 50 on both sides (a near-uniform frame's bits are noise either way).
  const kept = distancesOf(both.filter((f) => f.hash.quality >= 50 && byFrame.get(f.frame).hash.quality >= 50));
  return {
    ours: ours.length,
    ref: ref.length,
    sameFrames: distances.length === ours.length && distances.length === ref.length,
    median: quantile(distances, 0.5),
    p90: quantile(distances, 0.9),
    max: distances.at(-1) ?? Number.NaN,
    kept: kept.length,
    keptP90: quantile(kept, 0.9),
    keptMax: kept.at(-1) ?? Number.NaN,
  };
}

// --- the runs ---------------------------------------------------------------------------------------------------
const git = (...args) => execFileSync("git", ["-C", root, ...args], { encoding: "utf8" }).trim();
// The commit measured: read at the start (a commit made during the run must not be credited with its figures).
const dirty = git("status", "--porcelain", "--untracked-files=no") !== "";
const commit = `${git("rev-parse", "--short", "HEAD")}${dirty ? " (with uncommitted changes)" : ""}`;
const started = new Date();
const loadAtStart = loadavg()[0];
async function measure(input) {
  const runs = { phmatch: [], reference: [] };
  let check;
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 === 0 ? ["phmatch", "reference"] : ["reference", "phmatch"];
    const texts = {};
    for (const tool of order) {
      const run = await TOOLS[tool](input);
      runs[tool].push(run);
      texts[tool] = run.text;
    }
    const a = agreement(texts.phmatch, texts.reference);
    // Every repetition must agree with the first: a tool whose output changes between runs is a finding.
    if (check !== undefined && JSON.stringify(a) !== JSON.stringify(check)) {
      throw new Error(`${input.name}: repetition ${rep} gave other hashes than repetition 0`);
    }
    check = a;
  }
  const perMinute = (xs) => ({
    min: (Math.min(...xs) * 60) / input.seconds,
    median: (median(xs) * 60) / input.seconds,
  });
  const row = { ...input, agreement: check };
  for (const tool of Object.keys(runs)) {
    row[tool] = { wall: perMinute(runs[tool].map((r) => r.wall)), cpu: perMinute(runs[tool].map((r) => r.cpu)) };
  }
  log(
    `${input.name} (${input.size}, ${input.seconds.toFixed(1)} s): ` +
      `phmatch ${row.phmatch.wall.median.toFixed(2)} s/min ` +
      `wall, ${row.phmatch.cpu.median.toFixed(2)} CPU; reference ${row.reference.wall.median.toFixed(2)} wall, ` +
      `${row.reference.cpu.median.toFixed(2)} CPU; frames ${check.ours}/${check.ref}, ` +
      `bits ${check.median}/${check.p90}`,
  );
  return row;
}
const rows = [];
for (const input of inputs) rows.push(await measure(input));
// The cost of one run however short the video: a 1 s clip (one hashed frame), both tools, per run.
let startRow;
if (generated.length > 0 && !values["no-breakdown"]) {
  const path = join(work, "start-1s.mp4");
  execFileSync("ffmpeg", [
    ...["-nostdin", "-v", "error", "-f", "lavfi", "-i", SOURCES["sd-testsrc2"].source, "-t", "1"],
    ...["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-b:v", "1500k", path],
  ]);
  startRow = await measure({ name: "start-1s", kind: "start", path, ...probeSeconds(path) });
}

// --- where our time goes: one pinned run per generated input, stage by stage ---------------------------------------
// The FFmpeg stages with the arguments decodeVideo (packages/core/src/decode/video.ts) gives them, from the file
// instead of the memory descriptor (the same bytes, read the same way): ffprobe counting packets; the decoder
// (one thread, choosing every 30th frame, its own pixel format); the converter (libswscale's C path to RGB24).
// The in-process child runs decodeVideo + pdqHash as hashVideoBytes does and times PDQ apart.
async function breakdown(input) {
  const probe = await timed([
    ...["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets"],
    ...["-show_streams", "-show_format", "-of", "json", input.path],
  ]);
  const [w, h] = input.size.split("x");
  const decoderArgs = [
    ...["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-noautorotate", "-i", input.path],
    ...["-map", "0:v:0", "-vf", "select=not(mod(n\\,30))", "-fps_mode", "passthrough"],
    ...["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"],
  ];
  const decodeAll = await timed([
    ...["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-i", input.path, "-map", "0:v:0", "-f", "null", "-"],
  ]);
  // Decoder and converter piped as decodeVideo pipes them, each pinned and under its own GNU time.
  const pipeTimes = [join(work, "t-dec"), join(work, "t-conv")];
  const q = (s) => `'${s.replaceAll("'", "'\\''")}'`;
  const pipeline =
    `${TIME} -f '%e %U %S' -o ${q(pipeTimes[0])} taskset -c ${CORE} ${decoderArgs.map(q).join(" ")} | ` +
    `${TIME} -f '%e %U %S' -o ${q(pipeTimes[1])} taskset -c ${CORE} ffmpeg -nostdin -v error -cpuflags 0 ` +
    `-f rawvideo -pix_fmt yuv420p -s ${w}x${h} -i pipe:0 -f rawvideo -pix_fmt rgb24 - > /dev/null`;
  execFileSync("bash", ["-o", "pipefail", "-c", pipeline]);
  const [dec, conv] = pipeTimes.map((f) => {
    const [, user, sys] = readFileSync(f, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
    return user + sys;
  });
  const child = await timed([process.execPath, fileURLToPath(import.meta.url), "--in-process", input.path]);
  const inner = JSON.parse(child.stdout.toString("utf8"));
  const start = await timed([process.execPath, cli, "--version"]);
  const ffmpegStart = await timed(["ffmpeg", "-version"]);
  const perMinute = (s) => (s * 60) / input.seconds;
  return {
    name: input.name,
    size: input.size,
    probe: perMinute(probe.cpu),
    decodeAll: perMinute(decodeAll.cpu),
    decoder: perMinute(dec),
    converter: perMinute(conv),
    pdq: perMinute(inner.pdqMs / 1000),
    pdqPerFrameMs: inner.pdqMs / inner.frames,
    nodeOther: perMinute(inner.ownCpuS - inner.pdqMs / 1000),
    inProcessCpu: perMinute(child.cpu),
    inProcessWall: perMinute(child.wall),
    cliStart: start.cpu,
    ffmpegStart: ffmpegStart.cpu,
  };
}

const breakdowns = [];
if (!values["no-breakdown"]) {
  for (const input of inputs.filter((i) => i.kind === "generated")) {
    breakdowns.push(await breakdown(input));
    log(`breakdown ${input.name} done`);
  }
}

// --- match time against 10^6 listed frames: ./matcher.mjs as it is (Matcher.match of video records) ---------------
let matchTable;
if (!values["no-match"]) {
  log(`match: bench/video/matcher.mjs --frames ${values["match-frames"]}`);
  matchTable = execFileSync(
    process.execPath,
    ["--max-old-space-size=8192", join(here, "matcher.mjs"), "--frames", values["match-frames"]],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  ).trim();
}
cleanUp();

// --- report ------------------------------------------------------------------------------------------------------
const cpuModel = /^model name\s*:\s*(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown CPU";
const nproc = execFileSync("nproc", { encoding: "utf8" }).trim();
const f2 = (x) => x.toFixed(2);
const pair = (m) => `${f2(m.min)} / ${f2(m.median)}`;
const lines = [
  `\`npm run bench:video -- --reps ${REPS}\` at ${commit}, ${started.toISOString()}; ${nproc} cores (${cpuModel}), ` +
    `every process tree pinned to core ${CORE} (\`taskset -c ${CORE}\`); ${ffmpegVersion}; Node ${process.version}; ` +
    `1-minute load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end (wall time ` +
    "counts other processes on the core; CPU time does not).",
  "",
  "Seconds per minute of video (min / median of the repetitions, run alternately). phmatch: `phmatch hash --format " +
    "vpdq V` as a user runs it (Node start, the CLI, ffprobe, FFmpeg decoding with `-threads 1` and converting to " +
    "RGB24 with libswscale's C path, PDQ in Node). Reference: Meta's `vpdq-hash-video -r 1 -s 0 -t 1` (one hashing " +
    "thread; its decoder's thread count is automatic, which the pin makes one). CPU: user + system of the tree. " +
    "Frames ours/ref and the PDQ bits between them (median/p90/max) are from the same runs (the reference's RGB " +
    "is FFmpeg's x86 SIMD conversion, ours the portable C one: a few bits apart by design).",
  "",
  "| input | size | video s | phmatch wall | phmatch CPU | reference wall | reference CPU | CPU ours/ref | " +
    "frames ours/ref | bits | bits, quality >= 50 |",
  `|${"---|".repeat(3)}${"---:|".repeat(5)}---|---|---|`,
];
for (const r of rows) {
  const a = r.agreement;
  lines.push(
    `| ${r.name}${r.kind === "real" ? "" : " (generated)"} | ${r.size} | ${r.seconds.toFixed(1)} | ` +
      `${pair(r.phmatch.wall)} | ${pair(r.phmatch.cpu)} | ${pair(r.reference.wall)} | ${pair(r.reference.cpu)} | ` +
      `${(r.phmatch.cpu.median / r.reference.cpu.median).toFixed(2)}x | ` +
      `${a.ours}/${a.ref}${a.sameFrames ? "" : " (frames differ)"} | ` +
      `${a.median}/${a.p90}/${a.max} | ${a.kept} frames: p90 ${a.keptP90}, max ${a.keptMax} |`,
  );
}
// Totals: the medians in seconds, summed, per minute of all the footage of a kind.
for (const kind of ["generated", "real"]) {
  const mine = rows.filter((r) => r.kind === kind);
  if (mine.length === 0) continue;
  const seconds = mine.reduce((s, r) => s + r.seconds, 0);
  const total = (tool, what) => (mine.reduce((s, r) => s + (r[tool][what].median * r.seconds) / 60, 0) * 60) / seconds;
  lines.push(
    `| **all ${kind} (${mine.length})** | | ${seconds.toFixed(1)} | ${f2(total("phmatch", "wall"))} | ` +
      `${f2(total("phmatch", "cpu"))} | ${f2(total("reference", "wall"))} | ${f2(total("reference", "cpu"))} | ` +
      `${(total("phmatch", "cpu") / total("reference", "cpu")).toFixed(2)}x | | | |`,
  );
}
if (startRow !== undefined) {
  const perRun = (m) => f2((m.median * startRow.seconds) / 60);
  lines.push(
    "",
    `The cost of one run, however short the video: a 1 s 640x480 clip (one hashed frame), median CPU seconds per ` +
      `run: phmatch ${perRun(startRow.phmatch.cpu)} s (wall ${perRun(startRow.phmatch.wall)} s), reference ` +
      `${perRun(startRow.reference.cpu)} s (wall ${perRun(startRow.reference.wall)} s).`,
  );
}
if (breakdowns.length > 0) {
  lines.push(
    "",
    "Where phmatch's time goes, CPU seconds per minute of video, one pinned run of each stage: ffprobe counting " +
      "packets; the decoder (H.264, one thread, every 30th frame kept, in its own pixel format); the converter " +
      "(libswscale's C path to RGB24); PDQ in Node; the rest of Node's CPU in the in-process run (pipe reading, " +
      "start). In-process: decodeVideo + pdqHash as hashVideoBytes does, the tree's CPU. Decode only: " +
      "`ffmpeg -threads 1 -i V -f null -` (every frame decoded, nothing converted): the floor for both tools.",
    "",
    "| input | size | ffprobe | decoder | converter | PDQ (ms/frame) | Node rest | in-process CPU | " +
      "decode only | CLI start s | FFmpeg start s |",
    `|---|---|${"---:|".repeat(9)}`,
    ...breakdowns.map(
      (b) =>
        `| ${b.name} | ${b.size} | ${f2(b.probe)} | ${f2(b.decoder)} | ${f2(b.converter)} | ` +
        `${f2(b.pdq)} (${b.pdqPerFrameMs.toFixed(1)}) | ${f2(b.nodeOther)} | ${f2(b.inProcessCpu)} | ` +
        `${f2(b.decodeAll)} | ${f2(b.cliStart)} | ${f2(b.ffmpegStart)} |`,
    ),
  );
}
if (matchTable !== undefined) {
  lines.push(
    "",
    `Match: \`bench/video/matcher.mjs --frames ${values["match-frames"]}\` (Matcher.match of video hash records ` +
      "against a store of listed videos' frames; one thread, not pinned):",
    "",
    matchTable,
  );
}
const report = lines.join("\n");
console.log(report);
if (values.out !== undefined) {
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, `${report}\n`);
}

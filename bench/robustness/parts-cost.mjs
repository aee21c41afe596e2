// The CPU cost of the parts query view (issue 19, #14's budget for the views' cost): hashImageBytes as an upload
// check hashes it (PDQ, 256-bit pHash, digests, dihedral) without views, with parts only, and with check's default
// views, on photo-like 2 MP JPEGs; CPU ms per image (this process, libvips' threads included), rounds interleaved.
//   node bench/robustness/parts-cost.mjs [--images 12] [--rounds 5]
import { parseArgs } from "node:util";
import { hashImageBytes } from "@phmatch/core";
import { photoLikeJpeg } from "../photo-like.mjs";

const { values } = parseArgs({ options: { images: { type: "string" }, rounds: { type: "string" } } });
const IMAGES = Number(values.images ?? 12);
const ROUNDS = Number(values.rounds ?? 5);
const QUERY = { algorithms: ["pdq", "phash16", "md5", "sha1"], dihedral: true };
const ROWS = {
  "no views": {},
  parts: { parts: true },
  "trim + rotations + parts (check's defaults)": { trim: true, rotations: true, parts: true },
};
const jpegs = [];
for (let i = 0; i < IMAGES; i++) jpegs.push(await photoLikeJpeg(1000 + i, 1728, 1152));
const cpu = Object.fromEntries(Object.keys(ROWS).map((k) => [k, 0]));
let parts = 0;
for (const views of Object.values(ROWS)) await hashImageBytes(jpegs[0], "warm-up", { ...QUERY, ...views });
for (let round = 0; round < ROUNDS; round++)
  for (const [name, views] of Object.entries(ROWS)) {
    const c0 = process.cpuUsage();
    for (const jpeg of jpegs) {
      const r = await hashImageBytes(jpeg, "bench", { ...QUERY, ...views });
      if (name === "parts" && round === 0) parts += r.parts?.length ?? 0;
    }
    const c = process.cpuUsage(c0);
    cpu[name] += (c.user + c.system) / 1000;
  }
const per = (name) => cpu[name] / (IMAGES * ROUNDS);
console.log(`${IMAGES} photo-like 1728x1152 JPEGs, ${ROUNDS} rounds, Node ${process.version}`);
console.log(`parts kept per image (PDQ quality >= 50): ${(parts / IMAGES).toFixed(1)}\n`);
console.log("| query | CPU ms / image | over no views |");
console.log("|---|---:|---:|");
for (const name of Object.keys(ROWS))
  console.log(`| ${name} | ${per(name).toFixed(1)} | +${(per(name) - per("no views")).toFixed(1)} |`);

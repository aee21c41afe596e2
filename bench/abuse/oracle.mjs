// The yes/no oracle: a client that reads list entries back through POST /v1/match, started by
// bench/abuse/run.mjs in its own process. It sees only `decision` (match / no_match), as a decision token does.
//   --attack pdq: from a near match of a listed PDQ (what an attacker holding a matching image has, within the
//     match distance), it walks bit by bit to the edge of the match ball (a binary search over a random order of
//     bit flips: the value found is exactly the threshold away from the entry), then asks, for each other bit,
//     whether flipping it still matches (it does exactly for the bits that differ from the entry), and so knows
//     the entry exactly.
//   --attack phash: random 64-bit values, as many per request as the gate takes, until one matches; the one that
//     matched is found by halving; the entry it matched is then recovered as above.
// --per-request: the hashes one request carries (1: each alone, under `hashes`; more: under `dihedral`, padded to
// the 8 variants the gate now requires, or as many as the gate takes). Several hashes per request are group tests
// (Hwang's generalised binary splitting, knowing how many bits differ at the edge): fewer requests, more hashes.
// Runs until SIGTERM or --entries recovered, then prints JSON on stdout: each entry recovered (hex, requests,
// hashes sent, seconds), the work in progress, and the refusal if the gate refused (then it keeps asking, as a
// client would, and counts the answers).
// Usage: node bench/abuse/oracle.mjs --attack pdq --port 8080 --token T --targets near.json --per-request 1
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { parseArgs } from "node:util";
import { seededRandom } from "../seeded-random.mjs";

const { values } = parseArgs({
  options: {
    attack: { type: "string" },
    port: { type: "string" },
    token: { type: "string" },
    from: { type: "string", default: "127.0.0.2" },
    targets: { type: "string" },
    "per-request": { type: "string", default: "1" },
    pad: { type: "string", default: "0" },
    entries: { type: "string", default: "1000000" },
    seed: { type: "string", default: "16" },
  },
});
const PER_REQUEST = Number(values["per-request"]);
// The gate at this commit takes exactly 8 dihedral variants: smaller groups are padded with repeats (which it
// still counts against the rate).
const PAD = Number(values.pad);
const agent = new Agent({ keepAlive: true, maxSockets: 1, localAddress: values.from });
const rand = seededRandom(Number(values.seed));
const ALGORITHM = values.attack === "pdq" ? "pdq" : "phash";
const BITS = ALGORITHM === "pdq" ? 256 : 64;
// The default match distance (a public default: the attack does not need it to be secret, only to know it).
const THRESHOLD = ALGORITHM === "pdq" ? 31 : 10;

class Refused extends Error {}

const result = { attack: values.attack, perRequest: PER_REQUEST, entries: [], refused: undefined, rateLimited: 0 };
let current = { requests: 0, hashes: 0, started: Date.now() };
let stopping = false;

function post(body) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: Number(values.port),
        path: "/v1/match",
        method: "POST",
        agent,
        headers: {
          authorization: `Bearer ${values.token}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => {
          let parsed = {};
          try {
            parsed = JSON.parse(text);
          } catch {
            // not the gate's JSON
          }
          resolve({ status: res.statusCode, retryAfter: Number(res.headers["retry-after"] ?? 1), body: parsed });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

// One yes/no question: does any of these hashes match a listed entry?
async function ask(hashes) {
  if (stopping) throw new Refused("stopped");
  let sent = hashes;
  if (hashes.length > 1 && PAD > 0)
    sent = [...hashes, ...new Array(PAD - hashes.length).fill(hashes[hashes.length - 1])];
  const body = JSON.stringify(
    sent.length === 1
      ? { hashes: { [ALGORITHM]: sent[0] } }
      : { hashes: { [ALGORITHM]: sent[0] }, dihedral: { [ALGORITHM]: sent } },
  );
  for (;;) {
    const r = await post(body);
    current.requests++;
    if (r.status === 429) {
      result.rateLimited++;
      await new Promise((resolve) => setTimeout(resolve, r.retryAfter * 1000));
      continue;
    }
    current.hashes += sent.length;
    if (r.status === 200 && (r.body.decision === "match" || r.body.decision === "no_match"))
      return r.body.decision === "match";
    throw new Refused(`${r.status} ${r.body.reason_code ?? ""}`.trim());
  }
}

const hexOf = (bits) => {
  let hex = "";
  for (let i = 0; i < bits.length; i += 4)
    hex += ((bits[i] << 3) | (bits[i + 1] << 2) | (bits[i + 2] << 1) | bits[i + 3]).toString(16);
  return hex;
};
const bitsOf = (hex) => [...hex].flatMap((c) => [3, 2, 1, 0].map((s) => (parseInt(c, 16) >> s) & 1));
const flipped = (bits, indexes) => {
  const out = bits.slice();
  for (const i of indexes) out[i] ^= 1;
  return out;
};
const randomHex = (digits) => Array.from({ length: digits / 8 }, () => rand().toString(16).padStart(8, "0")).join("");

// Items of which exactly `defectives` are "defective" (test(group) is true iff the group holds one): Hwang's
// generalised binary splitting, groups capped at PER_REQUEST. Returns the defective items.
async function findDefectives(items, defectives, test) {
  let pool = items.slice();
  const found = [];
  while (found.length < defectives) {
    const left = defectives - found.length;
    if (pool.length === left) return [...found, ...pool];
    const size = Math.min(
      PER_REQUEST,
      pool.length <= 2 * left - 2 ? 1 : 2 ** Math.floor(Math.log2((pool.length - left + 1) / left)),
    );
    let group = pool.slice(0, size);
    if (!(await test(group))) {
      pool = pool.slice(size);
      continue;
    }
    // A defective in `group`: halve it down to one; the halves found clean leave the pool.
    const clean = new Set();
    while (group.length > 1) {
      const half = group.slice(0, Math.floor(group.length / 2));
      if (await test(half)) group = half;
      else {
        for (const i of half) clean.add(i);
        group = group.slice(half.length);
      }
    }
    found.push(group[0]);
    pool = pool.filter((i) => i !== group[0] && !clean.has(i));
  }
  return found;
}

// The entry a near match (within THRESHOLD) matches, exactly.
async function recover(nearHex) {
  const near = bitsOf(nearHex);
  const order = Array.from({ length: BITS }, (_, i) => i);
  for (let i = BITS - 1; i > 0; i--) {
    const j = rand() % (i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  // The edge: near with the first k bits of `order` flipped matches for k = 0, not for k = BITS (the complement).
  let lo = 0;
  let hi = BITS;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await ask([hexOf(flipped(near, order.slice(0, mid)))])) lo = mid;
    else hi = mid;
  }
  const edge = flipped(near, order.slice(0, lo));
  // At the edge exactly THRESHOLD bits differ from the entry; order[lo] is not one of them.
  const others = order.filter((i) => i !== order[lo]);
  const differing = await findDefectives(others, THRESHOLD, (group) =>
    ask(group.map((i) => hexOf(flipped(edge, [i])))),
  );
  return hexOf(flipped(edge, differing));
}

// A random value that matches some entry: groups of random values until one matches, then halving.
async function search() {
  for (;;) {
    let group = Array.from({ length: PER_REQUEST }, () => randomHex(BITS / 4));
    if (!(await ask(group))) continue;
    while (group.length > 1) {
      const half = group.slice(0, Math.floor(group.length / 2));
      group = (await ask(half)) ? half : group.slice(half.length);
    }
    return group[0];
  }
}

async function run() {
  const targets = values.targets === undefined ? [] : JSON.parse(readFileSync(values.targets, "utf8"));
  for (let n = 0; n < Number(values.entries) && !stopping; n++) {
    current = { requests: 0, hashes: 0, started: Date.now() };
    if (values.attack === "pdq" && n >= targets.length) break;
    const near = values.attack === "pdq" ? targets[n] : await search();
    const hex = await recover(near);
    result.entries.push({
      hex,
      requests: current.requests,
      hashes: current.hashes,
      seconds: (Date.now() - current.started) / 1000,
    });
    process.send?.("entry");
  }
}

// Refused by design: keep asking as a client would, and count the answers.
async function keepAsking(reason) {
  result.refused = { reason, answers: 0 };
  const body = JSON.stringify({ hashes: { [ALGORITHM]: randomHex(BITS / 4) } });
  while (!stopping) {
    await post(body);
    result.refused.answers++;
  }
}

process.on("SIGTERM", () => {
  stopping = true;
  result.inProgress = {
    requests: current.requests,
    hashes: current.hashes,
    seconds: (Date.now() - current.started) / 1000,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
});
process.send?.("ready");
// Alive until SIGTERM, also once every target is recovered: the parent reads the result then.
setInterval(() => undefined, 60_000);
run()
  .then(() => {
    if (!stopping) process.send?.("done");
  })
  .catch((error) => {
    if (stopping) return undefined;
    if (error instanceof Refused) {
      process.send?.("refused");
      return keepAsking(error.message);
    }
    result.error = error.message;
    process.send?.("done");
  });

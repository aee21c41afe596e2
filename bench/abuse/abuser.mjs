// One kind of abusive client against the gate, started by bench/abuse/run.mjs in its own process (its sockets and
// timers must not share an event loop with the healthy client being measured). Runs until SIGTERM, then prints
// what it was answered, as JSON on stdout: {"408 REQUEST_TIMEOUT": n, "closed": n, ...}.
// Usage: node bench/abuse/abuser.mjs --kind stalled-body --port 8080 --token T --count 16 --from 127.0.0.2,127.0.0.3
import { connect } from "node:net";
import { parseArgs } from "node:util";
import sharp from "sharp";
import { photoLikeJpeg } from "../photo-like.mjs";

const { values } = parseArgs({
  options: {
    kind: { type: "string" },
    port: { type: "string" },
    token: { type: "string" },
    count: { type: "string", default: "16" },
    from: { type: "string", default: "127.0.0.2" },
    "max-bytes": { type: "string", default: String(8 * 1024 * 1024) },
    // pixel-bomb: which image, and how often each connection sends it
    image: { type: "string", default: "png" },
    "every-ms": { type: "string", default: "10000" },
    // the client address a proxy in front would name (sent as X-Forwarded-For; the gate trusts it only from
    // --trusted-proxies)
    "forwarded-for": { type: "string" },
    // video-frames: how many frame hashes each /v1/match request carries
    frames: { type: "string", default: "3600" },
  },
});
const PORT = Number(values.port);
const COUNT = Number(values.count);
const SOURCES = values.from.split(",");
const MAX_BYTES = Number(values["max-bytes"]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const tally = {};
const count = (key) => (tally[key] = (tally[key] ?? 0) + 1);
const open = new Set();
let stopping = false;
let nextSource = 0;

// A raw connection: `outcome` resolves with the first complete response ("<status> <reason_code>") or "closed".
function connection(first) {
  const socket = connect({ port: PORT, host: "127.0.0.1", localAddress: SOURCES[nextSource++ % SOURCES.length] });
  open.add(socket);
  let received = Buffer.alloc(0);
  let settle;
  const outcome = new Promise((resolve) => (settle = resolve));
  socket.on("error", () => undefined);
  socket.on("data", (d) => {
    received = Buffer.concat([received, d]);
    const end = received.indexOf("\r\n\r\n");
    if (end < 0) return;
    const headers = received.subarray(0, end).toString("latin1");
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? 0);
    if (received.length < end + 4 + length) return;
    let reason = "";
    try {
      reason = JSON.parse(received.subarray(end + 4, end + 4 + length).toString("utf8")).reason_code ?? "";
    } catch {
      // not the gate's JSON
    }
    settle(`${headers.split(" ")[1]} ${reason}`.trim());
  });
  const closed = new Promise((resolve) =>
    socket.once("close", () => {
      open.delete(socket);
      settle("closed");
      resolve();
    }),
  );
  if (first !== undefined && first.length > 0) socket.write(first);
  return { socket, outcome, closed };
}

const forwardedFor = values["forwarded-for"] === undefined ? "" : `X-Forwarded-For: ${values["forwarded-for"]}\r\n`;
const head = (path, type, length) =>
  Buffer.from(
    `POST ${path} HTTP/1.1\r\nHost: gate\r\nAuthorization: Bearer ${values.token}\r\n${forwardedFor}` +
      `Content-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n`,
    "latin1",
  );

// `COUNT` connections held open at all times: each sends `first`, then `drip` every `everyMs` (if given); when
// the server answers or closes it, the outcome is counted and a new one takes its place.
function holdOpen(first, drip, everyMs) {
  const one = async () => {
    while (!stopping) {
      const c = connection(first);
      const timer =
        drip === undefined ? undefined : setInterval(() => c.socket.writable && c.socket.write(drip), everyMs);
      const outcome = await c.outcome;
      if (!stopping) count(outcome);
      clearInterval(timer);
      c.socket.destroy();
      await c.closed;
      await sleep(20);
    }
  };
  for (let i = 0; i < COUNT; i++) void one();
}

// `COUNT` loops, each sending `payload` on a new connection, counting the answer, closing, again.
function exchangeLoop(payload) {
  const one = async () => {
    while (!stopping) {
      const c = connection(payload);
      const outcome = await c.outcome;
      if (!stopping) count(outcome);
      c.socket.destroy();
      await c.closed;
    }
  };
  for (let i = 0; i < COUNT; i++) void one();
}

const jpeg = await photoLikeJpeg(77, 864, 576);
const boundary = "phm-bench-boundary";
const multipart = (bytes) =>
  Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload.jpg"\r\nContent-Type: ` +
        `image/jpeg\r\n\r\n`,
    ),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);

switch (values.kind) {
  case "idle": // connects, sends nothing
    holdOpen(undefined);
    break;
  case "headers-dribble": // slowloris: a header byte a second
    holdOpen(Buffer.from("POST /v1/check HTTP/1.1\r\nHost: gate\r\nX-Slow: "), "a", 1000);
    break;
  case "huge-headers": // 20 KiB of headers, over and over
    exchangeLoop(Buffer.from(`GET /healthz HTTP/1.1\r\nHost: gate\r\nX-Big: ${"a".repeat(20 * 1024)}\r\n\r\n`));
    break;
  case "stalled-body": // 8 bytes of an announced 1 MB, then nothing
    holdOpen(Buffer.concat([head("/v1/check", "image/jpeg", 1_000_000), jpeg.subarray(0, 8)]));
    break;
  case "dribbled-body": // 10 bytes every 100 ms of an announced 1 MB
    holdOpen(
      Buffer.concat([head("/v1/check", "image/jpeg", 1_000_000), jpeg.subarray(0, 8)]),
      Buffer.alloc(10, 1),
      100,
    );
    break;
  case "disconnect": // half the body, then gone
    {
      const one = async () => {
        while (!stopping) {
          const c = connection(
            Buffer.concat([head("/v1/check", "image/jpeg", jpeg.length), jpeg.subarray(0, jpeg.length >> 1)]),
          );
          await sleep(50);
          c.socket.destroy();
          await c.closed;
          if (!stopping) count("disconnected");
        }
      };
      for (let i = 0; i < COUNT; i++) void one();
    }
    break;
  case "wrong-type": // 1 MB of JSON to /v1/check
    exchangeLoop(Buffer.concat([head("/v1/check", "application/json", 1_000_000), Buffer.alloc(1_000_000, 0x20)]));
    break;
  case "multipart-oversized": // one file part 1 MiB over --max-bytes
    {
      const body = multipart(Buffer.alloc(MAX_BYTES + 1024 * 1024, 7));
      exchangeLoop(Buffer.concat([head("/v1/check", `multipart/form-data; boundary=${boundary}`, body.length), body]));
    }
    break;
  case "flood": // well-formed uploads back to back
    exchangeLoop(Buffer.concat([head("/v1/check", "image/jpeg", jpeg.length), jpeg]));
    break;
  case "pixel-bomb": // a one-colour image declaring many pixels in few bytes, each connection every --every-ms
    {
      const [type, bytes] = await pixelBomb(values.image);
      const payload = Buffer.concat([head("/v1/check", type, bytes.length), bytes]);
      const every = Number(values["every-ms"]);
      const one = async (i) => {
        // Connections take turns: with 2 connections every 10 s, one upload every 5 s.
        let next = Date.now() + (i * every) / COUNT;
        while (!stopping) {
          await sleep(Math.max(0, next - Date.now()));
          if (stopping) break;
          next += every;
          const c = connection(payload);
          const outcome = await c.outcome;
          if (!stopping) count(outcome);
          c.socket.destroy();
          await c.closed;
        }
      };
      for (let i = 0; i < COUNT; i++) void one(i);
    }
    break;
  case "video-frames": // a video's frame list by hash to /v1/match, as long as a request may be, back to back
    {
      // Random PDQ values (none listed): what a client probing a list with frames, or burning the gate's CPU with
      // lookups, would send. Each answered request looked up every frame; the tally counts them.
      const frames = Number(values.frames);
      const hex = () => Array.from({ length: 64 }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");
      const body = Buffer.from(
        JSON.stringify({
          video: {
            algorithm: "vpdq",
            frames: Array.from({ length: frames }, (_, i) => ({
              frame: i * 30,
              pdq: hex(),
              quality: 100,
              timestamp: i,
            })),
          },
        }),
      );
      const payload = Buffer.concat([head("/v1/match", "application/json", body.length), body]);
      const one = async () => {
        while (!stopping) {
          const c = connection(payload);
          const outcome = await c.outcome;
          if (!stopping) {
            count(outcome);
            if (outcome.startsWith("200 ")) tally["frames looked up"] = (tally["frames looked up"] ?? 0) + frames;
          }
          c.socket.destroy();
          await c.closed;
        }
      };
      for (let i = 0; i < COUNT; i++) void one();
    }
    break;
  default:
    throw new Error(`unknown --kind ${values.kind}`);
}

// The images of the pixel-bomb rows, one colour each (so they compress to little): the 10000x10000 PNG
// (~300 KB at compression level 9), a JPEG and a lossy WebP of the same size (over the gate's 50 MP limit), and a
// 7071x7071 PNG just under it (50 MP, decoded and hashed at full size).
async function pixelBomb(image) {
  const flat = (side) =>
    sharp({
      create: { width: side, height: side, channels: 3, background: { r: 90, g: 140, b: 200 } },
      limitInputPixels: false,
    });
  switch (image) {
    case "png":
      return ["image/png", await flat(10_000).png({ compressionLevel: 9 }).toBuffer()];
    case "jpeg":
      return ["image/jpeg", await flat(10_000).jpeg({ quality: 80 }).toBuffer()];
    case "webp":
      return ["image/webp", await flat(10_000).webp({ quality: 80, effort: 0 }).toBuffer()];
    case "png-50mp":
      return ["image/png", await flat(7_071).png({ compressionLevel: 9 }).toBuffer()];
    default:
      throw new Error(`unknown --image ${image}`);
  }
}

process.on("SIGTERM", () => {
  stopping = true;
  for (const s of open) s.destroy();
  process.stdout.write(`${JSON.stringify(tally)}\n`, () => process.exit(0));
});
process.send?.("ready");

// The gate's defences below the routes: what a client can hold (sockets, time, check slots) without sending a
// complete request. Node's own timeouts bound each connection in time; this file adds the per-address cap on
// open connections, the answers to requests Node refuses before fastify sees them, and the slot holders, by
// which a client over its fair share, or a stalled or dribbled body, gives its check slot to a new request when
// every slot is taken.
import { randomUUID } from "node:crypto";
import { type Server, type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";

/** Time for a whole request (headers and body) to arrive, in ms, unless `--request-timeout-ms` says otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** Connections one client address may hold open, unless `--max-connections-per-ip` says otherwise. */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 256;

/**
 * Headers must arrive within this (or the request timeout, if shorter). Node's default is 60 s: a slowloris
 * dribbling header bytes would hold each socket that long.
 */
export const HEADERS_TIMEOUT_MS = 10_000;
/** Node looks for expired headers and requests every 30 s by default, so an expired one lingered up to 30 s more. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;
/**
 * Node's default, stated here because docs/commands/serve.md documents it: tokens and content types fit many
 * times over.
 */
export const MAX_HEADER_BYTES = 16 * 1024;

/**
 * When every check slot is taken, an upload whose body has been arriving for at least this long at less than
 * GIVE_WAY_BELOW_BYTES_PER_SECOND gives its slot to the new request (408 UPLOAD_TOO_SLOW), also between clients
 * behind one proxy address (where the fair share below cannot tell them apart).
 */
export const GIVE_WAY_AFTER_MS = 1_000;
export const GIVE_WAY_BELOW_BYTES_PER_SECOND = 256 * 1024;
/** An address holding this many more check slots than a new request's address gives one up to it. */
export const FAIR_SHARE_MARGIN = 2;
/** How often a request waiting for a check slot asks the slot holders again whether one gives way. */
export const GIVE_WAY_RECHECK_MS = 250;

/** The answer body of the gate, also where fastify has no request yet. */
export function refusalBody(reason: string, requestId: string = randomUUID()): string {
  return JSON.stringify({ request_id: requestId, decision: "error", reason_code: reason });
}

/** A connection error Node raised before a request reached fastify (llhttp's `HPE_*` codes, Node's timeouts). */
export interface ConnectionFault extends Error {
  code?: string;
}

/**
 * Answers what Node refuses before fastify has a request, in the gate's shape: 408 REQUEST_TIMEOUT (headers or
 * the whole request too slow), 431 HEADERS_TOO_LARGE, 400 BAD_REQUEST (malformed HTTP); then closes the socket.
 * `counted` hears each reason, `answered` each answer written (for the audit log). A reset or already closed
 * socket gets nothing.
 */
export function answerClientError(
  error: ConnectionFault,
  socket: Socket,
  counted: (reason: string) => void,
  answered: (answer: { status: number; reason: string; requestId: string }) => void = () => undefined,
): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const [status, reason] =
    error.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "REQUEST_TIMEOUT"]
      : error.code === "HPE_HEADER_OVERFLOW"
        ? [431, "HEADERS_TOO_LARGE"]
        : [400, "BAD_REQUEST"];
  counted(reason);
  // A response already begun on this socket cannot be followed by another; Node's own handler checks the same.
  const pending = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && (pending === undefined || pending === null || !pending.headersSent)) {
    const requestId = randomUUID();
    const body = refusalBody(reason, requestId);
    answered({ status, reason, requestId });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; ` +
        `charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * Closes, at once, a connection beyond `max` open from one client address (IPv4 address, or IPv6 /64: one host
 * usually holds a whole /64). Each connection is bounded in time by the timeouts; this bounds how many one
 * client holds at a time, so a socket flood from one address cannot take the file descriptors the others need.
 */
export function limitConnectionsPerAddress(server: Server, max: number, refused: () => void): void {
  const open = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const key = addressKey(socket.remoteAddress);
    const count = (open.get(key) ?? 0) + 1;
    if (count > max) {
      refused();
      socket.destroy();
      return;
    }
    open.set(key, count);
    socket.once("close", () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left === 0) open.delete(key);
      else open.set(key, left);
    });
  });
}

/** The key a connection is counted under: the IPv4 address (also IPv4-mapped), or the IPv6 /64 prefix. */
export function addressKey(address: string | undefined): string {
  if (address === undefined) return "";
  const bare = address.split("%")[0] as string;
  if (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(bare)) return bare.slice(7);
  if (!bare.includes(":")) return bare;
  const [head = "", tail = ""] = bare.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = bare.includes("::")
    ? [...left, ...new Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** Why a slot holder was asked to give way. */
export type GiveWayReason = "fair-share" | "slow";

interface Holder {
  address: string;
  since: number;
  startBytes: number;
  socket: Socket;
  arriving: boolean;
  giveWay: (reason: GiveWayReason) => void;
}

/**
 * The requests holding check slots, by client address, and whether each one's body is still arriving. When every
 * slot is taken, `giveWay` frees one for a new request, if one may be taken:
 * - the fair share first: an address holding FAIR_SHARE_MARGIN more slots than the newcomer's gives up its upload
 *   still arriving with the fewest bytes, so one client cannot keep the others out by holding the slots with
 *   stalled bodies, however fast it cycles them;
 * - then the slowest upload arriving for GIVE_WAY_AFTER_MS at under GIVE_WAY_BELOW_BYTES_PER_SECOND.
 * A request whose body has arrived is never taken: it is being checked.
 */
export class SlotHolders<K extends object> {
  readonly #holders = new Map<K, Holder>();
  readonly #perAddress = new Map<string, number>();

  /**
   * `key` took a slot for `client` (its address key, through trusted proxies: see client-address.ts); its body is
   * arriving on `socket` until `arrived`. `giveWay` answers it and frees the slot.
   */
  add(key: K, client: string, socket: Socket, giveWay: (reason: GiveWayReason) => void): void {
    const address = client;
    this.#holders.set(key, {
      address,
      since: Date.now(),
      startBytes: socket.bytesRead,
      socket,
      arriving: true,
      giveWay,
    });
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
  }

  /** The body of `key` has arrived: it can no longer be asked to give way. */
  arrived(key: K): void {
    const holder = this.#holders.get(key);
    if (holder !== undefined) holder.arriving = false;
  }

  /** `key` freed its slot. */
  delete(key: K): void {
    const holder = this.#holders.get(key);
    if (holder === undefined) return;
    this.#holders.delete(key);
    const left = (this.#perAddress.get(holder.address) ?? 1) - 1;
    if (left === 0) this.#perAddress.delete(holder.address);
    else this.#perAddress.set(holder.address, left);
  }

  /** Slots held from `address` now. */
  heldBy(address: string): number {
    return this.#perAddress.get(address) ?? 0;
  }

  /** Frees a slot for a new request from `client`, if one may be taken (see the class); true if freed. */
  giveWay(client: string, now: number = Date.now()): boolean {
    const mine = this.heldBy(client);
    let fair: [K, Holder, number, number] | undefined; // key, holder, its address's slots, bytes received
    let slow: [K, Holder, number] | undefined; // key, holder, rate
    for (const [key, holder] of this.#holders) {
      if (!holder.arriving) continue;
      const received = holder.socket.bytesRead - holder.startBytes;
      const held = this.heldBy(holder.address);
      if (
        held >= mine + FAIR_SHARE_MARGIN &&
        (fair === undefined || held > fair[2] || (held === fair[2] && received < fair[3]))
      )
        fair = [key, holder, held, received];
      const elapsed = now - holder.since;
      const rate = (received * 1000) / Math.max(1, elapsed);
      if (
        elapsed >= GIVE_WAY_AFTER_MS &&
        rate < GIVE_WAY_BELOW_BYTES_PER_SECOND &&
        (slow === undefined || rate < slow[2])
      )
        slow = [key, holder, rate];
    }
    const chosen: [K, Holder, GiveWayReason] | undefined =
      fair !== undefined
        ? [fair[0], fair[1], "fair-share"]
        : slow !== undefined
          ? [slow[0], slow[1], "slow"]
          : undefined;
    if (chosen === undefined) return false;
    this.delete(chosen[0]);
    chosen[1].giveWay(chosen[2]);
    return true;
  }
}

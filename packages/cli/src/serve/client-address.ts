// Whom a request is from, for decode budgets and the audit log: the socket's peer, unless the peer is one of the
// operator's trusted proxies, whose X-Forwarded-For then names the client. Without trusted proxies (the default)
// the header is ignored: anyone can write it.
import { BlockList, isIP } from "node:net";
import { PhmatchError } from "@phmatch/core";
import { addressKey } from "./connections.js";

// IPv4-mapped IPv6 (::ffff:192.0.2.1, as a dual-stack socket reports IPv4 peers) is the IPv4 address.
const unmapped = (address: string) => (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(address) ? address.slice(7) : address);

/**
 * The trusted proxies (`--trusted-proxies 10.0.0.0/8,2001:db8::/32,192.0.2.7`). When the peer is one of them, the
 * client is the rightmost hop of X-Forwarded-For that is not (each proxy appends the address it saw, so hops to
 * the left of an untrusted one are the client's own say). A header that is not a list of IP addresses, or none,
 * gives the peer: a malformed header never names someone else.
 */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly size: number;

  /** Parses a comma-separated list of addresses and CIDR blocks; PHM_USAGE (naming `source`) for a bad entry. */
  constructor(list: string, source = "--trusted-proxies") {
    const entries = list.split(",").map((e) => e.trim());
    for (const entry of entries) {
      const [rawAddress = "", prefix, extra] = entry.split("/");
      const address = unmapped(rawAddress);
      const family = isIP(address);
      const bits = family === 4 ? 32 : 128;
      const length = prefix === undefined ? bits : /^\d{1,3}$/.test(prefix) ? Number(prefix) : NaN;
      if (family === 0 || extra !== undefined || !(length >= 0 && length <= bits)) {
        throw new PhmatchError(
          "PHM_USAGE",
          `${source}: "${entry}" is not an IP address or CIDR block (e.g. 10.0.0.0/8, 2001:db8::/32)`,
        );
      }
      this.#list.addSubnet(address, length, family === 4 ? "ipv4" : "ipv6");
    }
    this.size = entries.length;
  }

  /** True if `address` (a socket's peer or a hop) is a trusted proxy. */
  trusts(address: string): boolean {
    const bare = unmapped(address.split("%")[0] as string);
    const family = isIP(bare);
    return family !== 0 && this.#list.check(bare, family === 4 ? "ipv4" : "ipv6");
  }

  /** The client's address for a request from `peer` carrying `forwardedFor` (X-Forwarded-For). */
  clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined): string | undefined {
    if (peer === undefined || !this.trusts(peer) || forwardedFor === undefined) return peer;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor).split(",").map((h) => h.trim());
    if (hops.some((hop) => isIP(hop) === 0)) return peer;
    for (let i = hops.length - 1; i >= 0; i--) if (!this.trusts(hops[i] as string)) return unmapped(hops[i] as string);
    // Every hop is a trusted proxy: the first one is where the request entered.
    return unmapped(hops[0] as string);
  }
}

/** The key budgets and the audit log know a client by: its address (IPv6: its /64), through trusted proxies if any. */
export function clientKey(
  proxies: TrustedProxies | undefined,
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
): string {
  return addressKey(proxies === undefined ? peer : proxies.clientAddress(peer, forwardedFor));
}

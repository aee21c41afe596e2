// The gate's decode budgets (worker time per token and per client address, on an injected clock) and its
// trusted proxies (who the client is behind them; anything malformed gives the peer).
import { describe, expect, it } from "vitest";
import { DecodeBudget } from "../dist/serve/budgets.js";
import { clientKey, TrustedProxies } from "../dist/serve/client-address.js";

describe("DecodeBudget", () => {
  it(
    "charges thread time beyond the free second, refuses a key in debt until the refill pays it back, " +
      "and serves the others",
    () => {
      let now = 0;
      const budget = new DecodeBudget({ secondsPerMinute: 30, now: () => now }); // 0.5 s of credit per s
      const abuser = ["token:abuser", "addr:127.0.0.2"];
      const healthy = ["token:backend", "addr:127.0.0.3"];
      // Normal uploads (under a second of thread time each) cost nothing, however many.
      for (let i = 0; i < 1000; i++) budget.charge(healthy, 900);
      expect(budget.charged(healthy)).toBe(false);
      // Five uploads of 7 s: 30 s charged, the bucket is empty, the next is refused.
      for (let i = 0; i < 5; i++) {
        expect(budget.admit(abuser)).toEqual({ ok: true });
        budget.charge(abuser, 7_000);
      }
      expect(budget.admit(abuser)).toEqual({ ok: false, retryAfterSeconds: 1 });
      expect(budget.admit(healthy)).toEqual({ ok: true });
      // One more (already admitted, in flight) takes it 6 s into debt: 12 s to pay back at 0.5 s a second.
      budget.charge(abuser, 7_000);
      expect(budget.admit(abuser)).toEqual({ ok: false, retryAfterSeconds: 13 });
      // Either key in debt refuses: the same token from another address, another token from the same address.
      expect(budget.admit(["token:abuser", "addr:10.0.0.1"]).ok).toBe(false);
      expect(budget.admit(["token:other", "addr:127.0.0.2"]).ok).toBe(false);
      now += 12_001;
      expect(budget.admit(abuser)).toEqual({ ok: true });
      expect(budget.charged(abuser)).toBe(true);
      now += 60_000;
      expect(budget.charged(abuser)).toBe(false);
    },
  );

  it("banks no more than a minute's worth, and forgets keys once they are paid back", () => {
    let now = 0;
    const budget = new DecodeBudget({ secondsPerMinute: 10, now: () => now });
    now = 3_600_000; // an hour idle banks 10 s, not 600
    budget.charge(["a"], 12_000);
    expect(budget.admit(["a"]).ok).toBe(false);
    for (let i = 0; i < 100; i++) budget.charge([`client-${i}`], 2_000);
    expect(budget.size).toBe(101);
    now += 120_000;
    budget.charge(["last"], 2_000);
    expect(budget.size).toBe(1);
  });

  it("refuses a budget that is not a positive number", () => {
    expect(() => new DecodeBudget({ secondsPerMinute: 0 })).toThrow(expect.objectContaining({ code: "PHM_USAGE" }));
    expect(() => new DecodeBudget({ secondsPerMinute: Number.NaN })).toThrow(
      expect.objectContaining({ code: "PHM_USAGE" }),
    );
  });
});

describe("TrustedProxies", () => {
  const proxies = new TrustedProxies("10.0.0.0/8, 2001:db8::/32,192.0.2.7");

  it("takes the client from X-Forwarded-For only when the peer is a trusted proxy: the rightmost untrusted hop", () => {
    expect(proxies.clientAddress("10.1.2.3", "198.51.100.9")).toBe("198.51.100.9");
    expect(proxies.clientAddress("::ffff:10.1.2.3", "198.51.100.9")).toBe("198.51.100.9");
    // A client cannot name someone else by sending the header itself: its own hop is appended to the right.
    expect(proxies.clientAddress("10.1.2.3", "203.0.113.5, 198.51.100.9, 10.9.9.9")).toBe("198.51.100.9");
    expect(proxies.clientAddress("2001:db8::1", "2001:db8:5::7, 2a00:1450::68")).toBe("2a00:1450::68");
    // Several X-Forwarded-For headers read as one list.
    expect(proxies.clientAddress("192.0.2.7", ["203.0.113.5", "198.51.100.9"])).toBe("198.51.100.9");
    // Every hop trusted: where the request came in.
    expect(proxies.clientAddress("10.1.2.3", "10.4.4.4, 10.5.5.5")).toBe("10.4.4.4");
  });

  it("ignores the header from a peer that is not trusted, and fails closed to the peer on anything malformed", () => {
    expect(proxies.clientAddress("198.51.100.1", "203.0.113.5")).toBe("198.51.100.1");
    expect(proxies.clientAddress("192.0.2.8", "203.0.113.5")).toBe("192.0.2.8");
    for (const bad of [
      "",
      "unknown",
      "203.0.113.5, ",
      "203.0.113.5:4711",
      "203.0.113.5 198.51.100.9",
      "[2001:db8::1]",
      "_hidden, 203.0.113.5",
      "203.0.113.256",
    ]) {
      expect(proxies.clientAddress("10.1.2.3", bad), bad).toBe("10.1.2.3");
    }
    expect(proxies.clientAddress("10.1.2.3", undefined)).toBe("10.1.2.3");
  });

  it("keys clients as the connection cap does (IPv6 by /64), and by the peer without trusted proxies", () => {
    expect(clientKey(proxies, "10.1.2.3", "2a00:1450:4001:81c::200e")).toBe("2a00:1450:4001:81c::/64");
    expect(clientKey(undefined, "10.1.2.3", "198.51.100.9")).toBe("10.1.2.3");
  });

  it("refuses an entry that is not an address or CIDR block", () => {
    for (const bad of [
      "",
      "10.0.0.0/33",
      "2001:db8::/129",
      "10.0.0.0/8/1",
      "localhost",
      "10.0.0.0/-1",
      "10.0.0.0/8,",
      "10.0.0.0/x",
    ]) {
      expect(() => new TrustedProxies(bad), bad).toThrow(expect.objectContaining({ code: "PHM_USAGE" }));
    }
  });
});

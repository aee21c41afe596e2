// The gate's check slots, shared between clients (admission.ts): the policy, driven without a server or a clock.
// The gate under a real flood is measured in bench/abuse.
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Admission, FairAdmission } from "../src/serve/admission.js";

const settled = async <T>(p: Promise<T>): Promise<T | "pending"> =>
  Promise.race([p, new Promise<"pending">((r) => setImmediate(() => r("pending")))]);

describe("FairAdmission", () => {
  afterEach(() => vi.useRealTimers());

  it("admits at once while a slot is free; then the request waits, it is not refused", async () => {
    const slots = new FairAdmission(2, { maxWaitingPerClient: 2 });
    expect(await slots.acquire("a", 10_000)).toBe("admitted");
    expect(await slots.acquire("b", 10_000)).toBe("admitted");
    const waiting = slots.acquire("b", 10_000);
    expect(await settled(waiting)).toBe("pending");
    slots.release("a");
    expect(await waiting).toBe("admitted");
    expect([slots.inUse, slots.held("a"), slots.held("b")]).toEqual([2, 0, 2]);
  });

  it("gives a freed slot to the waiting client holding the fewest, not to the client that waited longest", async () => {
    const slots = new FairAdmission(2, { maxWaitingPerClient: 4 });
    await slots.acquire("flood", 10_000);
    await slots.acquire("flood", 10_000);
    const outcomes: string[] = [];
    const flood = [slots.acquire("flood", 10_000), slots.acquire("flood", 10_000)].map((p) =>
      p.then((o) => outcomes.push(`flood:${o}`)),
    );
    const healthy = slots.acquire("healthy", 10_000).then((o) => outcomes.push(`healthy:${o}`));
    await settled(healthy);
    expect(outcomes).toEqual([]);
    slots.release("flood");
    await healthy;
    expect(outcomes).toEqual(["healthy:admitted"]);
    // Now each holds one: the flood's first waiter is next, by its longer wait.
    slots.release("healthy");
    await flood[0];
    expect(outcomes).toEqual(["healthy:admitted", "flood:admitted"]);
    expect(await settled(flood[1] as Promise<unknown>)).toBe("pending");
  });

  it("refuses a client's request at once once it has its most requests waiting, and only that client's", async () => {
    const slots = new FairAdmission(1, { maxWaitingPerClient: 1 });
    await slots.acquire("flood", 10_000);
    const waiting = slots.acquire("flood", 10_000);
    expect(await slots.acquire("flood", 10_000)).toBe("full");
    const other = slots.acquire("healthy", 10_000);
    expect(await settled(other)).toBe("pending");
    slots.release("flood");
    // Each holds none: the longest-waiting goes first.
    expect(await waiting).toBe("admitted");
    slots.release("flood");
    expect(await other).toBe("admitted");
  });

  it("ends a wait at its time limit or when its client goes away, taking no slot", async () => {
    vi.useFakeTimers();
    const slots = new FairAdmission(1, { maxWaitingPerClient: 4 });
    await slots.acquire("a", 1_000);
    const late: Promise<Admission> = slots.acquire("b", 1_000);
    const gone = new AbortController();
    const leaving = slots.acquire("c", 60_000, gone.signal);
    gone.abort();
    expect(await leaving).toBe("aborted");
    vi.advanceTimersByTime(1_000);
    expect(await late).toBe("timeout");
    expect([slots.inUse, slots.waiting, slots.held("b"), slots.held("c")]).toEqual([1, 0, 0, 0]);
    slots.release("a");
    expect(slots.inUse).toBe(0);
    expect(await slots.acquire("d", 1_000)).toBe("admitted");
  });

  it("never gives back more than a client holds", async () => {
    const slots = new FairAdmission(1, { maxWaitingPerClient: 1 });
    slots.release("nobody");
    expect(slots.inUse).toBe(0);
    await slots.acquire("a", 1_000);
    slots.release("a");
    slots.release("a");
    expect(slots.inUse).toBe(0);
  });
});

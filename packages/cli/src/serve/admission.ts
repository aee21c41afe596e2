// The gate's check slots, shared fairly between clients. Without it, a client that keeps every slot busy (a flood
// of well-formed uploads over many connections, within or without a rate limit) left every other client 503 at
// once; now a request that finds every slot taken waits, before its body is read, for its turn, and each freed
// slot goes to the waiting client that holds the fewest slots.

/** How a wait for a slot ended. */
export type Admission = "admitted" | "full" | "timeout" | "aborted";

interface Waiter {
  client: string;
  since: number;
  settle: (outcome: Admission) => void;
}

/**
 * Check slots by client (a token and an address, see server.ts). `acquire` takes a free slot at once; when every
 * slot is taken it waits in its client's queue (first in, first out) and each `release` hands the freed slot to
 * the waiting client holding the fewest slots, the longest-waiting first among equals, so a client with many
 * connections cannot keep the others out however fast it cycles them. A client may have at most `maxWaiting`
 * requests waiting: more are refused at once ("full"), so a flood holds a bounded number of waiting sockets.
 */
export class FairAdmission {
  readonly slots: number;
  readonly #maxWaiting: number;
  readonly #now: () => number;
  #inUse = 0;
  readonly #held = new Map<string, number>();
  readonly #waiting = new Map<string, Waiter[]>();

  constructor(slots: number, options: { maxWaitingPerClient: number; now?: () => number }) {
    this.slots = slots;
    this.#maxWaiting = options.maxWaitingPerClient;
    this.#now = options.now ?? Date.now;
  }

  /** Slots taken now. */
  get inUse(): number {
    return this.#inUse;
  }

  /** Slots `client` holds now. */
  held(client: string): number {
    return this.#held.get(client) ?? 0;
  }

  /** Requests waiting now, all clients together. */
  get waiting(): number {
    let n = 0;
    for (const queue of this.#waiting.values()) n += queue.length;
    return n;
  }

  /**
   * A slot for `client`: at once when one is free, else after its turn, within `maxWaitMs` ("timeout" after it)
   * or until `signal` fires ("aborted": the client went away). "full": the client already has the most requests
   * waiting it may have. Only "admitted" takes a slot, which `release` gives back.
   */
  acquire(client: string, maxWaitMs: number, signal?: AbortSignal): Promise<Admission> {
    if (this.#inUse < this.slots && this.waiting === 0) {
      this.#take(client);
      return Promise.resolve("admitted");
    }
    const queue = this.#waiting.get(client) ?? [];
    if (queue.length >= this.#maxWaiting) return Promise.resolve("full");
    if (signal?.aborted === true) return Promise.resolve("aborted");
    return new Promise<Admission>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => waiter.settle("aborted");
      const waiter: Waiter = {
        client,
        since: this.#now(),
        settle: (outcome) => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          this.#dequeue(waiter);
          if (outcome === "admitted") this.#take(client);
          resolve(outcome);
        },
      };
      queue.push(waiter);
      this.#waiting.set(client, queue);
      timer = setTimeout(() => waiter.settle("timeout"), maxWaitMs);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#fill();
    });
  }

  /** `client` gives its slot back; the next waiting client (see the class) takes it. */
  release(client: string): void {
    const held = this.held(client);
    if (held === 0) return;
    if (held === 1) this.#held.delete(client);
    else this.#held.set(client, held - 1);
    this.#inUse--;
    this.#fill();
  }

  /** The waiter whose turn is next, if any: of the client holding the fewest slots, then the one waiting longest. */
  next(): { client: string; settle: (outcome: Admission) => void } | undefined {
    let best: Waiter | undefined;
    for (const queue of this.#waiting.values()) {
      const head = queue[0];
      if (head === undefined) continue;
      if (
        best === undefined ||
        this.held(head.client) < this.held(best.client) ||
        (this.held(head.client) === this.held(best.client) && head.since < best.since)
      )
        best = head;
    }
    return best;
  }

  // Free slots go to the waiters whose turn it is.
  #fill(): void {
    for (let next = this.next(); next !== undefined && this.#inUse < this.slots; next = this.next())
      next.settle("admitted");
  }

  #take(client: string): void {
    this.#inUse++;
    this.#held.set(client, this.held(client) + 1);
  }

  #dequeue(waiter: Waiter): void {
    const queue = this.#waiting.get(waiter.client);
    if (queue === undefined) return;
    const at = queue.indexOf(waiter);
    if (at >= 0) queue.splice(at, 1);
    if (queue.length === 0) this.#waiting.delete(waiter.client);
  }
}

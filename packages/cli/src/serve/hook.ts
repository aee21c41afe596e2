import { spawn } from "node:child_process";

/** Where match results go for the platform's own duties (reporting, preservation, account action). */
export interface HookOptions {
  /** POST the result as JSON to this URL; any 2xx is delivered. */
  url?: string;
  /** Run this command (through the shell) with the result as JSON on stdin; exit 0 is delivered. */
  command?: string;
  /** Attempts per result (default 4: one, then three retries). */
  attempts?: number;
  /** First retry delay, doubled each time (default 1000 ms). */
  backoffMs?: number;
  /** Per-attempt limit (default 10 s). */
  timeoutMs?: number;
  /** Where delivery failures are told (default: stderr). */
  report?: (message: string) => void;
}

/**
 * The on-match hook: each match result (never the media) is delivered in the background, with retries and
 * exponential backoff, so the synchronous decision never waits for it. A result that cannot be delivered after
 * every attempt is reported (stderr, and the caller's counter), never silently dropped.
 */
export class OnMatchHook {
  readonly #options: HookOptions & { attempts: number; backoffMs: number; timeoutMs: number };
  readonly #pending = new Set<Promise<void>>();
  delivered = 0;
  failed = 0;

  constructor(options: HookOptions) {
    this.#options = { attempts: 4, backoffMs: 1000, timeoutMs: 10_000, ...options };
  }

  /** Queues one result for delivery. */
  fire(payload: object): void {
    const body = JSON.stringify(payload);
    const job = this.#deliver(body).finally(() => this.#pending.delete(job));
    this.#pending.add(job);
  }

  /** Waits until every queued result is delivered or given up (for shutdown and tests). */
  async drain(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  async #deliver(body: string): Promise<void> {
    let last = "";
    for (let attempt = 1; attempt <= this.#options.attempts; attempt++) {
      try {
        if (this.#options.url !== undefined) await this.#post(body);
        if (this.#options.command !== undefined) await this.#run(body);
        this.delivered++;
        return;
      } catch (error) {
        last = (error as Error).message;
        if (attempt < this.#options.attempts)
          await new Promise((r) => setTimeout(r, this.#options.backoffMs * 2 ** (attempt - 1)));
      }
    }
    this.failed++;
    (this.#options.report ?? ((m) => process.stderr.write(`${m}\n`)))(
      `phmatch serve: on-match hook gave up after ${this.#options.attempts} attempts: ${last}`,
    );
  }

  async #post(body: string): Promise<void> {
    const response = await fetch(this.#options.url as string, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(this.#options.timeoutMs),
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`${this.#options.url} answered ${response.status}`);
  }

  #run(body: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.#options.command as string, {
        shell: true,
        stdio: ["pipe", "ignore", "inherit"],
        timeout: this.#options.timeoutMs,
      });
      child.on("error", reject);
      child.on("close", (code, signal) =>
        code === 0 ? resolve() : reject(new Error(`the hook command exited with ${code ?? signal}`)),
      );
      child.stdin.on("error", () => undefined);
      child.stdin.end(body);
    });
  }
}

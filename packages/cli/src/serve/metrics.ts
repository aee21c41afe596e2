import type { SupervisorStats } from "@phmatch/core";

/** Prometheus text exposition of the gate's counters, latency histogram, loaded list versions and worker restarts. */
export class GateMetrics {
  readonly #workers: (() => SupervisorStats | undefined) | undefined;
  readonly #counters = new Map<string, number>();
  readonly #buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  readonly #histograms = new Map<string, { counts: number[]; sum: number; count: number }>();

  /** `workers`: the supervised pool's counters, read at each render. */
  constructor(options: { workers?: () => SupervisorStats | undefined } = {}) {
    this.#workers = options.workers;
  }

  /** Counts one finished request. */
  request(route: string, status: number, seconds: number): void {
    this.#add(`phmatch_requests_total{route="${route}",status="${status}"}`);
    let h = this.#histograms.get(route);
    if (h === undefined) this.#histograms.set(route, (h = { counts: this.#buckets.map(() => 0), sum: 0, count: 0 }));
    this.#buckets.forEach((le, i) => {
      if (seconds <= le) h!.counts[i]!++;
    });
    h.sum += seconds;
    h.count++;
  }

  /** Counts one decision. */
  decision(decision: string): void {
    this.#add(`phmatch_decisions_total{decision="${decision}"}`);
  }

  /** Counts one request or connection refused below the routes (timeouts, header size, connection cap, slow upload). */
  clientError(reason: string): void {
    this.#add(`phmatch_client_errors_total{reason="${reason}"}`);
  }

  /** Counts one list reload, successful or refused. */
  reload(ok: boolean): void {
    this.#add(`phmatch_list_reloads_total{result="${ok ? "ok" : "refused"}"}`);
  }

  /** The exposition text, with the lists loaded now. */
  render(lists: { listId: string; version: number }[], inFlight: number, waiting = 0, extra: string[] = []): string {
    const out: string[] = [];
    const families = new Map<string, string[]>();
    for (const [key, value] of this.#counters) {
      const name = key.slice(0, key.indexOf("{"));
      families.set(name, [...(families.get(name) ?? []), `${key} ${value}`]);
    }
    const help: Record<string, string> = {
      phmatch_requests_total: "Requests answered, by route and HTTP status.",
      phmatch_decisions_total: "Decisions made, by decision.",
      phmatch_list_reloads_total: "List reloads, by result.",
      phmatch_client_errors_total: "Requests and connections refused before a route answered, by reason.",
    };
    for (const [name, lines] of families)
      out.push(`# HELP ${name} ${help[name] ?? name}`, `# TYPE ${name} counter`, ...lines);
    out.push(
      "# HELP phmatch_request_duration_seconds Time from request to response.",
      "# TYPE phmatch_request_duration_seconds histogram",
    );
    for (const [route, h] of this.#histograms) {
      this.#buckets.forEach((le, i) => {
        out.push(`phmatch_request_duration_seconds_bucket{route="${route}",le="${le}"} ${h.counts[i]}`);
      });
      out.push(`phmatch_request_duration_seconds_bucket{route="${route}",le="+Inf"} ${h.count}`);
      out.push(
        `phmatch_request_duration_seconds_sum{route="${route}"} ${h.sum}`,
        `phmatch_request_duration_seconds_count{route="${route}"} ${h.count}`,
      );
    }
    out.push("# HELP phmatch_list_version Loaded list versions (value 1).", "# TYPE phmatch_list_version gauge");
    for (const l of lists) out.push(`phmatch_list_version{list="${escapeLabel(l.listId)}",version="${l.version}"} 1`);
    out.push(
      "# HELP phmatch_requests_in_flight Checks being answered now.",
      "# TYPE phmatch_requests_in_flight gauge",
      `phmatch_requests_in_flight ${inFlight}`,
    );
    out.push(
      "# HELP phmatch_requests_waiting Checks waiting for a slot (before their bodies are read).",
      "# TYPE phmatch_requests_waiting gauge",
      `phmatch_requests_waiting ${waiting}`,
    );
    const workers = this.#workers?.();
    if (workers !== undefined) {
      out.push(
        "# HELP phmatch_worker_deaths_total Worker process deaths, by cause (each is replaced; its uploads in " +
          "flight are retried once).",
        "# TYPE phmatch_worker_deaths_total counter",
        `phmatch_worker_deaths_total{cause="crash"} ${workers.crashes}`,
        `phmatch_worker_deaths_total{cause="timeout"} ${workers.timeouts}`,
        `phmatch_worker_deaths_total{cause="memory"} ${workers.memoryKills}`,
        "# HELP phmatch_worker_retries_total Uploads sent again, alone, after their worker process died.",
        "# TYPE phmatch_worker_retries_total counter",
        `phmatch_worker_retries_total ${workers.retries}`,
      );
    }
    out.push(...extra);
    return out.join("\n") + "\n";
  }

  #add(key: string): void {
    this.#counters.set(key, (this.#counters.get(key) ?? 0) + 1);
  }
}

function escapeLabel(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

import type { FastifyInstance } from "fastify";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ClaimedTask, Store, TaskStatus } from "./store/types.js";

/** Where the metrics are served, on the API's own port; any valid API key (X-API-Key) is required, as for every path outside the open ones. */
export const METRICS_PATH = "/metrics";

const STATUSES: readonly TaskStatus[] = ["pending", "claimed", "completed", "failed"];

/**
 * The server's Prometheus metrics: task counts by type and status read from
 * the store at scrape time (so every node of a PostgreSQL cluster reports the
 * same queue), and this process's counters of claims, completions, failures
 * and claim-timeout takeovers, and its request latency.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  /** Tasks claimed through this process, by `type`. */
  readonly claims: Counter<"type">;
  /** Claims of a task whose previous claim had timed out (its worker vanished or stalled), by `type`. */
  readonly takeovers: Counter<"type">;
  /** Workers' successful completions through this process. */
  readonly completions: Counter;
  /** Workers' failure reports through this process, by `final` (`true`: the task is failed for good; `false`: back to pending for a retry). */
  readonly failures: Counter<"final">;
  /** Time from request to answer, in seconds, by `method`, `route` (the route's pattern) and `status_code`. */
  readonly requestDuration: Histogram<"method" | "route" | "status_code">;

  constructor(store: Store, options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "prismq_taskmanager_tasks",
      help: "Tasks by type and status, read from the store at scrape time",
      labelNames: ["type", "status"],
      registers,
      async collect() {
        this.reset();
        const rows = await store.stats({ since: Date.now(), tasksPerWorker: 0, failures: 0, workers: 0 });
        const types = new Set(rows.byTypeStatus.map((r) => r.type));
        // Every status of every known type has a sample (0 included), so rates and alerts see a series from the start.
        for (const type of types) for (const status of STATUSES) this.set({ type, status }, 0);
        for (const r of rows.byTypeStatus) this.set({ type: r.type, status: r.status }, r.count);
      },
    });
    this.claims = new Counter({ name: "prismq_taskmanager_claims_total", help: "Tasks claimed", labelNames: ["type"], registers });
    this.takeovers = new Counter({
      name: "prismq_taskmanager_claim_takeovers_total",
      help: "Claims that took a task over from a claim past its timeout",
      labelNames: ["type"],
      registers,
    });
    this.completions = new Counter({ name: "prismq_taskmanager_completions_total", help: "Tasks completed successfully by their workers", registers });
    this.failures = new Counter({
      name: "prismq_taskmanager_failures_total",
      help: "Failures reported by workers (final: failed for good; otherwise retried)",
      labelNames: ["final"],
      registers,
    });
    this.requestDuration = new Histogram({
      name: "prismq_taskmanager_http_request_duration_seconds",
      help: "Time to answer one HTTP request",
      labelNames: ["method", "route", "status_code"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    // The first scrape shows every counter, at 0.
    this.completions.inc(0);
    for (const final of ["true", "false"]) this.failures.inc({ final }, 0);
  }

  /**
   * Counts a claim, and a takeover when the store says the claim took the task from a
   * worker whose claim had timed out (retries after a reported failure are not takeovers).
   */
  claimed(type: string, task: ClaimedTask): void {
    this.claims.inc({ type });
    if (task.tookOver) this.takeovers.inc({ type });
  }

  /** Counts a worker's completion report by the status it led to. */
  completed(status: "completed" | "failed" | "pending (retry)"): void {
    if (status === "completed") this.completions.inc();
    else this.failures.inc({ final: status === "failed" ? "true" : "false" });
  }
}

/**
 * Serves `registry` on {@link METRICS_PATH} and times every request. The key
 * check of the app's `onRequest` hook covers the path like every other one.
 */
export function installMetrics(app: FastifyInstance, metrics: ServerMetrics): void {
  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "(unmatched)";
    metrics.requestDuration.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
  app.get(METRICS_PATH, async (_req, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

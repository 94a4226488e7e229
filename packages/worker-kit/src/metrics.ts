import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * The metrics every worker app exposes on `/metrics` (Prometheus text format).
 * One instance per process; pass it to the outbox, budgets and app code.
 */
export class WorkerMetrics {
  readonly registry: Registry;
  /** Tasks claimed, by `type`. */
  readonly tasksClaimed: Counter<"type">;
  /** Tasks completed, by `type`. */
  readonly tasksCompleted: Counter<"type">;
  /** Tasks failed, by `type` and `retryable` (`true`/`false`). */
  readonly tasksFailed: Counter<"type" | "retryable">;
  /** Tasks created, by `type` (new tasks only). */
  readonly tasksCreated: Counter<"type">;
  /** Creates answered "already exists", by `type`. */
  readonly tasksDeduplicated: Counter<"type">;
  /** Handler time per task, in seconds, by `type` and `outcome`. */
  readonly taskDuration: Histogram<"type" | "outcome">;
  /** External API calls, by `api` (youtube, reddit), `method` and `outcome` (ok, error, retry). */
  readonly apiCalls: Counter<"api" | "method" | "outcome">;
  /** YouTube Data API quota units spent (each call's cost, spent before the call). */
  readonly youtubeQuotaUnitsSpent: Counter;
  /** Reddit API requests spent from the rate budget (one per request sent). */
  readonly redditRequestsSpent: Counter;
  /**
   * Time of each external request attempt, in seconds, by `api` (youtube,
   * reddit, taskmanager), `method` (the API call or `HTTP-method /route`) and
   * `outcome` (ok, error).
   */
  readonly externalRequestDuration: Histogram<"api" | "method" | "outcome">;
  /** Units left in the current budget window, by `budget`. */
  readonly budgetRemaining: Gauge<"budget">;
  /** Times a budget refused a spend, by `budget`. */
  readonly budgetExhausted: Counter<"budget">;
  /** Outbox jobs waiting or being retried. */
  readonly outboxDepth: Gauge;
  /** Outbox deliveries, by `kind` (create, complete, fail) and `outcome` (delivered, retry, dropped). */
  readonly outboxDeliveries: Counter<"kind" | "outcome">;
  /** Schedule ticks run, by `schedule`. */
  readonly scheduleRuns: Counter<"schedule" | "outcome">;
  /** Discovery listings that hit an API's result cap (YouTube search: about 500), by `api`. */
  readonly listingCapHits: Counter<"api">;
  /** Items a capped listing could not reach (from the API's estimate of its total), by `api`. */
  readonly listingUnreachable: Counter<"api">;

  /**
   * @param service becomes the `service` label on every series.
   * @param options.defaultMetrics Node's process metrics (`process_cpu_seconds_total`,
   *   `nodejs_heap_size_used_bytes`, ...) under their standard names, so standard
   *   dashboards match. Default true.
   */
  constructor(service: string, options: { defaultMetrics?: boolean } = {}) {
    const registry = new Registry();
    registry.setDefaultLabels({ service });
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
    this.registry = registry;
    const registers = [registry];
    this.tasksClaimed = new Counter({ name: "prismq_tasks_claimed_total", help: "Tasks claimed", labelNames: ["type"], registers });
    this.tasksCompleted = new Counter({ name: "prismq_tasks_completed_total", help: "Tasks completed", labelNames: ["type"], registers });
    this.tasksFailed = new Counter({ name: "prismq_tasks_failed_total", help: "Tasks failed", labelNames: ["type", "retryable"], registers });
    this.tasksCreated = new Counter({ name: "prismq_tasks_created_total", help: "New tasks created", labelNames: ["type"], registers });
    this.tasksDeduplicated = new Counter({
      name: "prismq_tasks_deduplicated_total",
      help: "Creates that found the task already there",
      labelNames: ["type"],
      registers,
    });
    this.taskDuration = new Histogram({
      name: "prismq_task_duration_seconds",
      help: "Time spent handling one task",
      labelNames: ["type", "outcome"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.apiCalls = new Counter({ name: "prismq_api_calls_total", help: "External API calls", labelNames: ["api", "method", "outcome"], registers });
    this.youtubeQuotaUnitsSpent = new Counter({ name: "prismq_youtube_quota_units_spent_total", help: "YouTube Data API quota units spent", registers });
    this.redditRequestsSpent = new Counter({ name: "prismq_reddit_requests_spent_total", help: "Reddit API requests spent from the rate budget", registers });
    this.externalRequestDuration = new Histogram({
      name: "prismq_external_request_duration_seconds",
      help: "Time of one request to an external API (YouTube, Reddit, TaskManager)",
      labelNames: ["api", "method", "outcome"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.budgetRemaining = new Gauge({ name: "prismq_budget_remaining", help: "Units left in the budget window", labelNames: ["budget"], registers });
    this.budgetExhausted = new Counter({
      name: "prismq_budget_exhausted_total",
      help: "Spends refused because the budget was used up",
      labelNames: ["budget"],
      registers,
    });
    this.outboxDepth = new Gauge({ name: "prismq_outbox_depth", help: "Outbox jobs not yet delivered", registers });
    this.outboxDeliveries = new Counter({
      name: "prismq_outbox_deliveries_total",
      help: "Outbox delivery attempts",
      labelNames: ["kind", "outcome"],
      registers,
    });
    this.scheduleRuns = new Counter({ name: "prismq_schedule_runs_total", help: "Schedule ticks run", labelNames: ["schedule", "outcome"], registers });
    this.listingCapHits = new Counter({ name: "prismq_listing_cap_hits_total", help: "Listings that hit an API result cap", labelNames: ["api"], registers });
    this.listingUnreachable = new Counter({ name: "prismq_listing_unreachable_total", help: "Items a capped listing could not reach", labelNames: ["api"], registers });
  }
}

/** One sample of a metric in Prometheus text: its labels and value. */
export interface MetricSample {
  labels: Record<string, string>;
  value: number;
}

/**
 * The samples of metric `name` in a `/metrics` answer (Prometheus text), for
 * whoever reads an app's metrics from outside: the status view, tests.
 */
export function readMetric(text: string, name: string): MetricSample[] {
  const samples: MetricSample[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labels: Record<string, string> = {};
    const braces = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.lastIndexOf("}")) : "";
    for (const [, key, value] of braces.matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key as string] = (value as string).replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
    samples.push({ labels, value: Number(line.slice(line.lastIndexOf(" ") + 1)) });
  }
  return samples;
}

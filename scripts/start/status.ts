/**
 * The status view of `pnpm start`: what the TaskManager and the apps say, read
 * once a second, and the text drawn from it.
 *
 * Task counts come from one `GET /stats` (our server: counts by type and status
 * in one query). A TaskManager without `/stats` (the hosted one) gets one page of
 * `GET /tasks` per open status instead (pending and claimed, up to
 * {@link LIST_CAP} each), and the done columns come from this run's apps'
 * `/metrics`; {@link StatusReader.note} says so, once.
 */
import { readMetric } from "@prismq/worker-kit";
import type { TaskManagerClient } from "@prismq/taskmanager-client";

/** Tasks counted per open status when the TaskManager has no `/stats` (one page each). */
export const LIST_CAP = 1000;
/** The type pattern of every task type of this project (a LIKE pattern of `GET /tasks`). */
const OUR_TYPES = "PrismQ.IdeaInspiration.%";
const STATUSES = ["pending", "claimed", "completed", "failed"] as const;

/** One read of the whole system. */
export interface Snapshot {
  /** Task counts by type, then status. */
  byTypeStatus: Map<string, Map<string, number>>;
  /** Pending + claimed tasks. */
  open: number;
  /** Completed tasks: all of them with `/stats`, this run's apps' otherwise. */
  completed: number;
  /** All tasks counted. */
  total: number;
  /** True when a status had more than {@link LIST_CAP} tasks (counts are then lower bounds). */
  capped: boolean;
  /** Where the counts came from. */
  source: "stats" | "list";
  ideas: Record<string, number>;
  /** Tasks the processors created for the other platform. */
  crossModule: number;
  budgets: Map<string, number>;
  /** Outbox jobs not delivered yet, all apps. */
  outbox: number;
}

/** A metric of an app's /metrics text, summed per value of label `by` (or all under "" without). */
function metric(text: string, name: string, by?: string): Map<string, number> {
  const sums = new Map<string, number>();
  for (const { labels, value } of readMetric(text, name)) {
    const label = by ? (labels[by] ?? "") : "";
    sums.set(label, (sums.get(label) ?? 0) + value);
  }
  return sums;
}

function add(m: Map<string, Map<string, number>>, type: string, status: string, n: number): void {
  const row = m.get(type) ?? new Map<string, number>();
  row.set(status, (row.get(status) ?? 0) + n);
  m.set(type, row);
}

export interface StatusReaderOptions {
  /** The TaskManager's API base, ending in `/api`. */
  baseUrl: string;
  apiKey: string;
  /** A client on the same TaskManager (for `GET /tasks` when there is no `/stats`). */
  client: TaskManagerClient;
  /** Each app's health base URL (its `/metrics` is read), by app name. */
  apps: ReadonlyMap<string, string>;
  /** Counts ideas by platform. */
  ideas: () => Promise<Record<string, number>>;
  /** Timeout of each request, in ms. Default 5,000. */
  timeoutMs?: number;
}

/** Reads the {@link Snapshot}s of the status view. */
export class StatusReader {
  private source: "stats" | "list" = "stats";
  private noted = false;

  constructor(private readonly options: StatusReaderOptions) {}

  /**
   * The sentence saying that this TaskManager has no `/stats` and what the view
   * shows instead: returned by the first call after that was found out, then
   * `undefined` (so it is said once).
   */
  note(): string | undefined {
    if (this.source !== "list" || this.noted) return undefined;
    this.noted = true;
    return `This TaskManager has no GET /stats: the view shows pending and claimed tasks from GET /tasks (up to ${LIST_CAP} each), and completed and failed tasks of this run from the apps' /metrics.`;
  }

  async read(): Promise<Snapshot> {
    const metrics = new Map<string, string>();
    await Promise.all(
      [...this.options.apps].map(async ([app, url]) => {
        const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000) }).then((r) => r.text(), () => "");
        metrics.set(app, text);
      }),
    );
    const tasks = (this.source === "stats" ? await this.fromStats() : undefined) ?? (await this.fromList(metrics));
    let crossModule = 0;
    let outbox = 0;
    const budgets = new Map<string, number>();
    for (const [app, text] of metrics) {
      if (app.endsWith("processor")) {
        const own = app.startsWith("youtube") ? ".YouTube." : ".Reddit.";
        for (const [type, n] of metric(text, "prismq_tasks_created_total", "type")) if (!type.includes(own)) crossModule += n;
      }
      for (const [, n] of metric(text, "prismq_outbox_depth")) outbox += n;
      for (const [name, n] of metric(text, "prismq_budget_remaining", "budget")) budgets.set(name, n);
    }
    let open = 0;
    let completed = 0;
    let total = 0;
    for (const row of tasks.byTypeStatus.values()) {
      for (const [status, n] of row) {
        total += n;
        if (status === "pending" || status === "claimed") open += n;
        if (status === "completed") completed += n;
      }
    }
    return { ...tasks, open, completed, total, source: this.source, ideas: await this.options.ideas(), crossModule, budgets, outbox };
  }

  /** One `GET /stats`; `undefined` when the TaskManager has none (then the reader switches to lists for good). */
  private async fromStats(): Promise<{ byTypeStatus: Map<string, Map<string, number>>; capped: boolean } | undefined> {
    const res = await fetch(`${this.options.baseUrl.replace(/\/+$/, "")}/stats`, {
      headers: { "x-api-key": this.options.apiKey, accept: "application/json" },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
    });
    const body = (await res.json().catch(() => undefined)) as { success?: boolean; data?: { tasks?: { byTypeStatus?: Array<{ type: string; status: string; count: number }> } } } | undefined;
    // No such endpoint (404, or 400/405/501 from a router that does not know it), or an answer without the counts.
    if ([400, 404, 405, 501].includes(res.status) || (res.ok && !Array.isArray(body?.data?.tasks?.byTypeStatus))) {
      this.source = "list";
      return undefined;
    }
    if (!res.ok) throw new Error(`GET /stats answered ${res.status}`);
    const byTypeStatus = new Map<string, Map<string, number>>();
    for (const r of body?.data?.tasks?.byTypeStatus ?? []) add(byTypeStatus, r.type, r.status, Number(r.count));
    return { byTypeStatus, capped: false };
  }

  /** Open tasks from one page of `GET /tasks` per status; done tasks from the apps' metrics. */
  private async fromList(metrics: ReadonlyMap<string, string>): Promise<{ byTypeStatus: Map<string, Map<string, number>>; capped: boolean }> {
    const byTypeStatus = new Map<string, Map<string, number>>();
    let capped = false;
    for (const status of ["pending", "claimed"] as const) {
      let n = 0;
      for await (const t of this.options.client.listTasks({ status, type: OUR_TYPES, pageSize: LIST_CAP })) {
        add(byTypeStatus, t.type, status, 1);
        if (++n >= LIST_CAP) {
          capped = true;
          break;
        }
      }
    }
    for (const text of metrics.values()) {
      for (const [type, n] of metric(text, "prismq_tasks_completed_total", "type")) add(byTypeStatus, type, "completed", n);
      for (const [type, n] of metric(text, "prismq_tasks_failed_total", "type")) add(byTypeStatus, type, "failed", n);
    }
    return { byTypeStatus, capped };
  }
}

/** What the view says about where things are; kept on screen on every redraw. */
export interface Places {
  mode: string;
  /** The TaskManager's API base. */
  taskManager: string;
  /** True when `pnpm start` started the TaskManager (then it has a dashboard and the key is in `keyFile`). */
  ours: boolean;
  keyFile?: string;
  logs: string;
}

/** The lines saying where the TaskManager, its dashboard, the key and the logs are. */
export function placesText(p: Places): string {
  return [
    p.ours ? `TaskManager API: ${p.taskManager}` : `TaskManager API: ${p.taskManager} (given with --taskmanager; key from TASKMANAGER_API_KEY)`,
    p.ours ? `Dashboard: ${p.taskManager}/dashboard  (API key in ${p.keyFile})` : `Dashboard: the TaskManager's own, if it has one (none is started here)`,
    `Logs: ${p.logs}`,
  ].join("\n");
}

/** The status view: where things are, then tasks by type and status, ideas, budgets. */
export function render(s: Snapshot, startedAt: number, p: Places, rate: number): string {
  const rows = [...s.byTypeStatus.entries()].sort(([a], [b]) => a.localeCompare(b));
  const short = (t: string) => t.replace("PrismQ.IdeaInspiration.", "");
  const w = Math.max(10, ...rows.map(([t]) => short(t).length));
  const cell = (n: number | undefined, status: string) => `${n ?? 0}${s.capped && (status === "pending" || status === "claimed") ? "+" : ""}`;
  return [
    `PrismQ Workers (${p.mode} mode), up ${Math.round((Date.now() - startedAt) / 1000)} s`,
    placesText(p),
    "",
    `${"task type".padEnd(w)}  ${STATUSES.map((x) => x.padStart(9)).join(" ")}${s.source === "list" ? "   (no /stats: open tasks from GET /tasks, done ones of this run)" : ""}`,
    ...rows.map(([type, m]) => `${short(type).padEnd(w)}  ${STATUSES.map((x) => cell(m.get(x), x).padStart(9)).join(" ")}`),
    "",
    `ideas: ${Object.entries(s.ideas).map(([k, n]) => `${k} ${n}`).join(", ") || "none yet"}   cross-module tasks: ${s.crossModule}   outbox: ${s.outbox}   completed/s: ${rate.toFixed(1)}`,
    `budgets left: ${[...s.budgets.entries()].map(([b, n]) => `${b} ${n}`).join(", ") || "-"}`,
  ].join("\n");
}

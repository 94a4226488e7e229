import type { HistoryRow, StatsRows, TaskRow, TaskSummaryRow, TaskTypeRow } from "./store/types.js";

/** `YYYY-MM-DD HH:MM:SS` in UTC, as the hosted service sends database times. */
export function dbTime(ms: number): string;
export function dbTime(ms: number | null): string | null;
export function dbTime(ms: number | null): string | null {
  if (ms === null) return null;
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/** Unix seconds for the envelope's `timestamp`. */
export { unixNow } from "@prismq/taskmanager-protocol";

export function taskTypeBody(t: TaskTypeRow) {
  return {
    id: t.id,
    name: t.name,
    version: t.version,
    param_schema: JSON.parse(t.paramSchema) as unknown,
    is_active: t.isActive ? 1 : 0,
    created_at: dbTime(t.createdAt),
    updated_at: dbTime(t.updatedAt),
  };
}

export function taskSummaryBody(t: TaskSummaryRow) {
  return {
    id: t.id,
    type: t.type,
    status: t.status,
    priority: t.priority,
    progress: t.progress,
    attempts: t.attempts,
    claimed_by: t.claimedBy,
    created_at: dbTime(t.createdAt),
    completed_at: dbTime(t.completedAt),
  };
}

export function taskBody(t: TaskRow) {
  return {
    ...taskSummaryBody(t),
    params: JSON.parse(t.params) as unknown,
    result: t.result === null ? null : (JSON.parse(t.result) as unknown),
    error_message: t.errorMessage,
    claimed_at: dbTime(t.claimedAt),
    // Additive fields (the hosted service does not send them).
    progress_message: t.progressMessage,
    updated_at: dbTime(t.updatedAt),
    dedupe_key: t.dedupeKey,
  };
}

export function historyBody(h: HistoryRow) {
  return {
    id: h.id,
    task_id: h.taskId,
    status_change: h.statusChange,
    worker_id: h.workerId,
    message: h.message,
    created_at: dbTime(h.createdAt),
  };
}

/** Idea counts for the stats, or `null` when the server has no idea store. */
export interface IdeaCounts {
  total: number;
  byPlatform: Record<string, number>;
  byCategory: Record<string, number>;
}

/** `YYYY-MM-DD HH:MM` in UTC for a minute number (ms / 60000). */
const minuteLabel = (minute: number) => new Date(minute * 60_000).toISOString().slice(0, 16).replace("T", " ");

/**
 * The `data` of `GET /api/stats`. `throughput` has one entry per minute from `firstMinute`
 * (ms / 60000) for `minutes` minutes, oldest first, zeros included. `workers` and `recentFailures`
 * are the capped lists; `workersTotal` and `failuresTotal` count everything they stand for.
 */
export function statsBody(rows: StatsRows, firstMinute: number, minutes: number, ideas: IdeaCounts | null) {
  const counted = new Map(rows.minutes.map((m) => [Number(m.minute), m]));
  const byTypeStatus = rows.byTypeStatus
    .map((r) => ({ type: r.type, status: r.status, count: Number(r.count) }))
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.status < b.status ? -1 : a.status > b.status ? 1 : 0));
  return {
    tasks: { total: byTypeStatus.reduce((sum, r) => sum + r.count, 0), byTypeStatus },
    workers: rows.workers.map((w) => ({ worker_id: w.workerId, claimed: w.claimed, task_ids: w.taskIds })),
    workersTotal: rows.workersTotal,
    recentFailures: rows.failures.map((f) => ({
      id: f.id,
      type: f.type,
      error_message: f.errorMessage,
      attempts: f.attempts,
      completed_at: dbTime(f.completedAt),
    })),
    failuresTotal: byTypeStatus.reduce((sum, r) => sum + (r.status === "failed" ? r.count : 0), 0),
    throughput: Array.from({ length: minutes }, (_, i) => {
      const minute = firstMinute + i;
      const m = counted.get(minute);
      return {
        minute: minuteLabel(minute),
        created: Number(m?.created ?? 0),
        completed: Number(m?.completed ?? 0),
        failed: Number(m?.failed ?? 0),
      };
    }),
    ideas,
  };
}

import type { HistoryRow, TaskRow, TaskSummaryRow, TaskTypeRow } from "./store/types.js";

/** `YYYY-MM-DD HH:MM:SS` in UTC, as the hosted service sends database times. */
export function dbTime(ms: number): string;
export function dbTime(ms: number | null): string | null;
export function dbTime(ms: number | null): string | null {
  if (ms === null) return null;
  return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
}

/** Unix seconds for the envelope's `timestamp`. */
export const unixNow = () => Math.floor(Date.now() / 1000);

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
    id: t.id,
    type: t.type,
    status: t.status,
    params: JSON.parse(t.params) as unknown,
    result: t.result === null ? null : (JSON.parse(t.result) as unknown),
    error_message: t.errorMessage,
    priority: t.priority,
    progress: t.progress,
    attempts: t.attempts,
    claimed_by: t.claimedBy,
    claimed_at: dbTime(t.claimedAt),
    completed_at: dbTime(t.completedAt),
    created_at: dbTime(t.createdAt),
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

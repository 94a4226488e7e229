import type { SortBy, SortOrder } from "./types.js";

/** Columns of a task summary, aliased to the row's field names (shared by both dialects). */
export const SUMMARY_COLUMNS = `t.id AS "id", tt.name AS "type", t.status AS "status", t.priority AS "priority",
  t.progress AS "progress", t.attempts AS "attempts", t.claimed_by AS "claimedBy",
  t.created_at AS "createdAt", t.completed_at AS "completedAt"`;

export const TASK_COLUMNS = `${SUMMARY_COLUMNS}, t.params AS "params", t.result AS "result",
  t.error_message AS "errorMessage", t.progress_message AS "progressMessage", t.claimed_at AS "claimedAt",
  t.updated_at AS "updatedAt", t.dedupe_key AS "dedupeKey"`;

export const TYPE_COLUMNS = `id AS "id", name AS "name", version AS "version", param_schema AS "paramSchema",
  is_active AS "isActive", created_at AS "createdAt", updated_at AS "updatedAt"`;

export const HISTORY_COLUMNS = `id AS "id", task_id AS "taskId", status_change AS "statusChange",
  worker_id AS "workerId", message AS "message", created_at AS "createdAt"`;

/**
 * ORDER BY for a claim. Ties go to the older task, except for the two
 * "newest first" orders (LIFO by time or id), where the newer one wins.
 */
export function claimOrder(sortBy: SortBy, sortOrder: SortOrder): string {
  if (sortBy === "id") return `id ${sortOrder}`;
  const tie = sortBy === "created_at" ? sortOrder : "ASC";
  return `${sortBy} ${sortOrder}, id ${tie}`;
}

/** Claimable rows: pending, or claimed longer ago than the timeout. The IN term lets the partial indexes apply. */
export const CLAIMABLE = `status IN ('pending', 'claimed') AND (status = 'pending' OR claimed_at < `;

/**
 * Indexes for the stats queries (migration 2, same text on both dialects): a covering index for
 * counts by type and status, a partial one for the newest failures (`status` leads it so that
 * SQLite's planner prefers it to `tasks_by_status`), and a partial one over the
 * history rows that throughput counts (claims, the most frequent rows, stay out of it).
 */
export const STATS_INDEXES = `CREATE INDEX tasks_by_type_status ON tasks (type_id, status);
   CREATE INDEX tasks_failed_recent ON tasks (status, completed_at DESC, id DESC) WHERE status = 'failed';
   CREATE INDEX task_history_recent ON task_history (created_at, status_change)
     WHERE status_change IN ('created', 'completed', 'failed');`;

/** Tasks per type and status. The inner GROUP BY reads only the covering index; names are joined after. */
export const STATS_BY_TYPE_STATUS = `SELECT tt.name AS "type", s.status AS "status", s.n AS "count"
  FROM (SELECT type_id, status, count(*) AS n FROM tasks GROUP BY type_id, status) s
  JOIN task_types tt ON tt.id = s.type_id`;

/** Claimed tasks by worker: each worker's count, and its lowest task ids up to the limit (the placeholder). */
export const STATS_WORKERS = (limitPlaceholder: string) => `SELECT claimed_by AS "workerId", id AS "id", claimed AS "claimed" FROM (
    SELECT claimed_by, id, row_number() OVER (PARTITION BY claimed_by ORDER BY id) AS rn,
      count(*) OVER (PARTITION BY claimed_by) AS claimed
    FROM tasks WHERE status = 'claimed'
  ) w WHERE rn <= ${limitPlaceholder} ORDER BY id`;

/** The newest failed tasks (the limit is the placeholder). */
export const STATS_FAILURES = (limitPlaceholder: string) => `SELECT t.id AS "id", tt.name AS "type", t.error_message AS "errorMessage",
    t.attempts AS "attempts", t.completed_at AS "completedAt"
  FROM tasks t JOIN task_types tt ON tt.id = t.type_id
  WHERE t.status = 'failed' ORDER BY t.completed_at DESC, t.id DESC LIMIT ${limitPlaceholder}`;

/**
 * History rows per minute since a time (the placeholder). The IN term repeats the partial index's
 * predicate word for word, so that SQLite can prove the index applies.
 */
export const STATS_MINUTES = (sincePlaceholder: string) => `SELECT created_at / 60000 AS "minute",
    sum(CASE WHEN status_change = 'created' THEN 1 ELSE 0 END) AS "created",
    sum(CASE WHEN status_change = 'completed' THEN 1 ELSE 0 END) AS "completed",
    sum(CASE WHEN status_change = 'failed' THEN 1 ELSE 0 END) AS "failed"
  FROM task_history
  WHERE status_change IN ('created', 'completed', 'failed') AND created_at >= ${sincePlaceholder}
  GROUP BY created_at / 60000`;

/** History `status_change` of an operator requeue (a retry after a failure is `pending (retry)`). */
export const REQUEUED = "pending (requeued)";
/** History `worker_id` of operator actions. */
export const OPERATOR = "operator";
/** History message of a requeue sent without a reason. */
export const DEFAULT_REQUEUE_MESSAGE = "Requeued by operator";

/** Groups the rows of {@link STATS_WORKERS} by worker, most claimed tasks first, then by worker id. */
export function groupWorkers(rows: Array<{ workerId: string; id: number; claimed: number }>) {
  const byWorker = new Map<string, { workerId: string; claimed: number; taskIds: number[] }>();
  for (const r of rows) {
    let w = byWorker.get(r.workerId);
    if (!w) {
      w = { workerId: r.workerId, claimed: Number(r.claimed), taskIds: [] };
      byWorker.set(r.workerId, w);
    }
    w.taskIds.push(Number(r.id));
  }
  // Sorted here, not in SQL: text collation differs between SQLite and PostgreSQL.
  return [...byWorker.values()].sort((a, b) => b.claimed - a.claimed || (a.workerId < b.workerId ? -1 : a.workerId > b.workerId ? 1 : 0));
}

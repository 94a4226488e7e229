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

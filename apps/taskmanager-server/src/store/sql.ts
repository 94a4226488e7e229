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

/**
 * Claimable rows: pending, or claimed longer ago than the timeout (the first placeholder) by a claim
 * that was not the last one allowed (`attempts` below the second placeholder). The IN term lets the
 * partial indexes apply.
 */
export const CLAIMABLE = (expiredBefore: string, maxAttempts: string) =>
  `status IN ('pending', 'claimed') AND (status = 'pending' OR (claimed_at < ${expiredBefore} AND attempts < ${maxAttempts}))`;

/** Timed-out claims that failed for good are swept at most this many per claim; the rest by the next claims. */
export const SWEEP_LIMIT = 100;

/**
 * What a timed-out last claim sets: status `failed`, the count of timeouts, and an error naming the
 * count and the worker that did not complete (`claim timed out 3 times (worker w-1 did not complete)`).
 * The SET expressions read the row as it was, on both dialects. The placeholder is the time (ms).
 */
export const TIMED_OUT_SET = (nowPlaceholder: string) => `status = 'failed', claim_timeouts = claim_timeouts + 1,
  error_message = 'claim timed out ' || CASE WHEN claim_timeouts = 0 THEN 'once' ELSE (claim_timeouts + 1) || ' times' END
    || ' (worker ' || claimed_by || ' did not complete)',
  completed_at = ${nowPlaceholder}, updated_at = ${nowPlaceholder}`;

/** The rows {@link TIMED_OUT_SET} applies to: type (1st placeholder), timeout (2nd), max attempts (3rd). */
export const TIMED_OUT_WHERE = (type: string, expiredBefore: string, maxAttempts: string) =>
  `type_id = ${type} AND status = 'claimed' AND claimed_at < ${expiredBefore} AND attempts >= ${maxAttempts}`;

/**
 * The CTEs `e`, `x`, `xh` that open a PostgreSQL claim statement: the timed-out last claims of the
 * type (at most {@link SWEEP_LIMIT}, locked rows skipped) fail for good, each with its history row.
 * Placeholders: type, timeout, now (ms), max attempts.
 */
export const PG_SWEEP_CTES = (type: string, expiredBefore: string, now: string, maxAttempts: string) => `e AS (
       SELECT id FROM tasks WHERE ${TIMED_OUT_WHERE(type, expiredBefore, maxAttempts)}
       ORDER BY id LIMIT ${SWEEP_LIMIT} FOR UPDATE SKIP LOCKED
     ), x AS (
       UPDATE tasks t SET ${TIMED_OUT_SET(now)} FROM e WHERE t.id = e.id RETURNING t.id, t.error_message
     ), xh AS (
       INSERT INTO task_history (task_id, status_change, worker_id, message, created_at)
       SELECT id, 'failed', NULL, error_message, ${now} FROM x
     )`;

/**
 * The SET of a PostgreSQL complete or fail read from a row `i` of settles (`success`, `result`,
 * `error`, `max_attempts`) on task `t`, at `at` (ms): the single complete's retry rule, written once
 * for group commit's statement and the batch settle's.
 */
export const PG_SETTLE_SET = (at: string) => `status = CASE WHEN i.success THEN 'completed' WHEN t.attempts < i.max_attempts THEN 'pending' ELSE 'failed' END,
         result = i.result, error_message = i.error,
         claimed_by = CASE WHEN i.success OR t.attempts >= i.max_attempts THEN t.claimed_by ELSE NULL END,
         claimed_at = CASE WHEN i.success OR t.attempts >= i.max_attempts THEN t.claimed_at ELSE NULL END,
         completed_at = CASE WHEN i.success OR t.attempts >= i.max_attempts THEN ${at} ELSE NULL END,
         updated_at = ${at}`;

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

/**
 * Migration 3 (same text on both dialects): the count of timed-out claims per task (for the
 * `claim timed out N times` failure), a partial index over claimed tasks by worker for the stats'
 * top workers and their totals, and one by type and claim time for the sweep of timed-out last
 * claims that runs in every claim.
 */
export const MIGRATION_3 = `ALTER TABLE tasks ADD COLUMN claim_timeouts INTEGER NOT NULL DEFAULT 0;
   CREATE INDEX tasks_claimed_by ON tasks (status, claimed_by, id) WHERE status = 'claimed';
   CREATE INDEX tasks_claim_expiry ON tasks (type_id, claimed_at) WHERE status = 'claimed';`;

/** The column types that differ between the dialects in {@link migrationsOf}. */
export interface DialectTypes {
  /** An auto-assigned integer primary key. */
  id: string;
  /** A column referencing such a key. */
  ref: string;
  /** A time in milliseconds since the epoch. */
  time: string;
  /** A boolean, and its literal `true`. */
  bool: string;
  true: string;
}

/**
 * The migrations of both dialects, oldest first (the runner records version `n` for entry `n - 1`):
 * 1 the tables and the claim indexes, 2 {@link STATS_INDEXES}, 3 {@link MIGRATION_3}. Append only: a
 * database that applied a version never runs it again, so an entry's text never changes.
 */
export function migrationsOf(t: DialectTypes): string[] {
  return [
    `CREATE TABLE task_types (
     id ${t.id},
     name TEXT NOT NULL UNIQUE,
     version TEXT NOT NULL,
     param_schema TEXT NOT NULL,
     is_active ${t.bool} NOT NULL DEFAULT ${t.true},
     created_at ${t.time} NOT NULL,
     updated_at ${t.time} NOT NULL
   );
   CREATE TABLE tasks (
     id ${t.id},
     type_id ${t.ref} NOT NULL REFERENCES task_types(id),
     status TEXT NOT NULL CHECK (status IN ('pending', 'claimed', 'completed', 'failed')),
     params TEXT NOT NULL,
     result TEXT,
     error_message TEXT,
     progress INTEGER NOT NULL DEFAULT 0,
     progress_message TEXT,
     priority INTEGER NOT NULL DEFAULT 0,
     attempts INTEGER NOT NULL DEFAULT 0,
     claimed_by TEXT,
     claimed_at ${t.time},
     completed_at ${t.time},
     created_at ${t.time} NOT NULL,
     updated_at ${t.time} NOT NULL,
     dedupe_key TEXT NOT NULL UNIQUE
   );
   CREATE INDEX tasks_claim_created ON tasks (type_id, created_at, id) WHERE status IN ('pending', 'claimed');
   CREATE INDEX tasks_claim_priority ON tasks (type_id, priority DESC, id) WHERE status IN ('pending', 'claimed');
   CREATE INDEX tasks_claim_attempts ON tasks (type_id, attempts, id) WHERE status IN ('pending', 'claimed');
   CREATE INDEX tasks_claim_id ON tasks (type_id, id) WHERE status IN ('pending', 'claimed');
   CREATE INDEX tasks_by_status ON tasks (status, id);
   CREATE INDEX tasks_by_type ON tasks (type_id, id);
   CREATE TABLE task_history (
     id ${t.id},
     task_id ${t.ref} NOT NULL REFERENCES tasks(id),
     status_change TEXT NOT NULL,
     worker_id TEXT,
     message TEXT,
     created_at ${t.time} NOT NULL
   );
   CREATE INDEX task_history_by_task ON task_history (task_id, id);`,
    STATS_INDEXES,
    MIGRATION_3,
  ];
}

/** Bookkeeping table of the applied versions (`@prismq/sql-migrations`); its name predates the runner. */
export const MIGRATIONS_TABLE = "schema_migrations";

/** Tasks per type and status. The inner GROUP BY reads only the covering index; names are joined after. */
export const STATS_BY_TYPE_STATUS = `SELECT tt.name AS "type", s.status AS "status", s.n AS "count"
  FROM (SELECT type_id, status, count(*) AS n FROM tasks GROUP BY type_id, status) s
  JOIN task_types tt ON tt.id = s.type_id`;

/**
 * The workers holding the most claimed tasks (at most the first placeholder), with each one's count,
 * the count of all such workers (`total`, the same on every row), and each listed worker's lowest
 * task ids up to the second placeholder. Ties go to the lower worker id in byte order: `collate` is
 * `COLLATE "C"` on PostgreSQL and empty on SQLite (whose default is byte order), so that both stores
 * list the same workers. Reads only the partial index `tasks_claimed_by`.
 */
export const STATS_WORKERS = (workersPlaceholder: string, idsPlaceholder: string, collate: string) => `WITH top AS (
    SELECT claimed_by, count(*) AS claimed, count(*) OVER () AS total
    FROM tasks WHERE status = 'claimed'
    GROUP BY claimed_by ORDER BY claimed DESC, claimed_by${collate} LIMIT ${workersPlaceholder}
  )
  SELECT top.claimed_by AS "workerId", top.claimed AS "claimed", top.total AS "total", w.id AS "id"
  FROM top JOIN (
    SELECT claimed_by, id, row_number() OVER (PARTITION BY claimed_by ORDER BY id) AS rn
    FROM tasks WHERE status = 'claimed' AND claimed_by IN (SELECT claimed_by FROM top)
  ) w ON w.claimed_by = top.claimed_by
  WHERE w.rn <= ${idsPlaceholder} ORDER BY w.id`;

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

/** Orders strings by code point (UTF-8 byte order), as SQLite's BINARY and PostgreSQL's "C" collation do. */
export function byCodePoint(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** Groups the rows of {@link STATS_WORKERS} by worker, most claimed tasks first, then by worker id; and their total. */
export function groupWorkers(rows: Array<{ workerId: string; id: number; claimed: number; total: number }>) {
  const byWorker = new Map<string, { workerId: string; claimed: number; taskIds: number[] }>();
  for (const r of rows) {
    let w = byWorker.get(r.workerId);
    if (!w) {
      w = { workerId: r.workerId, claimed: Number(r.claimed), taskIds: [] };
      byWorker.set(r.workerId, w);
    }
    w.taskIds.push(Number(r.id));
  }
  const workers = [...byWorker.values()].sort((a, b) => b.claimed - a.claimed || byCodePoint(a.workerId, b.workerId));
  return { workers, workersTotal: rows.length > 0 ? Number(rows[0]?.total) : 0 };
}

import * as SQL from "./sql.js";
import type * as Types from "./types.js";

/**
 * The statements of PostgreSQL group commit: each serves many callers in one round trip. Inputs go
 * in as parallel arrays through `unnest(...) WITH ORDINALITY`, so the text never depends on the batch
 * size and one prepared statement serves every batch; `n` (1-based) ties each output row to its caller.
 */

/** A named statement: prepared once per connection, then only its values travel. */
export interface Named {
  name: string;
  text: string;
}

/**
 * The CTEs every claim starts with: last claims of the type that timed out fail for good (with
 * history rows). The claim's own pick excludes those rows, since every part of a statement sees
 * one snapshot. Placeholders: $1 type, $2 expired-before, $4 time, $5 max attempts.
 */
export const SWEEP = SQL.PG_SWEEP_CTES("$1", "$2", "$4", "$5");

/**
 * Claims of one type, order and attempt limit, one task per worker. The sweep of timed-out last
 * claims and the pick are those of the single claim; the pick locks up to as many tasks as there are
 * workers (skipping rows other claims hold), numbers them in claim order and gives the k-th to the
 * k-th worker, so the first caller gets the task a single claim would have got.
 * Values: type, expired-before, workers, sweep time, max attempts, each worker's time.
 */
export function claimMany(sortBy: Types.SortBy, sortOrder: Types.SortOrder): Named {
  const order = SQL.claimOrder(sortBy, sortOrder);
  return {
    name: `tm_claim_many_${sortBy}_${sortOrder}`,
    text: `WITH ${SWEEP}, w AS (
         SELECT * FROM unnest($3::text[], $6::bigint[]) WITH ORDINALITY AS w(worker, at, n)
       ), c AS (
         SELECT id, status, created_at, priority, attempts FROM tasks WHERE type_id = $1 AND ${SQL.CLAIMABLE("$2", "$5")}
         ORDER BY ${order} LIMIT cardinality($3::text[]) FOR UPDATE SKIP LOCKED
       ), r AS (
         SELECT id, status AS was, row_number() OVER (ORDER BY ${order}) AS n FROM c
       ), u AS (
         UPDATE tasks t SET status = 'claimed', claimed_by = w.worker, claimed_at = w.at, attempts = t.attempts + 1, updated_at = w.at,
           claim_timeouts = t.claim_timeouts + CASE WHEN t.status = 'claimed' THEN 1 ELSE 0 END
         FROM r JOIN w ON w.n = r.n WHERE t.id = r.id
         RETURNING w.n, w.worker, w.at, t.id, t.params, t.attempts, t.priority, r.was = 'claimed' AS took_over
       ), h AS (
         INSERT INTO task_history (task_id, status_change, worker_id, message, created_at)
         SELECT id, 'claimed', worker, 'Task claimed by worker', at FROM u
       ) SELECT n, id, params, attempts, priority, took_over AS "tookOver" FROM u`,
  };
}

/**
 * Completes and failures, each applied only while its worker holds the claim, with the single
 * complete's retry rule (a failure with attempts left goes back to `pending`). Output: the `n` of
 * each applied input and the status it set. Values: ids, workers, success, results, errors, max
 * attempts, times, history messages.
 */
export const COMPLETE_MANY: Named = {
  name: "tm_complete_many",
  text: `WITH i AS (
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::boolean[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::text[])
         WITH ORDINALITY AS i(id, worker, success, result, error, max_attempts, at, message, n)
     ), u AS (
       UPDATE tasks t SET
         ${SQL.PG_SETTLE_SET("i.at")}
       FROM i WHERE t.id = i.id AND t.status = 'claimed' AND t.claimed_by = i.worker
       RETURNING i.n, t.id, t.status, i.worker, i.message, i.at
     ), h AS (
       INSERT INTO task_history (task_id, status_change, worker_id, message, created_at)
       SELECT id, CASE WHEN status = 'pending' THEN 'pending (retry)' ELSE status END, worker, message, at FROM u
     ) SELECT n, status FROM u`,
};

/** Progress reports, each applied only while its worker holds the claim. Output: the `n` of each applied input. */
export const PROGRESS_MANY: Named = {
  name: "tm_progress_many",
  text: `WITH i AS (
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::bigint[])
         WITH ORDINALITY AS i(id, worker, progress, message, at, n)
     )
     UPDATE tasks t SET progress = i.progress, progress_message = coalesce(i.message, t.progress_message),
       claimed_at = i.at, updated_at = i.at
     FROM i WHERE t.id = i.id AND t.status = 'claimed' AND t.claimed_by = i.worker
     RETURNING i.n`,
};

/**
 * Creates with distinct dedupe keys; a key that exists is skipped (ON CONFLICT waits for a
 * concurrent insert of it to commit or roll back). Rows go in by dedupe key, so that two batches
 * sharing keys take their locks in one order and never deadlock. Output: the new rows' ids and keys.
 */
export const CREATE_MANY: Named = {
  name: "tm_create_many",
  text: `WITH i AS (
       SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::bigint[], $5::text[]) AS i(type_id, params, priority, at, dedupe_key)
     ), ins AS (
       INSERT INTO tasks (type_id, status, params, priority, created_at, updated_at, dedupe_key)
       SELECT type_id, 'pending', params, priority, at, at, dedupe_key FROM i ORDER BY dedupe_key COLLATE "C"
       ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key, created_at
     ), h AS (
       INSERT INTO task_history (task_id, status_change, worker_id, message, created_at)
       SELECT id, 'created', NULL, 'Task created', created_at FROM ins
     ) SELECT id, dedupe_key AS key FROM ins`,
};

/** The tasks holding some dedupe keys (read after an insert skipped them). */
export const BY_DEDUPE_KEYS: Named = {
  name: "tm_by_dedupe_keys",
  text: `SELECT id, status, dedupe_key AS key FROM tasks WHERE dedupe_key = ANY($1::text[])`,
};

/** The status of some tasks (to name why a complete or progress was refused). */
export const STATUS_OF: Named = {
  name: "tm_status_of",
  text: `SELECT id, status FROM tasks WHERE id = ANY($1::bigint[])`,
};

/** Why a progress or complete was refused, from the task's status now (absent: no such task). */
export function refusalOf(status: Types.TaskStatus | undefined): Types.Refusal {
  if (status === undefined) return "not_found";
  return status === "claimed" ? "other_worker" : "not_claimed";
}

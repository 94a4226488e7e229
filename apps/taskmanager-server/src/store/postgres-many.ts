import type pg from "pg";
import * as SQL from "./sql.js";
import type * as Types from "./types.js";

/**
 * The batch claim on PostgreSQL: one statement, as the single claim is, with `LIMIT n` on its
 * `FOR UPDATE SKIP LOCKED` pick: last claims that timed out fail for good first (with history
 * rows), then up to `limit` tasks are claimed, each with its history row. Answered in claim order.
 */
export async function claimTasksPostgres(pool: pg.Pool, input: Types.ClaimManyInput): Promise<Types.ClaimedTask[]> {
  const order = SQL.claimOrder(input.sortBy, input.sortOrder);
  const { rows } = await pool.query<Types.ClaimedTask>(
    `WITH ${SQL.PG_SWEEP_CTES("$1", "$2", "$4", "$5")}, c AS (
       SELECT id, status AS was FROM tasks WHERE type_id = $1 AND ${SQL.CLAIMABLE("$2", "$5")}
       ORDER BY ${order} LIMIT $6 FOR UPDATE SKIP LOCKED
     ), u AS (
       UPDATE tasks t SET status = 'claimed', claimed_by = $3, claimed_at = $4, attempts = t.attempts + 1, updated_at = $4,
         claim_timeouts = t.claim_timeouts + CASE WHEN t.status = 'claimed' THEN 1 ELSE 0 END
       FROM c WHERE t.id = c.id
       RETURNING t.id, t.params, t.attempts, t.priority, t.created_at, c.was = 'claimed' AS took_over
     ), h AS (
       INSERT INTO task_history (task_id, status_change, worker_id, message, created_at)
       SELECT id, 'claimed', $3, 'Task claimed by worker', $4 FROM u
     ) SELECT id, params, attempts, priority, took_over AS "tookOver" FROM u ORDER BY ${order}`,
    [input.typeId, input.expiredBefore, input.workerId, input.now, input.maxAttempts, input.limit],
  );
  return rows;
}

/**
 * The batch settle on PostgreSQL: one statement settles every item that is claimed by the worker
 * (rows locked in id order first, so that two batches never wait on each other in a cycle), with
 * the same transitions and history rows as the single complete; the items it did not settle are
 * then read to say why, as the single complete does. Item ids must be distinct.
 */
export async function settleManyPostgres(pool: pg.Pool, input: Types.SettleManyInput): Promise<Types.CompleteOutcome[]> {
  const ids = input.items.map((i) => i.id);
  const { rows } = await pool.query<{ id: number; status: Types.TaskStatus }>(
    `WITH i AS (
       SELECT * FROM unnest($1::bigint[], $2::boolean[], $3::text[], $4::text[], $5::integer[], $6::text[])
         AS i(id, success, result, error, max_attempts, message)
     ), l AS (
       SELECT t.id FROM tasks t WHERE t.id = ANY($1::bigint[]) AND t.status = 'claimed' AND t.claimed_by = $8
       ORDER BY t.id FOR UPDATE
     ), u AS (
       UPDATE tasks t SET
         ${SQL.PG_SETTLE_SET("$7::bigint")}
       FROM i JOIN l ON l.id = i.id WHERE t.id = i.id AND t.status = 'claimed' AND t.claimed_by = $8
       RETURNING t.id, t.status, i.message
     ), h AS (
       INSERT INTO task_history (task_id, status_change, worker_id, message, created_at)
       SELECT id, CASE WHEN status = 'pending' THEN 'pending (retry)' ELSE status END, $8, message, $7 FROM u
     ) SELECT id, status FROM u`,
    [
      ids,
      input.items.map((i) => i.success),
      input.items.map((i) => i.result),
      input.items.map((i) => i.error),
      input.items.map((i) => i.maxAttempts),
      input.items.map((i) => (i.success ? "Task completed successfully" : `Task failed: ${i.error ?? "no error message"}`)),
      input.now,
      input.workerId,
    ],
  );
  const settled = new Map(rows.map((r) => [r.id, r.status]));
  const refused = ids.filter((id) => !settled.has(id));
  const states = new Map<number, Types.TaskStatus>();
  if (refused.length > 0) {
    const r = await pool.query<{ id: number; status: Types.TaskStatus }>("SELECT id, status FROM tasks WHERE id = ANY($1::bigint[])", [refused]);
    for (const s of r.rows) states.set(s.id, s.status);
  }
  return ids.map((id): Types.CompleteOutcome => {
    const status = settled.get(id);
    if (status !== undefined) return { ok: true, status: status === "pending" ? "pending (retry)" : (status as "completed" | "failed") };
    const state = states.get(id);
    return { ok: false, refusal: state === undefined ? "not_found" : state === "claimed" ? "other_worker" : "not_claimed" };
  });
}

import { migratePostgres } from "@prismq/sql-migrations";
import pg from "pg";
import { Batcher, type BatchOptions } from "./batcher.js";
import * as Many from "./postgres-batch.js";
import { claimTasksPostgres, settleManyPostgres } from "./postgres-many.js";
// The SQL both stores share, and the store contract they implement.
import * as SQL from "./sql.js";
import type * as Types from "./types.js";

/** The schema's versions, oldest first (see {@link SQL.migrationsOf}); append only. */
export const MIGRATIONS = SQL.migrationsOf({ id: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", ref: "BIGINT", time: "BIGINT", bool: "BOOLEAN", true: "TRUE" });

/** BIGINT (ids, millisecond times) as JS numbers: every value stays below 2^53. */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === pg.types.builtins.INT8) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export interface PostgresStoreOptions {
  connectionString: string;
  /** Schema holding the tables; created when missing. Default `public`. */
  schema?: string;
  /** Pool size. Default 16. */
  poolSize?: number;
  /**
   * Group commit: how long the first claim, create, progress or complete of a batch waits for
   * others, in ms; 0 gathers those that arrive in one turn of the event loop. Default 1.
   */
  batchWindowMs?: number;
  /** Most calls served by one batched statement; 1 turns batching off. Default 100. */
  batchMax?: number;
}

type CreateOutcome = { id: number; status: Types.TaskStatus; deduplicated: boolean };

/**
 * PostgreSQL storage for several server nodes sharing one database. Claims
 * use `FOR UPDATE SKIP LOCKED` in one statement; completes and progress are
 * conditional UPDATEs, so no two workers can settle one task. Claims, creates,
 * completes and progress that arrive together share one statement (group
 * commit, see {@link Batcher}); each caller still gets its own answer.
 */
export class PostgresStore implements Types.Store {
  readonly kind = "postgres" as const;
  private readonly pool: pg.Pool;
  private readonly claims: Batcher<Types.ClaimInput, Types.ClaimedTask | undefined>;
  private readonly creates: Batcher<Types.CreateInput, CreateOutcome>;
  private readonly completes: Batcher<Types.CompleteInput, Types.CompleteOutcome>;
  private readonly progresses: Batcher<Types.ProgressInput, Types.ProgressOutcome>;

  private constructor(pool: pg.Pool, batch: BatchOptions) {
    this.pool = pool;
    this.claims = new Batcher(batch, (inputs) => this.claimMany(inputs), (input) => this.claimOne(input));
    this.creates = new Batcher(batch, (inputs) => this.createMany(inputs), (input) => this.createOne(input));
    const byTask = (input: { id: number }) => String(input.id);
    this.completes = new Batcher<Types.CompleteInput, Types.CompleteOutcome>(batch, (inputs) => this.completeMany(inputs), (input) => this.completeOne(input), byTask);
    this.progresses = new Batcher<Types.ProgressInput, Types.ProgressOutcome>(batch, (inputs) => this.progressMany(inputs), (input) => this.progressOne(input), byTask);
  }

  /** Connects, creates the schema when missing and applies pending migrations (under an advisory lock). */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = options.schema ?? "public";
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name: ${schema}`);
    const pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 16,
      types,
      options: `-c search_path=${schema}`,
    });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on("error", () => {});
    const store = new PostgresStore(pool, { windowMs: options.batchWindowMs ?? 1, max: options.batchMax ?? 100 });
    try {
      await store.migrate(schema);
    } catch (err) {
      await pool.end();
      throw err;
    }
    return store;
  }

  private async migrate(schema: string): Promise<void> {
    await migratePostgres(this.pool, { table: SQL.MIGRATIONS_TABLE, migrations: MIGRATIONS, schema, lockName: "prismq-taskmanager" });
  }

  /** The first row of a query; a `name` makes it a prepared statement (parsed once per connection). */
  private async one<T>(sql: string, args: unknown[], name?: string): Promise<T | undefined> {
    const { rows } = await this.pool.query(name === undefined ? { text: sql, values: args } : { name, text: sql, values: args });
    return rows[0] as T | undefined;
  }

  /** Runs a named statement: each connection prepares it once, then sends only the values. */
  private async named<T extends pg.QueryResultRow>(statement: Many.Named, values: unknown[]): Promise<T[]> {
    const { rows } = await this.pool.query<T>({ ...statement, values });
    return rows;
  }

  async ping(): Promise<void> {
    await this.pool.query("SELECT 1");
  }

  async registerTaskType(input: Types.RegisterInput): Promise<{ id: number; created: boolean }> {
    // xmax = 0 only for a freshly inserted row: tells insert from update in one statement.
    const row = await this.one<{ id: number; created: boolean }>(
      `INSERT INTO task_types (name, version, param_schema, is_active, created_at, updated_at)
       VALUES ($1, $2, $3, TRUE, $4, $4)
       ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, param_schema = EXCLUDED.param_schema,
         is_active = TRUE, updated_at = EXCLUDED.updated_at
       RETURNING id, (xmax = 0) AS created`,
      [input.name, input.version, input.paramSchema, input.now],
    );
    return row as { id: number; created: boolean };
  }

  async getTaskType(name: string): Promise<Types.TaskTypeRow | undefined> {
    return this.one<Types.TaskTypeRow>(`SELECT ${SQL.TYPE_COLUMNS} FROM task_types WHERE name = $1`, [name]);
  }

  async getTaskTypeById(id: number): Promise<Types.TaskTypeRow | undefined> {
    return this.one<Types.TaskTypeRow>(`SELECT ${SQL.TYPE_COLUMNS} FROM task_types WHERE id = $1`, [id]);
  }

  async listTaskTypes(input: Types.TypeListInput): Promise<Types.TaskTypeRow[]> {
    // Byte order, as SQLite sorts, so that both stores page alike.
    const { rows } = await this.pool.query<Types.TaskTypeRow>(
      `SELECT ${SQL.TYPE_COLUMNS} FROM task_types ${input.activeOnly ? "WHERE is_active" : ""} ORDER BY name COLLATE "C" LIMIT $1 OFFSET $2`,
      [input.limit, input.offset],
    );
    return rows;
  }

  async taskTypeNames(): Promise<Array<{ id: number; name: string }>> {
    const { rows } = await this.pool.query<{ id: number; name: string }>("SELECT id, name FROM task_types");
    return rows;
  }

  async createTask(input: Types.CreateInput): Promise<CreateOutcome> {
    return this.creates.run("create", input);
  }

  private async createOne(input: Types.CreateInput): Promise<CreateOutcome> {
    const inserted = await this.one<{ id: number }>(
      `WITH ins AS (
         INSERT INTO tasks (type_id, status, params, priority, created_at, updated_at, dedupe_key)
         VALUES ($1, 'pending', $2, $3, $4, $4, $5) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id
       ), h AS (
         INSERT INTO task_history (task_id, status_change, worker_id, message, created_at)
         SELECT id, 'created', NULL, 'Task created', $4 FROM ins
       ) SELECT id FROM ins`,
      [input.typeId, input.params, input.priority, input.now, input.dedupeKey],
      "tm_create",
    );
    if (inserted) return { id: inserted.id, status: "pending", deduplicated: false };
    // The conflicting insert has committed (ON CONFLICT waited for it), so this read sees it.
    const existing = await this.one<{ id: number; status: Types.TaskStatus }>(
      "SELECT id, status FROM tasks WHERE dedupe_key = $1",
      [input.dedupeKey],
      "tm_by_dedupe_key",
    );
    if (!existing) throw new Error("dedupe conflict without an existing task");
    return { ...existing, deduplicated: true };
  }

  /** Identical creates in one batch insert once: the first is new, the others are its duplicates. */
  private async createMany(inputs: Types.CreateInput[]): Promise<Array<CreateOutcome | Promise<CreateOutcome>>> {
    const firsts = new Map<string, Types.CreateInput>();
    for (const input of inputs) if (!firsts.has(input.dedupeKey)) firsts.set(input.dedupeKey, input);
    const unique = [...firsts.values()];
    const rows = await this.named<{ id: number; key: string }>(Many.CREATE_MANY, [
      unique.map((i) => i.typeId),
      unique.map((i) => i.params),
      unique.map((i) => i.priority),
      unique.map((i) => i.now),
      unique.map((i) => i.dedupeKey),
    ]);
    const created = new Map(rows.map((r) => [r.key, r.id]));
    const skipped = unique.filter((i) => !created.has(i.dedupeKey)).map((i) => i.dedupeKey);
    // The skipped keys' tasks committed before the insert went on, so this later read sees them.
    const existing =
      skipped.length === 0
        ? Promise.resolve(new Map<string, { id: number; status: Types.TaskStatus }>())
        : this.named<{ id: number; status: Types.TaskStatus; key: string }>(Many.BY_DEDUPE_KEYS, [skipped]).then(
            (found) => new Map(found.map((r) => [r.key, { id: r.id, status: r.status }])),
          );
    existing.catch(() => {});
    return inputs.map((input) => {
      const id = created.get(input.dedupeKey);
      if (id !== undefined) {
        const isNew = firsts.get(input.dedupeKey) === input;
        return { id, status: "pending", deduplicated: !isNew };
      }
      return existing.then((found) => {
        const task = found.get(input.dedupeKey);
        if (!task) throw new Error("dedupe conflict without an existing task");
        return { ...task, deduplicated: true };
      });
    });
  }

  async listTasks(filter: Types.ListFilter): Promise<Types.TaskSummaryRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status) {
      args.push(filter.status);
      where.push(`t.status = $${args.length}`);
    }
    if (filter.typeIds !== undefined) {
      if (filter.typeIds.length === 0) return [];
      args.push(filter.typeIds);
      where.push(`t.type_id = ANY($${args.length}::bigint[])`);
    }
    args.push(filter.limit, filter.offset);
    const { rows } = await this.pool.query<Types.TaskSummaryRow>(
      `SELECT ${SQL.SUMMARY_COLUMNS} FROM tasks t JOIN task_types tt ON tt.id = t.type_id
       ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY t.id DESC LIMIT $${args.length - 1} OFFSET $${args.length}`,
      args,
    );
    return rows;
  }

  async getTask(id: number): Promise<Types.TaskRow | undefined> {
    return this.one<Types.TaskRow>(
      `SELECT ${SQL.TASK_COLUMNS} FROM tasks t JOIN task_types tt ON tt.id = t.type_id WHERE t.id = $1`,
      [id],
    );
  }

  async claimTask(input: Types.ClaimInput): Promise<Types.ClaimedTask | undefined> {
    return this.claims.run(`${input.typeId} ${input.sortBy} ${input.sortOrder} ${input.maxAttempts}`, input);
  }

  private async claimOne(input: Types.ClaimInput): Promise<Types.ClaimedTask | undefined> {
    // One statement: last claims that timed out fail for good (x, with history rows), then the claim.
    // The claim's own pick excludes those rows, since every part of the statement sees one snapshot.
    return this.one<Types.ClaimedTask>(
      `WITH ${Many.SWEEP}, c AS (
         SELECT id, status AS was FROM tasks WHERE type_id = $1 AND ${SQL.CLAIMABLE("$2", "$5")}
         ORDER BY ${SQL.claimOrder(input.sortBy, input.sortOrder)} LIMIT 1 FOR UPDATE SKIP LOCKED
       ), u AS (
         UPDATE tasks t SET status = 'claimed', claimed_by = $3, claimed_at = $4, attempts = t.attempts + 1, updated_at = $4,
           claim_timeouts = t.claim_timeouts + CASE WHEN t.status = 'claimed' THEN 1 ELSE 0 END
         FROM c WHERE t.id = c.id RETURNING t.id, t.params, t.attempts, t.priority, c.was = 'claimed' AS took_over
       ), h AS (
         INSERT INTO task_history (task_id, status_change, worker_id, message, created_at)
         SELECT id, 'claimed', $3, 'Task claimed by worker', $4 FROM u
       ) SELECT id, params, attempts, priority, took_over AS "tookOver" FROM u`,
      [input.typeId, input.expiredBefore, input.workerId, input.now, input.maxAttempts],
      `tm_claim_${input.sortBy}_${input.sortOrder}`,
    );
  }

  /**
   * Claims that share a type, order and attempt limit. A claim may take over only what every
   * caller of the batch sees as timed out (the earliest `expiredBefore`).
   */
  private async claimMany(inputs: Types.ClaimInput[]): Promise<Array<Types.ClaimedTask | undefined>> {
    const first = inputs[0] as Types.ClaimInput;
    const rows = await this.named<Types.ClaimedTask & { n: number }>(Many.claimMany(first.sortBy, first.sortOrder), [
      first.typeId,
      Math.min(...inputs.map((i) => i.expiredBefore)),
      inputs.map((i) => i.workerId),
      Math.max(...inputs.map((i) => i.now)),
      first.maxAttempts,
      inputs.map((i) => i.now),
    ]);
    const byN = new Map(rows.map(({ n, ...task }) => [n, task]));
    return inputs.map((_, k) => byN.get(k + 1));
  }

  /** Each refused input's reason, read in one query after the batch's UPDATE. */
  private refusals(ids: number[]): Promise<Map<number, Types.Refusal>> {
    const read = this.named<{ id: number; status: Types.TaskStatus }>(Many.STATUS_OF, [ids]).then((rows) => {
      const status = new Map(rows.map((r) => [r.id, r.status]));
      return new Map(ids.map((id) => [id, Many.refusalOf(status.get(id))]));
    });
    read.catch(() => {});
    return read;
  }

  private async refusal(id: number): Promise<Types.Refusal> {
    const state = await this.one<{ status: Types.TaskStatus }>("SELECT status FROM tasks WHERE id = $1", [id], "tm_status");
    return Many.refusalOf(state?.status);
  }

  async progress(input: Types.ProgressInput): Promise<Types.ProgressOutcome> {
    return this.progresses.run("progress", input);
  }

  private async progressOne(input: Types.ProgressInput): Promise<Types.ProgressOutcome> {
    const { rowCount } = await this.pool.query({
      name: "tm_progress",
      text: `UPDATE tasks SET progress = $1, progress_message = coalesce($2, progress_message), claimed_at = $3, updated_at = $3
       WHERE id = $4 AND status = 'claimed' AND claimed_by = $5`,
      values: [input.progress, input.message, input.now, input.id, input.workerId],
    });
    return rowCount === 1 ? { ok: true } : { ok: false, refusal: await this.refusal(input.id) };
  }

  private async progressMany(inputs: Types.ProgressInput[]): Promise<Array<Types.ProgressOutcome | Promise<Types.ProgressOutcome>>> {
    const rows = await this.named<{ n: number }>(Many.PROGRESS_MANY, [
      inputs.map((i) => i.id),
      inputs.map((i) => i.workerId),
      inputs.map((i) => i.progress),
      inputs.map((i) => i.message),
      inputs.map((i) => i.now),
    ]);
    const applied = new Set(rows.map((r) => r.n));
    const refused = inputs.filter((_, k) => !applied.has(k + 1)).map((i) => i.id);
    const refusals = refused.length > 0 ? this.refusals(refused) : undefined;
    return inputs.map((input, k) =>
      applied.has(k + 1) ? { ok: true } : (refusals as Promise<Map<number, Types.Refusal>>).then((r) => ({ ok: false, refusal: r.get(input.id) as Types.Refusal })),
    );
  }

  async complete(input: Types.CompleteInput): Promise<Types.CompleteOutcome> {
    return this.completes.run("complete", input);
  }

  private async completeMany(inputs: Types.CompleteInput[]): Promise<Array<Types.CompleteOutcome | Promise<Types.CompleteOutcome>>> {
    const rows = await this.named<{ n: number; status: Types.TaskStatus }>(Many.COMPLETE_MANY, [
      inputs.map((i) => i.id),
      inputs.map((i) => i.workerId),
      inputs.map((i) => i.success),
      inputs.map((i) => i.result),
      inputs.map((i) => i.error),
      inputs.map((i) => i.maxAttempts),
      inputs.map((i) => i.now),
      inputs.map(completeMessage),
    ]);
    const applied = new Map(rows.map((r) => [r.n, r.status]));
    const refused = inputs.filter((_, k) => !applied.has(k + 1)).map((i) => i.id);
    const refusals = refused.length > 0 ? this.refusals(refused) : undefined;
    return inputs.map((input, k) => {
      const status = applied.get(k + 1);
      if (status !== undefined) return { ok: true, status: settledAs(status) };
      return (refusals as Promise<Map<number, Types.Refusal>>).then((r) => ({ ok: false, refusal: r.get(input.id) as Types.Refusal }));
    });
  }

  private async completeOne(input: Types.CompleteInput): Promise<Types.CompleteOutcome> {
    const message = completeMessage(input);
    const row = await this.one<{ status: Types.TaskStatus }>(
      `WITH u AS (
         UPDATE tasks SET
           status = CASE WHEN $1 THEN 'completed' WHEN attempts < $2 THEN 'pending' ELSE 'failed' END,
           result = $3, error_message = $4,
           claimed_by = CASE WHEN $1 OR attempts >= $2 THEN claimed_by ELSE NULL END,
           claimed_at = CASE WHEN $1 OR attempts >= $2 THEN claimed_at ELSE NULL END,
           completed_at = CASE WHEN $1 OR attempts >= $2 THEN $5::bigint ELSE NULL END,
           updated_at = $5
         WHERE id = $6 AND status = 'claimed' AND claimed_by = $7 RETURNING id, status
       ), h AS (
         INSERT INTO task_history (task_id, status_change, worker_id, message, created_at)
         SELECT id, CASE WHEN status = 'pending' THEN 'pending (retry)' ELSE status END, $7, $8, $5 FROM u
       ) SELECT status FROM u`,
      [input.success, input.maxAttempts, input.result, input.error, input.now, input.id, input.workerId, message],
      "tm_complete",
    );
    if (!row) return { ok: false, refusal: await this.refusal(input.id) };
    return { ok: true, status: settledAs(row.status) };
  }

  private async operatorRefusal(id: number): Promise<Types.OperatorOutcome> {
    const state = await this.one<{ status: Types.TaskStatus }>("SELECT status FROM tasks WHERE id = $1", [id]);
    return state ? { ok: false, refusal: "wrong_status", status: state.status } : { ok: false, refusal: "not_found" };
  }

  async requeue(input: Types.RequeueInput): Promise<Types.OperatorOutcome> {
    // One statement, like complete: the conditional UPDATE locks the row, so a worker's concurrent complete and this cannot both apply.
    const row = await this.one<{ status: "pending" }>(
      `WITH u AS (
         UPDATE tasks SET status = 'pending', claimed_by = NULL, claimed_at = NULL, completed_at = NULL, updated_at = $1
         WHERE id = $2 AND status IN ('claimed', 'failed') RETURNING id, status
       ), h AS (
         INSERT INTO task_history (task_id, status_change, worker_id, message, created_at)
         SELECT id, $3, $4, $5, $1 FROM u
       ) SELECT status FROM u`,
      [input.now, input.id, SQL.REQUEUED, SQL.OPERATOR, input.reason ?? SQL.DEFAULT_REQUEUE_MESSAGE],
    );
    return row ? { ok: true, status: row.status } : this.operatorRefusal(input.id);
  }

  async fail(input: Types.FailInput): Promise<Types.OperatorOutcome> {
    const row = await this.one<{ status: "failed" }>(
      `WITH u AS (
         UPDATE tasks SET status = 'failed', error_message = $1, completed_at = $2, updated_at = $2
         WHERE id = $3 AND status IN ('pending', 'claimed') RETURNING id, status
       ), h AS (
         INSERT INTO task_history (task_id, status_change, worker_id, message, created_at)
         SELECT id, 'failed', $4, $1, $2 FROM u
       ) SELECT status FROM u`,
      [input.error, input.now, input.id, SQL.OPERATOR],
    );
    return row ? { ok: true, status: row.status } : this.operatorRefusal(input.id);
  }

  async stats(input: Types.StatsInput): Promise<Types.StatsRows> {
    // One REPEATABLE READ snapshot, so that the counts agree with each other.
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const byTypeStatus = await client.query<Types.StatsRows["byTypeStatus"][number]>(SQL.STATS_BY_TYPE_STATUS);
      const workers = await client.query<{ workerId: string; id: number; claimed: number; total: number }>(
        SQL.STATS_WORKERS("$1", "$2", ' COLLATE "C"'),
        [input.workers, input.tasksPerWorker],
      );
      const failures = await client.query<Types.StatsRows["failures"][number]>(SQL.STATS_FAILURES("$1"), [input.failures]);
      const minutes = await client.query<Types.StatsRows["minutes"][number]>(SQL.STATS_MINUTES("$1"), [input.since]);
      await client.query("COMMIT");
      return { byTypeStatus: byTypeStatus.rows, ...SQL.groupWorkers(workers.rows), failures: failures.rows, minutes: minutes.rows };
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  async history(taskId: number): Promise<Types.HistoryRow[] | undefined> {
    const exists = await this.one("SELECT 1 FROM tasks WHERE id = $1", [taskId]);
    if (!exists) return undefined;
    const { rows } = await this.pool.query<Types.HistoryRow>(
      `SELECT ${SQL.HISTORY_COLUMNS} FROM task_history WHERE task_id = $1 ORDER BY id`,
      [taskId],
    );
    return rows;
  }

  // The batch calls live in postgres-batch.ts.
  async claimTasks(input: Types.ClaimManyInput): Promise<Types.ClaimedTask[]> {
    return claimTasksPostgres(this.pool, input);
  }

  async settleMany(input: Types.SettleManyInput): Promise<Types.CompleteOutcome[]> {
    return settleManyPostgres(this.pool, input);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** The history message of a complete or a failure. */
function completeMessage(input: Types.CompleteInput): string {
  return input.success ? "Task completed successfully" : `Task failed: ${input.error ?? "no error message"}`;
}

/** A complete's answer status: a failure sent back to the queue is `pending (retry)`. */
function settledAs(status: Types.TaskStatus): "completed" | "failed" | "pending (retry)" {
  return status === "pending" ? "pending (retry)" : (status as "completed" | "failed");
}

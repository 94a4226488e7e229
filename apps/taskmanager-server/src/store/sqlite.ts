import { closeSync, constants, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { migrateSqlite } from "@prismq/sql-migrations";
// The SQL both stores share, and the store contract they implement.
import * as SQL from "./sql.js";
import type * as Types from "./types.js";

/** The schema's versions, oldest first (see {@link SQL.migrationsOf}); append only. */
export const MIGRATIONS = SQL.migrationsOf({ id: "INTEGER PRIMARY KEY", ref: "INTEGER", time: "INTEGER", bool: "INTEGER", true: "1" });

/**
 * Creates the database file (and the directories up to it) readable by its owner only: directories
 * 0700, the file 0600, whatever the umask. SQLite gives the `-wal` and `-shm` files it creates the
 * mode of the database file, so they are 0600 too. An existing file or directory is left as it is.
 */
function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    // O_EXCL: only a file this call creates gets the mode; the umask can only clear bits of 0600.
    fd = openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return;
    throw err;
  }
  closeSync(fd);
}

type RawType = Omit<Types.TaskTypeRow, "isActive"> & { isActive: number };
const toType = (r: RawType | undefined): Types.TaskTypeRow | undefined => (r ? { ...r, isActive: r.isActive === 1 } : undefined);

/**
 * SQLite storage (better-sqlite3, WAL). Every write runs in an IMMEDIATE
 * transaction, so claims stay exactly-once even when several server
 * processes share one file; inside one process the calls are synchronous
 * and therefore already serialised.
 */
export class SqliteStore implements Types.Store {
  readonly kind = "sqlite" as const;
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly tx;
  private readonly runBatch: Database.Transaction<(body: () => void) => void>;
  private queue: Array<{ op: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  private readonly claimStmts = new Map<string, Database.Statement>();

  constructor(path: string) {
    if (path !== ":memory:") createPrivateFile(path);
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    // Temporary tables in memory: every claim's sweep (`id IN (SELECT … LIMIT 100)`) builds one, and
    // on the default (a temporary file) that cost a file open and unlink, about 150 µs of each claim.
    this.db.pragma("temp_store = MEMORY");
    // Foreign keys are declared for documentation; every write goes through this class, which keeps them.
    this.migrate();
    const db = this.db;
    this.stmts = {
      ping: db.prepare("SELECT 1"),
      typeByName: db.prepare(`SELECT ${SQL.TYPE_COLUMNS} FROM task_types WHERE name = ?`),
      typeById: db.prepare(`SELECT ${SQL.TYPE_COLUMNS} FROM task_types WHERE id = ?`),
      typesAll: db.prepare(`SELECT ${SQL.TYPE_COLUMNS} FROM task_types ORDER BY name LIMIT ? OFFSET ?`),
      typesActive: db.prepare(`SELECT ${SQL.TYPE_COLUMNS} FROM task_types WHERE is_active = 1 ORDER BY name LIMIT ? OFFSET ?`),
      typeNames: db.prepare(`SELECT id, name FROM task_types`),
      typeInsert: db.prepare(
        "INSERT INTO task_types (name, version, param_schema, is_active, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?)",
      ),
      typeUpdate: db.prepare("UPDATE task_types SET version = ?, param_schema = ?, is_active = 1, updated_at = ? WHERE id = ?"),
      taskInsert: db.prepare(
        `INSERT INTO tasks (type_id, status, params, priority, created_at, updated_at, dedupe_key)
         VALUES (?, 'pending', ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING`,
      ),
      taskByKey: db.prepare("SELECT id, status FROM tasks WHERE dedupe_key = ?"),
      task: db.prepare(`SELECT ${SQL.TASK_COLUMNS} FROM tasks t JOIN task_types tt ON tt.id = t.type_id WHERE t.id = ?`),
      taskState: db.prepare("SELECT status, claimed_by AS claimedBy FROM tasks WHERE id = ?"),
      claimUpdate: db.prepare(
        `UPDATE tasks SET status = 'claimed', claimed_by = ?, claimed_at = ?, attempts = attempts + 1, updated_at = ?,
           claim_timeouts = claim_timeouts + CASE WHEN status = 'claimed' THEN 1 ELSE 0 END
         WHERE id = ? RETURNING id, params, attempts, priority`,
      ),
      timedOut: db.prepare(
        `UPDATE tasks SET ${SQL.TIMED_OUT_SET("@now")}
         WHERE id IN (SELECT id FROM tasks WHERE ${SQL.TIMED_OUT_WHERE("@type", "@expiredBefore", "@maxAttempts")} LIMIT ${SQL.SWEEP_LIMIT})
         RETURNING id, error_message AS errorMessage`,
      ),
      progress: db.prepare(
        `UPDATE tasks SET progress = ?, progress_message = coalesce(?, progress_message), claimed_at = ?, updated_at = ?
         WHERE id = ? AND status = 'claimed' AND claimed_by = ?`,
      ),
      complete: db.prepare(
        `UPDATE tasks SET
           status = CASE WHEN ? THEN 'completed' WHEN attempts < ? THEN 'pending' ELSE 'failed' END,
           result = ?, error_message = ?,
           claimed_by = CASE WHEN ? OR attempts >= ? THEN claimed_by ELSE NULL END,
           claimed_at = CASE WHEN ? OR attempts >= ? THEN claimed_at ELSE NULL END,
           completed_at = CASE WHEN ? OR attempts >= ? THEN ? ELSE NULL END,
           updated_at = ?
         WHERE id = ? AND status = 'claimed' AND claimed_by = ? RETURNING status`,
      ),
      history: db.prepare(
        "INSERT INTO task_history (task_id, status_change, worker_id, message, created_at) VALUES (?, ?, ?, ?, ?)",
      ),
      historyOf: db.prepare(`SELECT ${SQL.HISTORY_COLUMNS} FROM task_history WHERE task_id = ? ORDER BY id`),
      taskExists: db.prepare("SELECT 1 FROM tasks WHERE id = ?"),
      requeue: db.prepare(
        `UPDATE tasks SET status = 'pending', claimed_by = NULL, claimed_at = NULL, completed_at = NULL, updated_at = ?
         WHERE id = ? AND status IN ('claimed', 'failed') RETURNING status`,
      ),
      fail: db.prepare(
        `UPDATE tasks SET status = 'failed', error_message = ?, completed_at = ?, updated_at = ?
         WHERE id = ? AND status IN ('pending', 'claimed') RETURNING status`,
      ),
      statsByTypeStatus: db.prepare(SQL.STATS_BY_TYPE_STATUS),
      statsWorkers: db.prepare(SQL.STATS_WORKERS("?", "?", "")),
      statsFailures: db.prepare(SQL.STATS_FAILURES("?")),
      statsMinutes: db.prepare(SQL.STATS_MINUTES("?")),
    };
    this.tx = this.transactions();
    this.runBatch = this.db.transaction((body: () => void) => body());
  }

  /** Transaction functions, built once: each runs BEGIN IMMEDIATE … COMMIT around its statements. */
  private transactions() {
    const { db, stmts } = this;
    return {
      register: db.transaction((input: Types.RegisterInput) => {
        const existing = stmts.typeByName.get(input.name) as RawType | undefined;
        if (existing) {
          stmts.typeUpdate.run(input.version, input.paramSchema, input.now, existing.id);
          return { id: existing.id, created: false };
        }
        const info = stmts.typeInsert.run(input.name, input.version, input.paramSchema, input.now, input.now);
        return { id: Number(info.lastInsertRowid), created: true };
      }),
      create: db.transaction((input: Types.CreateInput) => {
        const info = stmts.taskInsert.run(input.typeId, input.params, input.priority, input.now, input.now, input.dedupeKey);
        if (info.changes === 1) {
          const id = Number(info.lastInsertRowid);
          stmts.history.run(id, "created", null, "Task created", input.now);
          return { id, status: "pending" as Types.TaskStatus, deduplicated: false };
        }
        const row = stmts.taskByKey.get(input.dedupeKey) as { id: number; status: Types.TaskStatus };
        return { id: row.id, status: row.status, deduplicated: true };
      }),
      claim: db.transaction((select: Database.Statement, input: Types.ClaimManyInput): Types.ClaimedTask[] => {
        // Last claims that timed out fail for good first, each with its history row.
        const swept = stmts.timedOut.all({
          now: input.now,
          type: input.typeId,
          expiredBefore: input.expiredBefore,
          maxAttempts: input.maxAttempts,
        }) as Array<{ id: number; errorMessage: string }>;
        for (const t of swept) stmts.history.run(t.id, "failed", null, t.errorMessage, input.now);
        const args = [input.typeId, input.expiredBefore, input.maxAttempts, ...(input.limit === 1 ? [] : [input.limit])];
        const found = select.all(...args) as Array<{ id: number; status: Types.TaskStatus }>;
        return found.map((f) => {
          const row = stmts.claimUpdate.get(input.workerId, input.now, input.now, f.id) as Omit<Types.ClaimedTask, "tookOver">;
          stmts.history.run(row.id, "claimed", input.workerId, "Task claimed by worker", input.now);
          return { ...row, tookOver: f.status === "claimed" };
        });
      }),
      complete: db.transaction((input: Types.CompleteInput): Types.CompleteOutcome => {
        const s = input.success ? 1 : 0;
        const max = input.maxAttempts;
        const row = stmts.complete.get(
          s, max, input.result, input.error, s, max, s, max, s, max, input.now, input.now, input.id, input.workerId,
        ) as { status: Types.TaskStatus } | undefined;
        if (!row) return { ok: false, refusal: this.refusal(input.id) };
        const message = input.success ? "Task completed successfully" : `Task failed: ${input.error ?? "no error message"}`;
        const change = row.status === "pending" ? "pending (retry)" : row.status;
        stmts.history.run(input.id, change, input.workerId, message, input.now);
        return { ok: true, status: change as "completed" | "failed" | "pending (retry)" };
      }),
      requeue: db.transaction((input: Types.RequeueInput): Types.OperatorOutcome => {
        const row = stmts.requeue.get(input.now, input.id) as { status: "pending" } | undefined;
        if (!row) return this.operatorRefusal(input.id);
        stmts.history.run(input.id, SQL.REQUEUED, SQL.OPERATOR, input.reason ?? SQL.DEFAULT_REQUEUE_MESSAGE, input.now);
        return { ok: true, status: row.status };
      }),
      fail: db.transaction((input: Types.FailInput): Types.OperatorOutcome => {
        const row = stmts.fail.get(input.error, input.now, input.now, input.id) as { status: "failed" } | undefined;
        if (!row) return this.operatorRefusal(input.id);
        stmts.history.run(input.id, "failed", SQL.OPERATOR, input.error, input.now);
        return { ok: true, status: row.status };
      }),
      // Deferred: a read snapshot, so that every count comes from the same state even with other processes writing.
      stats: db.transaction((input: Types.StatsInput): Types.StatsRows => ({
        byTypeStatus: stmts.statsByTypeStatus.all() as Types.StatsRows["byTypeStatus"],
        ...SQL.groupWorkers(
          stmts.statsWorkers.all(input.workers, input.tasksPerWorker) as Array<{ workerId: string; id: number; claimed: number; total: number }>,
        ),
        failures: stmts.statsFailures.all(input.failures) as Types.StatsRows["failures"],
        minutes: stmts.statsMinutes.all(input.since) as Types.StatsRows["minutes"],
      })),
    };
  }

  private migrate(): void {
    migrateSqlite(this.db, { table: SQL.MIGRATIONS_TABLE, migrations: MIGRATIONS });
  }

  async ping(): Promise<void> {
    this.stmts.ping.get();
  }

  /**
   * Group commit: writes that arrive in the same turn of the event loop run
   * in one IMMEDIATE transaction, each inside its own savepoint (a nested
   * better-sqlite3 transaction), and their promises settle only after the
   * COMMIT. One commit then pays the file I/O for many requests, while each
   * write stays atomic and nobody is answered before their write is durable.
   */
  private write<T>(op: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (this.queue.length === 1) setImmediate(this.flush);
    });
  }

  private readonly flush = (): void => {
    const batch = this.queue;
    this.queue = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.runBatch.immediate(() => {
        for (const { op } of batch) {
          try {
            outcomes.push({ ok: true, value: op() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      for (const w of batch) w.reject(error);
      return;
    }
    batch.forEach((w, i) => {
      const o = outcomes[i] as (typeof outcomes)[number];
      if (o.ok) w.resolve(o.value);
      else w.reject(o.error);
    });
  };

  async registerTaskType(input: Types.RegisterInput): Promise<{ id: number; created: boolean }> {
    return this.write(() => this.tx.register(input));
  }

  async getTaskType(name: string): Promise<Types.TaskTypeRow | undefined> {
    return toType(this.stmts.typeByName.get(name) as RawType | undefined);
  }

  async getTaskTypeById(id: number): Promise<Types.TaskTypeRow | undefined> {
    return toType(this.stmts.typeById.get(id) as RawType | undefined);
  }

  async listTaskTypes(input: Types.TypeListInput): Promise<Types.TaskTypeRow[]> {
    const rows = (input.activeOnly ? this.stmts.typesActive : this.stmts.typesAll).all(input.limit, input.offset) as RawType[];
    return rows.map((r) => toType(r) as Types.TaskTypeRow);
  }

  async taskTypeNames(): Promise<Array<{ id: number; name: string }>> {
    return this.stmts.typeNames.all() as Array<{ id: number; name: string }>;
  }

  async createTask(input: Types.CreateInput): Promise<{ id: number; status: Types.TaskStatus; deduplicated: boolean }> {
    return this.write(() => this.tx.create(input));
  }

  async listTasks(filter: Types.ListFilter): Promise<Types.TaskSummaryRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status) {
      where.push("t.status = ?");
      args.push(filter.status);
    }
    if (filter.typeIds !== undefined) {
      if (filter.typeIds.length === 0) return [];
      where.push("t.type_id IN (SELECT value FROM json_each(?))");
      args.push(JSON.stringify(filter.typeIds));
    }
    const sql = `SELECT ${SQL.SUMMARY_COLUMNS} FROM tasks t JOIN task_types tt ON tt.id = t.type_id
      ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY t.id DESC LIMIT ? OFFSET ?`;
    return this.db.prepare(sql).all(...args, filter.limit, filter.offset) as Types.TaskSummaryRow[];
  }

  async getTask(id: number): Promise<Types.TaskRow | undefined> {
    return this.stmts.task.get(id) as Types.TaskRow | undefined;
  }

  /**
   * The claim's SELECT for one order. A single claim's has `LIMIT 1` written in: SQLite runs it
   * about 15 µs faster than the same query with the limit bound as a parameter, which a batch uses.
   */
  private claimSelect(input: Types.ClaimManyInput): Database.Statement {
    const limit = input.limit === 1 ? "1" : "?";
    const key = `${input.sortBy}:${input.sortOrder}:${limit}`;
    let stmt = this.claimStmts.get(key);
    if (!stmt) {
      stmt = this.db.prepare(
        `SELECT id, status FROM tasks WHERE type_id = ? AND ${SQL.CLAIMABLE("?", "?")} ORDER BY ${SQL.claimOrder(input.sortBy, input.sortOrder)} LIMIT ${limit}`,
      );
      this.claimStmts.set(key, stmt);
    }
    return stmt;
  }

  async claimTask(input: Types.ClaimInput): Promise<Types.ClaimedTask | undefined> {
    return (await this.claimTasks({ ...input, limit: 1 }))[0];
  }

  async claimTasks(input: Types.ClaimManyInput): Promise<Types.ClaimedTask[]> {
    const select = this.claimSelect(input);
    return this.write(() => this.tx.claim(select, input));
  }

  private refusal(id: number): Types.Refusal {
    const state = this.stmts.taskState.get(id) as { status: Types.TaskStatus } | undefined;
    if (!state) return "not_found";
    return state.status === "claimed" ? "other_worker" : "not_claimed";
  }

  private operatorRefusal(id: number): Types.OperatorOutcome {
    const state = this.stmts.taskState.get(id) as { status: Types.TaskStatus } | undefined;
    return state ? { ok: false, refusal: "wrong_status", status: state.status } : { ok: false, refusal: "not_found" };
  }

  async requeue(input: Types.RequeueInput): Promise<Types.OperatorOutcome> {
    return this.write(() => this.tx.requeue(input));
  }

  async fail(input: Types.FailInput): Promise<Types.OperatorOutcome> {
    return this.write(() => this.tx.fail(input));
  }

  async stats(input: Types.StatsInput): Promise<Types.StatsRows> {
    return this.tx.stats(input);
  }

  async progress(input: Types.ProgressInput): Promise<Types.ProgressOutcome> {
    return this.write(() => {
      const info = this.stmts.progress.run(input.progress, input.message, input.now, input.now, input.id, input.workerId);
      return info.changes === 1 ? { ok: true } : { ok: false, refusal: this.refusal(input.id) };
    });
  }

  async complete(input: Types.CompleteInput): Promise<Types.CompleteOutcome> {
    return this.write(() => this.tx.complete(input));
  }

  async settleMany(input: Types.SettleManyInput): Promise<Types.CompleteOutcome[]> {
    // One write: the items share the group commit's transaction, each in its own savepoint.
    return this.write(() => input.items.map((item) => this.tx.complete({ ...item, workerId: input.workerId, now: input.now })));
  }

  async history(taskId: number): Promise<Types.HistoryRow[] | undefined> {
    if (!this.stmts.taskExists.get(taskId)) return undefined;
    return this.stmts.historyOf.all(taskId) as Types.HistoryRow[];
  }

  async close(): Promise<void> {
    if (this.queue.length > 0) this.flush();
    if (this.db.open) this.db.close();
  }
}

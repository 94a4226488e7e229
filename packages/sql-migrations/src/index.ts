/**
 * @prismq/sql-migrations: the one migration runner of every store (the TaskManager server's two, the idea
 * store's two). Migration `n` is the SQL text at index `n - 1` of a list that only ever grows; each applied
 * version is one row of a bookkeeping table `(version INTEGER PRIMARY KEY, applied_at …)`, and a store opens
 * by applying, in one transaction and under a lock, every version above the highest recorded one.
 * The drivers are not imported: each function takes the already open database (better-sqlite3) or pool (pg).
 */

/** What a SQLite runner needs of a better-sqlite3 `Database`. */
export interface SqliteDatabase {
  exec(sql: string): unknown;
  prepare(sql: string): { get(...args: unknown[]): unknown; run(...args: unknown[]): unknown };
}

/** What a PostgreSQL runner needs of a pg `Pool`. */
export interface PostgresPool {
  connect(): Promise<PostgresClient>;
}

/** What a PostgreSQL runner needs of a pg `PoolClient`. */
export interface PostgresClient {
  query(sql: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  release(err?: Error | boolean): void;
}

/** The migrations of one store and where their versions are recorded. */
export interface MigrationPlan {
  /** Name of the bookkeeping table (a plain lowercase identifier, at most 63 characters), e.g. `schema_migrations`. */
  table: string;
  /** Migration `n` is entry `n - 1`; one entry may hold several `;`-separated statements. Append only: an applied entry never changes. */
  migrations: readonly string[];
}

/** Options of {@link migratePostgres}. */
export interface PostgresMigrationPlan extends MigrationPlan {
  /** Schema holding the tables (a plain lowercase identifier), created when missing; the pool's `search_path` must select it. */
  schema: string;
  /** Names the advisory lock together with `schema`: stores of different kinds in one schema do not wait for each other. */
  lockName: string;
  /**
   * Type of `applied_at` in a bookkeeping table this call creates, and how a version's row is stamped:
   * `"epoch-ms"` is `BIGINT` milliseconds since the epoch (UTC), `"timestamptz"` is `TIMESTAMPTZ`.
   * An existing table keeps its type, so pass what it was created with.
   * @defaultValue `"epoch-ms"`
   */
  appliedAt?: "epoch-ms" | "timestamptz";
}

/** What a run did: the highest version before and after it (0 for a new database). */
export interface MigrationResult {
  /** The highest applied version before the run, 0 for a new database. */
  from: number;
  /** The highest applied version after the run. */
  to: number;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function checkIdentifier(what: string, name: string): void {
  if (!IDENTIFIER.test(name)) throw new Error(`invalid ${what} ${JSON.stringify(name)}: use lowercase letters, digits and _ (at most 63)`);
}

/**
 * Brings a SQLite database up to date in one `BEGIN IMMEDIATE` transaction, which takes the file's write
 * lock first: processes opening the same file at once apply the migrations one after the other, and the
 * later ones find nothing left to do. A failing migration rolls back every version of this run.
 * The bookkeeping table is `(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`, milliseconds.
 * @throws the driver's error when a migration fails (nothing of this run stays applied)
 */
export function migrateSqlite(db: SqliteDatabase, plan: MigrationPlan): MigrationResult {
  checkIdentifier("table name", plan.table);
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(`CREATE TABLE IF NOT EXISTS ${plan.table} (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`);
    const from = (db.prepare(`SELECT max(version) AS v FROM ${plan.table}`).get() as { v: number | null }).v ?? 0;
    const record = db.prepare(`INSERT INTO ${plan.table} (version, applied_at) VALUES (?, ?)`);
    for (let version = from + 1; version <= plan.migrations.length; version++) {
      db.exec(plan.migrations[version - 1] as string);
      record.run(version, Date.now());
    }
    db.exec("COMMIT");
    return { from, to: Math.max(from, plan.migrations.length) };
  } catch (err) {
    try {
      db.exec("ROLLBACK");
    } catch {
      // SQLite already rolled back (some errors end the transaction themselves): the first error is the one to report.
    }
    throw err;
  }
}

/**
 * Brings a PostgreSQL schema up to date in one transaction that first takes a transaction-level advisory
 * lock named by `lockName` and `schema`: nodes starting at once apply the migrations one after the other
 * (the `CREATE SCHEMA` included), and the later ones find nothing left to do. A failing migration rolls back
 * every version of this run.
 * @throws the driver's error when a migration fails (nothing of this run stays applied)
 */
export async function migratePostgres(pool: PostgresPool, plan: PostgresMigrationPlan): Promise<MigrationResult> {
  checkIdentifier("table name", plan.table);
  checkIdentifier("schema name", plan.schema);
  const stamp =
    (plan.appliedAt ?? "epoch-ms") === "epoch-ms"
      ? { type: "BIGINT", value: "(extract(epoch FROM clock_timestamp()) * 1000)::bigint" }
      : { type: "TIMESTAMPTZ", value: "now()" };
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1 || ':' || $2))", [plan.lockName, plan.schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${plan.schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${plan.table} (version INTEGER PRIMARY KEY, applied_at ${stamp.type} NOT NULL)`);
    const { rows } = await client.query(`SELECT max(version) AS v FROM ${plan.table}`);
    const from = (rows[0] as { v: number | null } | undefined)?.v ?? 0;
    for (let version = from + 1; version <= plan.migrations.length; version++) {
      await client.query(plan.migrations[version - 1] as string);
      await client.query(`INSERT INTO ${plan.table} (version, applied_at) VALUES ($1, ${stamp.value})`, [version]);
    }
    await client.query("COMMIT");
    return { from, to: Math.max(from, plan.migrations.length) };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

import { migratePostgres } from "@prismq/sql-migrations";
import pg from "pg";
import { configError, storageError } from "./errors.js";
import { parseIdea, parseIdeas, type IdeaInput, type NormalizedIdea } from "./model.js";
import { MIGRATIONS_TABLE, TABLE, migrationsOf, paramsOf, upsertSql, writeOrder, type Dialect, type RawRow } from "./sql.js";
import { SqlIdeaStore } from "./store.js";
import type { UpsertResult } from "./types.js";

/** The schema's versions, oldest first; append only. */
export const MIGRATIONS = migrationsOf({
  id: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
  json: "JSONB",
  instant: "TIMESTAMPTZ",
  real: "DOUBLE PRECISION",
});

/** BIGINT (ids, counts) as JS numbers: every value stays below 2^53. */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === pg.types.builtins.INT8) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** Instants are bound as ISO strings, so the session time zone never matters; pg already parses JSONB, and TIMESTAMPTZ arrives as a Date. */
const dialect: Dialect = {
  placeholder: (n) => `$${n}`,
  instant: (d) => d.toISOString(),
  casts: { json: "::jsonb", instant: "::timestamptz" },
  readJson: (v) => v,
  readInstant: (v) => (v as Date).toISOString(),
};
// The database's clock, in milliseconds so a stored time equals the ISO string it is shown as. An insert
// stamps both columns with one value (the statement's start); the conflict branch reads the clock after
// the row lock was obtained, so a writer that waited never stamps an update before the write it waited for.
const UPSERT_SQL = upsertSql(
  dialect,
  {
    insertedAt: "date_trunc('milliseconds', statement_timestamp())",
    updatedAt: `GREATEST(date_trunc('milliseconds', clock_timestamp()), ${TABLE}.updated_at)`,
  },
  ", (xmax = 0) AS created",
);

/** Options of {@link PostgresIdeaStore.open}. */
export interface PostgresIdeaStoreOptions {
  /** `postgres://user:password@host:port/database` */
  connectionString: string;
  /** Schema holding the tables; created when missing. Default `public`. */
  schema?: string;
  /** Pool size (connections). Default 10. */
  poolSize?: number;
}

type UpsertRow = RawRow & { created: boolean };

/**
 * PostgreSQL storage, for several processes or hosts sharing one database. Each upsert is one
 * `INSERT … ON CONFLICT DO UPDATE` statement, which PostgreSQL makes atomic against concurrent writers of
 * the same key; `xmax = 0` in its RETURNING tells a fresh insert from an update.
 */
export class PostgresIdeaStore extends SqlIdeaStore {
  readonly kind = "postgres" as const;
  readonly location: string;
  protected readonly dialect = dialect;
  private readonly pool: pg.Pool;
  private closed = false;

  private constructor(pool: pg.Pool, location: string) {
    super();
    this.pool = pool;
    this.location = location;
  }

  /** Connects, creates the schema when missing and applies pending migrations under an advisory lock. */
  static async open(options: PostgresIdeaStoreOptions): Promise<PostgresIdeaStore> {
    const schema = options.schema ?? "public";
    // The name reaches SQL as an identifier and the startup options, so only plain names are allowed.
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
      throw configError(`invalid schema name ${JSON.stringify(schema)}: use lowercase letters, digits and _ (at most 63)`);
    }
    const poolSize = options.poolSize ?? 10;
    if (!Number.isInteger(poolSize) || poolSize < 1) throw configError(`invalid poolSize ${poolSize}: must be a positive integer`);
    let url: URL;
    try {
      url = new URL(options.connectionString);
    } catch {
      throw configError("invalid PostgreSQL URL");
    }
    const location = `${url.hostname}${url.port ? `:${url.port}` : ""}${url.pathname} schema=${schema}`;
    let pool: pg.Pool;
    try {
      pool = new pg.Pool({
        connectionString: options.connectionString,
        max: poolSize,
        types,
        options: `-c search_path=${schema}`,
      });
    } catch (err) {
      throw configError(`invalid PostgreSQL URL: ${err instanceof Error ? err.message : String(err)}`);
    }
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on("error", () => {});
    const store = new PostgresIdeaStore(pool, location);
    try {
      await migratePostgres(pool, { table: MIGRATIONS_TABLE, migrations: MIGRATIONS, schema, lockName: "prismq-idea-store", appliedAt: "timestamptz" });
    } catch (err) {
      await pool.end().catch(() => {});
      throw storageError(err, `opening PostgreSQL database ${location}`);
    }
    return store;
  }

  protected async all(sql: string, args: unknown[]): Promise<unknown[]> {
    return (await this.pool.query(sql, args)).rows;
  }

  async upsert(input: IdeaInput): Promise<UpsertResult> {
    const params = paramsOf(parseIdea(input), dialect);
    const [row] = await this.rows<UpsertRow>("upsert", UPSERT_SQL, params);
    if (!row) throw storageError(new Error("upsert returned no row"), "upsert");
    const { created, ...rest } = row;
    return { id: row.id as number, created, idea: this.idea(rest) };
  }

  async upsertMany(inputs: IdeaInput[]): Promise<Array<{ id: number; created: boolean }>> {
    const ideas = parseIdeas(inputs);
    if (ideas.length === 0) return [];
    const results = new Array<{ id: number; created: boolean }>(ideas.length);
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw storageError(err, "upsertMany");
    }
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      for (const i of writeOrder(ideas)) {
        const { rows } = await client.query<UpsertRow>(UPSERT_SQL, paramsOf(ideas[i] as NormalizedIdea, dialect));
        const row = rows[0] as UpsertRow;
        results[i] = { id: row.id as number, created: row.created };
      }
      await client.query("COMMIT");
      return results;
    } catch (err) {
      await client.query("ROLLBACK").catch((e: unknown) => {
        // A connection that cannot even roll back is discarded rather than returned to the pool.
        broken = e instanceof Error ? e : new Error(String(e));
      });
      throw storageError(err, "upsertMany");
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

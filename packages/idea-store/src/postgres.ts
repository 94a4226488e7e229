import pg from "pg";
import { configError, storageError } from "./errors.js";
import {
  parseCountField,
  parseFilter,
  parseId,
  parseIdea,
  parseIdeas,
  parseKey,
  type IdeaCountField,
  type IdeaFilter,
  type IdeaInput,
  type IdeaInspiration,
  type NormalizedIdea,
} from "./model.js";
import {
  COLUMNS,
  GROUP_EXPRESSIONS,
  MIGRATIONS_TABLE,
  TABLE,
  UPDATE_SET,
  WRITE_COLUMNS,
  countOf,
  selectOf,
  toIdea,
  writeOrder,
  type Dialect,
  type RawRow,
} from "./sql.js";
import type { IdeaStore, UpsertResult } from "./types.js";

const MIGRATIONS: string[] = [
  `CREATE TABLE ${TABLE} (
     id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     title TEXT NOT NULL,
     description TEXT NOT NULL,
     content TEXT NOT NULL,
     keywords JSONB NOT NULL,
     source_type TEXT NOT NULL CHECK (source_type IN ('text', 'video', 'audio', 'unknown')),
     metadata JSONB NOT NULL,
     source_id TEXT NOT NULL,
     source_url TEXT,
     source_platform TEXT NOT NULL,
     source_created_by TEXT,
     source_created_at TIMESTAMPTZ,
     score DOUBLE PRECISION CHECK (score BETWEEN 0 AND 100),
     category TEXT,
     subcategory_relevance JSONB NOT NULL,
     contextual_category_scores JSONB NOT NULL,
     created_at TIMESTAMPTZ NOT NULL,
     updated_at TIMESTAMPTZ NOT NULL
   );
   CREATE UNIQUE INDEX ${TABLE}_source ON ${TABLE} (source_platform, source_id);
   CREATE INDEX ${TABLE}_platform_created ON ${TABLE} (source_platform, created_at);
   CREATE INDEX ${TABLE}_category ON ${TABLE} (category);
   CREATE INDEX ${TABLE}_score ON ${TABLE} (score);`,
];

/** BIGINT (ids, counts) as JS numbers: every value stays below 2^53. */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === pg.types.builtins.INT8) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** Instants are bound as ISO strings, so the session time zone never matters. */
const dialect: Dialect = { placeholder: (n) => `$${n}`, instant: (d) => d.toISOString() };
const CASTS: Partial<Record<(typeof WRITE_COLUMNS)[number], string>> = {
  keywords: "::jsonb",
  metadata: "::jsonb",
  subcategory_relevance: "::jsonb",
  contextual_category_scores: "::jsonb",
  source_created_at: "::timestamptz",
};
// The database's clock, in milliseconds so a stored time equals the ISO string it is shown as. An insert
// stamps both columns with one value (the statement's start); the conflict branch reads the clock after
// the row lock was obtained, so a writer that waited never stamps an update before the write it waited for.
const INSERTED_AT = "date_trunc('milliseconds', statement_timestamp())";
const UPDATED_AT = `GREATEST(date_trunc('milliseconds', clock_timestamp()), ${TABLE}.updated_at)`;
const UPSERT_SQL = `INSERT INTO ${TABLE} (${WRITE_COLUMNS.join(", ")}, created_at, updated_at)
  VALUES (${WRITE_COLUMNS.map((c, i) => `$${i + 1}${CASTS[c] ?? ""}`).join(", ")}, ${INSERTED_AT}, ${INSERTED_AT})
  ON CONFLICT (source_platform, source_id) DO UPDATE SET ${UPDATE_SET}, updated_at = ${UPDATED_AT}
  RETURNING ${COLUMNS}, (xmax = 0) AS created`;

// pg already parses JSONB; TIMESTAMPTZ arrives as a Date.
const idea = (row: RawRow): IdeaInspiration =>
  toIdea(
    row,
    (v) => v,
    (v) => (v as Date).toISOString(),
  );

function paramsOf(i: NormalizedIdea): unknown[] {
  return [
    i.title,
    i.description,
    i.content,
    JSON.stringify(i.keywords),
    i.sourceType,
    JSON.stringify(i.metadata),
    i.sourceId,
    i.sourceUrl,
    i.sourcePlatform,
    i.sourceCreatedBy,
    i.sourceCreatedAt === null ? null : i.sourceCreatedAt.toISOString(),
    i.score,
    i.category,
    JSON.stringify(i.subcategoryRelevance),
    JSON.stringify(i.contextualCategoryScores),
  ];
}

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
export class PostgresIdeaStore implements IdeaStore {
  readonly kind = "postgres" as const;
  readonly location: string;
  private readonly pool: pg.Pool;
  private closed = false;

  private constructor(pool: pg.Pool, location: string) {
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
      await store.migrate(schema);
    } catch (err) {
      await pool.end().catch(() => {});
      throw storageError(err, `opening PostgreSQL database ${location}`);
    }
    return store;
  }

  private async migrate(schema: string): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      // Serialises concurrent openers of the same schema, the CREATE SCHEMA included.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('prismq-idea-store:' || $1))", [schema]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${MIGRATIONS_TABLE}`);
      const current = rows[0]?.v ?? 0;
      for (let i = current; i < MIGRATIONS.length; i++) {
        await client.query(MIGRATIONS[i] as string);
        await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (version) VALUES ($1)`, [i + 1]);
      }
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  private async rows<T>(operation: string, sql: string, args: unknown[]): Promise<T[]> {
    try {
      return (await this.pool.query(sql, args)).rows as T[];
    } catch (err) {
      throw storageError(err, operation);
    }
  }

  async upsert(input: IdeaInput): Promise<UpsertResult> {
    const params = paramsOf(parseIdea(input));
    const [row] = await this.rows<UpsertRow>("upsert", UPSERT_SQL, params);
    if (!row) throw storageError(new Error("upsert returned no row"), "upsert");
    const { created, ...rest } = row;
    return { id: row.id, created, idea: idea(rest) };
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
        const { rows } = await client.query<UpsertRow>(UPSERT_SQL, paramsOf(ideas[i] as NormalizedIdea));
        const row = rows[0] as UpsertRow;
        results[i] = { id: row.id, created: row.created };
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

  async get(platform: string, sourceId: string): Promise<IdeaInspiration | null> {
    parseKey(platform, sourceId);
    const [row] = await this.rows<RawRow>(
      "get",
      `SELECT ${COLUMNS} FROM ${TABLE} WHERE source_platform = $1 AND source_id = $2`,
      [platform, sourceId],
    );
    return row ? idea(row) : null;
  }

  async getById(id: number): Promise<IdeaInspiration | null> {
    parseId(id);
    const [row] = await this.rows<RawRow>("getById", `SELECT ${COLUMNS} FROM ${TABLE} WHERE id = $1`, [id]);
    return row ? idea(row) : null;
  }

  async query(filter?: IdeaFilter): Promise<IdeaInspiration[]> {
    const { sql, args } = selectOf(parseFilter(filter), dialect);
    return (await this.rows<RawRow>("query", sql, args)).map(idea);
  }

  async count(filter?: IdeaFilter): Promise<number> {
    const { sql, args } = countOf(parseFilter(filter), dialect);
    const [row] = await this.rows<{ n: number }>("count", sql, args);
    return row?.n ?? 0;
  }

  async countBy(field: IdeaCountField): Promise<Record<string, number>> {
    const expr = GROUP_EXPRESSIONS[parseCountField(field)];
    const rows = await this.rows<{ k: string; n: number }>(
      "countBy",
      `SELECT ${expr} AS k, count(*) AS n FROM ${TABLE} GROUP BY 1 ORDER BY 1`,
      [],
    );
    // fromEntries defines own properties, so a key such as "__proto__" is kept as data.
    return Object.fromEntries(rows.map((r) => [r.k, r.n]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

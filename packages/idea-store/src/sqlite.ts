import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { migrateSqlite } from "@prismq/sql-migrations";
import Database from "better-sqlite3";
import { storageError } from "./errors.js";
import { parseIdea, parseIdeas, type IdeaInput, type NormalizedIdea } from "./model.js";
import { MIGRATIONS_TABLE, TABLE, migrationsOf, paramsOf, upsertSql, writeOrder, type Dialect, type RawRow } from "./sql.js";
import { SqlIdeaStore } from "./store.js";
import type { UpsertResult } from "./types.js";

/** The schema's versions, oldest first; append only. */
export const MIGRATIONS = migrationsOf({ id: "INTEGER PRIMARY KEY", json: "TEXT", instant: "INTEGER", real: "REAL" });

/** Timestamps are INTEGER milliseconds since the epoch, UTC; JSON is stored as text. */
const dialect: Dialect = {
  placeholder: () => "?",
  instant: (d) => d.getTime(),
  casts: {},
  readJson: (v) => JSON.parse(v as string) as unknown,
  readInstant: (v) => new Date(v as number).toISOString(),
};

// Both stamps of a new row are the transaction's clock (the two parameters after the idea's); an update never moves updated_at back.
const UPSERT_SQL = upsertSql(dialect, { insertedAt: "?", updatedAt: `max(excluded.updated_at, ${TABLE}.updated_at)` });

type Written = { id: number; created: boolean; row: RawRow };

/**
 * SQLite storage (better-sqlite3, WAL). Each write is one IMMEDIATE transaction, which takes the file's
 * write lock at BEGIN: the existence check and the upsert therefore see no other writer in between, even
 * from another process, and `busy_timeout` makes the others wait for the lock instead of failing.
 */
export class SqliteIdeaStore extends SqlIdeaStore {
  readonly kind = "sqlite" as const;
  readonly location: string;
  protected readonly dialect = dialect;
  private readonly db: Database.Database;
  /** Statements by text: the reads are built from whitelists, so there are few distinct texts. */
  private readonly prepared = new Map<string, Database.Statement>();
  private readonly upsertOne: Database.Transaction<(idea: NormalizedIdea) => Written>;
  private readonly upsertBatch: Database.Transaction<(ideas: NormalizedIdea[]) => Array<{ id: number; created: boolean }>>;

  private constructor(path: string) {
    super();
    this.location = path;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    // Set first, so that switching to WAL below already waits for a concurrent opener instead of failing.
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    try {
      migrateSqlite(this.db, { table: MIGRATIONS_TABLE, migrations: MIGRATIONS });
    } catch (err) {
      this.db.close();
      throw err;
    }
    const exists = this.db.prepare(`SELECT id FROM ${TABLE} WHERE source_platform = ? AND source_id = ?`);
    const upsert = this.db.prepare(UPSERT_SQL);
    const write = (idea: NormalizedIdea, now: number): Written => {
      const existed = exists.get(idea.sourcePlatform, idea.sourceId) !== undefined;
      const row = upsert.get(...paramsOf(idea, dialect), now, now) as RawRow;
      return { id: row.id as number, created: !existed, row };
    };
    // The clock is read inside the transaction, i.e. while holding the write lock: a writer that waited
    // for the lock must not stamp an update earlier than the write it waited for.
    this.upsertOne = this.db.transaction((idea: NormalizedIdea) => write(idea, Date.now()));
    this.upsertBatch = this.db.transaction((ideas: NormalizedIdea[]) => {
      const now = Date.now();
      return ideas.map((idea) => {
        const { id, created } = write(idea, now);
        return { id, created };
      });
    });
  }

  /** Opens (creating the file, its directory and the tables when missing) the database at `path`. */
  static open(path: string): SqliteIdeaStore {
    try {
      return new SqliteIdeaStore(path);
    } catch (err) {
      throw storageError(err, `opening SQLite database ${path}`);
    }
  }

  protected all(sql: string, args: unknown[]): unknown[] {
    let stmt = this.prepared.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.prepared.set(sql, stmt);
    }
    return stmt.all(...args);
  }

  private run<T>(operation: string, body: () => T): T {
    try {
      return body();
    } catch (err) {
      throw storageError(err, operation);
    }
  }

  async upsert(input: IdeaInput): Promise<UpsertResult> {
    const idea = parseIdea(input);
    const { id, created, row } = this.run("upsert", () => this.upsertOne.immediate(idea));
    return { id, created, idea: this.idea(row) };
  }

  async upsertMany(inputs: IdeaInput[]): Promise<Array<{ id: number; created: boolean }>> {
    const ideas = parseIdeas(inputs);
    if (ideas.length === 0) return [];
    const order = writeOrder(ideas);
    const written = this.run("upsertMany", () => this.upsertBatch.immediate(order.map((i) => ideas[i] as NormalizedIdea)));
    const results = new Array<{ id: number; created: boolean }>(ideas.length);
    order.forEach((inputIndex, k) => (results[inputIndex] = written[k] as { id: number; created: boolean }));
    return results;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

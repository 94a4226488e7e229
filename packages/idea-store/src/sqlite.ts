import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { storageError } from "./errors.js";
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
     id INTEGER PRIMARY KEY,
     title TEXT NOT NULL,
     description TEXT NOT NULL,
     content TEXT NOT NULL,
     keywords TEXT NOT NULL,
     source_type TEXT NOT NULL CHECK (source_type IN ('text', 'video', 'audio', 'unknown')),
     metadata TEXT NOT NULL,
     source_id TEXT NOT NULL,
     source_url TEXT,
     source_platform TEXT NOT NULL,
     source_created_by TEXT,
     source_created_at INTEGER,
     score REAL CHECK (score BETWEEN 0 AND 100),
     category TEXT,
     subcategory_relevance TEXT NOT NULL,
     contextual_category_scores TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE UNIQUE INDEX ${TABLE}_source ON ${TABLE} (source_platform, source_id);
   CREATE INDEX ${TABLE}_platform_created ON ${TABLE} (source_platform, created_at);
   CREATE INDEX ${TABLE}_category ON ${TABLE} (category);
   CREATE INDEX ${TABLE}_score ON ${TABLE} (score);`,
];

/** Timestamps are INTEGER milliseconds since the epoch, UTC. */
const dialect: Dialect = { placeholder: () => "?", instant: (d) => d.getTime() };
const parseJson = (v: unknown) => JSON.parse(v as string) as unknown;
const isoOf = (v: unknown) => new Date(v as number).toISOString();
const idea = (row: RawRow): IdeaInspiration => toIdea(row, parseJson, isoOf);

type Params = Record<(typeof WRITE_COLUMNS)[number], string | number | null>;

function paramsOf(i: NormalizedIdea): Params {
  return {
    title: i.title,
    description: i.description,
    content: i.content,
    keywords: JSON.stringify(i.keywords),
    source_type: i.sourceType,
    metadata: JSON.stringify(i.metadata),
    source_id: i.sourceId,
    source_url: i.sourceUrl,
    source_platform: i.sourcePlatform,
    source_created_by: i.sourceCreatedBy,
    source_created_at: i.sourceCreatedAt === null ? null : i.sourceCreatedAt.getTime(),
    score: i.score,
    category: i.category,
    subcategory_relevance: JSON.stringify(i.subcategoryRelevance),
    contextual_category_scores: JSON.stringify(i.contextualCategoryScores),
  };
}

/**
 * SQLite storage (better-sqlite3, WAL). Each write is one IMMEDIATE transaction, which takes the file's
 * write lock at BEGIN: the existence check and the upsert therefore see no other writer in between, even
 * from another process, and `busy_timeout` makes the others wait for the lock instead of failing.
 */
export class SqliteIdeaStore implements IdeaStore {
  readonly kind = "sqlite" as const;
  readonly location: string;
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly upsertOne: Database.Transaction<(p: Params) => { id: number; created: boolean; row: RawRow }>;
  private readonly upsertBatch: Database.Transaction<(ps: Params[]) => Array<{ id: number; created: boolean }>>;

  private constructor(path: string) {
    this.location = path;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    // Set first, so that switching to WAL below already waits for a concurrent opener instead of failing.
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.migrate();
    const db = this.db;
    const cols = WRITE_COLUMNS.join(", ");
    const values = WRITE_COLUMNS.map((c) => `@${c}`).join(", ");
    this.stmts = {
      exists: db.prepare(`SELECT id FROM ${TABLE} WHERE source_platform = ? AND source_id = ?`),
      upsert: db.prepare(
        `INSERT INTO ${TABLE} (${cols}, created_at, updated_at) VALUES (${values}, @now, @now)
         ON CONFLICT (source_platform, source_id) DO UPDATE SET ${UPDATE_SET},
           updated_at = max(excluded.updated_at, ${TABLE}.updated_at)
         RETURNING ${COLUMNS}`,
      ),
      byKey: db.prepare(`SELECT ${COLUMNS} FROM ${TABLE} WHERE source_platform = ? AND source_id = ?`),
      byId: db.prepare(`SELECT ${COLUMNS} FROM ${TABLE} WHERE id = ?`),
    };
    const write = (p: Params, now: number) => {
      const existed = this.stmts.exists.get(p.source_platform, p.source_id) !== undefined;
      const row = this.stmts.upsert.get({ ...p, now }) as RawRow;
      return { id: row.id, created: !existed, row };
    };
    // The clock is read inside the transaction, i.e. while holding the write lock: a writer that waited
    // for the lock must not stamp an update earlier than the write it waited for.
    this.upsertOne = db.transaction((p: Params) => write(p, Date.now()));
    this.upsertBatch = db.transaction((ps: Params[]) => {
      const now = Date.now();
      return ps.map((p) => {
        const { id, created } = write(p, now);
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

  private migrate(): void {
    const apply = this.db.transaction(() => {
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`);
      const row = this.db.prepare(`SELECT max(version) AS v FROM ${MIGRATIONS_TABLE}`).get() as { v: number | null };
      const current = row.v ?? 0;
      MIGRATIONS.forEach((sql, i) => {
        const version = i + 1;
        if (version <= current) return;
        this.db.exec(sql);
        this.db.prepare(`INSERT INTO ${MIGRATIONS_TABLE} (version, applied_at) VALUES (?, ?)`).run(version, Date.now());
      });
    });
    // IMMEDIATE: two processes opening a new file at once apply the migrations one after the other.
    try {
      apply.immediate();
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  private run<T>(operation: string, body: () => T): T {
    try {
      return body();
    } catch (err) {
      throw storageError(err, operation);
    }
  }

  async upsert(input: IdeaInput): Promise<UpsertResult> {
    const params = paramsOf(parseIdea(input));
    const { id, created, row } = this.run("upsert", () => this.upsertOne.immediate(params));
    return { id, created, idea: idea(row) };
  }

  async upsertMany(inputs: IdeaInput[]): Promise<Array<{ id: number; created: boolean }>> {
    const ideas = parseIdeas(inputs);
    if (ideas.length === 0) return [];
    const order = writeOrder(ideas);
    const written = this.run("upsertMany", () => this.upsertBatch.immediate(order.map((i) => paramsOf(ideas[i] as NormalizedIdea))));
    const results = new Array<{ id: number; created: boolean }>(ideas.length);
    order.forEach((inputIndex, k) => (results[inputIndex] = written[k] as { id: number; created: boolean }));
    return results;
  }

  async get(platform: string, sourceId: string): Promise<IdeaInspiration | null> {
    parseKey(platform, sourceId);
    const row = this.run("get", () => this.stmts.byKey.get(platform, sourceId) as RawRow | undefined);
    return row ? idea(row) : null;
  }

  async getById(id: number): Promise<IdeaInspiration | null> {
    parseId(id);
    const row = this.run("getById", () => this.stmts.byId.get(id) as RawRow | undefined);
    return row ? idea(row) : null;
  }

  async query(filter?: IdeaFilter): Promise<IdeaInspiration[]> {
    const { sql, args } = selectOf(parseFilter(filter), dialect);
    const rows = this.run("query", () => this.db.prepare(sql).all(...args) as RawRow[]);
    return rows.map(idea);
  }

  async count(filter?: IdeaFilter): Promise<number> {
    const { sql, args } = countOf(parseFilter(filter), dialect);
    return this.run("count", () => (this.db.prepare(sql).get(...args) as { n: number }).n);
  }

  async countBy(field: IdeaCountField): Promise<Record<string, number>> {
    const expr = GROUP_EXPRESSIONS[parseCountField(field)];
    const rows = this.run(
      "countBy",
      () => this.db.prepare(`SELECT ${expr} AS k, count(*) AS n FROM ${TABLE} GROUP BY 1 ORDER BY 1`).all() as Array<{ k: string; n: number }>,
    );
    // fromEntries defines own properties, so a key such as "__proto__" is kept as data.
    return Object.fromEntries(rows.map((r) => [r.k, r.n]));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

import type { IdeaCountField, IdeaInspiration, IdeaOrder, IdeaTimeField, NormalizedFilter, NormalizedIdea } from "./model.js";

/** The one data table. */
export const TABLE = "idea_inspirations";
/** Applied migration versions, one row each. */
export const MIGRATIONS_TABLE = "idea_store_migrations";

/**
 * How a column is stored: `plain` as it is, `json` as JSON text (SQLite) or JSONB (PostgreSQL), `instant`
 * as integer milliseconds (SQLite) or TIMESTAMPTZ (PostgreSQL).
 */
export type ColumnKind = "plain" | "json" | "instant";

/** One column of {@link IDEA_COLUMNS}. */
export interface Column {
  /** The SQL name. */
  name: string;
  kind: ColumnKind;
  /** Written by an upsert from the validated idea; the others (`id`, the two stamps) are the store's. */
  write: boolean;
  /** Part of the unique key (`source_platform`, `source_id`): written on insert, never changed by the conflict branch. */
  key?: true;
}

/**
 * The idea record, declared once: every field of {@link IdeaInspiration}, in order, with its column. The read
 * list, the write list, the conflict branch, the parameters of a write and the mapping of a row are all made
 * from it, for both backends, so a value cannot land in another field's column. The tables themselves are
 * created by the migrations, whose text never changes once applied; a test checks both agree.
 */
export const IDEA_COLUMNS = {
  id: { name: "id", kind: "plain", write: false },
  title: { name: "title", kind: "plain", write: true },
  description: { name: "description", kind: "plain", write: true },
  content: { name: "content", kind: "plain", write: true },
  keywords: { name: "keywords", kind: "json", write: true },
  sourceType: { name: "source_type", kind: "plain", write: true },
  metadata: { name: "metadata", kind: "json", write: true },
  sourceId: { name: "source_id", kind: "plain", write: true, key: true },
  sourceUrl: { name: "source_url", kind: "plain", write: true },
  sourcePlatform: { name: "source_platform", kind: "plain", write: true, key: true },
  sourceCreatedBy: { name: "source_created_by", kind: "plain", write: true },
  sourceCreatedAt: { name: "source_created_at", kind: "instant", write: true },
  score: { name: "score", kind: "plain", write: true },
  category: { name: "category", kind: "plain", write: true },
  subcategoryRelevance: { name: "subcategory_relevance", kind: "json", write: true },
  contextualCategoryScores: { name: "contextual_category_scores", kind: "json", write: true },
  createdAt: { name: "created_at", kind: "instant", write: false },
  updatedAt: { name: "updated_at", kind: "instant", write: false },
} as const satisfies { [K in keyof IdeaInspiration]: Column };

type Field = keyof typeof IDEA_COLUMNS;
type WriteField = { [K in Field]: (typeof IDEA_COLUMNS)[K]["write"] extends true ? K : never }[Field];
// Compile-time guards: the written columns are exactly the fields of a validated idea.
const _everyFieldWritten = (k: keyof NormalizedIdea): WriteField => k;
const _onlyFieldsWritten = (k: WriteField): keyof NormalizedIdea => k;

const ENTRIES = Object.entries(IDEA_COLUMNS) as Array<[Field, Column]>;
const WRITTEN = ENTRIES.filter(([, c]) => c.write) as Array<[WriteField, Column]>;

/** Column list of every read, aliased to the model's names; the same text works on both backends. */
export const COLUMNS = ENTRIES.map(([field, c]) => (c.name === field ? c.name : `${c.name} AS "${field}"`)).join(", ");

/** Data columns written by an upsert, in parameter order; each backend adds `created_at` and `updated_at`. */
export const WRITE_COLUMNS = WRITTEN.map(([, c]) => c.name);

/** `SET` list of the conflict branch for the data columns; `created_at` is never updated, `updated_at` is set by each backend. */
export const UPDATE_SET = WRITTEN.filter(([, c]) => !c.key)
  .map(([, c]) => `${c.name} = excluded.${c.name}`)
  .join(", ");

/** The fixed whitelists: user input only ever selects a key here, never text that reaches the SQL. */
const ORDER_COLUMNS: Record<IdeaOrder, string> = {
  score: "score",
  created: "created_at",
  updated: "updated_at",
  source_created: "source_created_at",
};
const TIME_COLUMNS: Record<IdeaTimeField, string> = {
  created: "created_at",
  updated: "updated_at",
  source_created: "source_created_at",
};
/** Grouping expression of each `countBy` field. */
export const GROUP_EXPRESSIONS: Record<IdeaCountField, string> = {
  platform: "source_platform",
  category: "COALESCE(category, 'uncategorized')",
};

/** How a backend writes placeholders, binds values and returns them. */
export interface Dialect {
  /** The placeholder of the parameter at this 1-based position. */
  placeholder(position: number): string;
  /** An instant as bound in a write or a filter. */
  instant(d: Date): unknown;
  /** What follows a written column's placeholder, by kind (PostgreSQL's casts). */
  casts: Partial<Record<ColumnKind, string>>;
  /** A `json` column as the driver returns it, to a value. */
  readJson(v: unknown): unknown;
  /** An `instant` column as the driver returns it, to an ISO 8601 string in UTC. */
  readInstant(v: unknown): string;
}

/** `WHERE …` (or empty) and its bound values for a filter. */
export function whereOf(f: NormalizedFilter, d: Dialect, args: unknown[]): string {
  const where: string[] = [];
  const bind = (v: unknown) => {
    args.push(v);
    return d.placeholder(args.length);
  };
  if (f.platform !== undefined) where.push(`source_platform = ${bind(f.platform)}`);
  if (f.category === null) where.push("category IS NULL");
  else if (f.category !== undefined) where.push(`category = ${bind(f.category)}`);
  if (f.minScore !== undefined) where.push(`score >= ${bind(f.minScore)}`);
  if (f.maxScore !== undefined) where.push(`score <= ${bind(f.maxScore)}`);
  const time = TIME_COLUMNS[f.timeField];
  if (f.since !== undefined) where.push(`${time} >= ${bind(d.instant(f.since))}`);
  if (f.until !== undefined) where.push(`${time} < ${bind(d.instant(f.until))}`);
  return where.length > 0 ? `WHERE ${where.join(" AND ")}` : "";
}

/** The full `SELECT` of `query`. */
export function selectOf(f: NormalizedFilter, d: Dialect): { sql: string; args: unknown[] } {
  const args: unknown[] = [];
  const where = whereOf(f, d, args);
  const order = ORDER_COLUMNS[f.orderBy];
  args.push(f.limit, f.offset);
  const sql = `SELECT ${COLUMNS} FROM ${TABLE} ${where}
    ORDER BY ${order} DESC NULLS LAST, id DESC LIMIT ${d.placeholder(args.length - 1)} OFFSET ${d.placeholder(args.length)}`;
  return { sql, args };
}

/** The full `SELECT count(*)` of `count`. */
export function countOf(f: NormalizedFilter, d: Dialect): { sql: string; args: unknown[] } {
  const args: unknown[] = [];
  const where = whereOf(f, d, args);
  return { sql: `SELECT count(*) AS n FROM ${TABLE} ${where}`, args };
}

/** A row as read with {@link COLUMNS}, before the backend-specific conversions. */
export type RawRow = Record<Field, unknown>;

/** Builds the public shape from a row read with {@link COLUMNS}. */
export function toIdea(row: RawRow, d: Dialect): IdeaInspiration {
  const idea: Record<string, unknown> = {};
  for (const [field, c] of ENTRIES) {
    const v = row[field];
    idea[field] = v === null || c.kind === "plain" ? v : c.kind === "json" ? d.readJson(v) : d.readInstant(v);
  }
  return idea as unknown as IdeaInspiration;
}

/** The parameters of a write, in {@link WRITE_COLUMNS} order. */
export function paramsOf(idea: NormalizedIdea, d: Dialect): unknown[] {
  return WRITTEN.map(([field, c]) => {
    const v = idea[field];
    if (v === null || c.kind === "plain") return v;
    return c.kind === "json" ? JSON.stringify(v) : d.instant(v as Date);
  });
}

/**
 * The upsert of one idea: its parameters are {@link paramsOf}, then whatever `stamps` binds. `insertedAt`
 * fills both stamps of a new row; `updatedAt` is the stamp of the conflict branch. Answers the row read
 * with {@link COLUMNS}, and `extra` (more RETURNING terms).
 */
export function upsertSql(d: Dialect, stamps: { insertedAt: string; updatedAt: string }, extra = ""): string {
  const values = WRITTEN.map(([, c], i) => `${d.placeholder(i + 1)}${d.casts[c.kind] ?? ""}`).join(", ");
  return `INSERT INTO ${TABLE} (${WRITE_COLUMNS.join(", ")}, created_at, updated_at)
  VALUES (${values}, ${stamps.insertedAt}, ${stamps.insertedAt})
  ON CONFLICT (source_platform, source_id) DO UPDATE SET ${UPDATE_SET}, updated_at = ${stamps.updatedAt}
  RETURNING ${COLUMNS}${extra}`;
}

/** The column types that differ between the backends in {@link migrationsOf}. */
export interface DialectTypes {
  /** An auto-assigned integer primary key. */
  id: string;
  json: string;
  instant: string;
  real: string;
}

/** The migrations of both backends, oldest first; append only, since an applied entry never runs again. */
export function migrationsOf(t: DialectTypes): string[] {
  return [
    `CREATE TABLE ${TABLE} (
     id ${t.id},
     title TEXT NOT NULL,
     description TEXT NOT NULL,
     content TEXT NOT NULL,
     keywords ${t.json} NOT NULL,
     source_type TEXT NOT NULL CHECK (source_type IN ('text', 'video', 'audio', 'unknown')),
     metadata ${t.json} NOT NULL,
     source_id TEXT NOT NULL,
     source_url TEXT,
     source_platform TEXT NOT NULL,
     source_created_by TEXT,
     source_created_at ${t.instant},
     score ${t.real} CHECK (score BETWEEN 0 AND 100),
     category TEXT,
     subcategory_relevance ${t.json} NOT NULL,
     contextual_category_scores ${t.json} NOT NULL,
     created_at ${t.instant} NOT NULL,
     updated_at ${t.instant} NOT NULL
   );
   CREATE UNIQUE INDEX ${TABLE}_source ON ${TABLE} (source_platform, source_id);
   CREATE INDEX ${TABLE}_platform_created ON ${TABLE} (source_platform, created_at);
   CREATE INDEX ${TABLE}_category ON ${TABLE} (category);
   CREATE INDEX ${TABLE}_score ON ${TABLE} (score);`,
  ];
}

/**
 * Write order of a batch: sorted by key (stable, so a repeated key keeps its input order and the later one
 * wins). Two concurrent batches then lock rows in the same order and cannot deadlock each other.
 */
export function writeOrder(ideas: NormalizedIdea[]): number[] {
  const key = (i: number) => {
    const idea = ideas[i] as NormalizedIdea;
    return [idea.sourcePlatform, idea.sourceId] as const;
  };
  return ideas
    .map((_, i) => i)
    .sort((a, b) => {
      const [pa, sa] = key(a);
      const [pb, sb] = key(b);
      if (pa !== pb) return pa < pb ? -1 : 1;
      if (sa !== sb) return sa < sb ? -1 : 1;
      return a - b;
    });
}

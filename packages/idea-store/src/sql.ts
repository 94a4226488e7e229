import type { IdeaCountField, IdeaInspiration, IdeaOrder, IdeaTimeField, JsonValue, NormalizedFilter, NormalizedIdea, SourceType } from "./model.js";

/** The one data table. */
export const TABLE = "idea_inspirations";
/** Applied migration versions, one row each. */
export const MIGRATIONS_TABLE = "idea_store_migrations";

/** Column list of every read, aliased to the model's names; the same text works on both backends. */
export const COLUMNS = `id, title, description, content, keywords, source_type AS "sourceType", metadata,
  source_id AS "sourceId", source_url AS "sourceUrl", source_platform AS "sourcePlatform",
  source_created_by AS "sourceCreatedBy", source_created_at AS "sourceCreatedAt", score, category,
  subcategory_relevance AS "subcategoryRelevance", contextual_category_scores AS "contextualCategoryScores",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/** Data columns written by an upsert, in parameter order; each backend adds `created_at` and `updated_at`. */
export const WRITE_COLUMNS = [
  "title",
  "description",
  "content",
  "keywords",
  "source_type",
  "metadata",
  "source_id",
  "source_url",
  "source_platform",
  "source_created_by",
  "source_created_at",
  "score",
  "category",
  "subcategory_relevance",
  "contextual_category_scores",
] as const;

/** `SET` list of the conflict branch for the data columns; `created_at` is never updated, `updated_at` is set by each backend. */
export const UPDATE_SET = WRITE_COLUMNS.filter((c) => c !== "source_platform" && c !== "source_id")
  .map((c) => `${c} = excluded.${c}`)
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

/** How a backend writes placeholders and binds instants. */
export interface Dialect {
  placeholder(position: number): string;
  instant(d: Date): unknown;
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
export interface RawRow {
  id: number;
  title: string;
  description: string;
  content: string;
  keywords: unknown;
  sourceType: SourceType;
  metadata: unknown;
  sourceId: string;
  sourceUrl: string | null;
  sourcePlatform: string;
  sourceCreatedBy: string | null;
  sourceCreatedAt: unknown;
  score: number | null;
  category: string | null;
  subcategoryRelevance: unknown;
  contextualCategoryScores: unknown;
  createdAt: unknown;
  updatedAt: unknown;
}

/** Builds the public shape from a row, given how this backend returns JSON and timestamps. */
export function toIdea(row: RawRow, json: (v: unknown) => unknown, time: (v: unknown) => string): IdeaInspiration {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    content: row.content,
    keywords: json(row.keywords) as string[],
    sourceType: row.sourceType,
    metadata: json(row.metadata) as Record<string, JsonValue>,
    sourceId: row.sourceId,
    sourceUrl: row.sourceUrl,
    sourcePlatform: row.sourcePlatform,
    sourceCreatedBy: row.sourceCreatedBy,
    sourceCreatedAt: row.sourceCreatedAt === null ? null : time(row.sourceCreatedAt),
    score: row.score,
    category: row.category,
    subcategoryRelevance: json(row.subcategoryRelevance) as Record<string, number>,
    contextualCategoryScores: json(row.contextualCategoryScores) as Record<string, number>,
    createdAt: time(row.createdAt),
    updatedAt: time(row.updatedAt),
  };
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

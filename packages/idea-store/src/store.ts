import { storageError } from "./errors.js";
import {
  parseCountField,
  parseFilter,
  parseId,
  parseKey,
  type IdeaCountField,
  type IdeaFilter,
  type IdeaInput,
  type IdeaInspiration,
} from "./model.js";
import { COLUMNS, GROUP_EXPRESSIONS, TABLE, countOf, selectOf, toIdea, type Dialect, type RawRow } from "./sql.js";
import type { IdeaStore, UpsertResult } from "./types.js";

/**
 * The reads of both backends, written once: each backend gives its {@link Dialect} and how it runs a query;
 * the writes, whose locking differs, are its own.
 */
export abstract class SqlIdeaStore implements IdeaStore {
  abstract readonly kind: "sqlite" | "postgres";
  abstract readonly location: string;
  protected abstract readonly dialect: Dialect;

  /** Runs one statement and answers its rows; driver errors are wrapped by the caller. */
  protected abstract all(sql: string, args: unknown[]): Promise<unknown[]> | unknown[];

  abstract upsert(idea: IdeaInput): Promise<UpsertResult>;
  abstract upsertMany(ideas: IdeaInput[]): Promise<Array<{ id: number; created: boolean }>>;
  abstract close(): Promise<void>;

  protected async rows<T>(operation: string, sql: string, args: unknown[]): Promise<T[]> {
    try {
      return (await this.all(sql, args)) as T[];
    } catch (err) {
      throw storageError(err, operation);
    }
  }

  protected idea(row: RawRow): IdeaInspiration {
    return toIdea(row, this.dialect);
  }

  async get(platform: string, sourceId: string): Promise<IdeaInspiration | null> {
    parseKey(platform, sourceId);
    const p = (n: number) => this.dialect.placeholder(n);
    const [row] = await this.rows<RawRow>(
      "get",
      `SELECT ${COLUMNS} FROM ${TABLE} WHERE source_platform = ${p(1)} AND source_id = ${p(2)}`,
      [platform, sourceId],
    );
    return row ? this.idea(row) : null;
  }

  async getById(id: number): Promise<IdeaInspiration | null> {
    parseId(id);
    const [row] = await this.rows<RawRow>("getById", `SELECT ${COLUMNS} FROM ${TABLE} WHERE id = ${this.dialect.placeholder(1)}`, [id]);
    return row ? this.idea(row) : null;
  }

  async query(filter?: IdeaFilter): Promise<IdeaInspiration[]> {
    const { sql, args } = selectOf(parseFilter(filter), this.dialect);
    return (await this.rows<RawRow>("query", sql, args)).map((r) => this.idea(r));
  }

  async count(filter?: IdeaFilter): Promise<number> {
    const { sql, args } = countOf(parseFilter(filter), this.dialect);
    const [row] = await this.rows<{ n: number }>("count", sql, args);
    return row?.n ?? 0;
  }

  async countBy(field: IdeaCountField): Promise<Record<string, number>> {
    const expr = GROUP_EXPRESSIONS[parseCountField(field)];
    const rows = await this.rows<{ k: string; n: number }>("countBy", `SELECT ${expr} AS k, count(*) AS n FROM ${TABLE} GROUP BY 1 ORDER BY 1`, []);
    // fromEntries defines own properties, so a key such as "__proto__" is kept as data.
    return Object.fromEntries(rows.map((r) => [r.k, r.n]));
  }
}

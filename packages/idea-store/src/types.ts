import type { IdeaCountField, IdeaFilter, IdeaInput, IdeaInspiration } from "./model.js";

/** What {@link IdeaStore.upsert} answers. */
export interface UpsertResult {
  /** The stored idea's id (the same on every later upsert of the same source item). */
  id: number;
  /** `true` when this call inserted the row, `false` when it updated an existing one. */
  created: boolean;
  /** The idea as stored after this write. */
  idea: IdeaInspiration;
}

/**
 * Storage of ideas, keyed by (`sourcePlatform`, `sourceId`). Both backends (SQLite, PostgreSQL) behave the same.
 * Every method throws {@link IdeaStoreError}: `IDEA_ERR_INVALID` for bad arguments (nothing written),
 * `IDEA_ERR_STORAGE` when the database fails.
 */
export interface IdeaStore {
  /** Which backend this store uses. */
  readonly kind: "sqlite" | "postgres";
  /** Where the data lives, for logs: the SQLite file path, or `host:port/database schema=…` (never credentials). */
  readonly location: string;

  /**
   * Inserts the idea, or, when one with the same (`sourcePlatform`, `sourceId`) exists, overwrites every field
   * of it except `createdAt` and sets `updatedAt` to now. Atomic, and safe with concurrent writers.
   */
  upsert(idea: IdeaInput): Promise<UpsertResult>;

  /**
   * Upserts every idea in one transaction: all are validated first, and one bad idea means nothing is written
   * (the error names `ideas[i].field`). Answers one `{ id, created }` per input, in input order; when the same
   * source item appears twice, the later one wins. An empty array writes nothing.
   */
  upsertMany(ideas: IdeaInput[]): Promise<Array<{ id: number; created: boolean }>>;

  /** The idea for one source item, or `null`. */
  get(platform: string, sourceId: string): Promise<IdeaInspiration | null>;

  /** The idea with this store id, or `null`. */
  getById(id: number): Promise<IdeaInspiration | null>;

  /** Ideas matching `filter` (default: everything), newest first unless `orderBy` says otherwise; at most `limit` (default 100). */
  query(filter?: IdeaFilter): Promise<IdeaInspiration[]>;

  /** How many ideas match `filter` (default: all); `limit`, `offset` and `orderBy` are ignored. */
  count(filter?: IdeaFilter): Promise<number>;

  /** Number of ideas per platform or per category; ideas without a category count as `"uncategorized"`. */
  countBy(field: IdeaCountField): Promise<Record<string, number>>;

  /** Releases the database (closes the file or ends the pool). Safe to call more than once. */
  close(): Promise<void>;
}

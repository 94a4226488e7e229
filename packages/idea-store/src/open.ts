import { join, resolve } from "node:path";
import { IdeaStoreError, configError } from "./errors.js";
import type { IdeaStore } from "./types.js";

/**
 * Where {@link openIdeaStore} keeps the ideas. The library never reads the environment: an app maps
 * `IDEA_DATABASE_URL` to `url` (and its data directory to `dataDir`) itself.
 */
export interface OpenIdeaStoreOptions {
  /**
   * Database location:
   * - `postgres://…` or `postgresql://…`: PostgreSQL;
   * - `sqlite:<path>` (also `sqlite:///abs/path`) or a plain file path: SQLite at that path (`:memory:` for a private in-memory database);
   * - absent or empty: SQLite at `<dataDir>/ideas.sqlite`.
   *
   * Any other scheme throws `IDEA_ERR_CONFIG`.
   * @defaultValue none (SQLite at `<dataDir>/ideas.sqlite`)
   */
  url?: string;
  /**
   * Directory of the default SQLite file `ideas.sqlite`, created when missing, relative to the working directory. Unused when `url` is set.
   * @defaultValue `"./data"`
   */
  dataDir?: string;
  /**
   * PostgreSQL schema holding the tables, created when missing and selected via `search_path`. Ignored for SQLite.
   * @defaultValue `"public"`
   */
  schema?: string;
  /**
   * PostgreSQL pool size, in connections. Ignored for SQLite.
   * @defaultValue 10
   */
  poolSize?: number;
}

/** The backend and location chosen from the options, before anything is opened. */
export type ResolvedStorage = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

/** Default file name inside `dataDir`. */
export const DEFAULT_SQLITE_FILE = "ideas.sqlite";

const POSTGRES = /^postgres(?:ql)?:\/\//i;
const SQLITE = /^sqlite:/i;
// Two letters at least, so a Windows drive ("C:\…") still counts as a plain path.
const ANY_SCHEME = /^[a-z][a-z0-9+.-]+:/i;

/**
 * Decides backend and location from the options without touching any file or server.
 * @throws IdeaStoreError `IDEA_ERR_CONFIG` for an unsupported scheme or an empty `sqlite:` path
 */
export function resolveStorage(options: OpenIdeaStoreOptions = {}): ResolvedStorage {
  const { url, dataDir } = options;
  if (url !== undefined && typeof url !== "string") throw configError("url must be a string");
  if (dataDir !== undefined && typeof dataDir !== "string") throw configError("dataDir must be a string");
  if (url === undefined || url.trim() === "") {
    return { kind: "sqlite", path: resolve(join(dataDir ?? "./data", DEFAULT_SQLITE_FILE)) };
  }
  if (POSTGRES.test(url)) return { kind: "postgres", url };
  if (SQLITE.test(url)) {
    const rest = url.replace(SQLITE, "").replace(/^\/\//, "");
    if (rest === "") throw configError("sqlite: URL without a file path");
    return { kind: "sqlite", path: sqlitePath(rest) };
  }
  if (ANY_SCHEME.test(url)) {
    // Only the scheme is echoed: the rest of a URL may hold a password.
    const scheme = url.slice(0, url.indexOf(":"));
    throw configError(`unsupported database URL scheme "${scheme}:" (use postgres://, postgresql://, sqlite: or a file path)`);
  }
  return { kind: "sqlite", path: sqlitePath(url) };
}

const sqlitePath = (p: string) => (p === ":memory:" ? p : resolve(p));

/**
 * Loads a store's module only when that store is opened: the drivers are optional peers, so a service
 * that only uses the model and the classifier (the discovery apps, through their platform package)
 * ships without them. A service that opens a store depends on its driver itself.
 */
async function withDriver<M>(driver: "better-sqlite3" | "pg", load: () => Promise<M>): Promise<M> {
  try {
    return await load();
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    if (e.code === "ERR_MODULE_NOT_FOUND" && String(e.message).includes(`'${driver}'`)) {
      throw new IdeaStoreError("IDEA_ERR_CONFIG", `the ${driver} driver is not installed: a service that opens this idea store lists ${driver} in its own dependencies`, { cause: err });
    }
    throw err;
  }
}

/**
 * Opens the idea store and brings its tables up to date. Migrations are recorded in `idea_store_migrations`
 * and applied under a lock (SQLite: an IMMEDIATE transaction; PostgreSQL: `pg_advisory_xact_lock`), so
 * opening twice, or from several processes at once, is safe.
 *
 * @example
 * const store = await openIdeaStore({ url: process.env.IDEA_DATABASE_URL, dataDir: "./data" });
 * @throws IdeaStoreError `IDEA_ERR_CONFIG` for unusable options or a driver that is not installed, `IDEA_ERR_STORAGE` when the database cannot be opened
 */
export async function openIdeaStore(options: OpenIdeaStoreOptions = {}): Promise<IdeaStore> {
  const storage = resolveStorage(options);
  if (storage.kind === "sqlite") {
    const { SqliteIdeaStore } = await withDriver("better-sqlite3", () => import("./sqlite.js"));
    return SqliteIdeaStore.open(storage.path);
  }
  const { PostgresIdeaStore } = await withDriver("pg", () => import("./postgres.js"));
  return PostgresIdeaStore.open({
    connectionString: storage.url,
    ...(options.schema !== undefined ? { schema: options.schema } : {}),
    ...(options.poolSize !== undefined ? { poolSize: options.poolSize } : {}),
  });
}

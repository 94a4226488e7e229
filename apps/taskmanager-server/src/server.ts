import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { pino, type Logger } from "pino";
import { buildApp, type AppOptions, type IdeaCountSource } from "./app.js";
import { PostgresStore } from "./store/postgres.js";
import { SqliteStore } from "./store/sqlite.js";
import type { Store } from "./store/types.js";

export { buildApp, MAX_JSON_DEPTH, MAX_JSON_FIELD_BYTES, STATS_FAILURES, STATS_MINUTES, STATS_TASKS_PER_WORKER, STATS_WORKERS } from "./app.js";
export type { AppOptions, IdeaCountSource } from "./app.js";
export { dashboardCsp, dashboardHtml } from "./dashboard.js";
export { loadConfig, ConfigError } from "./config.js";
export type { ServerConfig } from "./config.js";
export { openApiDocument } from "./openapi.js";
export { MAX_PARAM_ARRAY_ITEMS, SCHEMA_LIMITS, SchemaCache, VALIDATOR_CACHE_SIZE } from "./schemas.js";
export { METRICS_PATH, ServerMetrics } from "./metrics.js";
export { SqliteStore } from "./store/sqlite.js";
export { PostgresStore } from "./store/postgres.js";
export type { Store } from "./store/types.js";

/** Where the tasks live: a SQLite file (or `:memory:`), or a PostgreSQL database and schema. */
export type StorageOptions =
  | { kind: "sqlite"; path: string }
  | { kind: "postgres"; url: string; schema?: string; poolSize?: number; batchWindowMs?: number; batchMax?: number };

/** Opens the store and applies its migrations. */
export async function openStore(storage: StorageOptions): Promise<Store> {
  if (storage.kind === "sqlite") return new SqliteStore(storage.path);
  const { url, schema, poolSize, batchWindowMs, batchMax } = storage;
  return PostgresStore.open({ connectionString: url, schema, poolSize, batchWindowMs, batchMax });
}

/** An idea store as the server reads it: counts for `GET /api/stats`, closed with the server. */
export interface ServedIdeaStore extends IdeaCountSource {
  close(): Promise<void>;
}

export interface StartOptions extends Omit<AppOptions, "store" | "logger" | "ideas"> {
  storage: StorageOptions;
  /**
   * An idea store, opened by the caller (the composition root), read for its
   * counts by `GET /api/stats`; the server owns it from here and closes it in
   * `close()`, also when the start fails. Default none: `ideas` is `null`.
   */
  ideas?: ServedIdeaStore | null;
  /** Default: a silent logger. */
  logger?: Logger;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
}

/** A running server: its base URL (ending in `/api`), its store, and `close()`. */
export interface RunningServer {
  url: string;
  port: number;
  app: FastifyInstance;
  store: Store;
  /** The idea store given as `ideas`, or `null`. */
  ideas: ServedIdeaStore | null;
  close(): Promise<void>;
}

/**
 * Opens the task store, builds the app and listens.
 * `close()` stops accepting connections, waits for requests in flight, then closes the task store and the idea store given.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const ideas = options.ideas ?? null;
  let store: Store;
  try {
    store = await openStore(options.storage);
  } catch (err) {
    await ideas?.close();
    throw err;
  }
  const logger = options.logger ?? pino({ level: "silent" });
  const app = buildApp({ ...options, store, logger, ideas });
  try {
    await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
  } catch (err) {
    await store.close();
    await ideas?.close();
    throw err;
  }
  const { port, address } = app.server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}/api`,
    port,
    app,
    store,
    ideas,
    close() {
      closing ??= app.close().then(async () => {
        try {
          await store.close();
        } finally {
          await ideas?.close();
        }
      });
      return closing;
    },
  };
}

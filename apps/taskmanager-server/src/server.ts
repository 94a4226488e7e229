import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { pino, type Logger } from "pino";
import { buildApp, type AppOptions } from "./app.js";
import { PostgresStore } from "./store/postgres.js";
import { SqliteStore } from "./store/sqlite.js";
import type { Store } from "./store/types.js";

export { buildApp, MAX_JSON_DEPTH, MAX_JSON_FIELD_BYTES } from "./app.js";
export type { AppOptions } from "./app.js";
export { loadConfig, ConfigError } from "./config.js";
export type { ServerConfig } from "./config.js";
export { dedupeKey, paramsJson } from "./dedupe.js";
export { openApiDocument } from "./openapi.js";
export { SqliteStore } from "./store/sqlite.js";
export { PostgresStore } from "./store/postgres.js";
export type { Store } from "./store/types.js";

/** Where the tasks live: a SQLite file (or `:memory:`), or a PostgreSQL database and schema. */
export type StorageOptions =
  | { kind: "sqlite"; path: string }
  | { kind: "postgres"; url: string; schema?: string; poolSize?: number };

/** Opens the store and applies its migrations. */
export async function openStore(storage: StorageOptions): Promise<Store> {
  if (storage.kind === "sqlite") return new SqliteStore(storage.path);
  return PostgresStore.open({ connectionString: storage.url, schema: storage.schema, poolSize: storage.poolSize });
}

export interface StartOptions extends Omit<AppOptions, "store" | "logger"> {
  storage: StorageOptions;
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
  close(): Promise<void>;
}

/**
 * Opens the store, builds the app and listens. `close()` stops accepting
 * connections, waits for requests in flight, then closes the store.
 */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const store = await openStore(options.storage);
  const logger = options.logger ?? pino({ level: "silent" });
  const app = buildApp({ ...options, store, logger });
  try {
    await app.listen({ host: options.host ?? "127.0.0.1", port: options.port ?? 0 });
  } catch (err) {
    await store.close();
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
    close() {
      closing ??= app.close().then(() => store.close());
      return closing;
    },
  };
}

import { helpText } from "@prismq/env-help";
import { z } from "zod";

/** Validated server configuration. Every field documents its unit and default. */
export interface ServerConfig {
  /** TCP port to listen on. Default 8080; 0 picks a free port. */
  port: number;
  /** Interface to bind. Default `127.0.0.1`; use `0.0.0.0` to serve other machines. */
  host: string;
  /**
   * Keys with every right (header `X-API-Key`), the operator scope (env `API_KEYS`). When this and
   * the three scoped lists are all empty, one key is generated and kept in `apiKeyFile`.
   */
  apiKeys: string[];
  /** Keys that may only read: every GET (env `READ_API_KEYS`). Default none. */
  readApiKeys: string[];
  /**
   * Keys for workers: reads, create, claim, progress, complete, and register of a new type or of a
   * new version of one (env `WORKER_API_KEYS`). Default none.
   */
  workerApiKeys: string[];
  /**
   * Keys with every right, like `API_KEYS`: worker calls, requeue, fail, and a changed schema at
   * the same version (env `OPERATOR_API_KEYS`). Default none.
   */
  operatorApiKeys: string[];
  /** Where a generated key is kept between restarts (SQLite default only). Default `<dataDir>/api-key`. */
  apiKeyFile: string;
  /** `postgres://…` selects PostgreSQL; otherwise SQLite at `sqlitePath`. */
  databaseUrl: string | undefined;
  /** PostgreSQL schema that holds the tables. Default `public`. */
  databaseSchema: string;
  /** PostgreSQL pool size. Default 16. */
  databasePoolSize: number;
  /**
   * PostgreSQL group commit: how long the first claim, create, progress or complete of a batch waits
   * for others to share its statement, in ms (env `DATABASE_BATCH_WINDOW_MS`). 0 gathers those that
   * arrive in one turn of the event loop, adding no wait. Default 1: at 32 workers it served
   * 1.26x the cycles of 0 (a batch gathers more callers), at 8 workers 1.09x; 2 was slower at 8.
   */
  databaseBatchWindowMs: number;
  /** Most calls one PostgreSQL batched statement serves; 1 turns group commit off (env `DATABASE_BATCH_MAX`). Default 100. */
  databaseBatchMax: number;
  /** SQLite file, or `:memory:`. Default `./data/taskmanager.sqlite`. */
  sqlitePath: string;
  /** Seconds after which a claimed task may be claimed again. Default 300. */
  claimTimeoutSeconds: number;
  /** Claims a task may have before a failure is final. Default 3. */
  maxAttempts: number;
  /** Largest accepted request body, in bytes. Default 1 MiB. */
  bodyLimitBytes: number;
  /**
   * Idea store whose counts `GET /api/stats` reports: `postgres://…` or `sqlite:<path>`
   * (env `IDEA_DATABASE_URL`). Default none: the stats say `ideas: null`.
   */
  ideaDatabaseUrl: string | undefined;
  /**
   * Most time a client may take to send a whole request (headers and body), in ms; then it gets
   * 408 and its connection is closed (env `REQUEST_TIMEOUT_MS`). Default 30000.
   */
  requestTimeoutMs: number;
  /**
   * Most time a client may take to send a request's headers, counted from the connection or from
   * the previous answer, in ms (env `HEADERS_TIMEOUT_MS`). At most `requestTimeoutMs`. Default 10000.
   */
  headersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open after an answer, in ms (env `KEEP_ALIVE_TIMEOUT_MS`). Default 10000. */
  keepAliveTimeoutMs: number;
  /** Most open client connections; further ones are closed at once (env `MAX_CONNECTIONS`). Default 1000. */
  maxConnections: number;
  /**
   * Refused POSTs (400 or 413) one key may have per second, a refused body counting one more per
   * 16 KiB the server read; past that its POSTs get 429 with `Retry-After` before their body is
   * read, until the budget refills (env `REFUSED_PER_SECOND`). 0 turns this off. Default 10.
   */
  refusedPerSecond: number;
  /** Refused POSTs one key may have at once before `refusedPerSecond` applies (env `REFUSED_BURST`). Default 20. */
  refusedBurst: number;
  /** pino level. Default `info`. */
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Human-readable logs (pino-pretty) instead of JSON. Default false. */
  logPretty: boolean;
}

const intFrom = (name: string, def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return def;
      if (!/^\d+$/.test(v)) {
        ctx.addIssue({ code: "custom", message: `${name} must be a whole number, got "${v}"` });
        return z.NEVER;
      }
      const n = Number(v);
      if (n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `${name} must be between ${min} and ${max}, got ${n}` });
        return z.NEVER;
      }
      return n;
    });

/** Shortest and longest accepted key, in characters. */
const KEY_MIN = 16;
const KEY_MAX = 1024;
/** Printable ASCII without space: the bytes an `X-API-Key` header carries unchanged. */
const PRINTABLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * A comma-separated key list. Messages name the variable and the key's position, never the key:
 * a key outside printable ASCII could never match (header bytes arrive as latin1), so it stops the start.
 */
const keyList = (name: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v ?? "").split(",").map((k) => k.trim()).filter((k) => k.length > 0))
    .superRefine((keys, ctx) => {
      if (keys.some((k) => k.length < KEY_MIN)) {
        ctx.addIssue({ code: "custom", message: `every key in ${name} must be at least ${KEY_MIN} characters` });
      }
      if (keys.some((k) => k.length > KEY_MAX)) {
        ctx.addIssue({ code: "custom", message: `every key in ${name} must be at most ${KEY_MAX} characters` });
      }
      const bad = keys.flatMap((k, i) => (PRINTABLE_ASCII.test(k) ? [] : [i + 1]));
      if (bad.length > 0) {
        ctx.addIssue({
          code: "custom",
          message:
            `key ${bad.join(", ")} of ${keys.length} in ${name} holds a character outside printable ASCII ` +
            "(0x21-0x7E, no spaces); an X-API-Key header cannot carry it",
        });
      }
    });

const envSchema = z.object({
  PORT: intFrom("PORT", 8080, 0, 65535).describe("TCP port of the API, the dashboard and /metrics; 0 picks a free one."),
  HOST: z.string().min(1).default("127.0.0.1").describe("Interface to bind; 0.0.0.0 serves other machines."),
  API_KEYS: keyList("API_KEYS").describe(
    "Keys with every right (X-API-Key), comma-separated, 16-1024 printable ASCII characters each. All four key variables unset: one is generated and kept in API_KEY_FILE.",
  ),
  READ_API_KEYS: keyList("READ_API_KEYS").describe("Keys that may only read (every GET: dashboards, the CLI's read commands), comma-separated."),
  WORKER_API_KEYS: keyList("WORKER_API_KEYS").describe(
    "Keys for workers: create, claim, progress, complete, reads, and register of a new type or a new version of one; comma-separated.",
  ),
  OPERATOR_API_KEYS: keyList("OPERATOR_API_KEYS").describe(
    "Keys with every right, as API_KEYS: requeue, fail, and changing an existing type's schema at the same version; comma-separated.",
  ),
  API_KEY_FILE: z.string().min(1).optional().describe("Where a generated key is kept between restarts. Default <DATA_DIR>/api-key."),
  DATA_DIR: z.string().min(1).default("./data").describe("Directory of the default SQLite file and the generated key (created 0700)."),
  DATABASE_URL: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || v === "" || /^postgres(ql)?:\/\//.test(v) || v.startsWith("sqlite:"),
      "DATABASE_URL must start with postgres://, postgresql:// or sqlite:",
    )
    .describe("postgres://... for PostgreSQL (several server nodes), or sqlite:<path>. Unset: SQLite at SQLITE_PATH."),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, "DATABASE_SCHEMA must be a lower-case SQL identifier")
    .default("public")
    .describe("PostgreSQL schema that holds the tables."),
  DATABASE_POOL_SIZE: intFrom("DATABASE_POOL_SIZE", 16, 1, 200).describe("PostgreSQL connections per server process."),
  DATABASE_BATCH_WINDOW_MS: intFrom("DATABASE_BATCH_WINDOW_MS", 1, 0, 1000).describe(
    "PostgreSQL group commit: ms the first claim, create, progress or complete of a batch waits for others to share its statement; 0: those arriving in one event-loop turn, no added wait.",
  ),
  DATABASE_BATCH_MAX: intFrom("DATABASE_BATCH_MAX", 100, 1, 1000).describe("Most calls one PostgreSQL batched statement serves; 1 turns group commit off."),
  SQLITE_PATH: z.string().min(1).optional().describe("SQLite file, or :memory:. Default <DATA_DIR>/taskmanager.sqlite."),
  CLAIM_TIMEOUT_SECONDS: intFrom("CLAIM_TIMEOUT_SECONDS", 300, 1, 86_400 * 7).describe("Seconds after which a claimed task may be claimed by another worker."),
  MAX_ATTEMPTS: intFrom("MAX_ATTEMPTS", 3, 1, 1000).describe("Claims a task may have before a failure is final."),
  BODY_LIMIT_BYTES: intFrom("BODY_LIMIT_BYTES", 1024 * 1024, 1024, 64 * 1024 * 1024).describe("Largest accepted request body, in bytes."),
  IDEA_DATABASE_URL: z
    .string()
    .optional()
    .refine(
      (v) => v === undefined || v === "" || /^postgres(ql)?:\/\//.test(v) || /^sqlite:.+/.test(v),
      "IDEA_DATABASE_URL must start with postgres://, postgresql:// or sqlite: followed by a path",
    )
    .describe("Idea store whose counts GET /api/stats and the dashboard show (postgres://... or sqlite:<path>). Unset: no idea counts."),
  REQUEST_TIMEOUT_MS: intFrom("REQUEST_TIMEOUT_MS", 30_000, 100, 3_600_000).describe("Most time a client may take to send a whole request, in ms; then 408 and the connection is closed."),
  HEADERS_TIMEOUT_MS: intFrom("HEADERS_TIMEOUT_MS", 10_000, 100, 3_600_000).describe("Most time a client may take to send a request's headers, in ms; at most REQUEST_TIMEOUT_MS."),
  KEEP_ALIVE_TIMEOUT_MS: intFrom("KEEP_ALIVE_TIMEOUT_MS", 10_000, 100, 3_600_000).describe("How long an idle keep-alive connection stays open, in ms."),
  MAX_CONNECTIONS: intFrom("MAX_CONNECTIONS", 1000, 1, 1_000_000).describe("Most open client connections; further ones are closed at once."),
  REFUSED_PER_SECOND: intFrom("REFUSED_PER_SECOND", 10, 0, 1_000_000).describe("Refused POSTs (400/413) one key may have per second, a refused body counting one more per 16 KiB read; then its POSTs get 429 with Retry-After, unread. 0: off."),
  REFUSED_BURST: intFrom("REFUSED_BURST", 20, 1, 1_000_000).describe("Refused POSTs one key may have at once before REFUSED_PER_SECOND applies."),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info").describe("pino level: fatal, error, warn, info, debug, trace or silent."),
  LOG_PRETTY: z
    .enum(["true", "false", "1", "0", "yes", "no"], { message: "LOG_PRETTY must be true or false" })
    .optional()
    .transform((v) => v === "true" || v === "1" || v === "yes")
    .describe("true: human-readable colored logs (pino-pretty) for a local terminal instead of JSON lines."),
});

/** The variables, by name: `--help` and the README's table are generated from them. */
export const envShape = envSchema.shape;

/** What the server does, first line of `--help`. */
export const SUMMARY = "the self-hosted TaskManager API (wire-compatible with the hosted one) on SQLite or PostgreSQL, with its dashboard, docs and Prometheus /metrics.";

/** The `--help` text: every variable with its default and meaning. */
export function helpOutput(): string {
  return helpText(envShape, {
    service: "taskmanager-server",
    summary: SUMMARY,
    footer:
      "Endpoints: /api/... (X-API-Key), /api/health, /api/docs and /api/dashboard (open), /metrics (Prometheus, any valid key in X-API-Key).\n" +
      "Exit codes: 0 stopped cleanly, 1 could not start or stop in time, 2 bad configuration.",
  });
}

/** Thrown by {@link loadConfig}; `problems` names every bad variable. */
export class ConfigError extends Error {
  readonly code = "TM_ERR_CONFIG";
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** Parses the environment once; throws {@link ConfigError} naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): ServerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const e = parsed.data;
  if (e.HEADERS_TIMEOUT_MS > e.REQUEST_TIMEOUT_MS) {
    throw new ConfigError([
      `HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS (${e.REQUEST_TIMEOUT_MS}), got ${e.HEADERS_TIMEOUT_MS}`,
    ]);
  }
  const url = e.DATABASE_URL === "" ? undefined : e.DATABASE_URL;
  const sqliteFromUrl = url?.startsWith("sqlite:") ? url.slice("sqlite:".length) : undefined;
  return {
    port: e.PORT,
    host: e.HOST,
    apiKeys: e.API_KEYS,
    readApiKeys: e.READ_API_KEYS,
    workerApiKeys: e.WORKER_API_KEYS,
    operatorApiKeys: e.OPERATOR_API_KEYS,
    apiKeyFile: e.API_KEY_FILE ?? `${e.DATA_DIR}/api-key`,
    databaseUrl: sqliteFromUrl === undefined ? url : undefined,
    databaseSchema: e.DATABASE_SCHEMA,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databaseBatchWindowMs: e.DATABASE_BATCH_WINDOW_MS,
    databaseBatchMax: e.DATABASE_BATCH_MAX,
    sqlitePath: e.SQLITE_PATH ?? sqliteFromUrl ?? `${e.DATA_DIR}/taskmanager.sqlite`,
    claimTimeoutSeconds: e.CLAIM_TIMEOUT_SECONDS,
    maxAttempts: e.MAX_ATTEMPTS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    ideaDatabaseUrl: e.IDEA_DATABASE_URL === "" ? undefined : e.IDEA_DATABASE_URL,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: e.MAX_CONNECTIONS,
    refusedPerSecond: e.REFUSED_PER_SECOND,
    refusedBurst: e.REFUSED_BURST,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY,
  };
}

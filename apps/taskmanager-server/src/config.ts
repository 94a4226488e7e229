import { helpText } from "@prismq/env-help";
import { z } from "zod";

/** Validated server configuration. Every field documents its unit and default. */
export interface ServerConfig {
  /** TCP port to listen on. Default 8080; 0 picks a free port. */
  port: number;
  /** Interface to bind. Default `127.0.0.1`; use `0.0.0.0` to serve other machines. */
  host: string;
  /** Accepted API keys (header `X-API-Key`). Empty means "generate one and keep it in `apiKeyFile`". */
  apiKeys: string[];
  /** Where a generated key is kept between restarts (SQLite default only). Default `<dataDir>/api-key`. */
  apiKeyFile: string;
  /** `postgres://…` selects PostgreSQL; otherwise SQLite at `sqlitePath`. */
  databaseUrl: string | undefined;
  /** PostgreSQL schema that holds the tables. Default `public`. */
  databaseSchema: string;
  /** PostgreSQL pool size. Default 16. */
  databasePoolSize: number;
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

const envSchema = z.object({
  PORT: intFrom("PORT", 8080, 0, 65535).describe("TCP port of the API, the dashboard and /metrics; 0 picks a free one."),
  HOST: z.string().min(1).default("127.0.0.1").describe("Interface to bind; 0.0.0.0 serves other machines."),
  API_KEYS: z
    .string()
    .optional()
    .transform((v) => (v ?? "").split(",").map((k) => k.trim()).filter((k) => k.length > 0))
    .refine((keys) => keys.every((k) => k.length >= 16), "every key in API_KEYS must be at least 16 characters")
    .describe("Accepted API keys (X-API-Key), comma-separated, 16 characters at least. Unset: one is generated and kept in API_KEY_FILE."),
  API_KEY_FILE: z.string().min(1).optional().describe("Where a generated key is kept between restarts. Default <DATA_DIR>/api-key."),
  DATA_DIR: z.string().min(1).default("./data").describe("Directory of the default SQLite file and the generated key."),
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
  const url = e.DATABASE_URL === "" ? undefined : e.DATABASE_URL;
  const sqliteFromUrl = url?.startsWith("sqlite:") ? url.slice("sqlite:".length) : undefined;
  return {
    port: e.PORT,
    host: e.HOST,
    apiKeys: e.API_KEYS,
    apiKeyFile: e.API_KEY_FILE ?? `${e.DATA_DIR}/api-key`,
    databaseUrl: sqliteFromUrl === undefined ? url : undefined,
    databaseSchema: e.DATABASE_SCHEMA,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    sqlitePath: e.SQLITE_PATH ?? sqliteFromUrl ?? `${e.DATA_DIR}/taskmanager.sqlite`,
    claimTimeoutSeconds: e.CLAIM_TIMEOUT_SECONDS,
    maxAttempts: e.MAX_ATTEMPTS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    ideaDatabaseUrl: e.IDEA_DATABASE_URL === "" ? undefined : e.IDEA_DATABASE_URL,
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY,
  };
}

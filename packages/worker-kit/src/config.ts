import { z } from "zod";
import { ConfigError } from "./errors.js";

/** An environment: `process.env` in an app, a plain object in tests. */
export type Env = Record<string, string | undefined>;

/**
 * Parses an app's environment with its zod shape, once, at start. Empty
 * strings count as unset (as `.env` files write them). On failure it throws
 * one {@link ConfigError} whose message names every bad variable.
 *
 * @example
 * const config = parseConfig("youtube-discovery", { ...commonEnv, YOUTUBE_SOURCES: z.string().optional() }, process.env);
 */
export function parseConfig<S extends z.ZodRawShape>(service: string, shape: S, env: Env): z.infer<z.ZodObject<S>> {
  const present: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    if (value !== undefined && value !== "") present[key] = value;
  }
  const parsed = z.object(shape).safeParse(present);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = issue.path.map(String).join(".") || "(environment)";
    const given = present[String(issue.path[0])];
    if (given === undefined) return `${name}: ${issue.code === "invalid_type" ? "is required" : issue.message}`;
    return `${name}: ${issue.message} (got "${clip(name, given)}")`;
  });
  throw new ConfigError(`${service}: invalid configuration:\n  - ${problems.join("\n  - ")}`, problems);
}

// Values of secret-looking variables are never echoed back.
const clip = (name: string, value: string): string => {
  if (/KEY|TOKEN|SECRET|PASSWORD/i.test(name)) return "[redacted]";
  const masked = value.replace(/^([^\s/]*\/\/)[^/?#@\s]*@/, "$1***@"); // credentials inside a URL
  return masked.length > 80 ? `${masked.slice(0, 77)}...` : masked;
};

/** Field builders for environment variables, all taking the raw string. */
export const env = {
  /** A whole number in [min, max]; `fallback` when unset. */
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z
      .string()
      .regex(/^-?\d+$/, "must be a whole number")
      .transform(Number)
      .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .default(fallback),
  /** A TCP port; 0 picks a free one. */
  port: (fallback: number) => env.int(fallback, 0, 65_535),
  /** `true/false/1/0/yes/no`. */
  bool: (fallback: boolean) =>
    z
      .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
      .transform((v) => v === "true" || v === "1" || v === "yes")
      .default(fallback),
  /** An http(s) URL. */
  httpUrl: () => z.url({ protocol: /^https?$/, message: "must be an http:// or https:// URL" }),
  /** A redis:// or rediss:// URL. */
  redisUrl: () => z.url({ protocol: /^rediss?$/, message: "must be a redis:// or rediss:// URL" }),
  /** A pino level. */
  logLevel: () => z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /**
   * A non-empty string that `check` accepts: what a library would refuse at
   * start (it throws) is refused by the config check, its message naming why.
   */
  checked: (check: (value: string) => unknown) =>
    z
      .string()
      .min(1)
      .superRefine((v, ctx) => {
        try {
          check(v);
        } catch (err) {
          ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : String(err) });
        }
      }),
  /** A comma-separated list of non-empty strings. */
  list: () =>
    z
      .string()
      .transform((v) => v.split(",").map((s) => s.trim()).filter(Boolean)),
};

/**
 * The variables every worker app shares. Spread it into the app's own shape.
 * Each field's `.describe()` text is its line in `--help` and in the README.
 */
export const commonEnv = {
  TASKMANAGER_API_URL: env
    .httpUrl()
    .refine((v) => /\/api\/?$/.test(v), "must end in /api")
    .describe("TaskManager API base URL, ending in /api: ours (the taskmanager-server app) or the hosted one."),
  TASKMANAGER_API_KEY: z.string().min(1).describe("TaskManager API key, sent as X-API-Key. A wrong key stops the app at start (exit 1)."),
  REDIS_URL: env.redisUrl().optional().describe("redis:// or rediss:// URL. Set: hybrid mode (BullMQ schedules, outbox, shared budgets). Unset: direct mode."),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 letters, digits, _ . -")
    .default("prismq")
    .describe("Redis key prefix of queues, budgets and state (hybrid mode). Replicas of one deployment share it."),
  LOG_LEVEL: env.logLevel().describe("pino level: fatal, error, warn, info, debug, trace or silent."),
  LOG_PRETTY: env.bool(false).describe("true: human-readable colored logs (pino-pretty) for a local terminal instead of JSON lines."),
  HEALTH_HOST: z.string().min(1).default("127.0.0.1").describe("Interface of the health and metrics server (/healthz, /readyz, /metrics). 0.0.0.0 to be scraped from other machines."),
  HEALTH_PORT: env.port(0).describe("Port of the health and metrics server; 0 picks a free one (logged as health)."),
  SHUTDOWN_TIMEOUT_MS: env.int(15_000, 100, 600_000).describe("Deadline of a graceful stop, ms: in-flight work is finished or handed back within it."),
  TASKMANAGER_CLAIM_TIMEOUT_SECONDS: env
    .int(300, 3, 86_400 * 7)
    .describe(
      "The TaskManager's claim timeout, seconds (ours: its CLAIM_TIMEOUT_SECONDS; hosted: 300). Every task in hand reports progress every third of it: our server renews the claim; on both, a task found taken by another worker is aborted, not settled.",
    ),
  STARTUP_TIMEOUT_SECONDS: env
    .int(60, 0, 86_400)
    .describe("How long start-up waits for the TaskManager, Redis and the idea store (with backoff) before it exits 1; 0 tries once."),
};

import type { ConnectionOptions } from "bullmq";
import type { Redis, RedisOptions } from "ioredis";
import { ioredis } from "./lazy.js";
import type { Logger } from "pino";

/**
 * ioredis options from a `redis://[user:password@]host:port[/db]` or
 * `rediss://` URL. `maxRetriesPerRequest: null` is what BullMQ workers need:
 * while Redis is away, commands wait for the reconnect instead of failing.
 */
export function redisOptions(url: string): RedisOptions {
  const u = new URL(url);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: Number.isInteger(db) ? db : 0,
    tls: u.protocol === "rediss:" ? {} : undefined,
    maxRetriesPerRequest: null,
  };
}

/** BullMQ connection options (options, not a connection: BullMQ opens and closes its own from them). */
export function bullmqConnection(url: string): ConnectionOptions {
  // ioredis and BullMQ type the same options differently; the values are ioredis's own.
  return redisOptions(url) as ConnectionOptions;
}

/** A new connection; the caller closes it with `quit()`. */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  return new (ioredis().Redis)({ ...redisOptions(url), ...options });
}

/** The URL without its password, for logs. */
export function safeRedisUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

/** True when a PING answers within `timeoutMs` (default 1,000). Never throws. */
export async function redisReachable(url: string, timeoutMs = 1_000): Promise<boolean> {
  return redisPing(url, timeoutMs).then(
    () => true,
    () => false,
  );
}

/** Resolves when a PING on a fresh connection answers within `timeoutMs` (default 1,000); rejects with why not. */
export async function redisPing(url: string, timeoutMs = 1_000): Promise<void> {
  const probe = new (ioredis().Redis)({
    ...redisOptions(url),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    const answer = await probe.ping();
    if (answer !== "PONG") throw new Error(`PING answered ${answer}`);
  } finally {
    probe.disconnect();
  }
}

// What a connection to Redis failing looks like (as opposed to a command Redis refused).
const CONNECTION_ERROR = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|EPIPE|Connection is closed|connect|socket|MaxRetriesPerRequest/i;

/**
 * Logs a Redis outage once: the first connection error of an outage is one
 * warn line, the errors of every reconnect attempt after it (from any
 * connection that shares this instance: the runtime's, the outbox's and the
 * schedules' BullMQ connections) are not logged, and `back()` (the runtime's
 * connection is ready again) logs one info line and ends the outage. An
 * error that is not a connection error is always logged.
 */
export class RedisOutage {
  private since: number | undefined;
  private errors = 0;

  constructor(private readonly logger?: Logger) {}

  /** True between the first connection error and `back()`. */
  get down(): boolean {
    return this.since !== undefined;
  }

  /** An error event of any Redis connection; `source` names the connection in the log line. */
  error(err: Error, source = "redis"): void {
    if (!CONNECTION_ERROR.test(`${(err as { code?: string }).code ?? ""} ${err.message}`)) {
      this.logger?.warn({ err, source }, `${source}: redis error`);
      return;
    }
    this.errors++;
    if (this.since !== undefined) return;
    this.since = Date.now();
    this.logger?.warn({ err, source }, "redis unreachable: reconnecting with backoff (logged once per outage; /readyz says not ready until it is back)");
  }

  /** The connection is ready again: one line with the outage's length, when there was one. */
  back(): void {
    if (this.since === undefined) return;
    this.logger?.info({ downMs: Date.now() - this.since, errors: this.errors }, "redis reachable again");
    this.since = undefined;
    this.errors = 0;
  }
}

import type { ConnectionOptions } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";

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
  return new Redis({ ...redisOptions(url), ...options });
}

/** The URL without its password, for logs. */
export function safeRedisUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "***";
  return u.toString();
}

/** True when a PING answers within `timeoutMs` (default 1,000). Never throws. */
export async function redisReachable(url: string, timeoutMs = 1_000): Promise<boolean> {
  const probe = new Redis({
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
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

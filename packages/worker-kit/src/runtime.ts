import type { ConnectionOptions } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { TaskManagerClient } from "@prismq/taskmanager-client";
import { LocalBudget, RedisBudget, type Budget, type BudgetOptions } from "./budget.js";
import type { WorkerMetrics } from "./metrics.js";
import { DirectOutbox, QueuedOutbox, type Outbox, type QueuedOutboxOptions } from "./outbox.js";
import { RedisOutage, bullmqConnection, connectRedis, safeRedisUrl } from "./redis.js";
import { FileState, RedisState, type AppState } from "./state.js";
import { Schedules, type ScheduleHandler, type ScheduleSpec } from "./schedules.js";

export interface RuntimeOptions {
  /** The app's name: names its schedule queue. */
  service: string;
  client: TaskManagerClient;
  logger: Logger;
  metrics?: WorkerMetrics;
  /** Set: hybrid mode with BullMQ on this Redis. Unset: direct mode. */
  redisUrl?: string;
  /** Redis key prefix of queues and budgets. Default `prismq`. */
  prefix?: string;
  /** Outbox tuning (hybrid mode). */
  outbox?: Partial<Omit<QueuedOutboxOptions, "connection" | "prefix">>;
}

/**
 * The mode-dependent parts of an app, chosen once at start: with `redisUrl`,
 * hybrid mode (BullMQ schedules, a queued outbox, budgets shared in Redis);
 * without it, direct mode (timers, direct calls, per-process budgets). The
 * choice is logged once.
 */
export class Runtime {
  readonly mode: "hybrid" | "direct";
  readonly outbox: Outbox;
  /** The runtime's own Redis connection (hybrid mode), for budgets and app state such as seen-sets. */
  readonly redis: Redis | undefined;
  readonly prefix: string;
  /** Redis outages, logged once each (hybrid mode); every Redis connection of the runtime reports to it. */
  readonly outage: RedisOutage | undefined;
  private readonly connection: ConnectionOptions | undefined;
  private readonly schedules: Schedules[] = [];

  constructor(private readonly options: RuntimeOptions) {
    this.prefix = options.prefix ?? "prismq";
    const deps = { client: options.client, logger: options.logger, metrics: options.metrics };
    if (options.redisUrl) {
      this.mode = "hybrid";
      this.connection = bullmqConnection(options.redisUrl);
      this.redis = connectRedis(options.redisUrl);
      const outage = (this.outage = new RedisOutage(options.logger));
      this.redis.on("error", (err) => outage.error(err));
      this.redis.on("ready", () => outage.back());
      this.outbox = new QueuedOutbox(deps, { outage, ...options.outbox, connection: this.connection, prefix: this.prefix });
      options.logger.info({ redis: safeRedisUrl(options.redisUrl), prefix: this.prefix }, "hybrid mode: BullMQ schedules, outbox and shared budgets in Redis");
    } else {
      this.mode = "direct";
      this.outage = undefined;
      this.outbox = new DirectOutbox(deps);
      options.logger.info("direct mode: REDIS_URL is not set, so schedules are local timers, creates and completes go straight to the TaskManager, budgets are per process");
    }
  }

  /** A budget: shared through Redis in hybrid mode, this process's own in direct mode. */
  budget(options: Omit<BudgetOptions, "metrics">): Budget {
    const full = { ...options, metrics: this.options.metrics };
    return this.redis ? new RedisBudget(this.redis, this.prefix, full) : new LocalBudget(full);
  }

  /** The app's remembered state: in Redis (hybrid mode) or in files under `dataDir` (direct mode). */
  state(dataDir: string): AppState {
    // One per runtime: two FileStates of one app in one process would overwrite each other's cursors.
    this.appState ??= this.redis ? new RedisState(this.redis, this.prefix, this.options.service) : new FileState(dataDir, this.options.service);
    return this.appState;
  }
  private appState: AppState | undefined;

  /** Schedules for `specs`, started; closed with the runtime. */
  async startSchedules(specs: ScheduleSpec[], handler: ScheduleHandler): Promise<Schedules> {
    const schedules = new Schedules(specs, {
      name: this.options.service,
      handler,
      logger: this.options.logger,
      metrics: this.options.metrics,
      bullmq: this.connection ? { connection: this.connection, prefix: this.prefix, outage: this.outage } : undefined,
    });
    await schedules.start();
    this.schedules.push(schedules);
    return schedules;
  }

  /** True when Redis answers a PING within `timeoutMs` (hybrid mode); always true in direct mode. Never throws. */
  async redisReady(timeoutMs = 1_000): Promise<boolean> {
    const redis = this.redis;
    if (!redis) return true;
    // Commands wait for a reconnect while Redis is away (BullMQ needs that), so ask the state first.
    if (redis.status !== "ready") return false;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([redis.ping().then((a) => a === "PONG"), late]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes schedules (intake) first, then the outbox, then Redis. Queued messages stay in Redis. */
  async close(): Promise<void> {
    for (const s of this.schedules) await s.close();
    await this.outbox.close();
    await this.redis?.quit().catch(() => this.redis?.disconnect());
  }
}

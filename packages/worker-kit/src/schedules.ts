import type { ConnectionOptions, Job, Queue, Worker } from "bullmq";
import { bullmq as loadBullmq, cronParser } from "./lazy.js";
import type { Logger } from "pino";
import type { WorkerMetrics } from "./metrics.js";
import { RedisOutage } from "./redis.js";

/** One periodic job: every `everyMs`, or on a cron `pattern` (5 or 6 fields) in `timeZone`. */
export interface ScheduleSpec {
  /** Unique within the app, e.g. `channel:@sandbox`; 1-128 of letters, digits and `_.:@-`. */
  id: string;
  /** Interval in ms (>= 100). Give this or `pattern`. */
  everyMs?: number;
  /** Cron pattern. Give this or `everyMs`. */
  pattern?: string;
  /** Zone of `pattern`. Default UTC. */
  timeZone?: string;
}

/** One firing of a schedule. */
export interface ScheduleTick {
  /** When the tick started, in ms since the epoch. */
  firedAt: number;
  /** Unique per tick of a schedule (the BullMQ job id in hybrid mode). */
  tickId: string;
}

/** Called once per tick of a schedule; with several replicas in hybrid mode, on one of them. */
export type ScheduleHandler = (id: string, tick: ScheduleTick) => Promise<void>;

export interface SchedulesOptions {
  /** Names the queue; replicas of one app must use the same name. */
  name: string;
  handler: ScheduleHandler;
  logger?: Logger;
  metrics?: WorkerMetrics;
  /** Hybrid mode: BullMQ connection and prefix. Without it, timers in this process (direct mode). */
  bullmq?: { connection: ConnectionOptions; prefix: string; outage?: RedisOutage };
}

const ID = /^[A-Za-z0-9_.:@-]{1,128}$/;

/** Checks a spec and returns it; throws a RangeError naming what is wrong. */
export function checkSchedule(spec: ScheduleSpec): ScheduleSpec {
  if (!ID.test(spec.id)) throw new RangeError(`schedule id must be 1-128 of letters, digits and _.:@-: "${spec.id}"`);
  if ((spec.everyMs === undefined) === (spec.pattern === undefined)) throw new RangeError(`schedule ${spec.id}: give exactly one of everyMs or pattern`);
  if (spec.everyMs !== undefined && !(Number.isInteger(spec.everyMs) && spec.everyMs >= 100)) {
    throw new RangeError(`schedule ${spec.id}: everyMs must be a whole number >= 100, got ${spec.everyMs}`);
  }
  if (spec.timeZone !== undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: spec.timeZone });
    } catch {
      throw new RangeError(`schedule ${spec.id}: unknown time zone "${spec.timeZone}"`);
    }
  }
  if (spec.pattern !== undefined) {
    try {
      cronParser().CronExpressionParser.parse(spec.pattern, { tz: spec.timeZone ?? "UTC" });
    } catch (err) {
      throw new RangeError(`schedule ${spec.id}: bad cron pattern "${spec.pattern}": ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  return spec;
}

/**
 * The periodic discovery runs of an app. In hybrid mode each spec is a BullMQ
 * job scheduler: all replicas share it, so each tick runs once across them, and
 * schedules removed from the config are removed from Redis at `start`. In direct
 * mode each spec is a timer in this process. Ticks of one schedule never overlap
 * in direct mode; a tick that fails is logged and counted, and the next tick comes
 * as planned.
 */
export class Schedules {
  private readonly specs: ScheduleSpec[];
  private readonly options: SchedulesOptions;
  private queue: Queue | undefined;
  private worker: Worker | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(specs: ScheduleSpec[], options: SchedulesOptions) {
    const seen = new Set<string>();
    for (const spec of specs) {
      checkSchedule(spec);
      if (seen.has(spec.id)) throw new RangeError(`schedule id used twice: "${spec.id}"`);
      seen.add(spec.id);
    }
    this.specs = specs;
    this.options = options;
  }

  /** Starts firing. The first tick of an `everyMs` schedule comes at once. */
  async start(): Promise<void> {
    const { bullmq } = this.options;
    if (!bullmq) {
      for (const spec of this.specs) this.arm(spec, true);
      return;
    }
    const queueName = `schedules-${this.options.name}`;
    const { Queue, Worker } = loadBullmq();
    this.queue = new Queue(queueName, { connection: bullmq.connection, prefix: bullmq.prefix });
    const outage = bullmq.outage ?? new RedisOutage(this.options.logger);
    this.queue.on("error", (err) => outage.error(err, "schedules queue"));
    const wanted = new Set(this.specs.map((s) => s.id));
    for (const old of await this.queue.getJobSchedulers()) {
      if (old.key && !wanted.has(old.key)) await this.queue.removeJobScheduler(old.key);
    }
    for (const spec of this.specs) {
      const repeat = spec.everyMs !== undefined ? { every: spec.everyMs } : { pattern: spec.pattern as string, tz: spec.timeZone ?? "UTC" };
      await this.queue.upsertJobScheduler(spec.id, repeat, {
        name: spec.id,
        opts: { attempts: 1, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
      });
    }
    this.worker = new Worker(queueName, (job: Job) => this.tick(job.name, { firedAt: job.processedOn ?? Date.now(), tickId: String(job.id) }), {
      connection: bullmq.connection,
      prefix: bullmq.prefix,
      concurrency: Math.max(1, this.specs.length),
    });
    this.worker.on("error", (err) => outage.error(err, "schedules worker"));
  }

  private arm(spec: ScheduleSpec, first: boolean): void {
    if (this.closed) return;
    let delay: number;
    if (spec.everyMs !== undefined) delay = first ? 0 : spec.everyMs;
    else delay = cronParser().CronExpressionParser.parse(spec.pattern as string, { tz: spec.timeZone ?? "UTC" }).next().getTime() - Date.now();
    const timer = setTimeout(() => {
      const firedAt = Date.now();
      const run = this.tick(spec.id, { firedAt, tickId: `${spec.id}:${firedAt}` }).finally(() => {
        this.running.delete(run);
        this.arm(spec, false);
      });
      this.running.add(run);
    }, Math.max(0, delay));
    this.timers.set(spec.id, timer);
  }

  private async tick(id: string, tick: ScheduleTick): Promise<void> {
    const started = Date.now();
    try {
      await this.options.handler(id, tick);
      this.options.metrics?.scheduleRuns.inc({ schedule: id, outcome: "ok" });
      this.options.logger?.debug({ schedule: id, ms: Date.now() - started }, "schedule tick done");
    } catch (err) {
      this.options.metrics?.scheduleRuns.inc({ schedule: id, outcome: "error" });
      this.options.logger?.error({ err, schedule: id }, "schedule tick failed");
    }
  }

  /** Stops firing and waits for ticks in flight. Schedulers stay in Redis for the other replicas. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.worker?.close();
    await this.queue?.close();
    await Promise.all(this.running);
  }
}

import { createHash } from "node:crypto";
import type { ConnectionOptions, Job, Queue, Worker } from "bullmq";
import { bullmq } from "./lazy.js";
import type { Logger } from "pino";
import {
  ConflictError,
  NotFoundError,
  ValidationError,
  backoffMs,
  canonicalize,
  dedupeKey,
  type CreatedTask,
  type SettleItem,
  type SettleItemResult,
  type SettleResult,
  type TaskManagerClient,
} from "@prismq/taskmanager-client";
import type { WorkerMetrics } from "./metrics.js";
import { RedisOutage } from "./redis.js";

/** What the outbox carries to the TaskManager. */
export type OutboxMessage =
  | { kind: "create"; type: string; params: Record<string, unknown>; priority?: number }
  | { kind: "complete"; taskId: number; workerId: string; taskType: string; result: Record<string, unknown> }
  | { kind: "fail"; taskId: number; workerId: string; taskType: string; error: string; retryable: boolean };

/** The claimed task a settle is for. `attempts` (from the claim) tells one claim of the task from the next. */
export interface SettledTask {
  id: number;
  type: string;
  attempts?: number;
}

/**
 * How a settle ended: the server's answer (direct mode), `queued` (hybrid mode:
 * delivered later), or `dropped` (the task was no longer this claim's: the
 * settle had already been applied by an earlier delivery, or the claim was
 * lost to another worker; logged at warn).
 */
export type SettleOutcome = SettleResult | "queued" | "dropped";

/** Options of {@link Outbox.create}. */
export interface CreateOptions {
  /**
   * Task priority: higher is claimed first by the `priority` claim strategy (our
   * server; the hosted service does not store it). Default: none sent (the server's 0).
   */
  priority?: number;
}

/** How a create ended: sent now (direct) with the server's answer, or queued for delivery (hybrid). */
export type CreateOutcome = { queued: false; task: CreatedTask } | { queued: true };

/**
 * The one path for task creates and settles (complete or fail) to the
 * TaskManager. Direct mode sends at once and throws what the client throws;
 * queued mode (hybrid) writes to a BullMQ queue in Redis and delivers with
 * retries, so an outage of the TaskManager loses nothing.
 */
export interface Outbox {
  readonly mode: "direct" | "queued";
  /** Creates a task of `type` with `params` (canonicalised, so repeats are one task) at `options.priority`. */
  create(type: string, params: object, options?: CreateOptions): Promise<CreateOutcome>;
  /** Completes a claimed task. `workerId` is the claimer's id (default the client's). */
  complete(task: SettledTask, result: Record<string, unknown>, options?: { workerId?: string }): Promise<SettleOutcome>;
  /** Fails a claimed task; `retryable: false` fails it for good on our server. */
  fail(task: SettledTask, error: string, options?: { workerId?: string; retryable?: boolean }): Promise<SettleOutcome>;
  /** Messages not yet delivered (0 in direct mode). */
  depth(): Promise<number>;
  /** Resolves when nothing is left to deliver, polling every 100 ms; rejects after `timeoutMs` (default 60,000). */
  drained(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface OutboxDeps {
  client: TaskManagerClient;
  logger?: Logger;
  metrics?: WorkerMetrics;
}

/** Delivers one message. Shared by both modes so a message means the same either way. */
async function deliver(deps: OutboxDeps, msg: OutboxMessage): Promise<CreatedTask | SettleResult | "dropped"> {
  const { client, metrics } = deps;
  if (msg.kind === "create") {
    const task = await client.createTask(msg.type, msg.params, msg.priority === undefined ? {} : { priority: msg.priority });
    (task.deduplicated ? metrics?.tasksDeduplicated : metrics?.tasksCreated)?.inc({ type: msg.type });
    return task;
  }
  try {
    const r =
      msg.kind === "complete"
        ? await client.completeTask(msg.taskId, msg.result, { workerId: msg.workerId })
        : await client.failTask(msg.taskId, msg.error, { workerId: msg.workerId, retryable: msg.retryable });
    settled(deps, msg);
    return r;
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    return dropped(deps, msg);
  }
}

type SettleMessage = Exclude<OutboxMessage, { kind: "create" }>;

/** Counts a settle the server accepted. */
function settled({ metrics }: OutboxDeps, msg: SettleMessage): void {
  if (msg.kind === "complete") metrics?.tasksCompleted.inc({ type: msg.taskType });
  else metrics?.tasksFailed.inc({ type: msg.taskType, retryable: String(msg.retryable) });
}

/**
 * A settle that found the task no longer ours: either an earlier delivery of this same message
 * got through (its answer was lost), or the claim timed out and another worker holds the task
 * now. Both end this message; repeating it could never succeed.
 */
async function dropped({ client, logger }: OutboxDeps, msg: SettleMessage): Promise<"dropped"> {
  const t = await client.getTask(msg.taskId);
  const ours = t?.claimedBy === msg.workerId && (t.status === "completed" || t.status === "failed" || t.status === "pending");
  logger?.warn(
    { taskId: msg.taskId, kind: msg.kind, status: t?.status, claimedBy: t?.claimedBy },
    ours ? "settle already applied by an earlier delivery" : "settle dropped: the claim was lost to another worker",
  );
  return "dropped";
}

/**
 * Settles many messages with `client.settleTasks` (one request per worker id where the server
 * advertises batch settles), each answered as {@link deliver} would answer it.
 */
async function deliverMany(deps: OutboxDeps, msgs: SettleMessage[]): Promise<Array<PromiseSettledResult<SettleOutcome>>> {
  const items = msgs.map((m): SettleItem =>
    m.kind === "complete" ? { id: m.taskId, status: "completed", result: m.result } : { id: m.taskId, status: "failed", error: m.error, retryable: m.retryable },
  );
  const results = await deps.client.settleTasks(items, { workerId: msgs[0]?.workerId });
  return Promise.allSettled(
    msgs.map(async (msg, i): Promise<SettleOutcome> => {
      const r = results[i] as SettleItemResult;
      if (r.ok) {
        settled(deps, msg);
        return { id: r.id, status: r.status };
      }
      if (r.error instanceof ConflictError) return dropped(deps, msg);
      throw r.error;
    }),
  );
}

/** A create message: params canonicalised once, the priority only when one is given. */
function createMessage(type: string, params: object, options: CreateOptions): Extract<OutboxMessage, { kind: "create" }> {
  const msg: Extract<OutboxMessage, { kind: "create" }> = { kind: "create", type, params: canonicalize(params) as Record<string, unknown> };
  if (options.priority !== undefined) {
    if (!Number.isInteger(options.priority)) throw new RangeError(`priority must be an integer, got ${String(options.priority)}`);
    msg.priority = options.priority;
  }
  return msg;
}

function permanent(err: unknown): boolean {
  // Schema failures and unknown types or tasks will fail the same way on every retry.
  return err instanceof ValidationError || err instanceof NotFoundError;
}

/**
 * Direct mode: every call goes to the TaskManager at once. Settles asked for in the same turn of
 * the event loop (a batch's) go out together: one request per worker id where the server
 * advertises batch settles, else one call each, as alone.
 */
export class DirectOutbox implements Outbox {
  readonly mode = "direct" as const;
  private waiting: Array<{ msg: SettleMessage; resolve: (o: SettleOutcome) => void; reject: (e: unknown) => void }> = [];
  constructor(private readonly deps: OutboxDeps) {}

  private settle(msg: SettleMessage): Promise<SettleOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ msg, resolve, reject });
      if (this.waiting.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const all = this.waiting;
    this.waiting = [];
    const byWorker = new Map<string, typeof all>();
    for (const w of all) byWorker.set(w.msg.workerId, [...(byWorker.get(w.msg.workerId) ?? []), w]);
    await Promise.all(
      [...byWorker.values()].map(async (group) => {
        if (group.length === 1) {
          const [only] = group as [(typeof all)[number]];
          return deliver(this.deps, only.msg).then((r) => only.resolve(r as SettleOutcome), only.reject);
        }
        try {
          const results = await deliverMany(this.deps, group.map((w) => w.msg));
          group.forEach((w, i) => {
            const r = results[i] as PromiseSettledResult<SettleOutcome>;
            if (r.status === "fulfilled") w.resolve(r.value);
            else w.reject(r.reason);
          });
        } catch (err) {
          for (const w of group) w.reject(err);
        }
      }),
    );
  }

  async create(type: string, params: object, options: CreateOptions = {}): Promise<CreateOutcome> {
    const task = await deliver(this.deps, createMessage(type, params, options));
    return { queued: false, task: task as CreatedTask };
  }
  async complete(task: SettledTask, result: Record<string, unknown>, options: { workerId?: string } = {}): Promise<SettleOutcome> {
    return this.settle({ kind: "complete", taskId: task.id, taskType: task.type, workerId: options.workerId ?? this.deps.client.workerId, result });
  }
  async fail(task: SettledTask, error: string, options: { workerId?: string; retryable?: boolean } = {}): Promise<SettleOutcome> {
    return this.settle({
      kind: "fail",
      taskId: task.id,
      taskType: task.type,
      workerId: options.workerId ?? this.deps.client.workerId,
      error,
      retryable: options.retryable ?? true,
    });
  }
  async depth() {
    return 0;
  }
  async drained() {}
  async close() {}
}

export interface QueuedOutboxOptions {
  /** BullMQ connection (options, so BullMQ owns and closes its connections). */
  connection: ConnectionOptions;
  /** Redis key prefix. */
  prefix: string;
  /** Queue name. Default `outbox`. */
  queueName?: string;
  /** Deliveries in parallel. Default 8. */
  concurrency?: number;
  /** Delivery attempts before a message is kept as failed. Default 100,000 (days of outage at the capped delay). */
  attempts?: number;
  /** Ceiling of the first retry delay, in ms; doubles per attempt (full jitter, the client's `backoffMs`). Default 500. */
  baseDelayMs?: number;
  /** Largest retry delay, in ms. Default 15,000. */
  maxDelayMs?: number;
  /** Deliver in this process (default true). False makes a producer only. */
  deliver?: boolean;
  /** How long `close()` keeps delivering what is queued before it stops, in ms. Default 5,000. */
  closeDrainMs?: number;
  /** Where connection errors go, so an outage is logged once (the runtime shares one). Default: one of its own. */
  outage?: RedisOutage;
}

const sha1 = (s: string) => createHash("sha1").update(s).digest("hex").slice(0, 16);

/**
 * Hybrid mode: messages go to a BullMQ queue and a BullMQ worker delivers
 * them with capped exponential backoff and full jitter.
 *
 * Idempotency: a create's job id is its dedupe key, so the same create queued
 * again while the first waits is one job, and a create delivered twice is one
 * task (the TaskManager's dedupe). A settle's job id is the task, its claim
 * (attempt number) and the claimer; a repeated delivery of it finds the task already settled by the
 * same worker and ends quietly (see `deliver`).
 */
export class QueuedOutbox implements Outbox {
  readonly mode = "queued" as const;
  readonly queue: Queue;
  private readonly worker: Worker | undefined;
  private readonly attempts: number;
  private readonly depthTimer: NodeJS.Timeout | undefined;
  private readonly closeDrainMs: number;

  constructor(
    private readonly deps: OutboxDeps,
    options: QueuedOutboxOptions,
  ) {
    const name = options.queueName ?? "outbox";
    this.attempts = options.attempts ?? 100_000;
    this.closeDrainMs = options.closeDrainMs ?? 5_000;
    const base = options.baseDelayMs ?? 500;
    const max = options.maxDelayMs ?? 15_000;
    const { Queue, Worker } = bullmq();
    this.queue = new Queue(name, { connection: options.connection, prefix: options.prefix });
    const outage = options.outage ?? new RedisOutage(deps.logger);
    this.queue.on("error", (err) => outage.error(err, "outbox queue"));
    if (options.deliver !== false) {
      this.worker = new Worker(name, (job: Job<OutboxMessage>) => this.process(job), {
        connection: options.connection,
        prefix: options.prefix,
        concurrency: options.concurrency ?? 8,
        settings: { backoffStrategy: (attemptsMade: number) => backoffMs(attemptsMade, { baseDelayMs: base, maxDelayMs: max }) },
      });
      this.worker.on("error", (err) => outage.error(err, "outbox worker"));
      this.worker.on("failed", (job, err) => {
        if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) deps.logger?.error({ err, jobId: job.id, message: job.data }, "outbox message gave up");
      });
    }
    if (deps.metrics) {
      const gauge = deps.metrics.outboxDepth;
      this.depthTimer = setInterval(() => void this.depth().then((n) => gauge.set(n), () => {}), 1_000);
      this.depthTimer.unref();
    }
  }

  private async process(job: Job<OutboxMessage>): Promise<void> {
    const kind = job.data.kind;
    try {
      await deliver(this.deps, job.data);
      this.deps.metrics?.outboxDeliveries.inc({ kind, outcome: "delivered" });
    } catch (err) {
      if (permanent(err)) {
        this.deps.metrics?.outboxDeliveries.inc({ kind, outcome: "dropped" });
        this.deps.logger?.error({ err, message: job.data }, "outbox message refused by the TaskManager: kept as failed, not retried");
        throw new (bullmq().UnrecoverableError)(err instanceof Error ? err.message : String(err));
      }
      this.deps.metrics?.outboxDeliveries.inc({ kind, outcome: "retry" });
      if (job.attemptsMade === 0) this.deps.logger?.warn({ err, kind }, "outbox delivery failed: will retry with backoff");
      throw err;
    }
  }

  private async add(jobId: string, msg: OutboxMessage): Promise<void> {
    await this.queue.add(msg.kind, msg, {
      jobId,
      attempts: this.attempts,
      backoff: { type: "custom" },
      // Kept an hour so a create repeated within that time is one job; failed ones are kept for inspection.
      removeOnComplete: { age: 3_600, count: 50_000 },
      removeOnFail: { count: 10_000 },
    });
  }

  async create(type: string, params: object, options: CreateOptions = {}): Promise<CreateOutcome> {
    const msg = createMessage(type, params, options);
    await this.add(`create-${dedupeKey(type, msg.params)}`, msg);
    return { queued: true };
  }
  async complete(task: SettledTask, result: Record<string, unknown>, options: { workerId?: string } = {}): Promise<SettleOutcome> {
    const workerId = options.workerId ?? this.deps.client.workerId;
    await this.add(`complete-${task.id}-${task.attempts ?? 0}-${sha1(workerId)}`, { kind: "complete", taskId: task.id, taskType: task.type, workerId, result });
    return "queued";
  }
  async fail(task: SettledTask, error: string, options: { workerId?: string; retryable?: boolean } = {}): Promise<SettleOutcome> {
    const workerId = options.workerId ?? this.deps.client.workerId;
    const retryable = options.retryable ?? true;
    await this.add(`fail-${task.id}-${task.attempts ?? 0}-${sha1(workerId)}`, { kind: "fail", taskId: task.id, taskType: task.type, workerId, error, retryable });
    return "queued";
  }
  async depth(): Promise<number> {
    const c = await this.queue.getJobCounts("waiting", "delayed", "active", "prioritized", "waiting-children");
    return Object.values(c).reduce((a, b) => a + b, 0);
  }
  async drained(timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while ((await this.depth()) > 0) {
      if (Date.now() > end) throw new Error(`outbox not drained after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  /**
   * Keeps delivering for up to `closeDrainMs`, so a stop with the TaskManager
   * up leaves no task claimed behind a queued settle; then stops delivering
   * (waits for deliveries in flight) and closes the queue. What is still
   * undelivered stays in Redis for the next process.
   */
  async close(): Promise<void> {
    if (this.worker && this.closeDrainMs > 0) {
      await this.drained(this.closeDrainMs).catch(async () => {
        this.deps.logger?.warn({ left: await this.depth().catch(() => undefined) }, "outbox not drained at stop: the rest stays in Redis for the next process");
      });
    }
    if (this.depthTimer) clearInterval(this.depthTimer);
    await this.worker?.close();
    await this.queue.close();
  }
}

import { setTimeout as sleep } from "node:timers/promises";
import { ConflictError, NonRetryableError, backoffMs, createWorkerId, type ClaimStrategy, type TaskManagerClient } from "@prismq/taskmanager-client";
import type { Logger } from "pino";
import type { WorkerMetrics } from "./metrics.js";
import { DirectOutbox, type Outbox, type SettledTask } from "./outbox.js";

/** The message a task is handed back with when the loop stops before its work finished. */
export const SHUTDOWN_MESSAGE = "worker shutting down";

/** What became of one task of a batch. */
export type BatchOutcome<T> =
  | { task: T; ok: true; result: Record<string, unknown> }
  | { task: T; ok: false; error: string; retryable: boolean };

/** What a per-task {@link WorkerLoopOptions.handler} gets besides the task. */
export interface TaskContext {
  /** Aborted when the task's claim is lost, when the loop hands it back at stop, or at `stop()` with `onStop: "abort"`: finish quickly or throw. */
  signal: AbortSignal;
  workerId: string;
  /** Reports progress (0-100); later heartbeats repeat it. Errors are swallowed and reported to `onError`. */
  progress(percent: number, message?: string): Promise<void>;
}

/** What a batch {@link WorkerLoopOptions.handle} gets besides the batch and its signal. */
export interface BatchContext<T> {
  workerId: string;
  /** The signal of one task: aborted when its claim is lost or it is handed back. Its outcome is then ignored. */
  signalOf(task: T): AbortSignal;
  /** Reports one task's progress (0-100); later heartbeats repeat it. */
  progress(task: T, percent: number, message?: string): Promise<void>;
}

/** Events for metrics and logs. Durations in ms. Hooks must not throw. */
export interface WorkerHooks<T> {
  onClaimed?(e: { task: T; workerId: string }): void;
  onCompleted?(e: { task: T; durationMs: number }): void;
  /** `status` is the server's answer (`failed` or `pending (retry)`), or `queued` when the outbox delivers later. */
  onFailed?(e: { task: T; durationMs: number; error: Error; retryable: boolean; status: string }): void;
  onIdle?(e: { taskType: string; waitMs: number }): void;
  /** A heartbeat or `progress` found the task no longer this worker's: its work was aborted and it is not settled. */
  onLost?(e: { task: T; error: Error }): void;
  /** Errors of the loop itself (claim, settle or progress failures), after which it goes on. */
  onError?(e: { error: Error; phase: "claim" | "settle" | "progress" }): void;
}

export interface WorkerLoopOptions<T extends SettledTask> {
  /** Names the loop in logs and, without `workerId`, the worker id. */
  name: string;
  /** The TaskManager: heartbeats (progress) go through it, and claims with `taskTypes`. */
  client: TaskManagerClient;
  /**
   * Claims one task, or null when none is waiting (e.g. `YouTube.Video.claim(client, { workerId, signal })`).
   * Give one of this, `claimBatch` and `taskTypes`.
   */
  claim?: (signal: AbortSignal) => Promise<T | null>;
  /**
   * Claims up to `limit` tasks at once, none when none is waiting (e.g.
   * `YouTube.Video.claimBatch(client, { workerId, signal, limit })`): one request where the server
   * advertises batch claims. An answer shorter than `limit` ends the batch's claiming.
   * Give one of this, `claim` and `taskTypes`.
   */
  claimBatch?: (limit: number, signal: AbortSignal) => Promise<T[]>;
  /**
   * Task type name(s) to claim with `client` (its `claimTasks`: one request per batch where the
   * server advertises batch claims) when there is no `claim` or `claimBatch`; several are tried in turn.
   */
  taskTypes?: string | string[];
  /**
   * Claim strategy of `taskTypes` claims.
   * @defaultValue "fifo"
   */
  strategy?: ClaimStrategy;
  /**
   * Handles a whole batch and says what became of each task (one API call may
   * serve the batch). A task left out is failed as retryable; when it throws,
   * every task is failed as retryable and the loop backs off. Give this or `handler`.
   */
  handle?: (batch: T[], signal: AbortSignal, ctx: BatchContext<T>) => Promise<Array<BatchOutcome<T>>>;
  /**
   * Handles one task (each task of a batch at once): its answer is the result;
   * a throw fails the task, for good when it is a `NonRetryableError`. Give this or `handle`.
   */
  handler?: (task: T, ctx: TaskContext) => Promise<object | void>;
  /**
   * Where settles go (direct or queued).
   * @defaultValue a `DirectOutbox` on `client`
   */
  outbox?: Outbox;
  /**
   * The claimer's worker id: claims, heartbeats and settles go under it.
   * @defaultValue `client.workerId` with `taskTypes`, else a new id from `name`
   */
  workerId?: string;
  /**
   * Most tasks per batch (1 handles each task on its own).
   * @defaultValue 50
   */
  batchSize?: number;
  /**
   * Batches in hand at once, each claimed and handled on its own.
   * @defaultValue 1
   */
  concurrency?: number;
  /**
   * The server's claim timeout, in ms: a claim not renewed within it may be taken by another worker.
   * @defaultValue 300000
   */
  claimTimeoutMs?: number;
  /**
   * Heartbeat period, in ms: every claimed task's progress is reported this
   * often. Our server renews a claim on progress; the hosted one does not, but
   * answers 403 once another worker took the task, which aborts the work.
   * @defaultValue `claimTimeoutMs / 3`
   */
  heartbeatMs?: number;
  /**
   * What `stop()` does to work in hand: `finish` lets it run until
   * `shutdownDeadlineMs`; `abort` aborts its signals at once (handlers that
   * honour them hand their tasks back at once).
   * @defaultValue "finish"
   */
  onStop?: "finish" | "abort";
  /**
   * How long `stop()` waits for work in hand, in ms; then what is unsettled is
   * failed (retryable) with {@link SHUTDOWN_MESSAGE}, its signals aborted, so it returns to the queue at once.
   * @defaultValue 10000
   */
  shutdownDeadlineMs?: number;
  /**
   * How long a claim already in flight when `stop()` is called may still take
   * before it is aborted, in ms. A claim the server has granted but whose answer
   * was cut off would hold its task until the claim timeout.
   * @defaultValue 5000
   */
  claimGraceMs?: number;
  /**
   * Idle polling: ceiling of the first wait, in ms; it doubles while idle, each wait drawn in [ceiling / 2, ceiling).
   * @defaultValue 250
   */
  idleMinMs?: number;
  /**
   * Idle polling: largest wait, in ms.
   * @defaultValue 5000
   */
  idleMaxMs?: number;
  logger?: Logger;
  metrics?: WorkerMetrics;
  hooks?: WorkerHooks<T>;
  /**
   * One info line per batch (`batch done`: claimed, ok, failed, durationMs and
   * what `spent` counted); a loop that logs each run itself turns it off. A task
   * failed for good is logged at warn either way.
   * @defaultValue true
   */
  logBatches?: boolean;
  /**
   * Counters of what the handler spends (e.g. `{ quotaUnits: api.unitsSpent }`),
   * read before and after each batch: the batch line carries the differences.
   */
  spent?: () => Record<string, number>;
}

/** A claimed task in hand: `settled` once it was completed, failed, handed back or lost. */
interface InFlight<T> {
  task: T;
  abort: AbortController;
  started: number;
  settled: boolean;
  percent: number;
  /** A heartbeat still waiting for its answer: the next one is skipped. */
  beating: boolean;
  /** How it was settled: true completed, false failed; undefined while in hand, lost or unsettled. */
  ok?: boolean;
  /** Its batch, whose heartbeat timer ends once every task of it is settled. */
  group: Group<T>;
}

interface Group<T> {
  members: Array<InFlight<T>>;
  heartbeat?: ReturnType<typeof setInterval>;
}

type Outcome = { ok: true; result: Record<string, unknown> } | { ok: false; error: Error; retryable: boolean };

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/**
 * The one worker loop: every processor and every discovery-task loop runs it.
 * Each of `concurrency` slots claims up to `batchSize` tasks (stopping early
 * when none is left), hands them to `handle` at once (or each to `handler`),
 * and settles each through the outbox. While tasks are in hand their claims
 * are renewed by a progress heartbeat every `heartbeatMs`; a heartbeat that
 * finds a task taken by another worker aborts that task's work and leaves it
 * unsettled. When nothing is waiting (or a batch failed) a slot backs off
 * with jitter. `stop()` stops claiming and hands back, within a deadline,
 * what is still in hand.
 */
export class WorkerLoop<T extends SettledTask> {
  readonly workerId: string;
  private readonly o: WorkerLoopOptions<T> & {
    claimSome: (limit: number, signal: AbortSignal) => Promise<T[]>;
    /** Whether `claimSome` answers one task at most (a short answer then does not mean none is left). */
    claimsOne: boolean;
    outbox: Outbox;
    hooks: WorkerHooks<T>;
    batchSize: number;
    concurrency: number;
    heartbeatMs: number;
    shutdownDeadlineMs: number;
    claimGraceMs: number;
    idleMinMs: number;
    idleMaxMs: number;
  };
  /** Aborted by `stop()`: no new claim starts. */
  private readonly intake = new AbortController();
  /** Aborted `claimGraceMs` after `stop()`: a claim in flight is let finish until then, so its task is handled, not stranded. */
  private readonly claims = new AbortController();
  private readonly inFlight = new Map<number, InFlight<T>>();
  private slots: Array<Promise<void>> = [];
  private stopping: Promise<void> | undefined;
  private readonly idleName: string;
  /** Batches handled so far. */
  batches = 0;

  constructor(options: WorkerLoopOptions<T>) {
    const batchSize = options.batchSize ?? 50;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a whole number >= 1, got ${batchSize}`);
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a whole number >= 1, got ${concurrency}`);
    if ((options.handle === undefined) === (options.handler === undefined)) throw new TypeError("give exactly one of handle (a batch) and handler (one task)");
    const taskTypes = options.taskTypes === undefined ? [] : Array.isArray(options.taskTypes) ? options.taskTypes : [options.taskTypes];
    const custom = options.claim ?? options.claimBatch;
    if (options.claim && options.claimBatch) throw new TypeError("give claim (one task) or claimBatch (many), not both");
    if (!custom && taskTypes.length === 0) throw new TypeError("give claim, claimBatch, or taskTypes naming at least one task type");
    this.workerId = options.workerId ?? (custom ? createWorkerId(options.name) : options.client.workerId);
    const claim = options.claim;
    const claimTimeoutMs = options.claimTimeoutMs ?? 300_000;
    this.idleName = taskTypes.length ? taskTypes.join(",") : options.name;
    this.o = {
      ...options,
      claimSome: claim
        ? async (_limit, signal) => {
            const task = await claim(signal);
            return task ? [task] : [];
          }
        : (options.claimBatch ?? this.claimOfTypes(taskTypes, options.strategy ?? "fifo")),
      claimsOne: claim !== undefined,
      outbox: options.outbox ?? new DirectOutbox({ client: options.client, logger: options.logger, metrics: options.metrics }),
      hooks: options.hooks ?? {},
      batchSize,
      concurrency,
      // A third of the timeout: two beats may fail before the claim lapses.
      heartbeatMs: options.heartbeatMs ?? Math.max(1, Math.floor(claimTimeoutMs / 3)),
      shutdownDeadlineMs: options.shutdownDeadlineMs ?? 10_000,
      claimGraceMs: options.claimGraceMs ?? 5_000,
      idleMinMs: options.idleMinMs ?? 250,
      idleMaxMs: options.idleMaxMs ?? 5_000,
    };
  }

  /** Tasks in hand now. */
  get active(): number {
    return this.inFlight.size;
  }

  /** Starts the slots. Resolves at once; `stop()` ends them. */
  start(): this {
    if (this.slots.length === 0) this.slots = Array.from({ length: this.o.concurrency }, () => this.slot());
    return this;
  }

  /** Claims and handles batches until none is left (or a batch failed), then resolves with the number of tasks handled (for `--once` runs and tests). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const { n, failed } = await this.runOnce();
      total += n;
      if (n === 0 || failed) return total;
    }
  }

  /**
   * Stops claiming (a claim in flight may finish within `claimGraceMs`), waits
   * up to `shutdownDeadlineMs` for the work in hand to be settled, then hands
   * back what is left: failed as retryable with {@link SHUTDOWN_MESSAGE}, so it
   * returns to the queue at once. Nothing stays claimed by this loop afterwards.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.intake.abort(new Error(SHUTDOWN_MESSAGE));
      const grace = setTimeout(() => this.claims.abort(new Error(SHUTDOWN_MESSAGE)), this.o.claimGraceMs);
      if (this.o.onStop === "abort") for (const f of this.inFlight.values()) f.abort.abort(new Error(SHUTDOWN_MESSAGE));
      // The deadline timer is cancelled once the slots end, so it does not hold the process open.
      const cancelDeadline = new AbortController();
      const deadline = sleep(this.o.shutdownDeadlineMs, "deadline" as const, { signal: cancelDeadline.signal }).catch(() => "done" as const);
      const first = await Promise.race([Promise.all(this.slots).then(() => "done" as const), deadline]);
      cancelDeadline.abort();
      clearTimeout(grace);
      if (first === "deadline") {
        this.claims.abort(new Error(SHUTDOWN_MESSAGE));
        await Promise.all(
          [...this.inFlight.values()].filter((f) => !f.settled).map(async (f) => {
            // The work may run on, but its task is handed back: no more heartbeats for it.
            this.markSettled(f);
            f.abort.abort(new Error(SHUTDOWN_MESSAGE));
            await this.settle(f, { ok: false, error: new Error(SHUTDOWN_MESSAGE), retryable: true });
          }),
        );
      }
    })();
    return this.stopping;
  }

  /**
   * A batch claim over `taskTypes`, each tried in turn from where the last one left off, until
   * `limit` tasks are in hand: short only once every type came back short.
   */
  private claimOfTypes(taskTypes: string[], strategy: ClaimStrategy): (limit: number, signal: AbortSignal) => Promise<T[]> {
    let next = 0;
    return async (limit, signal) => {
      const tasks: T[] = [];
      for (let i = 0; i < taskTypes.length && tasks.length < limit; i++) {
        const taskType = taskTypes[next++ % taskTypes.length] as string;
        const got = await this.o.client.claimTasks({ taskType, strategy, workerId: this.workerId, signal, limit: limit - tasks.length });
        tasks.push(...(got as unknown as T[]));
      }
      return tasks;
    };
  }

  private async slot(): Promise<void> {
    let idle = 0;
    while (!this.intake.signal.aborted) {
      let n = 0;
      let failed = false;
      try {
        ({ n, failed } = await this.runOnce());
      } catch (err) {
        if (this.intake.signal.aborted) return;
        this.o.hooks.onError?.({ error: asError(err), phase: "claim" });
        this.o.logger?.error({ err, loop: this.o.name }, "claim failed: backing off");
      }
      if (n > 0 && !failed) {
        idle = 0;
        continue;
      }
      const waitMs = backoffMs(idle++, { baseDelayMs: this.o.idleMinMs, maxDelayMs: this.o.idleMaxMs, jitter: "equal" });
      this.o.hooks.onIdle?.({ taskType: this.idleName, waitMs });
      await sleep(waitMs, undefined, { signal: this.intake.signal }).catch(() => {});
    }
  }

  /**
   * Claims up to `batchSize` tasks (one request with a batch claim); a failed claim with tasks in
   * hand ends the batch, without any it throws.
   */
  private async claimBatch(group: Group<T>): Promise<void> {
    const batch = group.members;
    while (batch.length < this.o.batchSize && !this.intake.signal.aborted) {
      const want = this.o.batchSize - batch.length;
      const tasks = await this.o.claimSome(want, this.claims.signal).catch((err: unknown): T[] => {
        if (this.intake.signal.aborted) return [];
        if (batch.length > 0) {
          this.o.hooks.onError?.({ error: asError(err), phase: "claim" });
          this.o.logger?.warn({ err, loop: this.o.name }, "claim failed: handling the batch in hand");
          return [];
        }
        throw err;
      });
      for (const task of tasks) this.admit(group, task);
      if (tasks.length === 0 || (!this.o.claimsOne && tasks.length < want)) return;
    }
  }

  /** A claimed task into the batch in hand, with the batch's heartbeat from its first task on. */
  private admit(group: Group<T>, task: T): void {
    const batch = group.members;
    const entry: InFlight<T> = { task, abort: new AbortController(), started: Date.now(), settled: false, percent: 0, beating: false, group };
    if (this.intake.signal.aborted && this.o.onStop === "abort") entry.abort.abort(new Error(SHUTDOWN_MESSAGE));
    this.inFlight.set(task.id, entry);
    batch.push(entry);
    this.o.metrics?.tasksClaimed.inc({ type: task.type });
    this.o.hooks.onClaimed?.({ task, workerId: this.workerId });
    // Heartbeats from the first claim on: a batch's later claims must not delay its first task's renewal.
    group.heartbeat ??= setInterval(() => {
      for (const f of batch) if (!f.settled && !f.beating) void this.beat(f, f.percent);
    }, this.o.heartbeatMs);
  }

  /** One batch: claim, handle, settle, with heartbeats from the first claim on. Returns how many tasks it held, and whether the batch handler threw. */
  private async runOnce(): Promise<{ n: number; failed: boolean }> {
    const group: Group<T> = { members: [] };
    const batch = group.members;
    try {
      await this.claimBatch(group);
      if (batch.length === 0) return { n: 0, failed: false };
      this.batches++;
      const started = Date.now();
      const spentBefore = this.o.spent?.() ?? {};
      let failed = false;
      if (this.o.handle) failed = await this.handleBatch(batch, this.o.handle);
      else await Promise.all(batch.map((f) => this.handleOne(f)));
      if (this.o.logBatches !== false) {
        const ok = batch.filter((f) => f.ok === true).length;
        const spent: Record<string, number> = {};
        for (const [name, after] of Object.entries(this.o.spent?.() ?? {})) spent[name] = after - (spentBefore[name] ?? 0);
        this.o.logger?.info({ loop: this.o.name, claimed: batch.length, ok, failed: batch.length - ok, durationMs: Date.now() - started, ...spent }, "batch done");
      }
      return { n: batch.length, failed };
    } finally {
      clearInterval(group.heartbeat);
      for (const f of batch) this.inFlight.delete(f.task.id);
    }
  }

  /** The batch handler's turn; answers whether it threw. */
  private async handleBatch(batch: Array<InFlight<T>>, handle: NonNullable<WorkerLoopOptions<T>["handle"]>): Promise<boolean> {
    const tasks = batch.map((f) => f.task);
    const byTask = new Map(batch.map((f) => [f.task, f]));
    // The batch's signal aborts once every task's has (all lost or handed back).
    const whole = new AbortController();
    const onAbort = () => {
      if (batch.every((f) => f.abort.signal.aborted)) whole.abort(batch[0]?.abort.signal.reason);
    };
    for (const f of batch) f.abort.signal.addEventListener("abort", onAbort, { once: true });
    onAbort();
    const ctx: BatchContext<T> = {
      workerId: this.workerId,
      signalOf: (task) => byTask.get(task)?.abort.signal ?? whole.signal,
      progress: async (task, percent, message) => {
        const f = byTask.get(task);
        if (f) await this.beat(f, percent, message);
      },
    };
    let outcomes: Array<BatchOutcome<T>>;
    let failed = false;
    try {
      outcomes = await handle(tasks, whole.signal, ctx);
    } catch (err) {
      const stopping = whole.signal.aborted && this.intake.signal.aborted;
      const message = stopping ? SHUTDOWN_MESSAGE : asError(err).message;
      if (!stopping) this.o.logger?.error({ err, loop: this.o.name, tasks: batch.length }, "batch failed: its tasks go back to be retried");
      outcomes = tasks.map((task) => ({ task, ok: false, error: message, retryable: true }));
      failed = true;
    }
    const byId = new Map(outcomes.map((o) => [o.task.id, o]));
    await Promise.all(
      batch.map(async (f) => {
        const out = byId.get(f.task.id) ?? { task: f.task, ok: false as const, error: "left out of its batch's outcome", retryable: true };
        if (f.settled) return;
        this.markSettled(f);
        await this.settle(f, out.ok ? { ok: true, result: out.result } : { ok: false, error: new Error(out.error), retryable: out.retryable });
      }),
    );
    return failed;
  }

  /** One task's handler, then its settle (unless the task was lost or handed back meanwhile). */
  private async handleOne(f: InFlight<T>): Promise<void> {
    const handler = this.o.handler as NonNullable<WorkerLoopOptions<T>["handler"]>;
    const ctx: TaskContext = { signal: f.abort.signal, workerId: this.workerId, progress: (percent, message) => this.beat(f, percent, message) };
    let outcome: Outcome;
    try {
      const result = await handler(f.task, ctx);
      outcome = { ok: true, result: (result ?? {}) as Record<string, unknown> };
    } catch (err) {
      const stopping = f.abort.signal.aborted && this.intake.signal.aborted;
      outcome = stopping
        ? { ok: false, error: new Error(SHUTDOWN_MESSAGE), retryable: true }
        : { ok: false, error: asError(err), retryable: !(err instanceof NonRetryableError) };
    }
    if (f.settled) return;
    this.markSettled(f);
    await this.settle(f, outcome);
  }

  /** Marks a task settled (completed, failed, handed back or lost); its batch's heartbeats end with its last task, even when work handed back hangs on. */
  private markSettled(f: InFlight<T>): void {
    f.settled = true;
    if (f.group.members.every((m) => m.settled)) clearInterval(f.group.heartbeat);
  }

  /** Reports a task's progress, which renews its claim on our server; a conflict means the task is lost. */
  private async beat(f: InFlight<T>, percent: number, message?: string): Promise<void> {
    f.percent = percent;
    if (f.settled) return;
    f.beating = true;
    try {
      await this.o.client.reportProgress(f.task.id, percent, message, { workerId: this.workerId });
    } catch (err) {
      if (f.settled) return;
      this.o.hooks.onError?.({ error: asError(err), phase: "progress" });
      if (err instanceof ConflictError) this.lose(f, err);
      else this.o.logger?.warn({ err, loop: this.o.name, taskId: f.task.id }, "heartbeat failed: trying again at the next one");
    } finally {
      f.beating = false;
    }
  }

  /** The claim lapsed and the task is another worker's (or no longer claimed): its work is told to stop, and nothing is settled. */
  private lose(f: InFlight<T>, err: ConflictError): void {
    this.markSettled(f);
    const error = new Error(`task ${f.task.id} lost: ${err.message}`, { cause: err });
    this.o.logger?.warn({ loop: this.o.name, taskId: f.task.id, taskType: f.task.type, reason: err.message }, "claim lost: the task's work is aborted and not settled");
    this.o.hooks.onLost?.({ task: f.task, error });
    f.abort.abort(error);
  }

  private async settle(f: InFlight<T>, out: Outcome): Promise<void> {
    const { task } = f;
    const durationMs = Date.now() - f.started;
    f.ok = out.ok;
    this.o.metrics?.taskDuration.observe({ type: task.type, outcome: out.ok ? "completed" : "failed" }, durationMs / 1000);
    if (!out.ok && !out.retryable) this.o.logger?.warn({ loop: this.o.name, taskId: task.id, taskType: task.type, reason: out.error.message }, "task failed for good (not retryable)");
    try {
      if (out.ok) {
        const r = await this.o.outbox.complete(task, out.result, { workerId: this.workerId });
        if (r !== "dropped") this.o.hooks.onCompleted?.({ task, durationMs: Date.now() - f.started });
      } else {
        const r = await this.o.outbox.fail(task, out.error.message || out.error.name, { workerId: this.workerId, retryable: out.retryable });
        if (r !== "dropped") this.o.hooks.onFailed?.({ task, durationMs: Date.now() - f.started, error: out.error, retryable: out.retryable, status: typeof r === "string" ? r : r.status });
      }
    } catch (err) {
      // Direct mode and the TaskManager is away: the claim times out and the task comes back.
      this.o.hooks.onError?.({ error: asError(err), phase: "settle" });
      this.o.logger?.error({ err, taskId: task.id }, "settle failed: the task returns after its claim timeout");
    }
  }
}

import { createWorkerId, type TaskManagerClient } from "./client.js";
import type { Json } from "./canonical.js";
import { ConflictError, NonRetryableError, TaskManagerError } from "./errors.js";
import { sleep } from "./retry.js";
import type { ClaimStrategy, ClaimedTask } from "./types.js";

/** What a handler gets besides the task. */
export interface TaskContext {
  /** Aborted when the worker stops (or the task is lost): finish quickly or throw. */
  signal: AbortSignal;
  workerId: string;
  /** Reports progress (0-100); also a heartbeat on our server. Errors are swallowed and reported to `onError`. */
  progress(percent: number, message?: string): Promise<void>;
}

export type TaskHandler<P = Record<string, Json>> = (task: ClaimedTask<P>, ctx: TaskContext) => Promise<object | void>;

/** Events for metrics and logs. Durations in ms. Hooks must not throw. */
export interface WorkerHooks {
  onClaimed?(e: { task: ClaimedTask<unknown>; workerId: string }): void;
  onCompleted?(e: { task: ClaimedTask<unknown>; durationMs: number }): void;
  onFailed?(e: { task: ClaimedTask<unknown>; durationMs: number; error: Error; retryable: boolean; status: string }): void;
  onIdle?(e: { taskType: string; waitMs: number }): void;
  /** Errors of the loop itself (claim or settle failures), after which it backs off and goes on. */
  onError?(e: { error: Error; phase: "claim" | "settle" | "progress" }): void;
}

export interface TaskWorkerOptions<P = Record<string, Json>> {
  client: TaskManagerClient;
  /** Task type name(s) to claim; several are claimed in turn. */
  taskTypes: string | string[];
  handler: TaskHandler<P>;
  /** Names the worker id `<name>-<host>-<random>`. Default `worker`. */
  name?: string;
  /** Default: a new id from `name`. */
  workerId?: string;
  /** Tasks handled at once. Default 1. */
  concurrency?: number;
  /** Default `fifo`. */
  strategy?: ClaimStrategy;
  /** Idle polling: first wait and largest wait, in ms; the ceiling doubles while idle and each wait is drawn between half the ceiling and the ceiling. Default 250 / 5,000. */
  idleMinMs?: number;
  idleMaxMs?: number;
  /** The server's claim timeout, in ms. Default 300,000. Heartbeats go every third of it. */
  claimTimeoutMs?: number;
  /** Heartbeat period in ms. Default `claimTimeoutMs / 3`. */
  heartbeatMs?: number;
  /** How long `stop()` lets handlers finish, in ms. Default 10,000. */
  shutdownDeadlineMs?: number;
  hooks?: WorkerHooks;
}

/** A task being handled: `settled` once it was completed, failed or lost; `heartbeat` is its timer. */
interface InFlight<P> {
  task: ClaimedTask<P>;
  abort: AbortController;
  settled: boolean;
  heartbeat?: ReturnType<typeof setInterval>;
}

/** The message a task is failed with when the worker stops before its handler finished. */
export const SHUTDOWN_MESSAGE = "worker shutting down";

/**
 * The claim -> handle -> complete/fail loop every processor runs: N slots
 * claiming in turn, idle backoff with jitter, heartbeats while a handler
 * runs, and a graceful stop that hands unfinished tasks back at once.
 */
export class TaskWorker<P = Record<string, Json>> {
  readonly workerId: string;
  private readonly o: Required<Omit<TaskWorkerOptions<P>, "hooks" | "workerId" | "taskTypes">> & { hooks: WorkerHooks; taskTypes: string[] };
  private readonly stopIntake = new AbortController();
  private readonly inFlight = new Map<number, InFlight<P>>();
  private loops: Promise<void>[] = [];
  private nextType = 0;
  private stopping: Promise<void> | undefined;

  constructor(options: TaskWorkerOptions<P>) {
    const taskTypes = Array.isArray(options.taskTypes) ? options.taskTypes : [options.taskTypes];
    if (taskTypes.length === 0) throw new TypeError("taskTypes must name at least one task type");
    const claimTimeoutMs = options.claimTimeoutMs ?? 300_000;
    this.o = {
      client: options.client,
      taskTypes,
      handler: options.handler,
      name: options.name ?? "worker",
      concurrency: Math.max(1, options.concurrency ?? 1),
      strategy: options.strategy ?? "fifo",
      idleMinMs: options.idleMinMs ?? 250,
      idleMaxMs: options.idleMaxMs ?? 5_000,
      claimTimeoutMs,
      // A third of the timeout, as documented: a floor (it was 1 s) would let a short claim lapse between beats.
      heartbeatMs: options.heartbeatMs ?? Math.max(1, Math.floor(claimTimeoutMs / 3)),
      shutdownDeadlineMs: options.shutdownDeadlineMs ?? 10_000,
      hooks: options.hooks ?? {},
    };
    this.workerId = options.workerId ?? createWorkerId(this.o.name);
  }

  /** Tasks being handled now. */
  get active(): number {
    return this.inFlight.size;
  }

  /** Starts the slots. Resolves at once; `stop()` ends them. */
  start(): void {
    if (this.loops.length > 0) return;
    this.loops = Array.from({ length: this.o.concurrency }, () => this.slot());
  }

  /**
   * Stops claiming, aborts handlers' signals, waits up to the deadline, then
   * fails what is still running with "worker shutting down" so it returns to
   * the queue at once. Nothing stays claimed by this worker afterwards.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopIntake.abort(new Error(SHUTDOWN_MESSAGE));
      for (const f of this.inFlight.values()) f.abort.abort(new Error(SHUTDOWN_MESSAGE));
      // The deadline timer is cancelled once the loops end, so it does not hold the process open.
      const cancelDeadline = new AbortController();
      const deadline = sleep(this.o.shutdownDeadlineMs, cancelDeadline.signal).then(
        () => "deadline" as const,
        () => "done" as const,
      );
      const done = Promise.all(this.loops).then(() => "done" as const);
      const first = await Promise.race([done, deadline]);
      cancelDeadline.abort();
      if (first === "deadline") {
        await Promise.all(
          [...this.inFlight.values()].filter((f) => !f.settled).map(async (f) => {
            f.settled = true;
            // The handler may run on, but its task is handed back: no more heartbeats for it.
            clearInterval(f.heartbeat);
            await this.fail(f.task, new Error(SHUTDOWN_MESSAGE), Date.now(), true);
          }),
        );
      }
    })();
    return this.stopping;
  }

  private async slot(): Promise<void> {
    let idle = 0;
    const signal = this.stopIntake.signal;
    while (!signal.aborted) {
      const taskType = this.o.taskTypes[this.nextType++ % this.o.taskTypes.length] as string;
      let task: ClaimedTask<P> | null = null;
      try {
        task = await this.o.client.claimTask<P>({ taskType, strategy: this.o.strategy, workerId: this.workerId, signal });
      } catch (err) {
        if (signal.aborted) return;
        this.o.hooks.onError?.({ error: err as Error, phase: "claim" });
      }
      if (!task) {
        // Only back off once every type came back empty.
        if (this.nextType % this.o.taskTypes.length !== 0 && this.o.taskTypes.length > 1) continue;
        const ceiling = Math.min(this.o.idleMaxMs, this.o.idleMinMs * 2 ** idle++);
        const waitMs = Math.floor(ceiling / 2 + (Math.random() * ceiling) / 2);
        this.o.hooks.onIdle?.({ taskType, waitMs });
        try {
          await sleep(waitMs, signal);
        } catch {
          return;
        }
        continue;
      }
      idle = 0;
      await this.run(task);
    }
  }

  private async run(task: ClaimedTask<P>): Promise<void> {
    const started = Date.now();
    const abort = new AbortController();
    const entry: InFlight<P> = { task, abort, settled: false };
    this.inFlight.set(task.id, entry);
    if (this.stopIntake.signal.aborted) abort.abort(new Error(SHUTDOWN_MESSAGE));
    this.o.hooks.onClaimed?.({ task, workerId: this.workerId });
    let lastPercent = 0;
    const progress = async (percent: number, message?: string) => {
      lastPercent = percent;
      try {
        await this.o.client.reportProgress(task.id, percent, message, { workerId: this.workerId });
      } catch (err) {
        this.o.hooks.onError?.({ error: err as Error, phase: "progress" });
        // The claim lapsed and the task is another worker's (or no longer claimed): the task is
        // lost, so the handler is told to stop (as TaskContext.signal promises) and nothing is settled.
        if (err instanceof ConflictError && !entry.settled) {
          entry.settled = true;
          clearInterval(heartbeat);
          abort.abort(new Error(`task ${task.id} lost: ${err.message}`));
        }
      }
    };
    // Heartbeat: our server renews the claim on progress, so a long handler keeps its task.
    const heartbeat = setInterval(() => void progress(lastPercent), this.o.heartbeatMs);
    entry.heartbeat = heartbeat;
    try {
      let result: object | void;
      try {
        result = await this.o.handler(task, { signal: abort.signal, workerId: this.workerId, progress });
      } catch (err) {
        clearInterval(heartbeat);
        if (entry.settled) return;
        entry.settled = true;
        const error = err instanceof Error ? err : new Error(String(err));
        const stopping = abort.signal.aborted && this.stopIntake.signal.aborted;
        await this.fail(task, stopping ? new Error(SHUTDOWN_MESSAGE) : error, started, stopping || !(err instanceof NonRetryableError));
        return;
      }
      clearInterval(heartbeat);
      if (entry.settled) return;
      entry.settled = true;
      try {
        await this.o.client.completeTask(task.id, result ?? {}, { workerId: this.workerId });
        this.o.hooks.onCompleted?.({ task, durationMs: Date.now() - started });
      } catch (err) {
        this.o.hooks.onError?.({ error: err as Error, phase: "settle" });
      }
    } finally {
      clearInterval(heartbeat);
      this.inFlight.delete(task.id);
    }
  }

  private async fail(task: ClaimedTask<P>, error: Error, started: number, retryable: boolean): Promise<void> {
    try {
      const r = await this.o.client.failTask(task.id, error.message || error.name, { workerId: this.workerId, retryable });
      this.o.hooks.onFailed?.({ task, durationMs: Date.now() - started, error, retryable, status: r.status });
    } catch (err) {
      if (!(err instanceof TaskManagerError && err.code === "TM_ERR_CONFLICT")) {
        this.o.hooks.onError?.({ error: err as Error, phase: "settle" });
      }
    }
  }
}

import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { WorkerMetrics } from "./metrics.js";
import type { Outbox, SettledTask } from "./outbox.js";

/** What became of one task of a batch. */
export type BatchOutcome<T> =
  | { task: T; ok: true; result: Record<string, unknown> }
  | { task: T; ok: false; error: string; retryable: boolean };

export interface BatchWorkerOptions<T extends SettledTask> {
  /** Names the loop in logs. */
  name: string;
  /** Claims one task, or null when none is waiting (e.g. `YouTube.Video.claim(client, { workerId })`). */
  claim: (signal: AbortSignal) => Promise<T | null>;
  /** Handles a whole batch and says what became of each task. A task left out is failed as retryable. */
  handle: (batch: T[], signal: AbortSignal) => Promise<Array<BatchOutcome<T>>>;
  /** Where settles go (direct or queued). */
  outbox: Outbox;
  /** The claimer's worker id, for settles delivered by another process. */
  workerId: string;
  /** Most tasks per batch. Default 50. */
  batchSize?: number;
  /**
   * How long a claim already in flight when `stop()` is called may still take
   * before it is aborted, ms. Default 5,000. A claim the server has granted but
   * whose answer was cut off would hold its task until the claim timeout.
   */
  claimGraceMs?: number;
  /** Idle polling: first and largest wait, ms. Default 250 / 5,000. */
  idleMinMs?: number;
  idleMaxMs?: number;
  logger?: Logger;
  metrics?: WorkerMetrics;
  /**
   * One info line per batch (`batch done`: claimed, ok, failed, durationMs and
   * what `spent` counted). Default true; a loop that logs each run itself
   * turns it off. A task failed for good is logged at warn either way.
   */
  logBatches?: boolean;
  /**
   * Counters of what the handler spends (e.g. `{ quotaUnits: api.unitsSpent }`),
   * read before and after each batch: the batch line carries the differences.
   */
  spent?: () => Record<string, number>;
}

/**
 * The processors' loop: claim up to `batchSize` tasks (stopping early when
 * none is left), hand them to `handle` at once (so one API call serves the
 * whole batch), then settle each through the outbox. When nothing is waiting
 * it backs off with jitter. `stop()` stops claiming and waits for the batch in
 * hand, which is settled as usual.
 */
export class BatchWorker<T extends SettledTask> {
  private readonly o: BatchWorkerOptions<T> & { batchSize: number; idleMinMs: number; idleMaxMs: number; claimGraceMs: number };
  /** Aborted by `stop()`: no new claim starts. */
  private readonly intake = new AbortController();
  /** Aborted `claimGraceMs` after `stop()`: a claim in flight is let finish until then, so its task is handled, not stranded. */
  private readonly claims = new AbortController();
  private loop: Promise<void> | undefined;
  private idleStreak = 0;
  /** Batches handled so far. */
  batches = 0;

  constructor(options: BatchWorkerOptions<T>) {
    const batchSize = options.batchSize ?? 50;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a whole number >= 1, got ${batchSize}`);
    this.o = { ...options, batchSize, idleMinMs: options.idleMinMs ?? 250, idleMaxMs: options.idleMaxMs ?? 5_000, claimGraceMs: options.claimGraceMs ?? 5_000 };
  }

  /** Starts the loop. */
  start(): this {
    this.loop ??= this.run();
    return this;
  }

  /** Claims and handles batches until none is left, then resolves with the number of tasks handled (for `--once` runs and tests). */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const { n, failed } = await this.runOnce();
      total += n;
      if (n === 0 || failed) return total;
    }
  }

  /** Stops claiming; resolves when the batch in hand (with a claim that was in flight) is settled. */
  async stop(): Promise<void> {
    this.intake.abort();
    const grace = setTimeout(() => this.claims.abort(), this.o.claimGraceMs);
    try {
      await this.loop;
    } finally {
      clearTimeout(grace);
    }
  }

  private async run(): Promise<void> {
    while (!this.intake.signal.aborted) {
      let n = 0;
      let failed = false;
      try {
        ({ n, failed } = await this.runOnce());
      } catch (err) {
        this.o.logger?.error({ err, loop: this.o.name }, "batch loop error: backing off");
      }
      if (n > 0 && !failed) {
        this.idleStreak = 0;
        continue;
      }
      this.idleStreak++;
      const ceiling = Math.min(this.o.idleMaxMs, this.o.idleMinMs * 2 ** Math.min(this.idleStreak - 1, 20));
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2), undefined, { signal: this.intake.signal }).catch(() => {});
    }
  }

  /** One batch: claim, handle, settle. Returns how many tasks it held, and whether the handler threw (then the loop backs off). */
  private async runOnce(): Promise<{ n: number; failed: boolean }> {
    const batch: T[] = [];
    while (batch.length < this.o.batchSize && !this.intake.signal.aborted) {
      const task = await this.o.claim(this.claims.signal).catch((err: unknown) => {
        if (this.intake.signal.aborted) return null;
        if (batch.length > 0) {
          this.o.logger?.warn({ err, loop: this.o.name }, "claim failed: handling the batch in hand");
          return null;
        }
        throw err;
      });
      if (!task) break;
      this.o.metrics?.tasksClaimed.inc({ type: task.type });
      batch.push(task);
    }
    if (batch.length === 0) return { n: 0, failed: false };
    let failed = false;
    this.batches++;
    const started = Date.now();
    const spentBefore = this.o.spent?.() ?? {};
    // The handler gets its own signal: a stop lets the batch in hand finish.
    const handling = new AbortController();
    let outcomes: Array<BatchOutcome<T>>;
    try {
      outcomes = await this.o.handle(batch, handling.signal);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.o.logger?.error({ err, loop: this.o.name, tasks: batch.length }, "batch failed: its tasks go back to be retried");
      outcomes = batch.map((task) => ({ task, ok: false, error: message, retryable: true }));
      failed = true;
    }
    const byId = new Map(outcomes.map((o) => [o.task.id, o]));
    const seconds = (Date.now() - started) / 1000;
    await Promise.all(
      batch.map(async (task) => {
        const out = byId.get(task.id) ?? { task, ok: false as const, error: "left out of its batch's outcome", retryable: true };
        this.o.metrics?.taskDuration.observe({ type: task.type, outcome: out.ok ? "completed" : "failed" }, seconds);
        if (!out.ok && !out.retryable) this.o.logger?.warn({ loop: this.o.name, taskId: task.id, taskType: task.type, reason: out.error }, "task failed for good (not retryable)");
        try {
          if (out.ok) await this.o.outbox.complete(task, out.result, { workerId: this.o.workerId });
          else await this.o.outbox.fail(task, out.error, { workerId: this.o.workerId, retryable: out.retryable });
        } catch (err) {
          // Direct mode and the TaskManager is away: the claim times out and the task comes back.
          this.o.logger?.error({ err, taskId: task.id }, "settle failed: the task returns after its claim timeout");
        }
      }),
    );
    if (this.o.logBatches !== false) {
      const ok = batch.filter((task) => byId.get(task.id)?.ok === true).length;
      const spent: Record<string, number> = {};
      for (const [name, after] of Object.entries(this.o.spent?.() ?? {})) spent[name] = after - (spentBefore[name] ?? 0);
      this.o.logger?.info({ loop: this.o.name, claimed: batch.length, ok, failed: batch.length - ok, durationMs: Date.now() - started, ...spent }, "batch done");
    }
    return { n: batch.length, failed };
  }
}

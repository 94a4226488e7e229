import { TaskManagerClient, createWorkerId, type ClaimedTask } from "@prismq/taskmanager-client";
import type { Logger } from "pino";
import type { TaskTypeDef } from "@prismq/task-types";
import { BatchWorker } from "./batch-worker.js";
import { ConfigError } from "./errors.js";
import { startHealthServer, type HealthServer, type ReadinessCheck } from "./health.js";
import { createLogger } from "./logger.js";
import { WorkerMetrics } from "./metrics.js";
import { Runtime } from "./runtime.js";
import { Shutdown } from "./shutdown.js";
import { SourcesError } from "./sources.js";

/** What one discovery run found. */
export interface RunReport {
  /** Items the API listed that the run looked at. */
  listed: number;
  /** Of those, new to this app: a task was created (or queued) for each. */
  sent: number;
  /** API pages read (one request each). */
  pages: number;
  /** True when a newest-first walk stopped at an item it already knew. */
  stoppedAtKnown: boolean;
}

/** What one discovery run ended in: its report, or an error and whether a retry may help. */
export type RunOutcome = { ok: true; report: RunReport } | { ok: false; error: string; retryable: boolean };

/** The variables of `commonEnv`, parsed: what every worker app's config holds. */
export interface AppConfig {
  TASKMANAGER_API_URL: string;
  TASKMANAGER_API_KEY: string;
  REDIS_URL?: string;
  QUEUE_PREFIX: string;
  LOG_LEVEL: string;
  HEALTH_HOST: string;
  HEALTH_PORT: number;
  SHUTDOWN_TIMEOUT_MS: number;
}

/**
 * Loads an app's configuration; a `ConfigError` or `SourcesError` is written
 * to stderr and ends the app with `exit(2)` (the app passes `process.exit`).
 */
export async function loadOrExit<C>(load: () => C | Promise<C>, exit: (code: number) => never): Promise<C> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SourcesError) {
      process.stderr.write(`${err.message}\n`);
      return exit(2);
    }
    throw err;
  }
}

/**
 * Runs an app's `main`; an error it throws ends the app with one line on
 * stderr (the stack) and exit 1. A bad configuration has already exited 2
 * through {@link loadOrExit}.
 */
export function runMain(service: string, main: () => Promise<void>, exit: (code: number) => void = (code) => process.exit(code)): void {
  main().catch((err: unknown) => {
    process.stderr.write(`${service} failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    exit(1);
  });
}

/**
 * The parts every worker app composes, built the same way in each: the root
 * logger, metrics, a worker id, the TaskManager client, the runtime (hybrid or
 * direct mode) and the shutdown (signals installed). The app adds its own
 * work, then `serve()`s health and metrics and lists its closers with
 * `closeInOrder`.
 */
export class WorkerApp {
  readonly logger: Logger;
  readonly metrics: WorkerMetrics;
  readonly workerId: string;
  readonly client: TaskManagerClient;
  readonly runtime: Runtime;
  readonly shutdown: Shutdown;
  private health: HealthServer | undefined;

  constructor(
    readonly service: string,
    private readonly config: AppConfig,
    exit: (code: number) => void,
  ) {
    this.logger = createLogger({ service, level: config.LOG_LEVEL });
    this.metrics = new WorkerMetrics(service);
    this.workerId = createWorkerId(service);
    this.client = new TaskManagerClient({ baseUrl: config.TASKMANAGER_API_URL, apiKey: config.TASKMANAGER_API_KEY, workerId: this.workerId, logger: this.logger });
    this.runtime = new Runtime({ service, client: this.client, logger: this.logger, metrics: this.metrics, redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
    this.shutdown = new Shutdown({ deadlineMs: config.SHUTDOWN_TIMEOUT_MS, logger: this.logger, exit }).install();
  }

  /**
   * A loop that claims discovery tasks of `def` one at a time (none while
   * `paused()`), runs each, and settles it with the run's outcome through the
   * outbox. Started; stop it with `stop()`.
   */
  discoveryLoop<P extends object>(def: TaskTypeDef<P>, run: (params: P, logger: Logger, signal: AbortSignal) => Promise<RunOutcome>, paused: () => boolean | Promise<boolean> = () => false): BatchWorker<ClaimedTask<P>> {
    const { logger, client, workerId } = this;
    return new BatchWorker({
      name: def.name,
      batchSize: 1,
      outbox: this.runtime.outbox,
      workerId,
      logger,
      metrics: this.metrics,
      claim: async (signal) => ((await paused()) ? null : def.claim(client, { workerId, signal, onInvalid: (e) => logger.warn({ taskId: e.task.id, errors: e.errors }, "invalid discovery task failed") })),
      handle: async ([task], signal) => {
        if (!task) return [];
        const outcome = await run(task.params, logger.child({ taskId: task.id, taskType: task.type }), signal);
        return [outcome.ok ? { task, ok: true, result: { ...outcome.report } } : { task, ok: false, error: outcome.error, retryable: outcome.retryable }];
      },
    }).start();
  }

  /** Starts the health and metrics server (`/readyz` also checks the TaskManager) and logs that the app runs. */
  async serve(checks: Record<string, ReadinessCheck> = {}): Promise<HealthServer> {
    this.health = await startHealthServer({
      host: this.config.HEALTH_HOST,
      port: this.config.HEALTH_PORT,
      registry: this.metrics.registry,
      isStopping: () => this.shutdown.stopping,
      checks: { taskmanager: async () => (await this.client.health()).status === "healthy", ...checks },
    });
    this.logger.info({ health: this.health.url, mode: this.runtime.mode }, `${this.service} running`);
    return this.health;
  }

  /**
   * Registers the app's own closers (intake first), followed by what every app
   * has: the runtime (schedules, outbox, Redis), the TaskManager client, the
   * health server.
   */
  closeInOrder(closers: Array<[string, () => Promise<void> | void]>): void {
    for (const [name, close] of closers) this.shutdown.register(name, close);
    this.shutdown
      .register("runtime", () => this.runtime.close())
      .register("taskmanager client", () => this.client.close())
      .register("health server", () => this.health?.close());
  }
}

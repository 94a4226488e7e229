import { TaskManagerClient, TaskManagerError, createWorkerId, type ClaimedTask } from "@prismq/taskmanager-client";
import { helpText, wantsHelp, type EnvShape } from "@prismq/env-help";
import type { Logger } from "pino";
import type { TaskTypeDef } from "@prismq/task-types";
import { WorkerLoop, type WorkerLoopOptions } from "./worker-loop.js";
import { ConfigError, StartupError } from "./errors.js";
import { startHealthServer, type HealthServer, type ReadinessCheck } from "./health.js";
import { createLogger } from "./logger.js";
import { WorkerMetrics } from "./metrics.js";
import { Runtime } from "./runtime.js";
import { Shutdown } from "./shutdown.js";
import { redisPing, safeRedisUrl } from "./redis.js";
import { SourcesError } from "./sources.js";
import { waitForDependency } from "./startup.js";

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
  /** Human-readable logs. Default false. */
  LOG_PRETTY?: boolean;
  /** Start-up wait for dependencies, seconds. Default 60. */
  STARTUP_TIMEOUT_SECONDS?: number;
  /** The TaskManager's claim timeout, seconds: loops heartbeat every third of it. Default 300. */
  TASKMANAGER_CLAIM_TIMEOUT_SECONDS?: number;
}

/**
 * What an app's composition root lends the start helpers: its exit and its
 * output streams. The library never reaches for `process` itself; an app
 * passes `process.exit` and the process's streams.
 */
export interface ProcessIo {
  /** Ends the process with `code`. */
  exit(code: number): never;
  /** Writes `text` to standard output. */
  stdout(text: string): void;
  /** Writes `text` to standard error. */
  stderr(text: string): void;
}

/**
 * Answers `--help` (or `-h`) in `argv`: writes the service's help, generated
 * from its config shape (every variable, its default and meaning), to
 * `io.stdout` and exits 0. Without it, returns and the app starts.
 */
export function exitOnHelp(argv: readonly string[], service: string, summary: string, shape: EnvShape, io: Pick<ProcessIo, "exit" | "stdout">): void {
  if (!wantsHelp(argv)) return;
  io.stdout(
    helpText(shape, {
      service,
      summary,
      footer:
        "Endpoints on HEALTH_HOST:HEALTH_PORT: GET /healthz (alive), GET /readyz (every dependency of the mode reachable), GET /metrics (Prometheus).\n" +
        "Exit codes: 0 stopped cleanly, 1 could not start or stop in time, 2 bad configuration.",
    }),
  );
  io.exit(0);
}

/**
 * Loads an app's configuration; a `ConfigError` or `SourcesError` is written
 * to `io.stderr` and ends the app with `io.exit(2)`.
 */
export async function loadOrExit<C>(load: () => C | Promise<C>, io: Pick<ProcessIo, "exit" | "stderr">): Promise<C> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SourcesError) {
      io.stderr(`${err.message}\n`);
      return io.exit(2);
    }
    throw err;
  }
}

/**
 * Runs an app's `main`; an error it throws ends the app with exit 1: a
 * {@link StartupError} (a dependency unreachable until the deadline, a wrong
 * key) as one line on `io.stderr`, anything else with its stack. A bad
 * configuration has already exited 2 through {@link loadOrExit}.
 */
export function runMain(service: string, main: () => Promise<void>, io: Pick<ProcessIo, "stderr"> & { exit(code: number): void }): void {
  main().catch((err: unknown) => {
    const text = err instanceof StartupError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.stderr(`${service} failed to start: ${text}\n`);
    io.exit(1);
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
  /** When start-up stops waiting for dependencies, ms since the epoch. */
  readonly startDeadline: number;
  private health: HealthServer | undefined;
  private readonly checks: Record<string, ReadinessCheck> = {};

  constructor(
    readonly service: string,
    private readonly config: AppConfig,
    exit: (code: number) => void,
  ) {
    this.startDeadline = Date.now() + (config.STARTUP_TIMEOUT_SECONDS ?? 60) * 1000;
    this.logger = createLogger({ service, level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
    this.metrics = new WorkerMetrics(service);
    this.workerId = createWorkerId(service);
    const latency = this.metrics.externalRequestDuration;
    this.client = new TaskManagerClient({
      baseUrl: config.TASKMANAGER_API_URL,
      apiKey: config.TASKMANAGER_API_KEY,
      workerId: this.workerId,
      logger: this.logger,
      onRequest: (r) => latency.observe({ api: "taskmanager", method: `${r.method} ${r.route}`, outcome: r.status >= 200 && r.status < 300 ? "ok" : "error" }, r.durationMs / 1000),
    });
    this.runtime = new Runtime({ service, client: this.client, logger: this.logger, metrics: this.metrics, redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
    this.shutdown = new Shutdown({ deadlineMs: config.SHUTDOWN_TIMEOUT_MS, logger: this.logger, exit }).install();
    this.checks.taskmanager = async () => (await this.client.health()).status === "healthy";
    if (this.runtime.redis) this.checks.redis = () => this.runtime.redisReady();
  }

  /**
   * Waits for what every app needs before it starts work: the TaskManager
   * (reachable, and accepting the key: a 401 is fatal at once) and, in hybrid
   * mode, Redis. Backs off between tries, logs one line per dependency, and
   * throws a {@link StartupError} once `STARTUP_TIMEOUT_SECONDS` have passed.
   */
  async ready(): Promise<void> {
    // A client without retries of its own: the wait's backoff is the only one, and each try's error is its own.
    const client = new TaskManagerClient({ baseUrl: this.config.TASKMANAGER_API_URL, apiKey: this.config.TASKMANAGER_API_KEY, workerId: this.workerId, retry: false, timeoutMs: 5_000 });
    try {
      await this.dependency(
        "taskmanager",
        async (signal) => {
          const health = await client.health({ signal });
          if (health.status !== "healthy") throw new Error(`health says ${health.status} (database ${health.database})`);
          // An authenticated read: a wrong key shows here (a type that does not exist answers null).
          await client.getTaskType("PrismQ.Startup.KeyCheck", { signal });
        },
        (err) =>
          err instanceof TaskManagerError && err.code === "TM_ERR_AUTH"
            ? `the TaskManager at ${this.config.TASKMANAGER_API_URL} refused TASKMANAGER_API_KEY (${err.status ?? 401}): set the key it accepts`
            : undefined,
      );
    } finally {
      await client.close();
    }
    const url = this.config.REDIS_URL;
    if (url) {
      await this.dependency("redis", async () => {
        try {
          await redisPing(url, 2_000);
        } catch (err) {
          throw new Error(`${safeRedisUrl(url)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
      });
    }
  }

  /**
   * Waits for one more dependency of the app (the idea store) the same way:
   * tries `open` with backoff until the start-up deadline and answers what it
   * gives. `fatal` may name errors that waiting cannot mend. When `check` is
   * given, `/readyz` runs it too, under `name`.
   */
  async dependency<T>(name: string, open: (signal: AbortSignal) => Promise<T>, fatal?: (err: unknown) => string | undefined, check?: ReadinessCheck): Promise<T> {
    const value = await waitForDependency(name, open, { deadline: this.startDeadline, logger: this.logger, fatal });
    if (check) this.checks[name] = check;
    return value;
  }

  /**
   * The app's {@link WorkerLoop}, wired as every app's: this app's client,
   * worker id, outbox, logger and metrics; heartbeats every third of
   * `TASKMANAGER_CLAIM_TIMEOUT_SECONDS`; work in hand is handed back when half
   * of `SHUTDOWN_TIMEOUT_MS` has passed, leaving the rest of the stop to the
   * outbox and pools. Not started.
   */
  loop<T extends ClaimedTask<unknown>>(options: Omit<WorkerLoopOptions<T>, "client" | "workerId" | "outbox" | "logger" | "metrics">): WorkerLoop<T> {
    return new WorkerLoop<T>({
      claimTimeoutMs: (this.config.TASKMANAGER_CLAIM_TIMEOUT_SECONDS ?? 300) * 1000,
      shutdownDeadlineMs: Math.floor(this.config.SHUTDOWN_TIMEOUT_MS / 2),
      ...options,
      client: this.client,
      workerId: this.workerId,
      outbox: this.runtime.outbox,
      logger: this.logger,
      metrics: this.metrics,
    });
  }

  /**
   * A loop that claims discovery tasks of `def` (none while `paused()`), runs
   * each (up to `concurrency` at once), and settles it with the run's outcome
   * through the outbox. `run` gets the task's priority, for the tasks it creates. Started; stop it with `stop()`.
   */
  discoveryLoop<P extends object>(
    def: TaskTypeDef<P>,
    run: (params: P, logger: Logger, signal: AbortSignal, priority: number) => Promise<RunOutcome>,
    paused: () => boolean | Promise<boolean> = () => false,
    concurrency = 1,
  ): WorkerLoop<ClaimedTask<P>> {
    const { logger, client, workerId } = this;
    return this.loop<ClaimedTask<P>>({
      name: def.name,
      batchSize: 1,
      concurrency,
      // Each run logs its own report line.
      logBatches: false,
      claim: async (signal) => ((await paused()) ? null : def.claim(client, { workerId, signal, onInvalid: (e) => logger.warn({ taskId: e.task.id, errors: e.errors }, "invalid discovery task failed") })),
      handle: async ([task], signal) => {
        if (!task) return [];
        const outcome = await run(task.params, logger.child({ taskId: task.id, taskType: task.type }), signal, task.priority);
        return [outcome.ok ? { task, ok: true, result: { ...outcome.report } } : { task, ok: false, error: outcome.error, retryable: outcome.retryable }];
      },
    }).start();
  }

  /**
   * Starts the health and metrics server and logs that the app runs. `/readyz`
   * checks every dependency of the mode: the TaskManager, Redis (hybrid mode),
   * those given to `dependency()` with a check, and `checks`.
   */
  async serve(checks: Record<string, ReadinessCheck> = {}): Promise<HealthServer> {
    this.health = await startHealthServer({
      host: this.config.HEALTH_HOST,
      port: this.config.HEALTH_PORT,
      registry: this.metrics.registry,
      isStopping: () => this.shutdown.stopping,
      checks: { ...this.checks, ...checks },
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

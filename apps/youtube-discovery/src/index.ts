#!/usr/bin/env node
// Composition root of youtube-discovery: the only place that reads the environment and exits.
import { TaskManagerClient, createWorkerId } from "@prismq/taskmanager-client";
import { YouTube, registerAll } from "@prismq/task-types";
import {
  BatchWorker,
  ConfigError,
  SourcesError,
  Runtime,
  Shutdown,
  WorkerMetrics,
  createLogger,
  startHealthServer,
} from "@prismq/worker-kit";
import { DEFAULT_DAILY_QUOTA, QUOTA_TIME_ZONE, YouTubeApi } from "@prismq/youtube-source";
import { loadConfig, type Config } from "./config.js";
import { YouTubeDiscovery } from "./discovery.js";
import { QuotaGate, runSource } from "./run.js";
import { loadSources, type Source } from "./sources.js";

const SERVICE = "youtube-discovery";

async function main(): Promise<void> {
  let config: Config;
  let sources: Source[] = [];
  try {
    config = loadConfig(process.env);
    if (config.YOUTUBE_SOURCES) sources = await loadSources(config.YOUTUBE_SOURCES);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof SourcesError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ service: SERVICE, level: config.LOG_LEVEL });
  const metrics = new WorkerMetrics(SERVICE);
  const workerId = createWorkerId(SERVICE);
  const client = new TaskManagerClient({ baseUrl: config.TASKMANAGER_API_URL, apiKey: config.TASKMANAGER_API_KEY, workerId, logger });
  const runtime = new Runtime({ service: SERVICE, client, logger, metrics, redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX });
  const shutdown = new Shutdown({ deadlineMs: config.SHUTDOWN_TIMEOUT_MS, logger, exit: (code) => process.exit(code) });
  shutdown.install();

  const registered = await registerAll(client);
  logger.info(registered, "task types registered");

  const budget = runtime.budget({ name: "youtube-quota", limit: config.YOUTUBE_DAILY_QUOTA ?? DEFAULT_DAILY_QUOTA, window: { kind: "daily", timeZone: QUOTA_TIME_ZONE } });
  const api = new YouTubeApi({ apiKey: config.YOUTUBE_API_KEY, rootUrl: config.YOUTUBE_API_ROOT_URL, budget, metrics, logger });
  const discovery = new YouTubeDiscovery({ api, outbox: runtime.outbox, state: runtime.state(config.DATA_DIR), logger, metrics });
  const gate = new QuotaGate(logger);

  const schedules = await runtime.startSchedules(
    sources.map((s) => s.schedule),
    async (id) => {
      const source = sources.find((s) => s.id === id);
      if (source) await runSource(discovery, gate, source.kind, source.params, logger.child({ source: id }));
    },
  );
  logger.info({ sources: sources.length }, sources.length ? "sources scheduled" : "no YOUTUBE_SOURCES: running claimed discovery tasks only");

  // Discovery requests created by other apps and operators: one loop per type, paused while the quota is spent.
  const loops = [
    [YouTube.Channel, "channel"],
    [YouTube.Search, "search"],
    [YouTube.MostPopular, "most_popular"],
  ] as const;
  const workers = loops.map(
    ([def, kind]) =>
      new BatchWorker({
        name: def.name,
        batchSize: 1,
        outbox: runtime.outbox,
        workerId,
        logger,
        metrics,
        claim: async (signal) => (gate.paused() ? null : def.claim(client, { workerId, signal, onInvalid: (e) => logger.warn({ taskId: e.task.id, errors: e.errors }, "invalid discovery task failed") })),
        handle: async ([task], signal) => {
          if (!task) return [];
          const log = logger.child({ taskId: task.id, taskType: task.type });
          const outcome = await runSource(discovery, gate, kind, task.params, log, signal);
          return [outcome.ok ? { task, ok: true, result: { ...outcome.report } } : { task, ok: false, error: outcome.error, retryable: outcome.retryable }];
        },
      }).start(),
  );

  const health = await startHealthServer({
    host: config.HEALTH_HOST,
    port: config.HEALTH_PORT,
    registry: metrics.registry,
    isStopping: () => shutdown.stopping,
    checks: { taskmanager: async () => (await client.health()).status === "healthy" },
  });
  logger.info({ health: health.url, mode: runtime.mode }, `${SERVICE} running`);

  shutdown
    .register("schedules", () => schedules.close())
    .register("discovery workers", async () => void (await Promise.all(workers.map((w) => w.stop()))))
    .register("runtime", () => runtime.close())
    .register("taskmanager client", () => client.close())
    .register("health server", () => health.close());
}

main().catch((err: unknown) => {
  process.stderr.write(`${SERVICE} failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

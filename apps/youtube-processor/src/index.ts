#!/usr/bin/env node
// Composition root of youtube-processor: the only place that reads the environment and exits.
import { openIdeaStore } from "@prismq/idea-store";
import { TaskManagerClient, createWorkerId } from "@prismq/taskmanager-client";
import { YouTube, registerAll } from "@prismq/task-types";
import { BatchWorker, ConfigError, Runtime, Shutdown, WorkerMetrics, createLogger, startHealthServer } from "@prismq/worker-kit";
import { QUOTA_TIME_ZONE, YouTubeApi } from "@prismq/youtube-source";
import { loadConfig, type Config } from "./config.js";
import { YouTubeProcessor } from "./processor.js";

const SERVICE = "youtube-processor";

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
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

  await registerAll(client);
  const ideas = await openIdeaStore({ url: config.IDEA_DATABASE_URL, dataDir: config.DATA_DIR });
  const budget = runtime.budget({ name: "youtube-quota", limit: config.YOUTUBE_DAILY_QUOTA, window: { kind: "daily", timeZone: QUOTA_TIME_ZONE } });
  const api = new YouTubeApi({ apiKey: config.YOUTUBE_API_KEY, rootUrl: config.YOUTUBE_API_ROOT_URL, budget, metrics, logger });
  const processor = new YouTubeProcessor({
    api,
    ideas,
    outbox: runtime.outbox,
    logger,
    commentsPerVideo: config.YOUTUBE_COMMENTS_PER_VIDEO,
    crossModule: config.CROSS_MODULE,
  });

  let quotaLogged = false;
  const worker = new BatchWorker({
    name: YouTube.Video.name,
    batchSize: config.BATCH_SIZE,
    outbox: runtime.outbox,
    workerId,
    logger,
    metrics,
    // A batch needs one unit: while the day's quota is spent, claim nothing, so no task burns an attempt.
    claim: async (signal) => {
      const quota = await budget.state();
      if (quota.remaining < 1) {
        if (!quotaLogged) logger.warn({ resetAt: new Date(quota.resetAt).toISOString() }, "YouTube quota spent: processing paused until the quota day ends");
        quotaLogged = true;
        return null;
      }
      quotaLogged = false;
      return YouTube.Video.claim(client, { workerId, signal, onInvalid: (e) => logger.warn({ taskId: e.task.id, errors: e.errors }, "invalid video task failed") });
    },
    handle: (batch, signal) => processor.handle(batch, signal),
  }).start();

  const health = await startHealthServer({
    host: config.HEALTH_HOST,
    port: config.HEALTH_PORT,
    registry: metrics.registry,
    isStopping: () => shutdown.stopping,
    checks: { taskmanager: async () => (await client.health()).status === "healthy", ideas: async () => (await ideas.count()) >= 0 },
  });
  logger.info({ health: health.url, mode: runtime.mode }, `${SERVICE} running`);

  shutdown
    .register("video worker", () => worker.stop())
    .register("runtime", () => runtime.close())
    .register("idea store", () => ideas.close())
    .register("taskmanager client", () => client.close())
    .register("health server", () => health.close());
}

main().catch((err: unknown) => {
  process.stderr.write(`${SERVICE} failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

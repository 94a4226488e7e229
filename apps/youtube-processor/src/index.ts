#!/usr/bin/env node
// Composition root of youtube-processor: the only place that reads the environment and exits.
import { IdeaStoreError, openIdeaStore, type IdeaStore } from "@prismq/idea-store";
import { YouTube, registerAll } from "@prismq/task-types";
import { WorkerApp, exitOnHelp, loadOrExit, runMain } from "@prismq/worker-kit";
import { QUOTA_TIME_ZONE, YouTubeApi } from "@prismq/youtube-source";
import { SUMMARY, loadConfig, shape } from "./config.js";
import { YouTubeProcessor, type VideoTask } from "./processor.js";

const SERVICE = "youtube-processor";
const exit = (code: number): never => process.exit(code);

async function main(): Promise<void> {
  exitOnHelp(process.argv.slice(2), SERVICE, SUMMARY, shape, exit);
  const config = await loadOrExit(() => loadConfig(process.env), exit);
  const app = new WorkerApp(SERVICE, config, exit);
  const { logger, metrics, client, runtime, workerId } = app;

  await app.ready();
  await registerAll(client);
  const ideas: IdeaStore = await app.dependency(
    "ideas",
    () => openIdeaStore({ url: config.IDEA_DATABASE_URL, dataDir: config.DATA_DIR }),
    (err) => (err instanceof IdeaStoreError && err.code === "IDEA_ERR_CONFIG" ? `IDEA_DATABASE_URL: ${err.message}` : undefined),
    async (): Promise<boolean> => (await ideas.count()) >= 0,
  );
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
  const worker = app.loop<VideoTask>({
    name: YouTube.Video.name,
    batchSize: config.BATCH_SIZE,
    // A batch needs one unit: while the day's quota is spent, claim nothing, so no task burns an attempt.
    claim: async (signal) => {
      // A refused API key (logged once by the processor) will not work until it is fixed: claim nothing.
      if (processor.keyRefused) return null;
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
    spent: () => ({ quotaUnits: api.unitsSpent }),
  }).start();

  await app.serve();
  app.closeInOrder([
    ["video worker", () => worker.stop()],
    ["idea store", () => ideas.close()],
  ]);
}

runMain(SERVICE, main);

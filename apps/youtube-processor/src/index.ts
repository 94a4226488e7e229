#!/usr/bin/env node
// Composition root of youtube-processor: the only place that reads the environment and exits.
import { IdeaStoreError, openIdeaStore, type IdeaStore } from "@prismq/idea-store";
import { YouTube, registerAll } from "@prismq/task-types";
import { WorkerApp, claimOrder, exitOnHelp, loadOrExit, platformTaskTypes, runMain, type ProcessIo } from "@prismq/worker-kit";
import { platform } from "@prismq/youtube-source";
import { SUMMARY, loadConfig, shape } from "./config.js";
import { YouTubeProcessor, type VideoTask } from "./processor.js";

const SERVICE = "youtube-processor";
// The process's exit and streams, lent to the start helpers: the library never touches `process` itself.
const io: ProcessIo = { exit: (code) => process.exit(code), stdout: (text) => void process.stdout.write(text), stderr: (text) => void process.stderr.write(text) };

async function main(): Promise<void> {
  exitOnHelp(process.argv.slice(2), SERVICE, SUMMARY, shape, io);
  const config = await loadOrExit(() => loadConfig(process.env), io);
  const app = new WorkerApp(SERVICE, config, io.exit);
  const { logger, metrics, client, runtime, workerId } = app;

  await app.ready();
  await registerAll(client, platformTaskTypes(platform));
  // Highest priority first where the server keeps priorities, oldest first on the hosted service (said once in the log).
  const strategy = await claimOrder(client, logger);
  const ideas: IdeaStore = await app.dependency(
    "ideas",
    () => openIdeaStore({ url: config.IDEA_DATABASE_URL, dataDir: config.DATA_DIR }),
    (err) => (err instanceof IdeaStoreError && err.code === "IDEA_ERR_CONFIG" ? `IDEA_DATABASE_URL: ${err.message}` : undefined),
    async (): Promise<boolean> => (await ideas.count()) >= 0,
  );
  const budget = runtime.budget(platform.budget(config));
  const api = await platform.createApi(config, { budget, metrics, logger });
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
      return YouTube.Video.claim(client, { workerId, signal, strategy, onInvalid: (e) => logger.warn({ taskId: e.task.id, errors: e.errors }, "invalid video task failed") });
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

runMain(SERVICE, main, io);

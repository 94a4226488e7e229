#!/usr/bin/env node
// Composition root of youtube-processor: the only place that reads the environment and exits.
import { YouTube } from "@prismq/task-types";
import { launchProcessor } from "@prismq/worker-kit";
import { platform } from "@prismq/youtube-source";
import { spec } from "./config.js";
import { YouTubeProcessor, type VideoTask } from "./processor.js";

const host = { argv: process.argv.slice(2), env: process.env, exit: (code: number) => process.exit(code), stdout: process.stdout, stderr: process.stderr };
launchProcessor(spec, host, async ({ app, config, budget, ideas, strategy }) => {
  const { logger, metrics, client, runtime, workerId } = app;
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
    // One claim request per batch where the server offers batch claims (single claims on the hosted one).
    claimBatch: async (limit, signal) => {
      // A refused API key (logged once by the processor) will not work until it is fixed: claim nothing.
      if (processor.keyRefused) return [];
      const quota = await budget.state();
      if (quota.remaining < 1) {
        if (!quotaLogged) logger.warn({ resetAt: new Date(quota.resetAt).toISOString() }, "YouTube quota spent: processing paused until the quota day ends");
        quotaLogged = true;
        return [];
      }
      quotaLogged = false;
      return YouTube.Video.claimBatch(client, { workerId, signal, strategy, limit, onInvalid: (e) => logger.warn({ taskId: e.task.id, errors: e.errors }, "invalid video task failed") });
    },
    handle: (batch, signal) => processor.handle(batch, signal),
    spent: () => ({ quotaUnits: api.unitsSpent }),
  }).start();

  return [["video worker", () => worker.stop()]];
});

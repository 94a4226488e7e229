#!/usr/bin/env node
// Composition root of reddit-processor: the only place that reads the environment and exits.
import { Reddit } from "@prismq/task-types";
import { launchProcessor } from "@prismq/worker-kit";
import { platform, redditStartFailure } from "@prismq/reddit-source";
import { spec } from "./config.js";
import { RedditProcessor, type PostTask } from "./processor.js";

const host = { argv: process.argv.slice(2), env: process.env, exit: (code: number) => process.exit(code), stdout: process.stdout, stderr: process.stderr };
launchProcessor(spec, host, async ({ app, config, budget, ideas, strategy }) => {
  const { logger, metrics, client, runtime, workerId } = app;
  // Signing in to Reddit is waited for like any dependency; refused credentials end the start at once.
  const api = await app.dependency("reddit", () => platform.createApi(config, { budget, metrics, logger }), redditStartFailure);
  const processor = new RedditProcessor({
    api,
    ideas,
    outbox: runtime.outbox,
    logger,
    commentsPerPost: config.REDDIT_COMMENTS_PER_POST,
    commentDepth: config.REDDIT_COMMENT_DEPTH,
    crossModule: config.CROSS_MODULE,
  });
  const worker = app.loop<PostTask>({
    name: Reddit.Post.name,
    batchSize: config.BATCH_SIZE,
    // One claim request per batch where the server offers batch claims (single claims on the hosted one).
    claimBatch: (limit, signal) => Reddit.Post.claimBatch(client, { workerId, signal, strategy, limit, onInvalid: (e) => logger.warn({ taskId: e.task.id, errors: e.errors }, "invalid post task failed") }),
    handle: (batch, signal) => processor.handle(batch, signal),
    spent: () => ({ requests: api.requests }),
  }).start();

  return [["post worker", () => worker.stop()]];
});

#!/usr/bin/env node
// Composition root of reddit-processor: the only place that reads the environment and exits.
import { openIdeaStore } from "@prismq/idea-store";
import { Reddit, registerAll } from "@prismq/task-types";
import { BatchWorker, WorkerApp, loadOrExit, runMain } from "@prismq/worker-kit";
import { RedditApi, clientOptions, connectReddit, redditBudget } from "@prismq/reddit-source";
import { loadConfig } from "./config.js";
import { RedditProcessor } from "./processor.js";

const SERVICE = "reddit-processor";
const exit = (code: number): never => process.exit(code);

async function main(): Promise<void> {
  const config = await loadOrExit(() => {
    const c = loadConfig(process.env);
    clientOptions(c); // a username without its password stops here, with the other config errors' exit code
    return c;
  }, exit);
  const app = new WorkerApp(SERVICE, config, exit);
  const { logger, metrics, client, runtime, workerId } = app;

  await registerAll(client);
  const ideas = await openIdeaStore({ url: config.IDEA_DATABASE_URL, dataDir: config.DATA_DIR });
  const api = new RedditApi({ client: await connectReddit(config), budget: redditBudget(runtime, config), metrics, logger });
  const processor = new RedditProcessor({
    api,
    ideas,
    outbox: runtime.outbox,
    logger,
    commentsPerPost: config.REDDIT_COMMENTS_PER_POST,
    commentDepth: config.REDDIT_COMMENT_DEPTH,
    crossModule: config.CROSS_MODULE,
  });
  const worker = new BatchWorker({
    name: Reddit.Post.name,
    batchSize: config.BATCH_SIZE,
    outbox: runtime.outbox,
    workerId,
    logger,
    metrics,
    claim: (signal) => Reddit.Post.claim(client, { workerId, signal, onInvalid: (e) => logger.warn({ taskId: e.task.id, errors: e.errors }, "invalid post task failed") }),
    handle: (batch, signal) => processor.handle(batch, signal),
  }).start();

  await app.serve({ ideas: async () => (await ideas.count()) >= 0 });
  app.closeInOrder([
    ["post worker", () => worker.stop()],
    ["idea store", () => ideas.close()],
  ]);
}

runMain(SERVICE, main);

#!/usr/bin/env node
// Composition root of reddit-processor: the only place that reads the environment and exits.
import { IdeaStoreError, openIdeaStore, type IdeaStore } from "@prismq/idea-store";
import { Reddit, registerAll } from "@prismq/task-types";
import { WorkerApp, claimOrder, exitOnHelp, loadOrExit, platformTaskTypes, runMain, type ProcessIo } from "@prismq/worker-kit";
import { RedditError, clientOptions, platform } from "@prismq/reddit-source";
import { SUMMARY, loadConfig, shape } from "./config.js";
import { RedditProcessor, type PostTask } from "./processor.js";

const SERVICE = "reddit-processor";
// The process's exit and streams, lent to the start helpers: the library never touches `process` itself.
const io: ProcessIo = { exit: (code) => process.exit(code), stdout: (text) => void process.stdout.write(text), stderr: (text) => void process.stderr.write(text) };

async function main(): Promise<void> {
  exitOnHelp(process.argv.slice(2), SERVICE, SUMMARY, shape, io);
  const config = await loadOrExit(() => {
    const c = loadConfig(process.env);
    clientOptions(c); // a username without its password stops here, with the other config errors' exit code
    return c;
  }, io);
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
  // Signing in to Reddit is waited for like any dependency; refused credentials end the start at once.
  const budget = runtime.budget(platform.budget(config));
  const api = await app.dependency("reddit", () => platform.createApi(config, { budget, metrics, logger }), (err) => (err instanceof RedditError && !err.retryable ? err.message : undefined));
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
    claim: (signal) => Reddit.Post.claim(client, { workerId, signal, strategy, onInvalid: (e) => logger.warn({ taskId: e.task.id, errors: e.errors }, "invalid post task failed") }),
    handle: (batch, signal) => processor.handle(batch, signal),
    spent: () => ({ requests: api.requests }),
  }).start();

  await app.serve();
  app.closeInOrder([
    ["post worker", () => worker.stop()],
    ["idea store", () => ideas.close()],
  ]);
}

runMain(SERVICE, main, io);

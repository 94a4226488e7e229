#!/usr/bin/env node
// Composition root of reddit-discovery: the only place that reads the environment and exits.
import { Reddit, registerAll } from "@prismq/task-types";
import { WorkerApp, exitOnHelp, loadOrExit, platformTaskTypes, runMain, type ProcessIo } from "@prismq/worker-kit";
import { RedditError, clientOptions, platform } from "@prismq/reddit-source";
import { SUMMARY, loadConfig, shape } from "./config.js";
import { RedditDiscovery } from "./discovery.js";
import { runSource } from "./run.js";
import { loadSources } from "./sources.js";

const SERVICE = "reddit-discovery";
// The process's exit and streams, lent to the start helpers: the library never touches `process` itself.
const io: ProcessIo = { exit: (code) => process.exit(code), stdout: (text) => void process.stdout.write(text), stderr: (text) => void process.stderr.write(text) };

async function main(): Promise<void> {
  exitOnHelp(process.argv.slice(2), SERVICE, SUMMARY, shape, io);
  const config = await loadOrExit(() => {
    const c = loadConfig(process.env);
    clientOptions(c); // a username without its password stops here, with the other config errors' exit code
    return c;
  }, io);
  const sources = await loadOrExit(async () => (config.REDDIT_SOURCES ? loadSources(config.REDDIT_SOURCES) : []), io);
  const app = new WorkerApp(SERVICE, config, io.exit);
  const { logger, metrics, client, runtime } = app;

  await app.ready();
  await registerAll(client, platformTaskTypes(platform));
  // Signing in to Reddit is waited for like any dependency; refused credentials end the start at once.
  const budget = runtime.budget(platform.budget(config));
  const api = await app.dependency("reddit", () => platform.createApi(config, { budget, metrics, logger }), (err) => (err instanceof RedditError && !err.retryable ? err.message : undefined));
  const discovery = new RedditDiscovery({ api, outbox: runtime.outbox, state: runtime.state(config.DATA_DIR), logger, metrics, defaultLimit: config.DEFAULT_LIMIT });

  const schedules = await runtime.startSchedules(
    sources.map((s) => s.schedule),
    async (id) => {
      const source = sources.find((s) => s.id === id);
      if (source) await runSource(discovery, source, logger.child({ source: id }));
    },
  );
  logger.info({ sources: sources.length }, sources.length ? "sources scheduled" : "no REDDIT_SOURCES: running claimed discovery tasks only");

  // Discovery requests created by other apps (the YouTube processor's searches) and operators.
  const workers = [
    app.discoveryLoop(Reddit.Subreddit, (params, log, signal, priority) => runSource(discovery, { kind: "subreddit", params, priority }, log, signal)),
    app.discoveryLoop(Reddit.Search, (params, log, signal, priority) => runSource(discovery, { kind: "search", params, priority }, log, signal)),
  ];

  await app.serve();
  app.closeInOrder([
    ["schedules", () => schedules.close()],
    ["discovery workers", async () => void (await Promise.all(workers.map((w) => w.stop())))],
  ]);
}

runMain(SERVICE, main, io);

#!/usr/bin/env node
// Composition root of reddit-discovery: the only place that reads the environment and exits.
import { Reddit } from "@prismq/task-types";
import { launchWorkerApp } from "@prismq/worker-kit";
import { platform, redditStartFailure } from "@prismq/reddit-source";
import { spec } from "./config.js";
import { RedditDiscovery } from "./discovery.js";
import { runSource } from "./run.js";

const host = { argv: process.argv.slice(2), env: process.env, exit: (code: number) => process.exit(code), stdout: process.stdout, stderr: process.stderr };
launchWorkerApp(spec, host, async ({ app, config, prepared: sources, budget }) => {
  const { logger, metrics, runtime } = app;
  // Signing in to Reddit is waited for like any dependency; refused credentials end the start at once.
  const api = await app.dependency("reddit", () => platform.createApi(config, { budget, metrics, logger }), redditStartFailure);
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

  return [
    ["schedules", () => schedules.close()],
    ["discovery workers", async () => void (await Promise.all(workers.map((w) => w.stop())))],
  ];
});

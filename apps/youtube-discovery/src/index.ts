#!/usr/bin/env node
// Composition root of youtube-discovery: the only place that reads the environment and exits.
import { YouTube } from "@prismq/task-types";
import { launchWorkerApp } from "@prismq/worker-kit";
import { platform } from "@prismq/youtube-source";
import { spec } from "./config.js";
import { YouTubeDiscovery } from "./discovery.js";
import { QuotaGate, runSource } from "./run.js";

const host = { argv: process.argv.slice(2), env: process.env, exit: (code: number) => process.exit(code), stdout: process.stdout, stderr: process.stderr };
launchWorkerApp(spec, host, async ({ app, config, prepared: sources, budget, registered }) => {
  const { logger, metrics, runtime } = app;
  logger.info(registered, "task types registered");
  const api = await platform.createApi(config, { budget, metrics, logger });
  const discovery = new YouTubeDiscovery({ api, outbox: runtime.outbox, state: runtime.state(config.DATA_DIR), logger, metrics });
  const gate = new QuotaGate(logger, budget);

  const schedules = await runtime.startSchedules(
    sources.map((s) => s.schedule),
    async (id) => {
      const source = sources.find((s) => s.id === id);
      if (source) await runSource(discovery, gate, source, logger.child({ source: id }));
    },
  );
  logger.info({ sources: sources.length }, sources.length ? "sources scheduled" : "no YOUTUBE_SOURCES: running claimed discovery tasks only");

  // Discovery requests created by other apps and operators: one loop per type, running DISCOVERY_CONCURRENCY at once, paused while the quota is spent.
  const workers = [
    app.discoveryLoop(YouTube.Channel, (params, log, signal, priority) => runSource(discovery, gate, { kind: "channel", params, priority }, log, signal), () => gate.paused(), config.DISCOVERY_CONCURRENCY),
    app.discoveryLoop(YouTube.Search, (params, log, signal, priority) => runSource(discovery, gate, { kind: "search", params, priority }, log, signal), () => gate.paused(), config.DISCOVERY_CONCURRENCY),
    app.discoveryLoop(YouTube.MostPopular, (params, log, signal, priority) => runSource(discovery, gate, { kind: "most_popular", params, priority }, log, signal), () => gate.paused(), config.DISCOVERY_CONCURRENCY),
  ];

  return [
    ["schedules", () => schedules.close()],
    ["discovery workers", async () => void (await Promise.all(workers.map((w) => w.stop())))],
  ];
});

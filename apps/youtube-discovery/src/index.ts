#!/usr/bin/env node
// Composition root of youtube-discovery: the only place that reads the environment and exits.
import { YouTube, registerAll } from "@prismq/task-types";
import { WorkerApp, exitOnHelp, loadOrExit, runMain } from "@prismq/worker-kit";
import { QUOTA_TIME_ZONE, YouTubeApi } from "@prismq/youtube-source";
import { SUMMARY, loadConfig, shape } from "./config.js";
import { YouTubeDiscovery } from "./discovery.js";
import { QuotaGate, runSource } from "./run.js";
import { loadSources } from "./sources.js";

const SERVICE = "youtube-discovery";
const exit = (code: number): never => process.exit(code);

async function main(): Promise<void> {
  exitOnHelp(process.argv.slice(2), SERVICE, SUMMARY, shape, exit);
  const config = await loadOrExit(() => loadConfig(process.env), exit);
  const sources = await loadOrExit(async () => (config.YOUTUBE_SOURCES ? loadSources(config.YOUTUBE_SOURCES) : []), exit);
  const app = new WorkerApp(SERVICE, config, exit);
  const { logger, metrics, client, runtime } = app;

  await app.ready();
  logger.info(await registerAll(client), "task types registered");
  const budget = runtime.budget({ name: "youtube-quota", limit: config.YOUTUBE_DAILY_QUOTA, window: { kind: "daily", timeZone: QUOTA_TIME_ZONE } });
  const api = new YouTubeApi({ apiKey: config.YOUTUBE_API_KEY, rootUrl: config.YOUTUBE_API_ROOT_URL, budget, metrics, logger });
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
    app.discoveryLoop(YouTube.Channel, (params, log, signal) => runSource(discovery, gate, { kind: "channel", params }, log, signal), () => gate.paused(), config.DISCOVERY_CONCURRENCY),
    app.discoveryLoop(YouTube.Search, (params, log, signal) => runSource(discovery, gate, { kind: "search", params }, log, signal), () => gate.paused(), config.DISCOVERY_CONCURRENCY),
    app.discoveryLoop(YouTube.MostPopular, (params, log, signal) => runSource(discovery, gate, { kind: "most_popular", params }, log, signal), () => gate.paused(), config.DISCOVERY_CONCURRENCY),
  ];

  await app.serve();
  app.closeInOrder([
    ["schedules", () => schedules.close()],
    ["discovery workers", async () => void (await Promise.all(workers.map((w) => w.stop())))],
  ]);
}

runMain(SERVICE, main);

#!/usr/bin/env node
// Composition root of youtube-discovery: the only place that reads the environment and exits.
import { YouTube, registerAll } from "@prismq/task-types";
import { WorkerApp, exitOnHelp, loadOrExit, platformTaskTypes, runMain, type ProcessIo } from "@prismq/worker-kit";
import { platform } from "@prismq/youtube-source";
import { SUMMARY, loadConfig, shape } from "./config.js";
import { YouTubeDiscovery } from "./discovery.js";
import { QuotaGate, runSource } from "./run.js";
import { loadSources } from "./sources.js";

const SERVICE = "youtube-discovery";
// The process's exit and streams, lent to the start helpers: the library never touches `process` itself.
const io: ProcessIo = { exit: (code) => process.exit(code), stdout: (text) => void process.stdout.write(text), stderr: (text) => void process.stderr.write(text) };

async function main(): Promise<void> {
  exitOnHelp(process.argv.slice(2), SERVICE, SUMMARY, shape, io);
  const config = await loadOrExit(() => loadConfig(process.env), io);
  const sources = await loadOrExit(async () => (config.YOUTUBE_SOURCES ? loadSources(config.YOUTUBE_SOURCES) : []), io);
  const app = new WorkerApp(SERVICE, config, io.exit);
  const { logger, metrics, client, runtime } = app;

  await app.ready();
  logger.info(await registerAll(client, platformTaskTypes(platform)), "task types registered");
  const budget = runtime.budget(platform.budget(config));
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

  await app.serve();
  app.closeInOrder([
    ["schedules", () => schedules.close()],
    ["discovery workers", async () => void (await Promise.all(workers.map((w) => w.stop())))],
  ]);
}

runMain(SERVICE, main, io);

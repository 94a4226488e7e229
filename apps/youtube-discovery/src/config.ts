import { commonEnv, discoveryEnv, env, workerAppSpec } from "@prismq/worker-kit";
import { platform, youtubeEnv } from "@prismq/youtube-source";
import { loadSources } from "./sources.js";

/** Every variable of youtube-discovery, declared once: `--help` and the README table are generated from it. */
export const shape = {
  ...commonEnv,
  ...youtubeEnv,
  ...discoveryEnv("YOUTUBE_SOURCES"),
  DISCOVERY_CONCURRENCY: env.int(1, 1, 16).describe("Discovery tasks (Channel, Search, MostPopular) run at once, per type."),
};

export const spec = workerAppSpec({
  service: "youtube-discovery",
  summary: "finds YouTube videos (channel uploads, searches, most popular) on schedules and for claimed discovery tasks, and creates a Video task for each new one.",
  shape,
  platform,
  // Read before anything starts: a bad sources file exits 2 like a bad variable.
  prepare: async (config) => (config.YOUTUBE_SOURCES ? loadSources(config.YOUTUBE_SOURCES) : []),
});

export type Config = ReturnType<typeof spec.load>;

import { commonEnv, discoveryEnv, env, workerAppSpec } from "@prismq/worker-kit";
import { clientOptions, platform, redditEnv } from "@prismq/reddit-source";
import { loadSources } from "./sources.js";

/** Every variable of reddit-discovery, declared once: `--help` and the README table are generated from it. */
export const shape = {
  ...commonEnv,
  ...redditEnv,
  ...discoveryEnv("REDDIT_SOURCES"),
  DEFAULT_LIMIT: env.int(100, 1, 1000).describe("Most posts one listing or search run walks when its task names no limit."),
};

export const spec = workerAppSpec({
  service: "reddit-discovery",
  summary: "finds Reddit posts (subreddit listings, searches) on schedules and for claimed discovery tasks, and creates a Post task for each new one.",
  shape,
  platform,
  // Read before anything starts: a bad sources file exits 2 like a bad variable.
  prepare: async (config) => (config.REDDIT_SOURCES ? loadSources(config.REDDIT_SOURCES) : []),
  // A username without its password stops here, with the other config errors' exit code.
  check: clientOptions,
});

export type Config = ReturnType<typeof spec.load>;

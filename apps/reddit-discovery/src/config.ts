import { z } from "zod";
import { commonEnv, env, parseConfig, type Env } from "@prismq/worker-kit";
import { redditEnv } from "@prismq/reddit-source";

/** What the app does, first line of `--help`. */
export const SUMMARY = "finds Reddit posts (subreddit listings, searches) on schedules and for claimed discovery tasks, and creates a Post task for each new one.";

/** Every variable of reddit-discovery, declared once: `--help` and the README table are generated from it. */
export const shape = {
  ...commonEnv,
  ...redditEnv,
  REDDIT_SOURCES: z.string().min(1).optional().describe("Sources file (JSON or YAML, see sources.example.yaml). Unset: only claimed discovery tasks are run."),
  DATA_DIR: z.string().min(1).default("./data").describe("Where direct mode keeps what it has seen (hybrid mode keeps it in Redis)."),
  DEFAULT_LIMIT: env.int(100, 1, 1000).describe("Most posts one listing or search run walks when its task names no limit."),
};

export type Config = ReturnType<typeof loadConfig>;

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(e: Env) {
  return parseConfig("reddit-discovery", shape, e);
}

import { z } from "zod";
import { commonEnv, env, parseConfig, type Env } from "@prismq/worker-kit";
import { youtubeEnv } from "@prismq/youtube-source";

/** What the app does, first line of `--help`. */
export const SUMMARY = "finds YouTube videos (channel uploads, searches, most popular) on schedules and for claimed discovery tasks, and creates a Video task for each new one.";

/** Every variable of youtube-discovery, declared once: `--help` and the README table are generated from it. */
export const shape = {
  ...commonEnv,
  ...youtubeEnv,
  YOUTUBE_SOURCES: z.string().min(1).optional().describe("Sources file (JSON or YAML, see sources.example.yaml). Unset: only claimed discovery tasks are run."),
  DATA_DIR: z.string().min(1).default("./data").describe("Where direct mode keeps what it has seen (hybrid mode keeps it in Redis)."),
  DISCOVERY_CONCURRENCY: env.int(1, 1, 16).describe("Discovery tasks (Channel, Search, MostPopular) run at once, per type."),
};

export type Config = ReturnType<typeof loadConfig>;

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(e: Env) {
  return parseConfig("youtube-discovery", shape, e);
}

import { z } from "zod";
import { commonEnv, env, parseConfig, type Env } from "@prismq/worker-kit";

/** Every variable of youtube-discovery, declared once. See `.env.example`. */
export const shape = {
  ...commonEnv,
  /** YouTube Data API key. */
  YOUTUBE_API_KEY: z.string().min(1),
  /** Another API root (the sandbox's, ending in `/`). Default: the real API. */
  YOUTUBE_API_ROOT_URL: env.httpUrl().refine((v) => v.endsWith("/"), "must end in /").optional(),
  /** Daily quota units shared by every YouTube process (the project's quota). Default 10,000. */
  YOUTUBE_DAILY_QUOTA: env.int(10_000, 1, 100_000_000),
  /** Sources file (JSON or YAML). Unset: only claimed discovery tasks are run. */
  YOUTUBE_SOURCES: z.string().min(1).optional(),
  /** Where direct mode keeps what it has seen. Default `./data`. */
  DATA_DIR: z.string().min(1).default("./data"),
  /** Discovery tasks (Channel, Search, MostPopular) claimed at once, per type. Default 1. */
  DISCOVERY_CONCURRENCY: env.int(1, 1, 16),
};

export type Config = ReturnType<typeof loadConfig>;

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(e: Env) {
  return parseConfig("youtube-discovery", shape, e);
}

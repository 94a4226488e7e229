import { z } from "zod";
import { commonEnv, env, parseConfig, type Env } from "@prismq/worker-kit";

/** Every variable of youtube-processor, declared once. See `.env.example`. */
export const shape = {
  ...commonEnv,
  /** YouTube Data API key. */
  YOUTUBE_API_KEY: z.string().min(1),
  /** Another API root (the sandbox's, ending in `/`). Default: the real API. */
  YOUTUBE_API_ROOT_URL: env.httpUrl().refine((v) => v.endsWith("/"), "must end in /").optional(),
  /** Daily quota units shared by every YouTube process. Default 10,000. */
  YOUTUBE_DAILY_QUOTA: env.int(10_000, 1, 100_000_000),
  /** Top comments per video (1 unit per video when on). Default 0: off. */
  YOUTUBE_COMMENTS_PER_VIDEO: env.int(0, 0, 100),
  /** Video tasks per batch (one videos.list call). Default 50, the API's maximum. */
  BATCH_SIZE: env.int(50, 1, 50),
  /** Create Reddit Search tasks for each video's strongest terms. Default true. */
  CROSS_MODULE: env.bool(true),
  /** `postgres://...` or `sqlite:<path>`. Default: SQLite at `<DATA_DIR>/ideas.sqlite`. */
  IDEA_DATABASE_URL: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default("./data"),
};

export type Config = ReturnType<typeof loadConfig>;

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(e: Env) {
  return parseConfig("youtube-processor", shape, e);
}

import { z } from "zod";
import { commonEnv, env, parseConfig, type Env } from "@prismq/worker-kit";
import { redditEnv } from "@prismq/reddit-source";

/** Every variable of reddit-processor, declared once. See `.env.example`. */
export const shape = {
  ...commonEnv,
  ...redditEnv,
  /** Post tasks per batch (one /api/info request). Default 100, Reddit's maximum. */
  BATCH_SIZE: env.int(100, 1, 100),
  /** Top comments read per post (one request each); 0 = off. Default 10. */
  REDDIT_COMMENTS_PER_POST: env.int(10, 0, 100),
  /** Comment tree depth. Default 2. */
  REDDIT_COMMENT_DEPTH: env.int(2, 1, 10),
  /** Create YouTube Video tasks for linked videos. Default true. */
  CROSS_MODULE: env.bool(true),
  /** `postgres://...` or `sqlite:<path>`. Default: SQLite at `<DATA_DIR>/ideas.sqlite`. */
  IDEA_DATABASE_URL: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default("./data"),
};

export type Config = ReturnType<typeof loadConfig>;

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(e: Env) {
  return parseConfig("reddit-processor", shape, e);
}

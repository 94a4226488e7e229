import { z } from "zod";
import { commonEnv, env, parseConfig, type Env } from "@prismq/worker-kit";
import { redditEnv } from "@prismq/reddit-source";

/** Every variable of reddit-discovery, declared once. See `.env.example`. */
export const shape = {
  ...commonEnv,
  ...redditEnv,
  /** Sources file (JSON or YAML). Unset: only claimed discovery tasks are run. */
  REDDIT_SOURCES: z.string().min(1).optional(),
  /** Where direct mode keeps what it has seen. Default `./data`. */
  DATA_DIR: z.string().min(1).default("./data"),
  /** Most posts one listing or search run walks when its task names no limit. Default 100. */
  DEFAULT_LIMIT: env.int(100, 1, 1000),
};

export type Config = ReturnType<typeof loadConfig>;

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(e: Env) {
  return parseConfig("reddit-discovery", shape, e);
}

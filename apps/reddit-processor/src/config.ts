import { z } from "zod";
import { resolveStorage } from "@prismq/idea-store";
import { commonEnv, env, parseConfig, type Env } from "@prismq/worker-kit";
import { redditEnv } from "@prismq/reddit-source";

/** What the app does, first line of `--help`. */
export const SUMMARY = "claims Reddit Post tasks in batches, looks each batch up with one /api/info request, reads top comments, scores and stores ideas, and creates YouTube Video tasks for linked videos.";

/** Every variable of reddit-processor, declared once: `--help` and the README table are generated from it. */
export const shape = {
  ...commonEnv,
  ...redditEnv,
  BATCH_SIZE: env.int(100, 1, 100).describe("Post tasks per batch (one /api/info request); 100 is Reddit's maximum."),
  REDDIT_COMMENTS_PER_POST: env.int(10, 0, 100).describe("Top comments read per post (one request each); 0 turns comments off."),
  REDDIT_COMMENT_DEPTH: env.int(2, 1, 10).describe("Comment tree depth read per post."),
  CROSS_MODULE: env.bool(true).describe("Create YouTube Video tasks for videos the posts link to."),
  IDEA_DATABASE_URL: env
    .checked(ideaStoreUrl)
    .optional()
    .describe("Idea store: postgres://... (several processors on several machines) or sqlite:<path>. Default: SQLite at <DATA_DIR>/ideas.sqlite."),
  DATA_DIR: z.string().min(1).default("./data").describe("Directory of the default SQLite idea store."),
};

/** What the idea store would refuse at start: another scheme, an empty sqlite: path, a postgres URL that does not parse. */
function ideaStoreUrl(url: string): void {
  const where = resolveStorage({ url });
  if (where.kind === "postgres") new URL(url);
}

export type Config = ReturnType<typeof loadConfig>;

/** Parses the environment once; throws a ConfigError naming every bad variable. */
export function loadConfig(e: Env) {
  return parseConfig("reddit-processor", shape, e);
}

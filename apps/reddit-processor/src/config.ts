import { commonEnv, env, processorEnv, workerAppSpec } from "@prismq/worker-kit";
import { clientOptions, platform, redditEnv } from "@prismq/reddit-source";

/** Every variable of reddit-processor, declared once: `--help` and the README table are generated from it. */
export const shape = {
  ...commonEnv,
  ...redditEnv,
  BATCH_SIZE: env.int(100, 1, 100).describe("Post tasks per batch (one /api/info request); 100 is Reddit's maximum."),
  REDDIT_COMMENTS_PER_POST: env.int(10, 0, 100).describe("Top comments read per post (one request each); 0 turns comments off."),
  REDDIT_COMMENT_DEPTH: env.int(2, 1, 10).describe("Comment tree depth read per post."),
  CROSS_MODULE: env.bool(true).describe("Create YouTube Video tasks for videos the posts link to."),
  ...processorEnv,
};

export const spec = workerAppSpec({
  service: "reddit-processor",
  summary: "claims Reddit Post tasks in batches, looks each batch up with one /api/info request, reads top comments, scores and stores ideas, and creates YouTube Video tasks for linked videos.",
  shape,
  platform,
  // A username without its password stops here, with the other config errors' exit code.
  check: clientOptions,
});

export type Config = ReturnType<typeof spec.load>;

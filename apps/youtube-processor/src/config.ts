import { z } from "zod";
import { resolveStorage } from "@prismq/idea-store";
import { commonEnv, env, parseConfig, type Env } from "@prismq/worker-kit";
import { youtubeEnv } from "@prismq/youtube-source";

/** What the app does, first line of `--help`. */
export const SUMMARY = "claims YouTube Video tasks in batches, looks each batch up with one videos.list call (1 quota unit), scores and stores ideas, and creates Reddit Search tasks.";

/** Every variable of youtube-processor, declared once: `--help` and the README table are generated from it. */
export const shape = {
  ...commonEnv,
  ...youtubeEnv,
  YOUTUBE_COMMENTS_PER_VIDEO: env.int(0, 0, 100).describe("Top comments read per video (1 unit per video when on); 0 turns comments off."),
  BATCH_SIZE: env.int(50, 1, 50).describe("Video tasks per batch (one videos.list call); 50 is the API's maximum."),
  CROSS_MODULE: env.bool(true).describe("Create Reddit Search tasks for each video's strongest terms."),
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
  return parseConfig("youtube-processor", shape, e);
}

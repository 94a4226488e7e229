import { commonEnv, env, processorEnv, workerAppSpec } from "@prismq/worker-kit";
import { platform, youtubeEnv } from "@prismq/youtube-source";

/** Every variable of youtube-processor, declared once: `--help` and the README table are generated from it. */
export const shape = {
  ...commonEnv,
  ...youtubeEnv,
  YOUTUBE_COMMENTS_PER_VIDEO: env.int(0, 0, 100).describe("Top comments read per video (1 unit per video when on); 0 turns comments off."),
  BATCH_SIZE: env.int(50, 1, 50).describe("Video tasks per batch (one videos.list call); 50 is the API's maximum."),
  CROSS_MODULE: env.bool(true).describe("Create Reddit Search tasks for each video's strongest terms."),
  ...processorEnv,
};

export const spec = workerAppSpec({
  service: "youtube-processor",
  summary: "claims YouTube Video tasks in batches, looks each batch up with one videos.list call (1 quota unit), scores and stores ideas, and creates Reddit Search tasks.",
  shape,
  platform,
});

export type Config = ReturnType<typeof spec.load>;

import { z } from "zod";
import { env } from "@prismq/worker-kit";

/** The YouTube variables every YouTube app shares; spread into an app's config shape. */
export const youtubeEnv = {
  YOUTUBE_API_KEY: z.string().min(1).describe("YouTube Data API key."),
  YOUTUBE_API_ROOT_URL: env
    .httpUrl()
    .refine((v) => v.endsWith("/"), "must end in /")
    .optional()
    .describe("Another API root, ending in / (the sandbox's). Default: the real API."),
  YOUTUBE_DAILY_QUOTA: env.int(10_000, 1, 100_000_000).describe("Daily quota units shared by every YouTube process of the project (in Redis in hybrid mode)."),
};

/** The parsed YouTube variables. */
export interface YouTubeEnv {
  YOUTUBE_API_KEY: string;
  YOUTUBE_API_ROOT_URL?: string;
  /** Quota units per Pacific day. */
  YOUTUBE_DAILY_QUOTA: number;
}

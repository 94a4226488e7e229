/** Quota units per call of each method the apps use, as the YouTube Data API v3 charges them. */
export const QUOTA_COSTS = {
  "search.list": 100,
  "videos.list": 1,
  "channels.list": 1,
  "playlistItems.list": 1,
  "commentThreads.list": 1,
} as const;

export type YouTubeMethod = keyof typeof QUOTA_COSTS;

/** The YouTube quota day ends at midnight Pacific time. */
export const QUOTA_TIME_ZONE = "America/Los_Angeles";

/** The default daily quota of a project. */
export const DEFAULT_DAILY_QUOTA = 10_000;

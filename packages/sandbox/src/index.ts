/**
 * @prismq/sandbox: offline YouTube Data API v3 and Reddit API on loopback, from
 * one generated world, for tests, the demo and benchmarks. Never used when real
 * credentials are configured.
 */
export { World, WorldClock, TOPICS, channelId, resolveWorld, videoId } from "./world.js";
export type { ResolvedWorld, Topic, WorldOptions } from "./world.js";
export type { Faults } from "./http.js";
export type { LiveState, YouTubeDataRealism } from "./youtube-data.js";
export { CALM_YOUTUBE, DEFAULT_DAILY_QUOTA, STRICT_YOUTUBE, YOUTUBE_QUOTA_COSTS, resolveYouTubeStrictness, startYouTubeSandbox } from "./youtube.js";
export type { QuotaUsage, YouTubeMethod, YouTubeSandbox, YouTubeSandboxOptions, YouTubeStagedGlitch, YouTubeStats, YouTubeStrictness } from "./youtube.js";
export { YouTubeData } from "./youtube-data.js";
export type { ChannelInfo, VideoInfo } from "./youtube-data.js";
export { CALM_REDDIT, DEFAULT_REDDIT_CLIENT, STATEFUL_SUBREDDITS, STRICT_REDDIT, resolveStrictness, startRedditSandbox } from "./reddit.js";
export { REMOVAL_KINDS, RedditData } from "./reddit-data.js";
export type { RedditDataRealism, RemovalKind } from "./reddit-data.js";
export type {
  RateLimitChange,
  RateLimitState,
  RedditClientConfig,
  RedditEndpoint,
  RedditSandbox,
  RedditSandboxOptions,
  RedditSandboxStats,
  RedditStrictness,
  StagedGlitch,
  SubredditState,
} from "./reddit.js";
export { redditPlatformSandbox, youtubePlatformSandbox } from "./plugin.js";
export type { PlatformSandbox, PlatformSandboxOptions } from "./plugin.js";

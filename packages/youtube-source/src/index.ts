export { DEFAULT_MAX_RESPONSE_BYTES, YouTubeApi, parseChannelRef, toYouTubeError } from "./api.js";
export type { ChannelRef, CommentThread, Page, ResolvedChannel, SearchQuery, UploadItem, Video, YouTubeApiOptions } from "./api.js";
export { DEFAULT_DAILY_QUOTA, QUOTA_COSTS, QUOTA_TIME_ZONE } from "./costs.js";
export type { YouTubeMethod } from "./costs.js";
export { QuotaExhaustedError, YouTubeError } from "./errors.js";
export type { YouTubeErrorCode } from "./errors.js";
export { SHORTS_MAX_SECONDS, durationSeconds } from "./duration.js";
// Kept in @prismq/task-types, where both platforms can reach it; re-exported here for YouTube code.
export { extractYouTubeIds } from "@prismq/task-types";
export { MAX_CONTENT, MAX_COUNT, MAX_DESCRIPTION, VIDEO_SCORE, broadcastState, commentTexts, parseInstant, videoMetrics, videoProblem, videoScore, videoToIdea } from "./idea.js";
export type { VideoMetrics } from "./idea.js";
export { REDDIT_QUERY_TERMS, redditQuery, toRedditSearch } from "./edges.js";
export { youtubeEnv } from "./env.js";
export type { YouTubeEnv } from "./env.js";
export { platform } from "./platform.js";

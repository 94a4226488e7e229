import { classify, extractTerms, foldScore, round, type IdeaInput } from "@prismq/idea-store";
import type { CommentThread, Video } from "./api.js";
import { SHORTS_MAX_SECONDS, durationSeconds } from "./duration.js";

/** The measured signals of a video that its score is folded from. */
export interface VideoMetrics {
  views: number;
  likes: number;
  comments: number;
  /** Days since publication (at least 1/24: an hour). */
  ageDays: number;
  viewsPerDay: number;
  /** (likes + comments) / views. */
  engagementRate: number;
  likeRatio: number;
  commentRatio: number;
}

/**
 * How a video's 0-100 score is made, in the open: each signal is squashed to
 * 0..1 by `x / (x + half)` (it reaches 0.5 at `half`), then weighted.
 */
export const VIDEO_SCORE = {
  viewsPerDay: { weight: 0.45, half: 5_000 },
  engagementRate: { weight: 0.35, half: 0.04 },
  commentRatio: { weight: 0.2, half: 0.002 },
} as const;

const count = (v: string | null | undefined) => {
  const n = Number(v ?? 0);
  return Number.isFinite(n) && n > 0 ? n : 0;
};

/** The signals of `video` at `now` (ms). */
export function videoMetrics(video: Video, now: number): VideoMetrics {
  const views = count(video.statistics?.viewCount);
  const likes = count(video.statistics?.likeCount);
  const comments = count(video.statistics?.commentCount);
  const published = Date.parse(video.snippet?.publishedAt ?? "");
  const ageDays = Math.max(1 / 24, Number.isFinite(published) ? (now - published) / 86_400_000 : 1);
  return {
    views,
    likes,
    comments,
    ageDays: round(ageDays, 3),
    viewsPerDay: round(views / ageDays, 2),
    engagementRate: views ? round((likes + comments) / views, 5) : 0,
    likeRatio: views ? round(likes / views, 5) : 0,
    commentRatio: views ? round(comments / views, 5) : 0,
  };
}

/** The 0-100 score of a video's signals (one decimal), by {@link VIDEO_SCORE}. */
export function videoScore(m: VideoMetrics): number {
  return foldScore(VIDEO_SCORE, m);
}

/** Comment texts of threads, top-level only, non-empty. */
export function commentTexts(threads: readonly CommentThread[]): string[] {
  const out: string[] = [];
  for (const t of threads) {
    const s = t.snippet?.topLevelComment?.snippet;
    const text = (s?.textOriginal ?? s?.textDisplay ?? "").trim();
    if (text) out.push(text);
  }
  return out;
}

/**
 * The `IdeaInspiration` of a video: text fields, keywords (tags, then the
 * strongest terms), source fields, metadata (ids, channel, duration, counts,
 * Shorts or not), the signals, the score and the category.
 */
export function videoToIdea(video: Video, comments: readonly CommentThread[], now: number): IdeaInput {
  const id = video.id ?? "";
  const sn = video.snippet ?? {};
  const title = (sn.title ?? "").trim() || `YouTube video ${id}`;
  const description = sn.description ?? "";
  const tags = sn.tags ?? [];
  const texts = commentTexts(comments);
  const content = [description, ...texts].filter(Boolean).join("\n\n");
  const seconds = durationSeconds(video.contentDetails?.duration);
  const metrics = videoMetrics(video, now);
  const text = { title, tags, description, content: texts.join("\n") };
  const { category, contextualCategoryScores, subcategoryRelevance } = classify(text);
  return {
    title: title.slice(0, 1000),
    description,
    content,
    keywords: extractTerms(text, 15),
    sourceType: "video",
    sourceId: id,
    sourceUrl: `https://www.youtube.com/watch?v=${id}`,
    sourcePlatform: "youtube",
    sourceCreatedBy: sn.channelTitle ?? sn.channelId ?? null,
    sourceCreatedAt: sn.publishedAt ?? null,
    score: videoScore(metrics),
    category,
    subcategoryRelevance,
    contextualCategoryScores,
    metadata: {
      videoId: id,
      channelId: sn.channelId ?? null,
      channelTitle: sn.channelTitle ?? null,
      categoryId: sn.categoryId ?? null,
      durationSeconds: seconds,
      isShort: seconds !== null && seconds <= SHORTS_MAX_SECONDS,
      tags,
      commentsFetched: texts.length,
      metrics: { ...metrics },
    },
  };
}

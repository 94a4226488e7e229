import { ageIn, foldScore, ideaText, perAge, round } from "@prismq/idea-scoring";
import type { IdeaInput } from "@prismq/idea-store";
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

/** How a video's 0-100 score is made, in the open (folded by `foldScore`: a signal counts half at `half`). */
export const VIDEO_SCORE = {
  viewsPerDay: { weight: 0.45, half: 5_000 },
  engagementRate: { weight: 0.35, half: 0.04 },
  commentRatio: { weight: 0.2, half: 0.002 },
} as const;

/** Counts above this are clamped (no real video comes near it; sums of a few stay finite and exact). */
export const MAX_COUNT = Number.MAX_SAFE_INTEGER;
/** Longest description kept, in characters (YouTube's own limit is 5,000). */
export const MAX_DESCRIPTION = 5_000;
/** Longest content kept (description and comment texts), in characters. */
export const MAX_CONTENT = 20_000;

const count = (v: unknown) => {
  const n = Number(typeof v === "string" || typeof v === "number" ? v : 0);
  return Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), MAX_COUNT) : 0;
};

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const cut = (s: string, max: number): string => (s.length <= max ? s : s.slice(0, max));

/** An ISO 8601 instant from what the API sent, or `null` when it is not a date. */
export function parseInstant(v: unknown): string | null {
  if (typeof v !== "string" || v === "") return null;
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) return null;
  const d = new Date(ms);
  return d.getUTCFullYear() >= 1 && d.getUTCFullYear() <= 9999 ? d.toISOString() : null;
}

/** A live broadcast's state from `snippet.liveBroadcastContent`: `live`, `upcoming`, or `null` for an ordinary video. */
export function broadcastState(video: Video): "live" | "upcoming" | null {
  const v = video.snippet?.liveBroadcastContent;
  return v === "live" || v === "upcoming" ? v : null;
}

/**
 * What is wrong with a video item's types, or `null` when it is whole: the
 * fields an idea is built from must have the types the API documents. A
 * malformed item is an upstream glitch of that one item.
 */
export function videoProblem(video: unknown): string | null {
  if (video === null || typeof video !== "object") return "the item is not an object";
  const v = video as Record<string, unknown>;
  if (typeof v.id !== "string" || v.id === "") return "id is not a string";
  const sn = v.snippet as Record<string, unknown> | undefined | null;
  if (sn !== undefined && sn !== null) {
    if (typeof sn !== "object") return "snippet is not an object";
    for (const k of ["title", "description", "channelId", "channelTitle", "publishedAt", "categoryId", "liveBroadcastContent"]) {
      if (sn[k] !== undefined && sn[k] !== null && typeof sn[k] !== "string") return `snippet.${k} is a ${typeof sn[k]}, not a string`;
    }
    if (sn.tags !== undefined && sn.tags !== null && !(Array.isArray(sn.tags) && sn.tags.every((t) => typeof t === "string"))) return "snippet.tags is not a list of strings";
  }
  const st = v.statistics as Record<string, unknown> | undefined | null;
  if (st !== undefined && st !== null) {
    for (const k of ["viewCount", "likeCount", "commentCount"]) {
      if (st[k] !== undefined && st[k] !== null && typeof st[k] !== "string" && typeof st[k] !== "number") return `statistics.${k} is a ${typeof st[k]}`;
    }
  }
  const cd = v.contentDetails as Record<string, unknown> | undefined | null;
  if (cd !== undefined && cd !== null && cd.duration !== undefined && cd.duration !== null && typeof cd.duration !== "string") return "contentDetails.duration is not a string";
  return null;
}

/** The signals of `video` at `now` (ms). */
export function videoMetrics(video: Video, now: number): VideoMetrics {
  const views = count(video.statistics?.viewCount);
  const likes = count(video.statistics?.likeCount);
  const comments = count(video.statistics?.commentCount);
  const published = Date.parse(str(video.snippet?.publishedAt));
  const ageDays = ageIn(published, now, 86_400_000, 1 / 24);
  return {
    views,
    likes,
    comments,
    ageDays: round(ageDays, 3),
    viewsPerDay: perAge(views, ageDays),
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
    const text = str(s?.textOriginal ?? s?.textDisplay).trim();
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
  const id = str(video.id);
  const sn = video.snippet ?? {};
  const title = str(sn.title).trim() || `YouTube video ${id}`;
  // Text is capped: an oversized description is kept once at MAX_DESCRIPTION, and content stays bounded.
  const description = cut(str(sn.description), MAX_DESCRIPTION);
  const tags = Array.isArray(sn.tags) ? sn.tags.filter((t): t is string => typeof t === "string").slice(0, 100) : [];
  const texts = commentTexts(comments);
  const content = cut([description, ...texts].filter(Boolean).join("\n\n"), MAX_CONTENT);
  const broadcast = broadcastState(video);
  // A broadcast's duration is P0D until it ends: not a length, so never a Short.
  const seconds = broadcast ? null : durationSeconds(str(video.contentDetails?.duration));
  const metrics = videoMetrics(video, now);
  const text = { title, tags, description, content: cut(texts.join("\n"), MAX_CONTENT) };
  return {
    ...ideaText(text, { description, content }),
    sourceType: "video",
    sourceId: id,
    sourceUrl: `https://www.youtube.com/watch?v=${id}`,
    sourcePlatform: "youtube",
    sourceCreatedBy: str(sn.channelTitle) || str(sn.channelId) || null,
    // An unparseable date is stored as unknown, not a failure.
    sourceCreatedAt: parseInstant(sn.publishedAt),
    // An upcoming broadcast has no views yet: not scored rather than scored near 0.
    score: broadcast === "upcoming" ? null : videoScore(metrics),
    metadata: {
      videoId: id,
      channelId: str(sn.channelId) || null,
      channelTitle: str(sn.channelTitle) || null,
      categoryId: str(sn.categoryId) || null,
      durationSeconds: seconds,
      isShort: seconds !== null && seconds > 0 && seconds <= SHORTS_MAX_SECONDS,
      // Only on broadcasts: `live` or `upcoming` (queryable in metadata, no migration needed).
      ...(broadcast ? { broadcast } : {}),
      tags,
      commentsFetched: texts.length,
      metrics: { ...metrics },
    },
  };
}

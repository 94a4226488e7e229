import { setTimeout as sleep } from "node:timers/promises";
import { youtube, type youtube_v3 } from "@googleapis/youtube";
import type { Budget, Logger, WorkerMetrics } from "@prismq/worker-kit";
import { QUOTA_COSTS, type YouTubeMethod } from "./costs.js";
import { QuotaExhaustedError, YouTubeError } from "./errors.js";

export type Video = youtube_v3.Schema$Video;
export type CommentThread = youtube_v3.Schema$CommentThread;

export interface YouTubeApiOptions {
  /** API key (sent as `key`). */
  apiKey: string;
  /** Another root than `https://youtube.googleapis.com/`, e.g. the sandbox's `rootUrl`. Must end in `/`. */
  rootUrl?: string;
  /** Quota budget: every call spends its cost first, and none is made when it does not fit. */
  budget?: Budget;
  metrics?: WorkerMetrics;
  logger?: Logger;
  /** Per-call timeout, ms. Default 15,000. */
  timeoutMs?: number;
  /** Attempts for 5xx, rate-limit and network errors (quota is never retried). Each attempt is charged, as the API charges it. Default 4. */
  attempts?: number;
  /** First retry delay, ms; doubles, full jitter. Default 500. */
  baseDelayMs?: number;
}

/** One entry of a channel's uploads, newest first. */
export interface UploadItem {
  videoId: string;
  publishedAt: string;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | undefined;
}

export interface ResolvedChannel {
  channelId: string;
  title: string;
  /** The `UU...` playlist of all its uploads. */
  uploadsPlaylistId: string;
  handle: string | undefined;
}

/** Parameters of a video search. */
export interface SearchQuery {
  q?: string;
  channelId?: string;
  /** RFC 3339, e.g. `2026-01-01T00:00:00Z`. */
  publishedAfter?: string;
  order?: "date" | "relevance" | "viewCount" | "rating" | "title";
  videoDuration?: "any" | "short" | "medium" | "long";
  /** 1..50. Default 50. */
  maxResults?: number;
  pageToken?: string;
}

interface GoogleErrorShape {
  status?: number;
  code?: number | string;
  message?: string;
  errors?: Array<{ reason?: string; message?: string }>;
  response?: { status?: number; data?: { error?: { code?: number; message?: string; errors?: Array<{ reason?: string; message?: string }> } } };
}

/**
 * Typed YouTube Data API calls the apps need, each charged to the quota
 * budget before it is made (so a spent budget stops calls before the API's own
 * 403), retried with backoff on 5xx and network errors, and counted in the
 * metrics. A 403 `quotaExceeded` from the API marks the budget spent for the day.
 */
export class YouTubeApi {
  private readonly yt: youtube_v3.Youtube;
  private readonly options: YouTubeApiOptions;
  /** Quota units this instance has spent (each call's cost, counted when it is sent): a processor logs the difference per batch. */
  unitsSpent = 0;

  constructor(options: YouTubeApiOptions) {
    if (!options.apiKey) throw new YouTubeError("YT_ERR_AUTH", "a YouTube API key is required");
    this.options = options;
    this.yt = youtube({ version: "v3", auth: options.apiKey, rootUrl: options.rootUrl, timeout: options.timeoutMs ?? 15_000, retry: false });
  }

  /** Resolves a channel id (`UC...`) or handle (`@name`) with one `channels.list` call. Throws `YT_ERR_NOT_FOUND` when there is none. */
  async resolveChannel(idOrHandle: string, signal?: AbortSignal): Promise<ResolvedChannel> {
    const byHandle = idOrHandle.startsWith("@");
    const res = await this.call("channels.list", signal, (o) =>
      this.yt.channels.list({ part: ["snippet", "contentDetails"], ...(byHandle ? { forHandle: idOrHandle } : { id: [idOrHandle] }), maxResults: 1 }, o),
    );
    const ch = res.items?.[0];
    const uploads = ch?.contentDetails?.relatedPlaylists?.uploads;
    if (!ch?.id || !uploads) throw new YouTubeError("YT_ERR_NOT_FOUND", `YouTube channel not found: ${idOrHandle}`, { status: 404, reason: "channelNotFound" });
    return { channelId: ch.id, title: ch.snippet?.title ?? "", uploadsPlaylistId: uploads, handle: ch.snippet?.customUrl ?? undefined };
  }

  /** One page (up to 50) of a playlist, in the playlist's order (uploads: newest first). */
  async playlistPage(playlistId: string, pageToken?: string, signal?: AbortSignal): Promise<Page<UploadItem>> {
    const res = await this.call("playlistItems.list", signal, (o) =>
      this.yt.playlistItems.list({ part: ["contentDetails"], playlistId, maxResults: 50, pageToken }, o),
    );
    const items: UploadItem[] = [];
    for (const it of res.items ?? []) {
      const videoId = it.contentDetails?.videoId;
      if (videoId) items.push({ videoId, publishedAt: it.contentDetails?.videoPublishedAt ?? "" });
    }
    return { items, nextPageToken: res.nextPageToken ?? undefined };
  }

  /** One page of a video search (100 units, whatever the page size: ask for 50). */
  async search(query: SearchQuery, signal?: AbortSignal): Promise<Page<UploadItem>> {
    const res = await this.call("search.list", signal, (o) =>
      this.yt.search.list(
        {
          part: ["snippet"],
          type: ["video"],
          q: query.q,
          channelId: query.channelId,
          publishedAfter: query.publishedAfter,
          order: query.order,
          videoDuration: query.videoDuration,
          maxResults: query.maxResults ?? 50,
          pageToken: query.pageToken,
        },
        o,
      ),
    );
    const items: UploadItem[] = [];
    for (const it of res.items ?? []) {
      const videoId = it.id?.videoId;
      if (videoId) items.push({ videoId, publishedAt: it.snippet?.publishedAt ?? "" });
    }
    return { items, nextPageToken: res.nextPageToken ?? undefined };
  }

  /** One page (up to 50) of the most popular videos of a region (and category), as full video resources. */
  async mostPopular(q: { regionCode: string; categoryId?: string; pageToken?: string; maxResults?: number }, signal?: AbortSignal): Promise<Page<Video>> {
    const res = await this.call("videos.list", signal, (o) =>
      this.yt.videos.list(
        {
          part: ["snippet", "statistics", "contentDetails"],
          chart: "mostPopular",
          regionCode: q.regionCode,
          videoCategoryId: q.categoryId,
          maxResults: q.maxResults ?? 50,
          pageToken: q.pageToken,
        },
        o,
      ),
    );
    return { items: res.items ?? [], nextPageToken: res.nextPageToken ?? undefined };
  }

  /**
   * Up to 50 videos in one call (1 unit), with snippet, statistics and
   * contentDetails. Ids the API does not know (deleted, private) are simply
   * absent from the answer.
   */
  async videos(ids: readonly string[], signal?: AbortSignal): Promise<Video[]> {
    if (ids.length === 0) return [];
    if (ids.length > 50) throw new RangeError(`videos() takes at most 50 ids, got ${ids.length}`);
    const res = await this.call("videos.list", signal, (o) =>
      this.yt.videos.list({ part: ["snippet", "statistics", "contentDetails"], id: [...ids], maxResults: 50 }, o),
    );
    return res.items ?? [];
  }

  /** The top comment threads of a video (1 unit), most relevant first. A video with comments disabled gives `[]`. */
  async topComments(videoId: string, maxResults = 20, signal?: AbortSignal): Promise<CommentThread[]> {
    try {
      const res = await this.call("commentThreads.list", signal, (o) =>
        this.yt.commentThreads.list({ part: ["snippet"], videoId, maxResults, order: "relevance", textFormat: "plainText" }, o),
      );
      return res.items ?? [];
    } catch (err) {
      if (err instanceof YouTubeError && err.reason === "commentsDisabled") return [];
      throw err;
    }
  }

  private async call<T>(method: YouTubeMethod, signal: AbortSignal | undefined, run: (o: { signal?: AbortSignal }) => Promise<{ data: T }>): Promise<T> {
    const { budget, metrics, logger } = this.options;
    const cost = QUOTA_COSTS[method];
    const attempts = this.options.attempts ?? 4;
    const base = this.options.baseDelayMs ?? 500;
    for (let attempt = 1; ; attempt++) {
      if (budget) {
        const spend = await budget.trySpend(cost);
        if (!spend.ok) {
          metrics?.apiCalls.inc({ api: "youtube", method, outcome: "budget" });
          throw new QuotaExhaustedError("budget", spend.resetAt, method);
        }
      }
      metrics?.youtubeQuotaUnitsSpent.inc(cost);
      this.unitsSpent += cost;
      const timer = metrics?.externalRequestDuration.startTimer({ api: "youtube", method });
      try {
        const res = await run({ signal });
        timer?.({ outcome: "ok" });
        metrics?.apiCalls.inc({ api: "youtube", method, outcome: "ok" });
        return res.data;
      } catch (raw) {
        timer?.({ outcome: "error" });
        const err = toYouTubeError(raw, method);
        if (err.reason === "quotaExceeded") {
          metrics?.apiCalls.inc({ api: "youtube", method, outcome: "quota" });
          const state = budget ? await budget.exhaust() : { resetAt: Date.now() + 86_400_000 };
          throw new QuotaExhaustedError("api", state.resetAt, method, raw);
        }
        if (!err.retryable || attempt >= attempts || signal?.aborted) {
          metrics?.apiCalls.inc({ api: "youtube", method, outcome: "error" });
          throw err;
        }
        metrics?.apiCalls.inc({ api: "youtube", method, outcome: "retry" });
        const delay = Math.round(Math.random() * base * 2 ** (attempt - 1));
        logger?.warn({ err, method, attempt, delayMs: delay }, "YouTube call failed: retrying");
        await sleep(delay, undefined, { signal });
      }
    }
  }
}

/** Turns what the googleapis client throws into a {@link YouTubeError} with the API's reason. */
export function toYouTubeError(raw: unknown, method: string): YouTubeError {
  if (raw instanceof YouTubeError) return raw;
  const e = (raw ?? {}) as GoogleErrorShape;
  const status = e.response?.status ?? e.status ?? (typeof e.code === "number" ? e.code : undefined);
  const body = e.response?.data?.error;
  const reason = body?.errors?.[0]?.reason ?? e.errors?.[0]?.reason;
  const message = body?.message ?? e.message ?? String(raw);
  const text = `YouTube ${method} failed${status ? ` (${status}${reason ? ` ${reason}` : ""})` : ""}: ${message}`;
  // Per-user and per-second rate limits are temporary, unlike the daily quota.
  const throttled = reason === "rateLimitExceeded" || reason === "userRateLimitExceeded";
  if (status === undefined || status >= 500 || status === 429 || throttled) return new YouTubeError("YT_ERR_UNAVAILABLE", text, { status, reason, retryable: true, cause: raw });
  if (status === 404) return new YouTubeError("YT_ERR_NOT_FOUND", text, { status, reason, cause: raw });
  if (status === 401 || (status === 403 && reason !== "quotaExceeded" && reason !== "commentsDisabled") || reason === "keyInvalid") {
    return new YouTubeError("YT_ERR_AUTH", text, { status, reason, cause: raw });
  }
  if (reason === "quotaExceeded") return new YouTubeError("YT_ERR_QUOTA", text, { status, reason, cause: raw });
  return new YouTubeError("YT_ERR_BAD_REQUEST", text, { status, reason, cause: raw });
}

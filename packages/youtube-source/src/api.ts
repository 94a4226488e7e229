import { createRequire } from "node:module";
import { setTimeout as sleep } from "node:timers/promises";
import type * as GoogleApis from "@googleapis/youtube";
import type { youtube_v3 } from "@googleapis/youtube";
import type { Budget, Logger, WorkerMetrics } from "@prismq/worker-kit";
import { QUOTA_COSTS, type YouTubeMethod } from "./costs.js";
import { QuotaExhaustedError, YouTubeError } from "./errors.js";

// The API library (about 12 MB resident) is loaded by the first client made, not by importing this
// package: the orchestrator and the tools read the platform's descriptor without it.
const require = createRequire(import.meta.url);
const googleapis = (): typeof GoogleApis => require("@googleapis/youtube") as typeof GoogleApis;

export type Video = youtube_v3.Schema$Video;
export type CommentThread = youtube_v3.Schema$CommentThread;

export interface YouTubeApiOptions {
  /** API key (sent as `key`). */
  apiKey: string;
  /** Another root than the real API's, e.g. the sandbox's `rootUrl`. Must end in `/`. @defaultValue `https://youtube.googleapis.com/` */
  rootUrl?: string;
  /** Quota budget, in quota units: every call spends its cost first, and none is made when it does not fit. @defaultValue none (nothing is charged) */
  budget?: Budget;
  /** Where calls, quota units and request times are counted. @defaultValue none (nothing is counted) */
  metrics?: WorkerMetrics;
  /** Where retries are logged. @defaultValue none (nothing is logged) */
  logger?: Logger;
  /** Per-call timeout, ms. @defaultValue 15,000 */
  timeoutMs?: number;
  /** Attempts (a count, the first included) for 5xx, rate-limit and network errors (quota is never retried). Each attempt is charged, as the API charges it. @defaultValue 4 */
  attempts?: number;
  /** First retry delay, ms; doubles, full jitter. @defaultValue 500 */
  baseDelayMs?: number;
  /**
   * Largest answer read, in bytes, checked against the declared (compressed)
   * `Content-Length` and again while the body inflates, so a gzip answer that
   * inflates to hundreds of MB is cut off at this size. A bigger answer is a
   * retryable `YT_ERR_UNAVAILABLE` with reason `responseTooLarge`. A page of 50
   * full videos is a few hundred KB.
   * @defaultValue 8 MiB ({@link DEFAULT_MAX_RESPONSE_BYTES})
   */
  maxResponseBytes?: number;
}

/** Default of {@link YouTubeApiOptions.maxResponseBytes}: 8 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** What a channel reference a user pasted names: a channel id, a handle, a legacy username or a custom (`/c/`) name. */
export interface ChannelRef {
  kind: "id" | "handle" | "username" | "custom";
  /** The id, or the name without `@`. */
  value: string;
}

const CHANNEL_ID = /^UC[\w-]{22}$/;

/**
 * Reads every common way to name a channel: `UC…` ids, `@handle`, a bare
 * handle, and the URLs `youtube.com/@x`, `/channel/UC…`, `/c/x` and
 * `/user/x` (with or without scheme, `www.`/`m.`, trailing paths and query).
 * `null` when it is none of these.
 */
export function parseChannelRef(input: string): ChannelRef | null {
  const text = input.trim();
  if (CHANNEL_ID.test(text)) return { kind: "id", value: text };
  const bare = /^@?([\w.-]{3,100})$/.exec(text);
  if (bare && !text.includes("/") && !/\.(com|be)$/i.test(text)) return { kind: "handle", value: bare[1] as string };
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    return null;
  }
  if (!/^((www|m|music)\.)?youtube\.com$/i.test(url.hostname)) return null;
  const [first, second] = url.pathname.split("/").filter(Boolean).map((p) => decodeURIComponent(p));
  if (!first) return null;
  if (first.startsWith("@") && first.length > 1) return { kind: "handle", value: first.slice(1) };
  if (first === "channel" && second && CHANNEL_ID.test(second)) return { kind: "id", value: second };
  if (first === "c" && second) return { kind: "custom", value: second };
  if (first === "user" && second) return { kind: "username", value: second };
  return null;
}

/** One entry of a channel's uploads, newest first. */
export interface UploadItem {
  videoId: string;
  publishedAt: string;
}

export interface Page<T> {
  items: T[];
  nextPageToken: string | undefined;
  /** The API's `pageInfo.totalResults` (for search an estimate). */
  totalResults?: number;
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
  /** RFC 3339: only videos published at or before. */
  publishedBefore?: string;
  order?: "date" | "relevance" | "viewCount" | "rating" | "title";
  videoDuration?: "any" | "short" | "medium" | "long";
  /** Results per page, 1..50. @defaultValue 50 */
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
    // maxContentLength: gaxios refuses a declared Content-Length above it and hands it to its fetch as
    // `size`, which stops reading once the inflated body passes it.
    this.yt = googleapis().youtube({
      version: "v3",
      auth: options.apiKey,
      rootUrl: options.rootUrl,
      timeout: options.timeoutMs ?? 15_000,
      retry: false,
      maxContentLength: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    });
  }

  /**
   * Resolves a channel from any form {@link parseChannelRef} reads: an id with
   * `id`; a handle with `forHandle` (sent without `@`), then as a legacy
   * username; a `/user/` name with `forUsername`, then as a handle; a `/c/` name
   * as a handle first and then as a username (the API has no lookup by custom
   * URL). One `channels.list` call (1 unit) per try. Throws `YT_ERR_NOT_FOUND`
   * when there is none.
   */
  async resolveChannel(idOrHandle: string, signal?: AbortSignal): Promise<ResolvedChannel> {
    const ref = parseChannelRef(idOrHandle);
    const notFound = () => new YouTubeError("YT_ERR_NOT_FOUND", `YouTube channel not found: ${idOrHandle}`, { status: 404, reason: "channelNotFound" });
    if (!ref) throw notFound();
    const tries: Array<{ id: string[] } | { forHandle: string } | { forUsername: string }> =
      ref.kind === "id"
        ? [{ id: [ref.value] }]
        : ref.kind === "handle"
          ? // Many old names live on as a legacy username only: tried when no handle matches (one more unit).
            [{ forHandle: ref.value }, { forUsername: ref.value }]
          : ref.kind === "username"
            ? [{ forUsername: ref.value }, { forHandle: ref.value }]
            : [{ forHandle: ref.value }, { forUsername: ref.value }];
    for (const filter of tries) {
      const res = await this.call("channels.list", signal, (o) => this.yt.channels.list({ part: ["snippet", "contentDetails"], ...filter, maxResults: 1 }, o));
      const ch = res.items?.[0];
      const uploads = ch?.contentDetails?.relatedPlaylists?.uploads;
      if (typeof ch?.id === "string" && typeof uploads === "string" && uploads) {
        return { channelId: ch.id, title: typeof ch.snippet?.title === "string" ? ch.snippet.title : "", uploadsPlaylistId: uploads, handle: ch.snippet?.customUrl ?? undefined };
      }
    }
    throw notFound();
  }

  /** One page (up to 50) of a playlist, in the playlist's order (uploads: newest first). */
  async playlistPage(playlistId: string, pageToken?: string, signal?: AbortSignal): Promise<Page<UploadItem>> {
    const res = await this.call("playlistItems.list", signal, (o) =>
      this.yt.playlistItems.list({ part: ["contentDetails"], playlistId, maxResults: 50, pageToken }, o),
    );
    const items: UploadItem[] = [];
    for (const it of res.items ?? []) {
      const videoId = it.contentDetails?.videoId;
      if (typeof videoId === "string" && videoId) items.push({ videoId, publishedAt: stringOr(it.contentDetails?.videoPublishedAt) });
    }
    return { items, nextPageToken: res.nextPageToken ?? undefined, ...total(res) };
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
          publishedBefore: query.publishedBefore,
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
      if (typeof videoId === "string" && videoId) items.push({ videoId, publishedAt: stringOr(it.snippet?.publishedAt) });
    }
    return { items, nextPageToken: res.nextPageToken ?? undefined, ...total(res) };
  }

  /**
   * One page (up to 50) of the most popular videos of a region (and category), as full video resources.
   * `q.maxResults` is the page size, 1..50, default 50.
   */
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

  /**
   * The top comment threads of a video (1 unit), most relevant first. A video with comments disabled gives `[]`.
   * @param maxResults - threads asked for, 1..100
   * @defaultValue maxResults: 20
   */
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
        checkAnswer(method, res.data);
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
          metrics?.apiCalls.inc({ api: "youtube", method, outcome: err.keyRejected ? "key" : "error" });
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

const stringOr = (v: unknown): string => (typeof v === "string" ? v : "");
const total = (res: { pageInfo?: { totalResults?: number | null } | null }): { totalResults?: number } => {
  const n = res.pageInfo?.totalResults;
  return typeof n === "number" && Number.isFinite(n) && n >= 0 ? { totalResults: n } : {};
};

/**
 * Every answer of the methods used is a JSON object with a `kind` and, when
 * present, an `items` array. Anything else (an HTML page, `{}`, a string) is an
 * upstream glitch: a retryable `YT_ERR_UNAVAILABLE` (`badResponse`), never an
 * empty answer that would read as "not found".
 */
function checkAnswer(method: string, data: unknown): void {
  const bad = (why: string) => new YouTubeError("YT_ERR_UNAVAILABLE", `YouTube ${method} answered garbage: ${why}`, { reason: "badResponse", retryable: true });
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw bad(typeof data === "string" ? `text, not JSON (${JSON.stringify(data.slice(0, 40))})` : `a ${Array.isArray(data) ? "list" : typeof data}, not an object`);
  const body = data as { kind?: unknown; items?: unknown };
  if (typeof body.kind !== "string" || !body.kind.startsWith("youtube#")) throw bad("an object without the API's kind");
  if (body.items !== undefined && !Array.isArray(body.items)) throw bad("items is not a list");
}

/** Reasons that refuse the key itself, not one call. */
const KEY_REASONS = new Set(["keyInvalid", "keyExpired", "accessNotConfigured", "ipRefererBlocked", "forbidden"]);

/** The API key is a query parameter: fetch errors quote the URL, so it is cut out of every message we keep. */
const redactKey = (text: string): string => text.replace(/([?&]key=)[^&\s"']+/gi, "$1[redacted]");

/** The error to keep as `cause`: the original, unless its messages quote the key (then a redacted copy). */
function safeCause(raw: unknown): unknown {
  const texts: string[] = [];
  for (let e: unknown = raw, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) texts.push(e.message);
  if (!texts.some((t) => /[?&]key=/i.test(t))) return raw;
  return new Error(redactKey(texts.join(": ")));
}

/** Turns what the googleapis client throws into a {@link YouTubeError} with the API's reason. */
export function toYouTubeError(raw: unknown, method: string): YouTubeError {
  if (raw instanceof YouTubeError) return raw;
  const e = (raw ?? {}) as GoogleErrorShape & { cause?: { type?: string } };
  const status = e.response?.status ?? e.status ?? (typeof e.code === "number" ? e.code : undefined);
  const body = e.response?.data?.error;
  const reason = body?.errors?.[0]?.reason ?? e.errors?.[0]?.reason;
  const message = redactKey(body?.message ?? e.message ?? String(raw));
  const cause = safeCause(raw);
  const text = `YouTube ${method} failed${status ? ` (${status}${reason ? ` ${reason}` : ""})` : ""}: ${message}`;
  // An answer over maxResponseBytes (declared or while inflating): an upstream glitch, retried.
  if (e.cause?.type === "max-size" || /over the limit|max-size|maxContentLength/i.test(String(e.message ?? ""))) {
    return new YouTubeError("YT_ERR_UNAVAILABLE", `YouTube ${method} answer too large: ${message}`, { status, reason: "responseTooLarge", retryable: true, cause });
  }
  if (status !== undefined && status >= 200 && status < 300) {
    return new YouTubeError("YT_ERR_UNAVAILABLE", `YouTube ${method} answer unreadable: ${message}`, { status, reason: "badResponse", retryable: true, cause });
  }
  if (reason && KEY_REASONS.has(reason) && (status === 400 || status === 403)) {
    return new YouTubeError("YT_ERR_AUTH", text, { status, reason, keyRejected: true, cause });
  }
  // Per-user and per-second rate limits are temporary, unlike the daily quota.
  const throttled = reason === "rateLimitExceeded" || reason === "userRateLimitExceeded";
  if (status === undefined || status >= 500 || status === 429 || throttled) return new YouTubeError("YT_ERR_UNAVAILABLE", text, { status, reason, retryable: true, cause });
  if (status === 404) return new YouTubeError("YT_ERR_NOT_FOUND", text, { status, reason, cause });
  if (status === 401 || (status === 403 && reason !== "quotaExceeded" && reason !== "commentsDisabled") || reason === "keyInvalid") {
    return new YouTubeError("YT_ERR_AUTH", text, { status, reason, cause });
  }
  if (reason === "quotaExceeded") return new YouTubeError("YT_ERR_QUOTA", text, { status, reason, cause });
  return new YouTubeError("YT_ERR_BAD_REQUEST", text, { status, reason, cause });
}

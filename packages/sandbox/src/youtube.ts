import { createHash } from "node:crypto";
import { gzipBomb, type Faults, type Reply, type Request, intParam, serve } from "./http.js";
import { World, rng, type WorldOptions } from "./world.js";
import {
  type ChannelInfo,
  CALM_YOUTUBE_DATA,
  STRICT_YOUTUBE_DATA,
  WORLD_CATEGORY_IDS,
  YouTubeData,
  etagOf,
  searchTokens,
  type LiveState,
  type SearchOrder,
  type SearchQuery,
  type YouTubeDataRealism,
} from "./youtube-data.js";

/**
 * How strict and flaky the YouTube sandbox is, switch by switch. Everything is
 * on by default (the real API's behaviour, each documented with its source in
 * the README); `strict: false` gives the calm world of earlier versions, or
 * turn single switches off.
 */
export interface YouTubeStrictness extends YouTubeDataRealism {
  /** search.list lists at most this many results of one query (no `nextPageToken` past it) and `totalResults` is an estimate. 0: no cap. A count of results. @defaultValue 500 */
  searchCap: number;
  /** playlistItems.list on an uploads playlist with no videos answers 404 `playlistNotFound` (the real API has no such playlist). @defaultValue true */
  emptyPlaylistNotFound: boolean;
  /** Share of API answers (0..1) that are a 200 with an HTML page or `{}` instead. @defaultValue 0.01 */
  garbageRate: number;
}

/** Every switch on: the default. */
export const STRICT_YOUTUBE: Readonly<YouTubeStrictness> = Object.freeze({ ...STRICT_YOUTUBE_DATA, searchCap: 500, emptyPlaylistNotFound: true, garbageRate: 0.01 });
/** Every switch off: the calm world of earlier versions. */
export const CALM_YOUTUBE: Readonly<YouTubeStrictness> = Object.freeze({ ...CALM_YOUTUBE_DATA, searchCap: 0, emptyPlaylistNotFound: false, garbageRate: 0 });

/** Resolves the `strict` option: `true`/absent is {@link STRICT_YOUTUBE}, `false` {@link CALM_YOUTUBE}, an object overrides single switches of the strict default. */
export function resolveYouTubeStrictness(strict: boolean | Partial<YouTubeStrictness> | undefined): YouTubeStrictness {
  if (strict === false) return { ...CALM_YOUTUBE };
  if (strict === true || strict === undefined) return { ...STRICT_YOUTUBE };
  return { ...STRICT_YOUTUBE, ...strict };
}

/**
 * A one-off answer staged for the next matching API request(s):
 * `html` (200 with an HTML page), `empty-object` (200 `{}`), `bad-item` (the
 * real answer with one item's `snippet.title` a number), `huge-item` (the real
 * answer with one video's description of `descriptionBytes`, `viewCount`
 * `1e308` and an unparseable `publishedAt`), `gzip-bomb` (a small gzip answer
 * that inflates to `inflatedBytes`), `error` (`status` with Google's error body
 * and `reason`, e.g. 403 `rateLimitExceeded`, 403 `accessNotConfigured`, 400 `keyInvalid`).
 */
export interface YouTubeStagedGlitch {
  kind: "html" | "empty-object" | "bad-item" | "huge-item" | "gzip-bomb" | "error";
  /** Only requests whose path starts with this, e.g. `/youtube/v3/videos`. @defaultValue any API path */
  path?: string;
  /** `bad-item`/`huge-item`: the video id of the item to spoil. @defaultValue the first item */
  videoId?: string;
  /** How many requests get it, a count. @defaultValue 1 */
  count?: number;
  /** `error`: the status. @defaultValue 403 */
  status?: number;
  /** `error`: the reason. @defaultValue `rateLimitExceeded` */
  reason?: string;
  /** `gzip-bomb`: size after inflating, in bytes. @defaultValue 64 MiB */
  inflatedBytes?: number;
  /** `huge-item`: the description's length, in bytes. @defaultValue 4 MiB */
  descriptionBytes?: number;
}

const ERROR_DOMAINS: Record<string, string> = {
  rateLimitExceeded: "youtube.quota",
  userRateLimitExceeded: "usageLimits",
  accessNotConfigured: "usageLimits",
  keyInvalid: "usageLimits",
  commentsDisabled: "youtube.commentThread",
  quotaExceeded: "youtube.quota",
};


const GARBAGE_HTML = "<!DOCTYPE html><html><head><title>Error 502 (Server Error)</title></head><body><p><b>502.</b> That's an error.</p></body></html>";

/** The YouTube Data API v3 methods the sandbox serves. */
export type YouTubeMethod = "search.list" | "videos.list" | "channels.list" | "playlistItems.list" | "commentThreads.list";

/** Quota units per call, as the real API charges them. */
export const YOUTUBE_QUOTA_COSTS: Readonly<Record<YouTubeMethod, number>> = {
  "search.list": 100,
  "videos.list": 1,
  "channels.list": 1,
  "playlistItems.list": 1,
  "commentThreads.list": 1,
};

/** The real API's default daily quota per project. */
export const DEFAULT_DAILY_QUOTA = 10_000;

/** One API key's quota for the current quota day (midnight to midnight, America/Los_Angeles). */
export interface QuotaUsage {
  /** Units spent today. A call that fails with a 4xx still costs its price; quota and key errors cost nothing. */
  spent: number;
  limit: number;
  /** Units per method, e.g. `{ "search.list": 200, "videos.list": 3 }`. */
  byMethod: Partial<Record<YouTubeMethod, number>>;
  /** Charged calls per method. */
  calls: Partial<Record<YouTubeMethod, number>>;
  /** Calls refused with 403 quotaExceeded. */
  rejected: number;
  /** The quota day, `YYYY-MM-DD` in America/Los_Angeles. */
  day: string;
}

/** What `GET /_sandbox/stats` answers. */
export interface YouTubeStats {
  /** Per API key. */
  quota: Record<string, QuotaUsage>;
  /** API requests received (faulted ones included). */
  requests: number;
  /** API requests answered with an injected 503. */
  faulted: number;
  /** API answers replaced by a glitch (random garbage or staged). */
  glitches: number;
  /** The world clock, ISO 8601. */
  now: string;
  /** Videos published by the world clock (deleted ones included). */
  visibleVideos: number;
}

/** Options of `startYouTubeSandbox`. */
export interface YouTubeSandboxOptions {
  /** The world, shared with the Reddit sandbox for linked data and one clock, or its options. @defaultValue `new World()` */
  world?: World | WorldOptions;
  /** Host to listen on. @defaultValue 127.0.0.1 */
  host?: string;
  /** Port to listen on; 0: any free port. @defaultValue 0 */
  port?: number;
  /** Accepted API keys. @defaultValue any non-empty key */
  apiKeys?: string[];
  /** Daily quota per key, in quota units. @defaultValue 10,000 ({@link DEFAULT_DAILY_QUOTA}) */
  dailyQuota?: number;
  /** Initial faults (latency, 503 share). @defaultValue none: `latencyMs` 0, `errorRate` 0 */
  faults?: Partial<Faults>;
  /** Wall clock for quota days (not the world clock), ms since the epoch. @defaultValue `Date.now` */
  now?: () => number;
  /** How strict and flaky (see {@link YouTubeStrictness}). @defaultValue `true`: everything on */
  strict?: boolean | Partial<YouTubeStrictness>;
}

/** A running YouTube Data API v3 sandbox. */
export interface YouTubeSandbox {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** `url` + `/`: pass as `rootUrl` to `@googleapis/youtube`. */
  readonly rootUrl: string;
  readonly world: World;
  /** The data served, for assertions (ids, uploads, titles...). */
  readonly data: YouTubeData;
  /** Mutable: change `latencyMs` / `errorRate` at any time. */
  readonly faults: Faults;
  /** A snapshot of quota use and request counts. */
  stats(): YouTubeStats;
  /** A snapshot of one key's quota (zero use for a key not seen yet). */
  quota(key: string): QuotaUsage;
  /** Sets a key's spent units and/or limit, e.g. to exhaust it. */
  setQuota(key: string, change: { spent?: number; limit?: number }): QuotaUsage;
  /** Quota of every key and the request counts back to zero (limits back to the default). */
  resetStats(): void;
  /** Deletes a video: every answer omits it from now on. False when unknown or already deleted. */
  deleteVideo(id: string): boolean;
  /** Moves the world clock forward; returns the new now (ms). */
  advance(ms: number): number;
  /** The live switches; assign to them at any time (e.g. `garbageRate = 0`). */
  strictness: YouTubeStrictness;
  /** Stages a glitch for the next matching request(s) (as `POST /_sandbox/stage`). */
  stage(glitch: YouTubeStagedGlitch): void;
  /** Adds a channel with no uploads (as `POST /_sandbox/channels`). */
  addEmptyChannel(options?: { handle?: string; username?: string }): ChannelInfo;
  /** Makes a video an upcoming or live broadcast, or an ordinary one again (as `POST /_sandbox/videos/<id>/live`). False when unknown. */
  setLive(id: string, state: LiveState): boolean;
  /** Turns a video's comments off or on (as `POST /_sandbox/videos/<id>/comments`). False when unknown. */
  setCommentsDisabled(id: string, disabled: boolean): boolean;
  close(): Promise<void>;
}

/** An API error in Google's format (see `googleError`). */
export class YouTubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly domain: string = "youtube.parameter",
    readonly location?: string,
    readonly details?: unknown[],
  ) {
    super(message);
    this.name = "YouTubeApiError";
  }
}

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

/** The body Google APIs answer errors with: `{ error: { code, message, errors: [{ message, domain, reason }], status } }`. */
export function googleError(err: YouTubeApiError): Reply {
  const entry: Record<string, string> = { message: err.message, domain: err.domain, reason: err.reason };
  if (err.location) {
    entry.location = err.location;
    entry.locationType = "parameter";
  }
  return {
    status: err.code,
    body: {
      error: {
        code: err.code,
        message: err.message,
        errors: [entry],
        status: STATUS_NAMES[err.code] ?? "UNKNOWN",
        ...(err.details ? { details: err.details } : {}),
      },
    },
  };
}

/** The sandbox's 5xx answer (injected faults): `backendError`, like the real API's transient failures. */
export function youtubeServerError(status: number): Reply {
  const message = status === 503 ? "The service is currently unavailable." : "Internal error encountered.";
  return googleError(new YouTubeApiError(status, "backendError", message, "global"));
}

const QUOTA_MESSAGE = 'The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.';

const invalid = (name: string, message: string): YouTubeApiError => new YouTubeApiError(400, "invalidParameter", message, "youtube.parameter", name);

const noFilter = (expected: string): YouTubeApiError =>
  new YouTubeApiError(400, "missingRequiredParameter", `No filter selected. Expected one of: ${expected}`, "youtube.parameter");

/** A comma list parameter, also accepted repeated (`id=a&id=b`, as googleapis sends arrays). */
function listParam(query: URLSearchParams, name: string): string[] {
  return query
    .getAll(name)
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

const VIDEO_PARTS = ["id", "snippet", "contentDetails", "statistics", "status", "player", "topicDetails", "recordingDetails", "localizations", "liveStreamingDetails", "paidProductPlacementDetails"];
const CHANNEL_PARTS = ["id", "snippet", "contentDetails", "statistics", "status", "brandingSettings", "topicDetails", "localizations", "contentOwnerDetails", "auditDetails"];

/** The `part` parameter: required, every name known to the method. */
function parts(query: URLSearchParams, allowed: readonly string[]): Set<string> {
  const list = listParam(query, "part");
  if (list.length === 0) throw new YouTubeApiError(400, "missingRequiredParameter", "Required parameter: part", "youtube.parameter", "part");
  for (const p of list) if (!allowed.includes(p)) throw new YouTubeApiError(400, "unknownPart", `'${p}'`, "youtube.part", "part");
  return new Set(list);
}

function maxResults(query: URLSearchParams, min: number, max: number, fallback: number): number {
  const n = intParam(query, "maxResults", min, max);
  if (n === null) throw invalid("maxResults", `Invalid value '${query.get("maxResults") ?? ""}' for maxResults: expected a whole number in ${min}..${max}.`);
  return n ?? fallback;
}

function oneOf<T extends string>(query: URLSearchParams, name: string, values: readonly T[], fallback: T): T {
  const v = query.get(name);
  if (v === null || v === "") return fallback;
  if (!(values as readonly string[]).includes(v)) throw invalid(name, `Invalid value '${v}' for ${name}: expected one of ${values.join(", ")}.`);
  return v as T;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function timeParam(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null || v === "") return undefined;
  const ms = RFC3339.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw invalid(name, `Invalid value '${v}' for ${name}: expected an RFC 3339 date-time, e.g. 2026-01-02T03:04:05Z.`);
  return ms;
}

function regionParam(query: URLSearchParams, fallback: string): string {
  const v = query.get("regionCode");
  if (v === null || v === "") return fallback;
  if (!/^[A-Za-z]{2}$/.test(v)) throw invalid("regionCode", `Invalid value '${v}' for regionCode: expected an ISO 3166-1 alpha-2 country code.`);
  return v.toUpperCase();
}

// ---- page tokens: opaque, bound to the query, carrying the offset and the clock of the first page ----

interface Cursor {
  offset: number;
  /** The world clock when the first page was asked for: later pages list the same snapshot, without repeats. */
  t: number;
}

function signCursor(secret: string, scope: string, body: string): string {
  return createHash("sha256").update(`${secret}\u0000${scope}\u0000${body}`).digest("base64url").slice(0, 12);
}

function makeToken(secret: string, scope: string, cursor: Cursor): string {
  const body = `${cursor.offset}.${cursor.t}`;
  return Buffer.from(`${body}.${signCursor(secret, scope, body)}`).toString("base64url");
}

function readToken(secret: string, scope: string, query: URLSearchParams, now: number): Cursor {
  const token = query.get("pageToken");
  if (token === null || token === "") return { offset: 0, t: now };
  const bad = new YouTubeApiError(400, "invalidPageToken", "The request specifies an invalid page token.", "youtube.parameter", "pageToken");
  const m = /^(\d{1,9})\.(\d{1,16})\.([\w-]{12})$/.exec(Buffer.from(token, "base64url").toString("utf8"));
  if (!m) throw bad;
  const body = `${m[1]}.${m[2]}`;
  if (signCursor(secret, scope, body) !== m[3]) throw bad;
  return { offset: Number(m[1]), t: Number(m[2]) };
}

/** nextPageToken / prevPageToken for a page of `size` at `cursor` in a list of `total`. */
function pageTokens(secret: string, scope: string, cursor: Cursor, size: number, total: number): { nextPageToken?: string; prevPageToken?: string } {
  const out: { nextPageToken?: string; prevPageToken?: string } = {};
  if (size > 0 && cursor.offset + size < total) out.nextPageToken = makeToken(secret, scope, { offset: cursor.offset + size, t: cursor.t });
  if (size > 0 && cursor.offset > 0) out.prevPageToken = makeToken(secret, scope, { offset: Math.max(0, cursor.offset - size), t: cursor.t });
  return out;
}

// ---- partial responses (`fields`) ----

/** A parsed `fields` selector: each key keeps the whole value (`true`) or a sub-selection. */
export type FieldSelection = Map<string, FieldSelection | true>;

/** Parses a `fields` selector such as `items(id,snippet/title),nextPageToken`. */
export function parseFields(text: string): FieldSelection {
  let pos = 0;
  const fail = (): never => {
    throw invalid("fields", `Invalid field selection ${text}`);
  };
  const name = (): string => {
    const m = /^[A-Za-z0-9_*]+/.exec(text.slice(pos));
    if (!m) return fail();
    pos += m[0].length;
    return m[0];
  };
  const merge = (into: FieldSelection, key: string, value: FieldSelection | true): void => {
    const old = into.get(key);
    if (old === true || value === true || old === undefined) into.set(key, old === undefined ? value : true);
    else for (const [k, v] of value) merge(old, k, v);
  };
  const list = (): FieldSelection => {
    const sel: FieldSelection = new Map();
    for (;;) {
      const path = [name()];
      while (text[pos] === "/") {
        pos++;
        path.push(name());
      }
      let leaf: FieldSelection | true = true;
      if (text[pos] === "(") {
        pos++;
        leaf = list();
        if (text[pos] !== ")") fail();
        pos++;
      }
      for (let k = path.length - 1; k > 0; k--) leaf = new Map([[path[k] as string, leaf]]);
      merge(sel, path[0] as string, leaf);
      if (text[pos] !== ",") return sel;
      pos++;
    }
  };
  const sel = list();
  if (pos !== text.length) fail();
  return sel;
}

/** Keeps only the selected fields of a response (arrays: of each element). */
export function applyFields(value: unknown, sel: FieldSelection): unknown {
  if (Array.isArray(value)) return value.map((v) => applyFields(v, sel));
  if (value === null || typeof value !== "object") return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of sel.has("*") ? Object.keys(obj) : sel.keys()) {
    if (!(key in obj)) continue;
    const sub = sel.get(key) ?? sel.get("*") ?? true;
    out[key] = sub === true ? obj[key] : applyFields(obj[key], sub);
  }
  return out;
}

// ---- quota ----

const dayFormat = new Intl.DateTimeFormat("en-CA", { timeZone: "America/Los_Angeles", year: "numeric", month: "2-digit", day: "2-digit" });

/** The quota day of a wall-clock time: `YYYY-MM-DD` in America/Los_Angeles, where the real quota resets at midnight. */
export const quotaDay = (ms: number): string => dayFormat.format(new Date(ms));

function copyUsage(u: QuotaUsage): QuotaUsage {
  return { ...u, byMethod: { ...u.byMethod }, calls: { ...u.calls } };
}

// ---- the API ----

const METHODS: Record<string, YouTubeMethod> = {
  "/youtube/v3/search": "search.list",
  "/youtube/v3/videos": "videos.list",
  "/youtube/v3/channels": "channels.list",
  "/youtube/v3/playlistItems": "playlistItems.list",
  "/youtube/v3/commentThreads": "commentThreads.list",
};

const SEARCH_ORDERS = ["date", "rating", "relevance", "title", "videoCount", "viewCount"] as const;
/** search.list filters that need `type=video`. */
const VIDEO_ONLY_FILTERS = ["eventType", "videoCaption", "videoCategoryId", "videoDefinition", "videoDimension", "videoDuration", "videoEmbeddable", "videoLicense", "videoSyndicated", "videoType"];

class YouTubeApi {
  readonly secret: string;
  constructor(
    readonly data: YouTubeData,
    readonly strictness: YouTubeStrictness,
  ) {
    this.secret = `${data.world.config.seed}\u0000youtube-page-token`;
  }

  run(method: YouTubeMethod, query: URLSearchParams): Record<string, unknown> {
    switch (method) {
      case "search.list":
        return this.search(query);
      case "videos.list":
        return this.videos(query);
      case "channels.list":
        return this.channels(query);
      case "playlistItems.list":
        return this.playlistItems(query);
      case "commentThreads.list":
        return this.commentThreads(query);
    }
  }

  private now(): number {
    return this.data.world.clock.now();
  }

  private search(query: URLSearchParams): Record<string, unknown> {
    const part = parts(query, ["id", "snippet"]);
    const size = maxResults(query, 0, 50, 5);
    const types = listParam(query, "type");
    for (const t of types) if (!["video", "channel", "playlist"].includes(t)) throw invalid("type", `Invalid value '${t}' for type: expected video, channel or playlist.`);
    const orderParam = oneOf(query, "order", SEARCH_ORDERS, "relevance");
    const order: SearchOrder = orderParam === "videoCount" ? "relevance" : orderParam;
    const usesVideoFilter = VIDEO_ONLY_FILTERS.some((f) => (query.get(f) ?? "") !== "");
    if (usesVideoFilter && !(types.length === 1 && types[0] === "video")) {
      throw new YouTubeApiError(
        400,
        "invalidSearchFilter",
        "The request contains an invalid combination of search filters and/or restrictions. Note that you must set the <code>type</code> parameter to <code>video</code> if you set a value for the <code>eventType</code>, <code>videoCaption</code>, <code>videoCategoryId</code>, <code>videoDefinition</code>, <code>videoDimension</code>, <code>videoDuration</code>, <code>videoEmbeddable</code>, <code>videoLicense</code>, <code>videoSyndicated</code>, or <code>videoType</code> parameters.",
        "youtube.search",
      );
    }
    const duration = oneOf(query, "videoDuration", ["any", "short", "medium", "long"] as const, "any");
    const categoryId = query.get("videoCategoryId") || undefined;
    if (categoryId !== undefined && !/^\d+$/.test(categoryId)) throw invalid("videoCategoryId", `Invalid value '${categoryId}' for videoCategoryId.`);
    // Filters nothing in the world matches: live events, SD, 3D, captions, Creative Commons, episodes and movies.
    const impossible =
      (query.get("eventType") ?? "") !== "" ||
      query.get("videoDefinition") === "standard" ||
      query.get("videoDimension") === "3d" ||
      query.get("videoCaption") === "closedCaption" ||
      query.get("videoLicense") === "creativeCommon" ||
      ["episode", "movie"].includes(query.get("videoType") ?? "");
    const terms: string[] = [];
    const excluded: string[] = [];
    // Every term must match; `a|b` (or `a | b`) is one term with two alternatives.
    const groups: string[][] = [];
    let joinNext = false;
    for (const word of (query.get("q") ?? "").split(/\s+/)) {
      if (word === "") continue;
      if (word === "|") {
        joinNext = groups.length > 0;
        continue;
      }
      if (word.startsWith("-") && word.length > 1) {
        excluded.push(...searchTokens(word.slice(1)));
        continue;
      }
      const alternatives = word.split("|").map((w) => searchTokens(w));
      terms.push(...alternatives.flat());
      if (alternatives.length > 1 || joinNext) {
        // One term with alternatives: any token of any alternative matches it.
        const group = alternatives.flat();
        if (joinNext) (groups.at(-1) as string[]).push(...group);
        else if (group.length > 0) groups.push(group);
      } else {
        for (const t of alternatives[0] ?? []) groups.push([t]);
      }
      joinNext = false;
    }
    const channel = query.get("channelId") || undefined;
    const search: SearchQuery = {
      terms,
      ...(groups.length > 0 ? { groups } : {}),
      excluded,
      order,
      ...(channel !== undefined ? { channelIndex: this.data.channelIndex(channel) ?? null } : {}),
      ...optional("publishedAfter", timeParam(query, "publishedAfter")),
      ...optional("publishedBefore", timeParam(query, "publishedBefore")),
      ...(duration !== "any" ? { videoDuration: duration } : {}),
      ...optional("videoCategoryId", categoryId),
    };
    const regionCode = regionParam(query, "US");
    const scope = `search.list\u0000${JSON.stringify(search)}\u0000${types.join(",")}\u0000${impossible}`;
    const cursor = readToken(this.secret, scope, query, this.now());
    const wantsVideos = (types.length === 0 || types.includes("video")) && !impossible;
    const list = wantsVideos ? this.data.search(search, cursor.t) : new Int32Array(0);
    // The real search lists about 500 results of a query at most, and its total is an estimate.
    const cap = this.strictness.searchCap;
    const reachable = cap > 0 ? Math.min(cap, list.length) : list.length;
    const page = Array.from(list.subarray(Math.min(cursor.offset, reachable), Math.min(reachable, cursor.offset + size)));
    const items = page.map((i) => this.data.searchResultResource(i, part));
    return listResponse("youtube#searchListResponse", {
      ...pageTokens(this.secret, scope, cursor, size, reachable),
      regionCode,
      pageInfo: { totalResults: cap > 0 ? estimate(list.length) : list.length, resultsPerPage: size },
      items,
    });
  }

  private videos(query: URLSearchParams): Record<string, unknown> {
    const part = parts(query, VIDEO_PARTS);
    const ids = listParam(query, "id");
    const chart = query.get("chart") || undefined;
    const myRating = query.get("myRating") || undefined;
    const filters = [ids.length > 0 ? "id" : "", chart ? "chart" : "", myRating ? "myRating" : ""].filter(Boolean);
    if (filters.length === 0) throw noFilter("chart, id, myRating");
    if (filters.length > 1) throw new YouTubeApiError(400, "incompatibleParameters", `Incompatible parameters specified in the request: ${filters.join(", ")}.`);
    if (myRating) throw new YouTubeApiError(401, "authorizationRequired", "The request uses the <code>myRating</code> parameter but is not properly authorized.", "youtube.parameter", "myRating");
    const now = this.now();
    if (ids.length > 0) {
      if (ids.length > 50) throw invalid("id", `The request specifies ${ids.length} video IDs in the id parameter; at most 50 are allowed.`);
      maxResults(query, 1, 50, 5);
      const seen = new Set<number>();
      const items = [];
      for (const id of ids) {
        const i = this.data.videoIndex(id);
        if (i === undefined || seen.has(i) || !this.data.isAvailable(i, now)) continue;
        seen.add(i);
        items.push(this.data.videoResource(i, part, now));
      }
      return listResponse("youtube#videoListResponse", { items, pageInfo: { totalResults: items.length, resultsPerPage: items.length } });
    }
    if (chart !== "mostPopular") throw invalid("chart", `Invalid value '${chart ?? ""}' for chart: expected mostPopular.`);
    const size = maxResults(query, 1, 50, 5);
    const regionCode = regionParam(query, "US");
    const categoryId = query.get("videoCategoryId") || undefined;
    if (categoryId !== undefined && categoryId !== "0" && !WORLD_CATEGORY_IDS.includes(categoryId)) {
      throw new YouTubeApiError(404, "videoChartNotFound", "The requested video chart is not supported or is not available.", "youtube.video", "chart");
    }
    const category = categoryId === "0" ? undefined : categoryId;
    const scope = `videos.list\u0000mostPopular\u0000${regionCode}\u0000${category ?? ""}`;
    const cursor = readToken(this.secret, scope, query, now);
    const list = this.data.mostPopular(regionCode, category, cursor.t);
    const items = Array.from(list.subarray(cursor.offset, cursor.offset + size), (i) => this.data.videoResource(i, part, now));
    return listResponse("youtube#videoListResponse", {
      items,
      ...pageTokens(this.secret, scope, cursor, size, list.length),
      pageInfo: { totalResults: list.length, resultsPerPage: size },
    });
  }

  private channels(query: URLSearchParams): Record<string, unknown> {
    const part = parts(query, CHANNEL_PARTS);
    const ids = listParam(query, "id");
    const handle = query.get("forHandle") || undefined;
    const username = query.get("forUsername") || undefined;
    const mine = query.get("mine") === "true" || query.get("managedByMe") === "true" || query.get("mySubscribers") === "true";
    const filters = [ids.length > 0, handle !== undefined, username !== undefined, mine, (query.get("categoryId") ?? "") !== ""].filter(Boolean).length;
    if (filters === 0) throw noFilter("forUsername, managedByMe, categoryId, mine, mySubscribers, id, idParam, forHandle.");
    if (filters > 1) throw new YouTubeApiError(400, "incompatibleParameters", "Incompatible parameters specified in the request.");
    if (mine) throw new YouTubeApiError(401, "authorizationRequired", "The request uses the <code>mine</code> parameter but is not properly authorized.", "youtube.parameter", "mine");
    if (ids.length > 50) throw invalid("id", `The request specifies ${ids.length} channel IDs in the id parameter; at most 50 are allowed.`);
    const size = maxResults(query, 0, 50, 5);
    let found: number[];
    if (ids.length > 0) found = [...new Set(ids.map((id) => this.data.channelIndex(id)).filter((c): c is number => c !== undefined))];
    else if (handle !== undefined || username !== undefined) {
      // forUsername takes the legacy username; the calm world also took a handle there.
      const c =
        handle !== undefined
          ? this.data.channelByHandle(handle)
          : (this.data.channelByUsername(username ?? "") ?? (this.strictness.emptyPlaylistNotFound ? undefined : this.data.channelByHandle(username ?? "")));
      found = c === undefined ? [] : [c];
    } else found = [];
    const now = this.now();
    const items = found.map((c) => this.data.channelResource(c, part, now));
    // Like the real API, an answer without channels has no `items` at all.
    return listResponse("youtube#channelListResponse", { pageInfo: { totalResults: items.length, resultsPerPage: size }, ...(items.length > 0 ? { items } : {}) });
  }

  private playlistItems(query: URLSearchParams): Record<string, unknown> {
    const part = parts(query, ["id", "snippet", "contentDetails", "status"]);
    const size = maxResults(query, 0, 50, 5);
    const playlistId = query.get("playlistId") || undefined;
    const ids = listParam(query, "id");
    if (!playlistId && ids.length === 0) throw noFilter("id, playlistId");
    if (playlistId && ids.length > 0) throw new YouTubeApiError(400, "incompatibleParameters", "Incompatible parameters specified in the request: id, playlistId.");
    const now = this.now();
    if (ids.length > 0) {
      const items = [];
      for (const itemId of ids.slice(0, 50)) {
        const [pl, vid] = Buffer.from(itemId, "base64").toString("utf8").split(".");
        const c = pl === undefined ? undefined : this.data.channelByUploads(pl);
        const i = vid === undefined ? undefined : this.data.videoIndex(vid);
        if (c === undefined || i === undefined || this.data.channelOfVideo(i) !== c || !this.data.isAvailable(i, now)) continue;
        items.push(this.data.playlistItemResource(i, this.data.uploadIndexes(c, now).indexOf(i), part));
      }
      return listResponse("youtube#playlistItemListResponse", { items, pageInfo: { totalResults: items.length, resultsPerPage: size } });
    }
    const c = this.data.channelByUploads(playlistId ?? "");
    // A channel with no uploads has no uploads playlist for the real API.
    if (c === undefined || (this.strictness.emptyPlaylistNotFound && this.data.uploadCount(c, now) === 0)) {
      throw new YouTubeApiError(404, "playlistNotFound", "The playlist identified with the request's <code>playlistId</code> parameter cannot be found.", "youtube.playlistItem", "playlistId");
    }
    const videoFilter = query.get("videoId") || undefined;
    const scope = `playlistItems.list\u0000${playlistId}\u0000${videoFilter ?? ""}`;
    const cursor = readToken(this.secret, scope, query, now);
    let total: number;
    let entries: Array<{ i: number; position: number }>;
    if (videoFilter !== undefined) {
      const all = this.data.uploadIndexes(c, cursor.t);
      const i = this.data.videoIndex(videoFilter);
      const position = i === undefined ? -1 : all.indexOf(i);
      const matches = position < 0 ? [] : [{ i: i as number, position }];
      total = matches.length;
      entries = matches.slice(cursor.offset, cursor.offset + size);
    } else {
      const page = this.data.uploadPage(c, cursor.t, cursor.offset, size);
      total = page.total;
      entries = page.indexes.map((i, k) => ({ i, position: cursor.offset + k }));
    }
    const items = entries.map((e) => this.data.playlistItemResource(e.i, e.position, part));
    return listResponse("youtube#playlistItemListResponse", {
      ...pageTokens(this.secret, scope, cursor, size, total),
      items,
      pageInfo: { totalResults: total, resultsPerPage: size },
    });
  }

  private commentThreads(query: URLSearchParams): Record<string, unknown> {
    const part = parts(query, ["id", "snippet", "replies"]);
    const videoId = query.get("videoId") || undefined;
    const other = ["allThreadsRelatedToChannelId", "channelId", "id"].filter((f) => (query.get(f) ?? "") !== "");
    if (!videoId && other.length === 0) throw noFilter("channelId, id, videoId, allThreadsRelatedToChannelId");
    if ((videoId ? 1 : 0) + other.length > 1) throw new YouTubeApiError(400, "incompatibleParameters", "Incompatible parameters specified in the request.");
    if (!videoId) throw invalid(other[0] as string, `The sandbox lists comment threads by videoId only, not by ${other[0] as string}.`);
    const size = maxResults(query, 1, 100, 20);
    const order = oneOf(query, "order", ["time", "relevance"] as const, "time");
    const textFormat = oneOf(query, "textFormat", ["html", "plainText"] as const, "html");
    const searchTerms = (query.get("searchTerms") ?? "").toLowerCase();
    const now = this.now();
    const i = this.data.videoIndex(videoId);
    if (i === undefined || !this.data.isAvailable(i, now)) {
      throw new YouTubeApiError(
        404,
        "videoNotFound",
        'The video identified by the <code><a href="/youtube/v3/docs/commentThreads/list#videoId">videoId</a></code> parameter could not be found.',
        "youtube.commentThread",
        "videoId",
      );
    }
    if (this.data.commentsDisabled(i)) {
      throw new YouTubeApiError(
        403,
        "commentsDisabled",
        'The video identified by the <code><a href="/youtube/v3/docs/commentThreads/list#videoId">videoId</a></code> parameter has disabled comments.',
        "youtube.commentThread",
        "videoId",
      );
    }
    const scope = `commentThreads.list\u0000${videoId}\u0000${order}\u0000${searchTerms}`;
    const cursor = readToken(this.secret, scope, query, now);
    const resource = (k: number): ReturnType<YouTubeData["commentThreadResource"]> =>
      this.data.commentThreadResource(i, k, { replies: part.has("replies"), textFormat, t: cursor.t });
    let threads = this.data.commentThreadOrder(i, order, cursor.t);
    if (searchTerms) threads = threads.filter((k) => resource(k).snippet?.topLevelComment.snippet.textOriginal.toLowerCase().includes(searchTerms));
    const items = threads.slice(cursor.offset, cursor.offset + size).map((k) => {
      const thread = resource(k);
      if (!part.has("snippet")) delete thread.snippet;
      return thread;
    });
    return listResponse("youtube#commentThreadListResponse", {
      ...pageTokens(this.secret, scope, cursor, size, threads.length),
      pageInfo: { totalResults: threads.length, resultsPerPage: size },
      items,
    });
  }
}

/** An estimate like the real `totalResults`: two significant digits. */
function estimate(n: number): number {
  if (n < 100) return n;
  const step = 10 ** (Math.floor(Math.log10(n)) - 1);
  return Math.round(n / step) * step;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function listResponse(kind: string, rest: Record<string, unknown>): Record<string, unknown> {
  return { kind, etag: etagOf([kind, rest]), ...rest };
}

/** Starts a YouTube Data API v3 sandbox on loopback. Close it with `close()`. */
export async function startYouTubeSandbox(options: YouTubeSandboxOptions = {}): Promise<YouTubeSandbox> {
  const world = World.of(options.world);
  const data = new YouTubeData(world);
  const strictness: YouTubeStrictness = resolveYouTubeStrictness(options.strict);
  // One live object: the data reads its switches from the same place.
  data.realism = strictness;
  const api = new YouTubeApi(data, strictness);
  const staged: YouTubeStagedGlitch[] = [];
  let glitches = 0;
  const glitchRandom = rng(`${world.config.seed}/youtube`, "glitches");
  const stage = (glitch: YouTubeStagedGlitch): void => {
    const kinds = ["html", "empty-object", "bad-item", "huge-item", "gzip-bomb", "error"];
    if (!kinds.includes(glitch.kind)) throw new RangeError(`kind must be one of ${kinds.join(", ")}, got ${String(glitch.kind)}`);
    const count = glitch.count ?? 1;
    if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`count must be a whole number >= 1, got ${count}`);
    staged.push({ ...glitch, count });
  };
  const wall = options.now ?? Date.now;
  const dailyQuota = options.dailyQuota ?? DEFAULT_DAILY_QUOTA;
  if (!(Number.isInteger(dailyQuota) && dailyQuota >= 0)) throw new RangeError(`dailyQuota must be a whole number >= 0, got ${dailyQuota}`);
  const apiKeys = options.apiKeys ? new Set(options.apiKeys) : undefined;
  const faults: Faults = { latencyMs: 0, errorRate: 0, ...options.faults };
  const usage = new Map<string, QuotaUsage>();
  let requests = 0;
  let faulted = 0;

  const usageOf = (key: string): QuotaUsage => {
    const day = quotaDay(wall());
    let u = usage.get(key);
    if (!u) {
      u = { spent: 0, limit: dailyQuota, byMethod: {}, calls: {}, rejected: 0, day };
      usage.set(key, u);
    } else if (u.day !== day) {
      Object.assign(u, { spent: 0, byMethod: {}, calls: {}, rejected: 0, day });
    }
    return u;
  };
  const setQuota = (key: string, change: { spent?: number; limit?: number }): QuotaUsage => {
    for (const k of ["spent", "limit"] as const) {
      const v = change[k];
      if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new RangeError(`quota ${k} must be a whole number >= 0, got ${v}`);
    }
    const u = usageOf(key);
    if (change.spent !== undefined) u.spent = change.spent;
    if (change.limit !== undefined) u.limit = change.limit;
    return copyUsage(u);
  };
  const stats = (): YouTubeStats => {
    const quota: Record<string, QuotaUsage> = {};
    for (const key of usage.keys()) quota[key] = copyUsage(usageOf(key));
    return { quota, requests, faulted, glitches, now: new Date(world.clock.now()).toISOString(), visibleVideos: world.visibleVideos() };
  };
  const resetStats = (): void => {
    usage.clear();
    requests = 0;
    faulted = 0;
    glitches = 0;
  };

  /** The staged glitch for this path, if any (used up one count). */
  const takeStaged = (path: string): YouTubeStagedGlitch | undefined => {
    const k = staged.findIndex((g) => path.startsWith(g.path ?? "/youtube/v3/"));
    if (k < 0) return undefined;
    const g = staged[k] as YouTubeStagedGlitch;
    if ((g.count ?? 1) <= 1) staged.splice(k, 1);
    else staged[k] = { ...g, count: (g.count ?? 1) - 1 };
    return g;
  };

  /** The item a `bad-item`/`huge-item` glitch spoils: the one naming `videoId`, else the first. */
  const pickItem = (body: Record<string, unknown>, videoId: string | undefined): Record<string, unknown> | undefined => {
    const items = Array.isArray(body.items) ? (body.items as Array<Record<string, unknown>>) : [];
    return (videoId ? items.find((it) => JSON.stringify(it).includes(videoId)) : undefined) ?? items[0];
  };

  const spoil = async (g: YouTubeStagedGlitch, body: Record<string, unknown>): Promise<Reply> => {
    glitches++;
    switch (g.kind) {
      case "html":
        return { status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: GARBAGE_HTML };
      case "empty-object":
        return { status: 200, body: {} };
      case "gzip-bomb":
        return { status: 200, headers: { "content-type": "application/json; charset=UTF-8", "content-encoding": "gzip" }, body: await gzipBomb(g.inflatedBytes ?? 64 * 1024 * 1024, '{"kind": "youtube#videoListResponse", "pad": "', '", "items": []}') };
      case "bad-item": {
        const item = pickItem(body, g.videoId);
        if (item) {
          const snippet = (item.snippet ?? {}) as Record<string, unknown>;
          snippet.title = 12345;
          item.snippet = snippet;
        }
        return { status: 200, body };
      }
      case "huge-item": {
        const item = pickItem(body, g.videoId);
        if (item) {
          const snippet = (item.snippet ?? {}) as Record<string, unknown>;
          snippet.description = "A".repeat(g.descriptionBytes ?? 4 * 1024 * 1024);
          snippet.publishedAt = "not a date";
          item.snippet = snippet;
          item.statistics = { ...((item.statistics ?? {}) as Record<string, unknown>), viewCount: "1e308", likeCount: "1e308" };
        }
        return { status: 200, body };
      }
      case "error": {
        const reason = g.reason ?? "rateLimitExceeded";
        return googleError(new YouTubeApiError(g.status ?? 403, reason, `Staged error: ${reason}.`, ERROR_DOMAINS[reason] ?? "global"));
      }
    }
  };

  const handleApi = async (req: Request): Promise<Reply> => {
    requests++;
    if (req.method !== "GET") {
      return googleError(new YouTubeApiError(405, "methodNotAllowed", `The sandbox serves only GET, not ${req.method}.`, "global"));
    }
    const method = METHODS[req.path];
    if (!method) return googleError(new YouTubeApiError(404, "notFound", "Method not found.", "global"));
    const key = req.query.get("key") ?? "";
    if (key === "") return googleError(new YouTubeApiError(403, "forbidden", "The request is missing a valid API key.", "global"));
    if (apiKeys && !apiKeys.has(key)) {
      return googleError(
        new YouTubeApiError(400, "keyInvalid", "API key not valid. Please pass a valid API key.", "global", undefined, [
          { "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID", domain: "googleapis.com", metadata: { service: "youtube.googleapis.com" } },
        ]),
      );
    }
    const u = usageOf(key);
    const cost = YOUTUBE_QUOTA_COSTS[method];
    if (u.spent + cost > u.limit) {
      u.rejected++;
      return googleError(new YouTubeApiError(403, "quotaExceeded", QUOTA_MESSAGE, "youtube.quota"));
    }
    u.spent += cost;
    u.byMethod[method] = (u.byMethod[method] ?? 0) + cost;
    u.calls[method] = (u.calls[method] ?? 0) + 1;
    const glitch = takeStaged(req.path);
    if (glitch?.kind === "error") return spoil(glitch, {});
    let body: Record<string, unknown>;
    try {
      const fields = req.query.get("fields");
      const selection = fields ? parseFields(fields) : undefined;
      const full = api.run(method, req.query);
      body = (selection ? applyFields(full, selection) : full) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof YouTubeApiError) return googleError(err);
      throw err;
    }
    if (glitch) return spoil(glitch, body);
    // Upstream glitches: a 200 whose body is an HTML error page or an empty object.
    if (strictness.garbageRate > 0 && glitchRandom() < strictness.garbageRate) return spoil({ kind: glitchRandom() < 0.5 ? "html" : "empty-object" }, body);
    return { status: 200, body };
  };

  const handleSandbox = (req: Request): Reply => {
    const route = `${req.method} ${req.path}`;
    if (route === "GET /_sandbox/stats") return { status: 200, body: stats() };
    if (req.method !== "POST") return { status: 404, body: { error: `no sandbox endpoint ${route}` } };
    let body: Record<string, unknown> = {};
    if (req.body.trim() !== "") {
      try {
        const parsed: unknown = JSON.parse(req.body);
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return { status: 400, body: { error: "the body must be a JSON object" } };
        body = parsed as Record<string, unknown>;
      } catch {
        return { status: 400, body: { error: "the body is not valid JSON" } };
      }
    }
    const num = (name: string): number | undefined => {
      const v = body[name];
      if (v === undefined) return undefined;
      if (typeof v !== "number" || !Number.isFinite(v)) throw new RangeError(`${name} must be a number`);
      return v;
    };
    try {
      switch (req.path) {
        case "/_sandbox/advance": {
          const ms = num("ms");
          if (ms === undefined) return { status: 400, body: { error: "ms is required" } };
          const now = world.clock.advance(ms);
          return { status: 200, body: { now: new Date(now).toISOString(), visibleVideos: world.visibleVideos() } };
        }
        case "/_sandbox/faults": {
          const latencyMs = num("latencyMs");
          const errorRate = num("errorRate");
          if (latencyMs !== undefined && latencyMs < 0) throw new RangeError("latencyMs must be >= 0");
          if (errorRate !== undefined && !(errorRate >= 0 && errorRate <= 1)) throw new RangeError("errorRate must be in 0..1");
          if (latencyMs !== undefined) faults.latencyMs = latencyMs;
          if (errorRate !== undefined) faults.errorRate = errorRate;
          return { status: 200, body: { ...faults } };
        }
        case "/_sandbox/quota": {
          const key = body.key;
          if (typeof key !== "string" || key === "") return { status: 400, body: { error: "key is required" } };
          const change: { spent?: number; limit?: number } = {};
          const spent = num("spent");
          const limit = num("limit");
          if (spent !== undefined) change.spent = spent;
          if (limit !== undefined) change.limit = limit;
          return { status: 200, body: setQuota(key, change) };
        }
        case "/_sandbox/reset":
          resetStats();
          return { status: 200, body: stats() };
        case "/_sandbox/stage":
          stage(body as unknown as YouTubeStagedGlitch);
          return { status: 200, body: { staged: staged.length } };
        case "/_sandbox/strictness": {
          for (const [k, v] of Object.entries(body)) {
            if (!(k in strictness)) throw new RangeError(`unknown switch ${k}`);
            const old = strictness[k as keyof YouTubeStrictness];
            if (typeof v !== typeof old || (typeof v === "number" && !(Number.isFinite(v) && v >= 0))) throw new RangeError(`${k} must be a ${typeof old}${typeof old === "number" ? " >= 0" : ""}`);
          }
          Object.assign(strictness, body);
          return { status: 200, body: { ...strictness } };
        }
        case "/_sandbox/channels": {
          const handle = typeof body.handle === "string" ? body.handle : undefined;
          const username = typeof body.username === "string" ? body.username : undefined;
          return { status: 200, body: data.addEmptyChannel({ ...(handle ? { handle } : {}), ...(username ? { username } : {}) }) };
        }
      }
      const live = /^\/_sandbox\/videos\/([\w-]+)\/live$/.exec(req.path);
      if (live) {
        const state = body.state;
        if (state !== "none" && state !== "live" && state !== "upcoming") return { status: 400, body: { error: "state must be none, live or upcoming" } };
        if (!data.setLive(live[1] as string, state)) return { status: 404, body: { error: `no video ${live[1] as string}` } };
        return { status: 200, body: { id: live[1], state } };
      }
      const comments = /^\/_sandbox\/videos\/([\w-]+)\/comments$/.exec(req.path);
      if (comments) {
        if (typeof body.disabled !== "boolean") return { status: 400, body: { error: "disabled must be true or false" } };
        if (!data.setCommentsDisabled(comments[1] as string, body.disabled)) return { status: 404, body: { error: `no video ${comments[1] as string}` } };
        return { status: 200, body: { id: comments[1], disabled: body.disabled } };
      }
      const del = /^\/_sandbox\/videos\/([\w-]+)\/delete$/.exec(req.path);
      if (del) {
        const id = del[1] as string;
        if (data.videoIndex(id) === undefined) return { status: 404, body: { error: `no video ${id}` } };
        return { status: 200, body: { id, deleted: data.deleteVideo(id) } };
      }
    } catch (err) {
      if (err instanceof RangeError) return { status: 400, body: { error: err.message } };
      throw err;
    }
    return { status: 404, body: { error: `no sandbox endpoint ${route}` } };
  };

  const http = await serve((req) => (req.path.startsWith("/_sandbox/") ? handleSandbox(req) : handleApi(req)), {
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    faults,
    faultSeed: `${world.config.seed}\u0000youtube`,
    serverError: (status) => {
      requests++;
      faulted++;
      return youtubeServerError(status);
    },
  });

  return {
    url: http.url,
    rootUrl: `${http.url}/`,
    world,
    data,
    faults,
    stats,
    quota: (key) => (usage.has(key) ? copyUsage(usageOf(key)) : { spent: 0, limit: dailyQuota, byMethod: {}, calls: {}, rejected: 0, day: quotaDay(wall()) }),
    setQuota,
    resetStats,
    deleteVideo: (id) => data.deleteVideo(id),
    advance: (ms) => world.clock.advance(ms),
    strictness,
    stage,
    addEmptyChannel: (o) => data.addEmptyChannel(o),
    setLive: (id, state) => data.setLive(id, state),
    setCommentsDisabled: (id, disabled) => data.setCommentsDisabled(id, disabled),
    close: () => http.close(),
  };
}

import { setTimeout as sleep } from "node:timers/promises";
import type { Budget, Logger, WorkerMetrics } from "@prismq/worker-kit";
import { RedditError, statusOf, toRedditError } from "./errors.js";
import type { Snoowrap } from "./snoowrap-adapter.js";

/** A post (`t3`), as plain data. */
export interface RedditPost {
  /** Base36, without `t3_`. */
  id: string;
  /** The fullname, `t3_<id>`. */
  name: string;
  subreddit: string;
  title: string;
  /** Markdown of a self post; `""` for link posts; `[removed]`/`[deleted]` when gone. */
  selftext: string;
  /** The link of a link post; a self post's own address. */
  url: string;
  /** Absolute: `https://www.reddit.com/r/.../comments/...`. */
  permalink: string;
  domain: string;
  /** `[deleted]` when the author deleted it. */
  author: string;
  /** Seconds since the epoch; 0 when Reddit sent something unparseable. */
  createdUtc: number;
  /** Clamped to ±{@link MAX_COUNT}. */
  score: number;
  /** 0..1. */
  upvoteRatio: number;
  numComments: number;
  flair: string | null;
  isSelf: boolean;
  over18: boolean;
  totalAwards: number;
  /** One of Reddit's ten `removed_by_category` values (`moderator`, `deleted`, `author`, `automod_filtered`, `reddit`, `anti_evil_ops`, `community_ops`, `legal_operations`, `copyright_takedown`, `content_takedown`), or `null` when the post stands. */
  removedByCategory: string | null;
}

/** A comment (`t1`), as plain data. */
export interface RedditComment {
  id: string;
  author: string;
  body: string;
  score: number;
  /** Seconds since the epoch. */
  createdUtc: number;
  /** 0 for a top-level comment. */
  depth: number;
}

/** One page of a listing; pass `after` back to get the next one (`null`: no more). */
export interface Page<T> {
  items: T[];
  after: string | null;
  /** Entries of the answer that could not be mapped (e.g. `title: 12345`): their id when it was readable, and why. */
  invalid?: InvalidItem[];
}

/** An entry of an answer that is not a usable post: its id (base36, without `t3_`) when readable, and the reason. */
export interface InvalidItem {
  id: string | null;
  reason: string;
}

export type ListingSort = "hot" | "new" | "top" | "rising";
export type SearchSort = "relevance" | "hot" | "top" | "new" | "comments";
export type TimeFilter = "hour" | "day" | "week" | "month" | "year" | "all";
export type CommentSort = "top" | "new" | "confidence";
/** The calls of {@link RedditApi}, as they are labelled in the metrics. */
export type RedditMethod = "listing" | "search" | "info" | "comments";

/** What `lookup` found: the posts, and the ids whose entries could not be mapped, with the reason. */
export interface Lookup {
  posts: RedditPost[];
  invalid: Map<string, string>;
}

export interface RedditApiOptions {
  /**
   * A client from `createRedditClient`. `RedditApi` is the only retry layer:
   * the constructor sets the client's `maxRetryAttempts` to 1 (snoowrap's own
   * retry would multiply attempts, with a 2, 4... s backoff the signal cannot stop).
   */
  client: Snoowrap;
  /** Requests budget: each request spends 1 first; when it is spent the call waits for the budget's next window. @defaultValue none (no budget) */
  budget?: Budget;
  /** Where calls, requests and request times are counted. @defaultValue none (nothing is counted) */
  metrics?: WorkerMetrics;
  /** Where waits and retries are logged. @defaultValue none (nothing is logged) */
  logger?: Logger;
  /** Attempts in total, a count, for 5xx and network errors (and, counted apart, for 429s). @defaultValue 4 */
  attempts?: number;
  /** First retry delay for 5xx and network errors, ms; doubles each attempt, full jitter. @defaultValue 500 */
  baseDelayMs?: number;
  /** When Reddit's `X-Ratelimit-Remaining` (less the requests in flight) falls to this, wait for `X-Ratelimit-Reset` before the next request. A count of requests. @defaultValue 2 */
  minRemaining?: number;
  /**
   * Reddit's rate-limit window, ms (600,000: 1,000 requests per 10 minutes).
   * A 429 without a usable `X-Ratelimit-Reset` waits for the next
   * clock-aligned window boundary.
   * @defaultValue 600,000
   */
  rateLimitWindowMs?: number;
  /** The least a 429 waits, ms, even when `X-Ratelimit-Reset` says 0. @defaultValue 1,000 */
  minRateLimitWaitMs?: number;
}

const LISTING_SORTS = new Set<ListingSort>(["hot", "new", "top", "rising"]);
const SEARCH_SORTS = new Set<SearchSort>(["relevance", "hot", "top", "new", "comments"]);
const TIME_FILTERS = new Set<TimeFilter>(["hour", "day", "week", "month", "year", "all"]);
const COMMENT_SORTS = new Set<CommentSort>(["top", "new", "confidence"]);
const SUBREDDIT = /^[A-Za-z0-9_]{2,21}(?:\+[A-Za-z0-9_]{2,21})*$/;
const BASE36 = /^[0-9a-z]{1,13}$/;
/** The most ids one `/api/info` request takes. */
export const MAX_INFO_IDS = 100;

type Json = Record<string, unknown>;
type Query = Record<string, string | number | undefined>;

/** The largest count a post or comment keeps; absurd numbers (`1e308`) are clamped to it. */
export const MAX_COUNT = 1_000_000_000;
const str = (v: unknown, fallback = ""): string => (typeof v === "string" ? v : fallback);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? Math.max(-MAX_COUNT, Math.min(MAX_COUNT, v)) : 0);
/** A `created_utc` in a sane range (1995..2200), else 0. */
const epochSeconds = (v: unknown): number => {
  const n = typeof v === "string" && /^\d+(\.\d+)?$/.test(v.trim()) ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) && n > 788_918_400 && n < 7_258_118_400 ? n : 0;
};
const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

/** What snoowrap returned, as plain JSON (its objects' `toJSON()`). */
function plain(v: unknown): unknown {
  const withJson = v as { toJSON?: () => unknown } | null;
  return withJson !== null && typeof withJson === "object" && typeof withJson.toJSON === "function" ? withJson.toJSON() : v;
}

/**
 * A post's `t3` data (Reddit's JSON, or a snoowrap Submission's `toJSON()`)
 * as a {@link RedditPost}; `null` when it is not a post.
 */
export function toRedditPost(data: unknown): RedditPost | null {
  const r = mapPost(data);
  return "post" in r ? r.post : null;
}

/**
 * Maps one entry: the post, or why it is not one (with its id when that is
 * readable, so the caller can fail that one item and keep the others).
 * Numbers are clamped ({@link MAX_COUNT}), an unparseable `created_utc` is 0.
 */
export function mapPost(data: unknown): { post: RedditPost } | InvalidItem {
  if (!isObject(data)) return { id: null, reason: `not a post: ${data === null ? "null" : Array.isArray(data) ? "an array" : typeof data}` };
  const name = str(data.name);
  const id = str(data.id) || (name.startsWith("t3_") ? name.slice(3) : "");
  const readable = BASE36.test(id) ? id : null;
  if (!id || (name !== "" && !name.startsWith("t3_"))) return { id: readable, reason: `not a post (name ${JSON.stringify(name).slice(0, 40)})` };
  if (typeof data.title !== "string") return { id: readable, reason: `post ${id}: field title is ${data.title === null ? "null" : typeof data.title}, expected a string` };
  return { post: toPost(data, id, name) };
}

function toPost(data: Json, id: string, name: string): RedditPost {
  const title = data.title as string;
  const permalink = str(data.permalink);
  // snoowrap turns `author` and `subreddit` into objects whose toJSON gives the name back; raw JSON has strings.
  const author = typeof data.author === "string" ? data.author : str((data.author as { name?: unknown } | null)?.name, "[deleted]");
  const subreddit = typeof data.subreddit === "string" ? data.subreddit : str((data.subreddit as { display_name?: unknown } | null)?.display_name);
  return {
    id,
    name: name || `t3_${id}`,
    subreddit,
    title,
    selftext: str(data.selftext),
    url: str(data.url),
    permalink: permalink === "" || /^https?:\/\//.test(permalink) ? permalink : `https://www.reddit.com${permalink.startsWith("/") ? "" : "/"}${permalink}`,
    domain: str(data.domain),
    author,
    createdUtc: epochSeconds(data.created_utc),
    score: num(data.score),
    upvoteRatio: Math.max(0, Math.min(1, num(data.upvote_ratio))),
    numComments: num(data.num_comments),
    flair: typeof data.link_flair_text === "string" && data.link_flair_text !== "" ? data.link_flair_text : null,
    isSelf: data.is_self === true,
    over18: data.over_18 === true,
    totalAwards: num(data.total_awards_received),
    removedByCategory: typeof data.removed_by_category === "string" ? data.removed_by_category : null,
  };
}

/** Whether a post is gone: removed by a moderator or Reddit, or deleted by its author. */
export function isRemoved(post: RedditPost): boolean {
  if (post.removedByCategory !== null) return true;
  if (post.selftext === "[removed]" || post.selftext === "[deleted]") return true;
  return post.author === "[deleted]" && post.selftext === "[deleted]";
}

/** A moderator's boilerplate rather than a reader's comment: stickied, distinguished, or written by AutoModerator. */
function isModeratorNotice(item: Json, author: string): boolean {
  return item.stickied === true || (typeof item.distinguished === "string" && item.distinguished !== "") || author.toLowerCase() === "automoderator";
}

/**
 * Comments of a tree (plain JSON), depth first, `more` stubs skipped,
 * shallower than `maxDepth`, at most `limit`. Stickied or distinguished
 * comments and AutoModerator's (a subreddit's rules, not a reader's words) are
 * left out with their replies.
 */
function flatten(tree: unknown, maxDepth: number, limit: number): RedditComment[] {
  const out: RedditComment[] = [];
  const walk = (items: unknown, level: number): void => {
    if (!Array.isArray(items)) return;
    for (const item of items) {
      if (out.length >= limit) return;
      // A `more` stub has no body.
      if (!isObject(item) || typeof item.body !== "string" || typeof item.id !== "string") continue;
      const depth = typeof item.depth === "number" ? item.depth : level;
      if (depth >= maxDepth) continue;
      const author = typeof item.author === "string" ? item.author : str((item.author as { name?: unknown } | null)?.name, "[deleted]");
      if (isModeratorNotice(item, author)) continue;
      out.push({ id: item.id, author, body: item.body, score: num(item.score), createdUtc: epochSeconds(item.created_utc), depth });
      walk(item.replies, depth + 1);
    }
  };
  walk(tree, 0);
  return out;
}

function wholeNumber(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be a whole number in ${min}..${max}, got ${v}`);
  return v;
}

function subredditPath(subreddit: string): string {
  const name = subreddit.replace(/^\/?r\//i, "").replace(/\/+$/, "");
  if (!SUBREDDIT.test(name)) throw new RangeError(`not a subreddit name: "${subreddit}"`);
  return name;
}

function oneOf<T extends string>(name: string, set: Set<T>, v: T | undefined): T | undefined {
  if (v !== undefined && !set.has(v)) throw new RangeError(`${name} must be one of ${[...set].join(", ")}, got "${String(v)}"`);
  return v;
}

/** Resolves with `promise`, or rejects with the signal's reason as soon as it aborts (the request itself runs on and is dropped). */
function abortable<T>(promise: PromiseLike<T>, signal: AbortSignal | undefined): Promise<T> {
  const p = Promise.resolve(promise);
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** `X-Ratelimit-Reset` of a 429, seconds, or undefined when absent or unparseable. */
function resetOf(raw: unknown): number | undefined {
  const headers = (raw as { response?: { headers?: Record<string, unknown> } } | null)?.response?.headers;
  const value = headers?.["x-ratelimit-reset"];
  if (value === undefined || value === null || String(value).trim() === "") return undefined;
  const reset = Number(value);
  return Number.isFinite(reset) && reset >= 0 ? reset : undefined;
}

/** A listing (snoowrap's Listing is an array). */
const isListing = (res: unknown): string | undefined => (Array.isArray(res) ? undefined : `expected a listing, got ${describeAnswer(res)}`);
/** A post with its comments: snoowrap's Submission (an object with `comments`) or `[post listing, comment listing]`. */
const isCommentsAnswer = (res: unknown): string | undefined => {
  const v = plain(res);
  if (Array.isArray(v) && v.length >= 2) return undefined;
  if (isObject(v) && typeof v.name === "string" && "comments" in v) return undefined;
  return `expected a post and its comments, got ${describeAnswer(res)}`;
};
function describeAnswer(res: unknown): string {
  if (typeof res === "string") return /^\s*</.test(res) ? "an HTML page" : res.trim() === "" ? "an empty body" : "text";
  if (res === null || res === undefined) return "nothing";
  const v = plain(res);
  if (isObject(v)) return Object.keys(v).length === 0 ? "an empty object" : "an object without the expected fields";
  return typeof v;
}

const PROGRAMMING_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError];

/**
 * The Reddit read calls the apps need, through snoowrap (over the undici
 * adapter). Every request spends 1 from the budget first and waits for the
 * budget's next window when it is spent; it obeys Reddit's `X-Ratelimit-*`
 * headers (waits for the reset when few requests are left), waits out a 429
 * and retries, retries 5xx and network errors with exponential backoff and
 * full jitter, and is counted in the metrics. Errors are {@link RedditError}s;
 * bad arguments throw `RangeError` before any request; an aborted `signal`
 * rejects with an `AbortError` (or the signal's reason).
 */
export class RedditApi {
  private readonly client: Snoowrap;
  private readonly options: RedditApiOptions;
  private sent = 0;
  private inFlight = 0;

  constructor(options: RedditApiOptions) {
    this.options = options;
    this.client = options.client;
    this.client.config({ maxRetryAttempts: 1 });
  }

  /** Requests made through this api, every attempt counted (for the benchmarks). */
  get requests(): number {
    return this.sent;
  }

  /**
   * One page of a subreddit's listing (`a+b` for several, `all`), one
   * request. `t` applies to `top`. An unknown subreddit throws `RD_ERR_NOT_FOUND`.
   */
  async listing(subreddit: string, sort: ListingSort, opts: { t?: TimeFilter; limit?: number; after?: string } = {}, signal?: AbortSignal): Promise<Page<RedditPost>> {
    const sub = subredditPath(subreddit);
    if (!LISTING_SORTS.has(sort)) throw new RangeError(`sort must be one of ${[...LISTING_SORTS].join(", ")}, got "${String(sort)}"`);
    const qs: Query = { limit: wholeNumber("limit", opts.limit ?? 100, 1, 100), after: opts.after || undefined, t: oneOf("t", TIME_FILTERS, opts.t) };
    return this.page("listing", `r/${sub}/${sort}`, qs, signal);
  }

  /** One page of a post search, in one subreddit (`restrict_sr`) or in all of Reddit; one request. */
  async search(q: { query: string; subreddit?: string; sort?: SearchSort; t?: TimeFilter; limit?: number; after?: string }, signal?: AbortSignal): Promise<Page<RedditPost>> {
    if (typeof q.query !== "string" || q.query.trim() === "") throw new RangeError("search query must not be empty");
    const sub = q.subreddit === undefined ? undefined : subredditPath(q.subreddit);
    const qs: Query = {
      q: q.query,
      sort: oneOf("sort", SEARCH_SORTS, q.sort),
      t: oneOf("t", TIME_FILTERS, q.t),
      limit: wholeNumber("limit", q.limit ?? 100, 1, 100),
      after: q.after || undefined,
      restrict_sr: sub === undefined ? undefined : "true",
      type: "link",
    };
    return this.page("search", sub === undefined ? "search" : `r/${sub}/search`, qs, signal);
  }

  /**
   * Up to 100 posts by id (base36, with or without `t3_`) in ONE `/api/info`
   * request: removed posts are included (see {@link isRemoved}), unknown ids
   * are left out. More than 100 ids, or a malformed one, throws `RangeError`.
   */
  async info(postIds: readonly string[], signal?: AbortSignal): Promise<RedditPost[]> {
    return (await this.lookup(postIds, signal)).posts;
  }

  /**
   * As {@link info}, one request, and also the ids whose entries Reddit sent
   * but could not be mapped (e.g. `title: 12345`), with the reason, so a
   * caller fails those alone. An answer that is not a listing at all (an HTML
   * page, `{}`) is retried and, in the end, thrown as `RD_ERR_BAD_ANSWER`:
   * never read as "no such posts".
   */
  async lookup(postIds: readonly string[], signal?: AbortSignal): Promise<Lookup> {
    if (postIds.length > MAX_INFO_IDS) throw new RangeError(`info() takes at most ${MAX_INFO_IDS} ids, got ${postIds.length}`);
    const ids = [...new Set(postIds.map((id) => id.replace(/^t3_/, "")))];
    for (const id of ids) if (!BASE36.test(id)) throw new RangeError(`not a post id: "${id}"`);
    if (ids.length === 0) return { posts: [], invalid: new Map() };
    const res = await this.request("info", "api/info", { id: ids.map((id) => `t3_${id}`).join(",") }, signal, isListing);
    const posts: RedditPost[] = [];
    const invalid = new Map<string, string>();
    for (const item of plain(res) as unknown[]) {
      const r = mapPost(item);
      if ("post" in r) posts.push(r.post);
      else if (r.id !== null) invalid.set(r.id, r.reason);
    }
    return { posts, invalid };
  }

  /**
   * A post and its comments, one request: flattened depth first, comments
   * shallower than `depth` (default 2: top level and their replies), at most
   * `limit` (default 20, max 500), `more` stubs skipped, by `sort` (default
   * `top`). Removed comments stay (body `[removed]`). An unknown post throws
   * `RD_ERR_NOT_FOUND`.
   */
  async comments(postId: string, opts: { depth?: number; limit?: number; sort?: CommentSort } = {}, signal?: AbortSignal): Promise<{ post: RedditPost | null; comments: RedditComment[] }> {
    const id = postId.replace(/^t3_/, "");
    if (!BASE36.test(id)) throw new RangeError(`not a post id: "${postId}"`);
    const depth = wholeNumber("depth", opts.depth ?? 2, 1, 10);
    const limit = wholeNumber("limit", opts.limit ?? 20, 1, 500);
    const sort = oneOf("sort", COMMENT_SORTS, opts.sort) ?? "top";
    const res = plain(await this.request("comments", `comments/${id}`, { depth, limit, sort }, signal, isCommentsAnswer));
    // snoowrap merges [post listing, comment listing] into the Submission with `comments`; without a post it stays an array.
    let postData: unknown;
    let tree: unknown;
    if (Array.isArray(res)) {
      const first: unknown = res[0];
      postData = Array.isArray(first) ? first[0] : undefined;
      tree = res[1];
    } else {
      postData = res;
      tree = isObject(res) ? res.comments : undefined;
    }
    return { post: toRedditPost(postData), comments: flatten(tree, depth, limit) };
  }

  private async page(method: RedditMethod, uri: string, qs: Query, signal: AbortSignal | undefined): Promise<Page<RedditPost>> {
    const listing = await this.request(method, uri, qs, signal, isListing);
    const meta = listing as { _query?: { after?: unknown }; _uri?: unknown } | null;
    const list = plain(listing) as unknown[];
    // Reddit answers an unknown subreddit's listing with a redirect to the subreddit search: its entries are subreddits (t5).
    if (typeof meta?._uri === "string" && /^\/?subreddits\/search/.test(meta._uri)) {
      throw new RedditError("RD_ERR_NOT_FOUND", `Reddit ${method} failed: no subreddit at ${uri} (Reddit redirected to the subreddit search)`, { status: 404 });
    }
    const items: RedditPost[] = [];
    const invalid: InvalidItem[] = [];
    for (const item of list) {
      const r = mapPost(item);
      if ("post" in r) items.push(r.post);
      else invalid.push(r);
    }
    const after = meta?._query?.after;
    return { items, after: typeof after === "string" && after !== "" ? after : null, ...(invalid.length ? { invalid } : {}) };
  }

  /**
   * One GET through snoowrap with the budget, the rate-limit headers, retries
   * and metrics around it. `check` says what is wrong with a 200 that is not
   * what the call returns (HTML, `{}`): such an answer is retried like a 5xx
   * and in the end thrown as `RD_ERR_BAD_ANSWER` (retryable).
   */
  private async request(method: RedditMethod, uri: string, qs: Query, signal: AbortSignal | undefined, check?: (res: unknown) => string | undefined): Promise<unknown> {
    const { metrics, logger } = this.options;
    const attempts = this.options.attempts ?? 4;
    const base = this.options.baseDelayMs ?? 500;
    let failures = 0;
    let limited = 0;
    for (;;) {
      signal?.throwIfAborted();
      await this.spend(method, signal);
      await this.obeyRateLimit(method, signal);
      this.sent++;
      this.inFlight++;
      metrics?.redditRequestsSpent.inc();
      const timer = metrics?.externalRequestDuration.startTimer({ api: "reddit", method });
      let raw: unknown;
      try {
        const res = await abortable(this.client.oauthRequest({ uri, method: "get", qs }), signal);
        const wrong = check?.(res);
        if (wrong === undefined) {
          timer?.({ outcome: "ok" });
          metrics?.apiCalls.inc({ api: "reddit", method, outcome: "ok" });
          return res;
        }
        timer?.({ outcome: "error" });
        raw = new RedditError("RD_ERR_BAD_ANSWER", `Reddit ${method} /${uri.replace(/^\//, "")} answered 200 with garbage: ${wrong}`, { retryable: true });
      } catch (e) {
        timer?.({ outcome: "error" });
        raw = e;
      } finally {
        this.inFlight--;
      }
      if (signal?.aborted) throw raw;
      if (PROGRAMMING_ERRORS.some((E) => raw instanceof E)) throw raw;
      if (statusOf(raw) === 429 && ++limited < attempts) {
        metrics?.apiCalls.inc({ api: "reddit", method, outcome: "rate_limited" });
        const waitMs = this.rateLimitWait(raw);
        logger?.warn({ method, waitMs, attempt: limited }, "Reddit answered 429: waiting for the rate-limit reset");
        await sleep(waitMs, undefined, { signal });
        continue;
      }
      const err = toRedditError(raw, `${method} /${uri.replace(/^\//, "")}`);
      if (statusOf(raw) !== 429) failures++;
      if (!err.retryable || failures >= attempts || statusOf(raw) === 429) {
        metrics?.apiCalls.inc({ api: "reddit", method, outcome: "error" });
        throw err;
      }
      metrics?.apiCalls.inc({ api: "reddit", method, outcome: "retry" });
      const delayMs = Math.round(Math.random() * base * 2 ** (failures - 1));
      logger?.warn({ err, method, attempt: failures, delayMs }, "Reddit call failed: retrying");
      await sleep(delayMs, undefined, { signal });
    }
  }

  /**
   * How long a 429 waits: `X-Ratelimit-Reset` seconds (at least
   * `minRateLimitWaitMs`, since Reddit says 0 in a window's last second);
   * without the header (an empty 429 from the edge) the next clock-aligned
   * window boundary. Never 0 ms.
   */
  private rateLimitWait(raw: unknown): number {
    const minWait = this.options.minRateLimitWaitMs ?? 1000;
    const reset = resetOf(raw);
    if (reset !== undefined) return Math.max(minWait, Math.ceil(reset * 1000));
    const windowMs = this.options.rateLimitWindowMs ?? 600_000;
    return Math.max(minWait, windowMs - (Date.now() % windowMs));
  }

  /** Spends 1 request from the budget, waiting for its next window (as often as needed) when it is spent. */
  private async spend(method: RedditMethod, signal: AbortSignal | undefined): Promise<void> {
    const budget = this.options.budget;
    if (!budget) return;
    for (;;) {
      const r = await budget.trySpend(1);
      if (r.ok) return;
      const waitMs = Math.max(1, r.resetAt - Date.now());
      this.options.logger?.info({ budget: budget.name, method, waitMs, resetAt: new Date(r.resetAt).toISOString() }, "Reddit request budget spent: waiting for the next window");
      await sleep(waitMs, undefined, { signal });
    }
  }

  /** Waits for Reddit's rate-limit window to reset when its last answer left `minRemaining` requests or fewer (less those in flight). */
  private async obeyRateLimit(method: RedditMethod, signal: AbortSignal | undefined): Promise<void> {
    const min = this.options.minRemaining ?? 2;
    for (;;) {
      const remaining: unknown = this.client.ratelimitRemaining;
      const expiration: unknown = this.client.ratelimitExpiration;
      if (typeof remaining !== "number" || !Number.isFinite(remaining) || typeof expiration !== "number") return;
      // Reddit rounds the reset down (0 in a window's last second): the window really ends up to a second later.
      const waitMs = expiration + (this.options.minRateLimitWaitMs ?? 1000) - Date.now();
      if (remaining - this.inFlight > min || waitMs <= 0) return;
      this.options.logger?.info({ method, remaining, waitMs }, "Reddit rate limit nearly used: waiting for the reset");
      await sleep(waitMs, undefined, { signal });
    }
  }
}

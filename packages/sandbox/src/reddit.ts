import { randomBytes } from "node:crypto";
import { gzipBomb, serve, type Faults, type Reply, type Request } from "./http.js";
import {
  CALM_DATA,
  REMOVAL_KINDS,
  RedditData,
  STRICT_DATA,
  type RedditDataRealism,
  TIME_FILTERS,
  toListing,
  type CommentSort,
  type ListingSort,
  type PageRequest,
  type PostPage,
  type RedditSubredditData,
  type RemovalKind,
  type SearchSort,
  type TimeFilter,
} from "./reddit-data.js";
import { World, rng, type WorldOptions } from "./world.js";

/**
 * An offline copy of the Reddit API (the OAuth token endpoint and the read
 * endpoints PrismQ uses) on loopback, answering from a generated world with
 * Reddit's shapes, status codes, error bodies and rate-limit headers.
 */

/** An OAuth app the sandbox accepts. */
export interface RedditClientConfig {
  clientId: string;
  /** `""` for an installed app. */
  clientSecret: string;
  /** Refresh tokens accepted for `grant_type=refresh_token`. */
  refreshTokens?: string[];
  /** Accounts accepted for `grant_type=password` (script apps). */
  users?: Array<{ username: string; password: string }>;
}

/** The default client: `sandbox-client` / `sandbox-secret`, refresh token `sandbox-refresh`, user `sandbox` / `sandbox-password`. */
export const DEFAULT_REDDIT_CLIENT: RedditClientConfig = Object.freeze({
  clientId: "sandbox-client",
  clientSecret: "sandbox-secret",
  refreshTokens: ["sandbox-refresh"],
  users: [{ username: "sandbox", password: "sandbox-password" }],
});

/**
 * How strict and flaky the sandbox is, switch by switch. Everything is on by
 * default (the real Reddit's behaviour, each documented with its source in the
 * README); pass `strict: false` for a calm world, or turn single switches off.
 */
export interface RedditStrictness extends RedditDataRealism {
  /** `X-Ratelimit-Reset` is rounded down (0 in a window's last second) and a 429 has an empty body. @defaultValue true */
  rateLimitQuirks: boolean;
  /** Some subreddits are private, quarantined, gated or banned (403/404 with a `reason`), and an unknown name redirects (302) to `/subreddits/search`. @defaultValue true */
  subredditStates: boolean;
  /** Share of API answers (0..1) that are a 200 with an HTML page or `{}` instead. @defaultValue 0.01 */
  garbageRate: number;
  /** Share of listing and `/api/info` answers (0..1) where one post has a wrong type (`title: 12345`). @defaultValue 0.01 */
  badItemRate: number;
}

/** Every switch on: the default. */
export const STRICT_REDDIT: Readonly<RedditStrictness> = Object.freeze({ ...STRICT_DATA, rateLimitQuirks: true, subredditStates: true, garbageRate: 0.01, badItemRate: 0.01 });
/** Every switch off: the calm world of earlier versions. */
export const CALM_REDDIT: Readonly<RedditStrictness> = Object.freeze({ ...CALM_DATA, rateLimitQuirks: false, subredditStates: false, garbageRate: 0, badItemRate: 0 });

/** Resolves the `strict` option: `true`/absent is {@link STRICT_REDDIT}, `false` {@link CALM_REDDIT}, an object overrides single switches of the strict default. */
export function resolveStrictness(strict: boolean | Partial<RedditStrictness> | undefined): RedditStrictness {
  if (strict === false) return { ...CALM_REDDIT };
  if (strict === true || strict === undefined) return { ...STRICT_REDDIT };
  return { ...STRICT_REDDIT, ...strict };
}

/** What a subreddit answers: `public`, or Reddit's refusal `reason`. */
export type SubredditState = "public" | "private" | "quarantined" | "gated" | "banned";

/** Subreddits that exist with a non-public state when `subredditStates` is on (no posts; their listings answer the refusal). */
export const STATEFUL_SUBREDDITS: Readonly<Record<string, SubredditState>> = Object.freeze({ private_lounge: "private", quarantined_zone: "quarantined", gated_topics: "gated", banned_place: "banned" });

/**
 * A one-off answer staged for the next matching API request(s), to stage
 * upstream glitches in tests: `html` (200 with an HTML page), `empty-object`
 * (200 `{}`), `bad-item` (one post with `title: 12345`), `gzip-bomb` (a small
 * gzip answer that inflates to `inflatedBytes`), `redirect` (302 to
 * `location`, e.g. another origin), `status` (`status` with an empty body and
 * no rate-limit headers).
 */
export interface StagedGlitch {
  kind: "html" | "empty-object" | "bad-item" | "gzip-bomb" | "redirect" | "status";
  /** Only requests whose path starts with this. @defaultValue any API path */
  path?: string;
  /** How many requests get it, a count. @defaultValue 1 */
  count?: number;
  /** `redirect`: where to. */
  location?: string;
  /** `status`: the status. @defaultValue 429 */
  status?: number;
  /** `gzip-bomb`: size after inflating, in bytes. @defaultValue 64 MiB */
  inflatedBytes?: number;
}

/** Options of `startRedditSandbox`; all optional. */
export interface RedditSandboxOptions {
  /** The world to serve; pass the YouTube sandbox's World to share videos and clock. @defaultValue `new World()` */
  world?: World | WorldOptions;
  /** Host to listen on. @defaultValue 127.0.0.1 */
  host?: string;
  /** Port to listen on; 0: any free port. @defaultValue 0 */
  port?: number;
  /** OAuth apps. @defaultValue `[DEFAULT_REDDIT_CLIENT]` */
  clients?: RedditClientConfig[];
  /** Per-client budget: `requests` API calls per clock-aligned window of `windowMs`. @defaultValue 1,000 per 600,000 ms (Reddit's OAuth limit), or 100 per 60,000 ms with `strict: false` */
  rateLimit?: { windowMs?: number; requests?: number };
  /** Lifetime of issued access tokens, in seconds. @defaultValue 86,400 (Reddit's `expires_in`) */
  tokenTtlSeconds?: number;
  /** Initial faults; change them later through `sandbox.faults` or `POST /_sandbox/faults`. @defaultValue none: `latencyMs` 0, `errorRate` 0 */
  faults?: Partial<Faults>;
  /** Wall clock (ms) for token expiry and rate-limit windows. Posts follow the world's clock instead. @defaultValue `Date.now` */
  now?: () => number;
  /** How strict and flaky (see {@link RedditStrictness}). @defaultValue `true`: everything on */
  strict?: boolean | Partial<RedditStrictness>;
}

/** What the sandbox counts. `/_sandbox/` calls and injected faults are not counted. */
export interface RedditSandboxStats {
  requests: {
    total: number;
    byEndpoint: Record<RedditEndpoint, number>;
    /** API calls (token requests included) per client id; unauthenticated calls are not attributed. */
    byClient: Record<string, number>;
  };
  /** Calls answered 429. */
  rateLimited: number;
  /** Answers replaced by a glitch (random or staged). */
  glitches: number;
}

/** How the stats group endpoints. */
export type RedditEndpoint = "token" | "listing" | "search" | "comments" | "morechildren" | "info" | "subreddit" | "me" | "other";

/** A client's rate-limit window as the sandbox sees it. */
export interface RateLimitState {
  clientId: string;
  used: number;
  limit: number;
  remaining: number;
  /** Seconds until the window ends. */
  resetSeconds: number;
}

/** Change a client's budget: `used` sets the current window's count (e.g. to the limit, to exhaust it; 0 to reset), `limit` overrides its budget. */
export interface RateLimitChange {
  used?: number;
  limit?: number;
}

/** A running Reddit sandbox: its URL, the world and data behind it, and controls for tests. */
export interface RedditSandbox {
  /** Base URL, e.g. `http://127.0.0.1:43123`; pass it as the Reddit adapter's `baseUrl`. */
  url: string;
  world: World;
  /** Live faults: assign `latencyMs` / `errorRate` at any time. */
  faults: Faults;
  /** The generated data behind the answers, for assertions. */
  data: RedditData;
  /** A copy of the counters (as `GET /_sandbox/stats`). */
  stats(): RedditSandboxStats;
  /** Exhausts, resets or resizes a client's rate-limit budget (as `POST /_sandbox/ratelimit`). */
  setRateLimit(clientId: string, change: RateLimitChange): RateLimitState;
  /** Removes a post (id with or without `t3_`), with any of the ten `removed_by_category` values (default `moderator`). False when no such post. */
  removePost(id: string, by?: RemovalKind): boolean;
  /** Holds a post in the moderation queue (it leaves listings and search). False when no such post. */
  holdPost(id: string): boolean;
  /** Approves a post late: it shows in listings at its creation time. False when no such post. */
  approvePost(id: string): boolean;
  /** Sets a subreddit's state (any name: a world subreddit, a made-up one). `public` restores a world subreddit. */
  setSubredditState(name: string, state: SubredditState): void;
  /** Stages a glitch for the next matching request(s). */
  stage(glitch: StagedGlitch): void;
  /** Revokes a client: its tokens stop working and the token endpoint refuses it (401), as a revoked app on Reddit. */
  revokeClient(clientId: string): void;
  /** The live switches; assign to them at any time (e.g. `garbageRate = 0`). */
  strictness: RedditStrictness;
  /** Moves the world's clock (shared with a YouTube sandbox on the same World). Returns the new time. */
  advance(ms: number): number;
  /** Clears stats, rate-limit state and overrides, runtime removals, holds and approvals, subreddit states, staged glitches, revocations, and faults and strictness back to the initial ones. Tokens and the clock stay. */
  reset(): void;
  /** Stops the server and drops its connections. */
  close(): Promise<void>;
}

const ERROR_MESSAGES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** Reddit's error body: `{"message": "Not Found", "error": 404}`. */
export function redditError(status: number, headers?: Record<string, string>): Reply {
  return { status, headers, body: { message: ERROR_MESSAGES[status] ?? "Error", error: status } };
}

const SORTS = new Set(["hot", "new", "top", "rising", "best"]);
const COMMENT_SORTS: Record<string, CommentSort> = { confidence: "confidence", best: "confidence", top: "top", new: "new", old: "old" };
const SEARCH_SORTS = new Set<SearchSort>(["relevance", "hot", "top", "new", "comments"]);
const INSTALLED_CLIENT_GRANT = "https://oauth.reddit.com/grants/installed_client";

interface TokenInfo {
  clientId: string;
  username?: string;
  expiresAt: number;
}

function emptyStats(): RedditSandboxStats {
  return {
    requests: { total: 0, byEndpoint: { token: 0, listing: 0, search: 0, comments: 0, morechildren: 0, info: 0, subreddit: 0, me: 0, other: 0 }, byClient: {} },
    rateLimited: 0,
    glitches: 0,
  };
}

/** Path without a trailing slash or `.json`. */
function normalizePath(path: string): string {
  let p = path.replace(/\/+$/, "");
  if (p.endsWith(".json")) p = p.slice(0, -5).replace(/\/+$/, "");
  return p === "" ? "/" : p;
}

function classify(path: string): RedditEndpoint {
  if (path === "/api/v1/access_token") return "token";
  if (path === "/api/info") return "info";
  if (path === "/api/morechildren") return "morechildren";
  if (path === "/api/v1/me") return "me";
  if (/^(\/r\/[^/]+)?\/search$/.test(path)) return "search";
  if (/^(\/r\/[^/]+)?\/comments\//.test(path)) return "comments";
  if (/^\/r\/[^/]+\/about$/.test(path)) return "subreddit";
  if (/^(\/r\/[^/]+)?(\/(hot|new|top|rising|best))?$/.test(path) || path === "/") return "listing";
  return "other";
}

/** Reddit's `limit`: a whole number, capped at `max`; absent or invalid gives `fallback`. */
function limitParam(query: URLSearchParams, fallback: number, max: number): number {
  const v = query.get("limit");
  if (v === null || !/^-?\d+$/.test(v.trim())) return fallback;
  const n = Number(v);
  return n < 1 ? fallback : Math.min(n, max);
}

function timeParam(query: URLSearchParams, fallback: TimeFilter): TimeFilter {
  const t = query.get("t");
  return t !== null && t in TIME_FILTERS ? (t as TimeFilter) : fallback;
}

function truthy(v: string | null): boolean {
  return v !== null && ["1", "on", "true", "yes"].includes(v.toLowerCase());
}

/** Escapes `&`, `<`, `>` in the text fields, as Reddit answers without `raw_json=1`. */
function legacyEscape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(legacyEscape);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = typeof v === "string" && /^(title|selftext|selftext_html|body|body_html|url|public_description|description)$/.test(k) ? v.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;") : legacyEscape(v);
  }
  return out;
}

function parseJsonBody(req: Request): Record<string, unknown> | undefined {
  if (req.body.trim() === "") return {};
  try {
    const v: unknown = JSON.parse(req.body);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const badRequest = (error: string): Reply => ({ status: 400, body: { error } });

const SUBREDDIT_STATES: readonly SubredditState[] = ["public", "private", "quarantined", "gated", "banned"];


/**
 * Starts the Reddit sandbox. Every API path needs a User-Agent (403 without)
 * and `Authorization: bearer <token>` from `POST /api/v1/access_token`
 * (401 without); each client has a request budget per window, reported in
 * `X-Ratelimit-Used/Remaining/Reset` and enforced with 429.
 */
export async function startRedditSandbox(options: RedditSandboxOptions = {}): Promise<RedditSandbox> {
  const world = World.of(options.world);
  const data = new RedditData(world);
  const initialStrictness = resolveStrictness(options.strict);
  const strictness: RedditStrictness = { ...initialStrictness };
  // One live object: the data reads its switches from the same place.
  data.realism = strictness;
  const now = options.now ?? Date.now;
  const clients = new Map((options.clients ?? [DEFAULT_REDDIT_CLIENT]).map((c) => [c.clientId, c]));
  const windowMs = options.rateLimit?.windowMs ?? (initialStrictness.rateLimitQuirks ? 600_000 : 60_000);
  const budget = options.rateLimit?.requests ?? (initialStrictness.rateLimitQuirks ? 1000 : 100);
  const ttl = options.tokenTtlSeconds ?? 86_400;
  if (!(windowMs > 0)) throw new RangeError(`rateLimit.windowMs must be > 0, got ${windowMs}`);
  if (!(budget >= 0)) throw new RangeError(`rateLimit.requests must be >= 0, got ${budget}`);
  if (!(ttl > 0)) throw new RangeError(`tokenTtlSeconds must be > 0, got ${ttl}`);
  const initialFaults: Faults = { latencyMs: options.faults?.latencyMs ?? 0, errorRate: options.faults?.errorRate ?? 0 };
  const faults: Faults = { ...initialFaults };
  const tokens = new Map<string, TokenInfo>();
  const windows = new Map<string, { window: number; used: number }>();
  const limits = new Map<string, number>();
  let stats = emptyStats();
  const states = new Map<string, SubredditState>();
  const initStates = (): void => {
    states.clear();
    if (strictness.subredditStates) for (const [k, v] of Object.entries(STATEFUL_SUBREDDITS)) states.set(k, v);
  };
  initStates();
  let staged: StagedGlitch[] = [];
  const revoked = new Set<string>();
  const glitchRandom = rng(`${world.config.seed}/reddit`, "glitches");

  const rateState = (clientId: string): RateLimitState => {
    const t = now();
    const window = Math.floor(t / windowMs);
    let w = windows.get(clientId);
    if (!w || w.window !== window) windows.set(clientId, (w = { window, used: 0 }));
    const limit = limits.get(clientId) ?? budget;
    const left = ((window + 1) * windowMs - t) / 1000;
    // Reddit rounds down: in a window's last second the header says 0.
    const resetSeconds = strictness.rateLimitQuirks ? Math.max(0, Math.floor(left)) : Math.max(1, Math.ceil(left));
    return { clientId, used: w.used, limit, remaining: Math.max(0, limit - w.used), resetSeconds };
  };

  const setRateLimit = (clientId: string, change: RateLimitChange): RateLimitState => {
    if (change.limit !== undefined) {
      if (!(Number.isInteger(change.limit) && change.limit >= 0)) throw new RangeError(`limit must be a whole number >= 0, got ${change.limit}`);
      limits.set(clientId, change.limit);
    }
    if (change.used !== undefined) {
      if (!(Number.isInteger(change.used) && change.used >= 0)) throw new RangeError(`used must be a whole number >= 0, got ${change.used}`);
      windows.set(clientId, { window: Math.floor(now() / windowMs), used: change.used });
    }
    return rateState(clientId);
  };

  const rateHeaders = (s: RateLimitState): Record<string, string> => ({
    "x-ratelimit-used": String(s.used),
    "x-ratelimit-remaining": s.remaining.toFixed(1),
    "x-ratelimit-reset": String(s.resetSeconds),
  });

  const issueToken = (info: TokenInfo): string => {
    const t = now();
    if (tokens.size > 10_000) for (const [k, v] of tokens) if (v.expiresAt <= t) tokens.delete(k);
    const token = `${randomBytes(4).toString("hex")}-${randomBytes(24).toString("base64url")}`;
    tokens.set(token, info);
    return token;
  };

  const setSubredditState = (name: string, state: SubredditState): void => {
    if (!SUBREDDIT_STATES.includes(state)) throw new RangeError(`state must be one of ${SUBREDDIT_STATES.join(", ")}, got ${String(state)}`);
    // "public" is stored too: it overrides a default stateful name.
    states.set(name.toLowerCase(), state);
  };

  const tokenEndpoint = (req: Request): Reply => {
    if (req.method !== "POST") return redditError(405);
    const m = /^basic\s+(.+)$/i.exec(req.headers.authorization ?? "");
    const decoded = m ? Buffer.from(m[1]!, "base64").toString("utf8") : "";
    const colon = decoded.indexOf(":");
    const clientId = colon >= 0 ? decoded.slice(0, colon) : "";
    const secret = colon >= 0 ? decoded.slice(colon + 1) : "";
    const client = clients.get(clientId);
    if (!m || colon < 0 || !client || client.clientSecret !== secret || revoked.has(clientId)) return redditError(401);
    stats.requests.byClient[clientId] = (stats.requests.byClient[clientId] ?? 0) + 1;
    const form = new URLSearchParams(req.body);
    const grant = form.get("grant_type");
    let username: string | undefined;
    if (grant === "client_credentials") {
      // app-only
    } else if (grant === INSTALLED_CLIENT_GRANT) {
      if (!form.get("device_id")) return { status: 200, body: { error: "invalid_request" } };
    } else if (grant === "refresh_token") {
      const rt = form.get("refresh_token");
      if (!rt || !(client.refreshTokens ?? []).includes(rt)) return { status: 200, body: { error: "invalid_grant" } };
    } else if (grant === "password") {
      const user = (client.users ?? []).find((u) => u.username === form.get("username") && u.password === form.get("password"));
      if (!user) return { status: 200, body: { error: "invalid_grant" } };
      username = user.username;
    } else {
      return { status: 200, body: { error: "unsupported_grant_type" } };
    }
    const token = issueToken({ clientId, username, expiresAt: now() + ttl * 1000 });
    return { status: 200, body: { access_token: token, token_type: "bearer", expires_in: ttl, scope: "*" } };
  };

  const authenticate = (req: Request): TokenInfo | undefined => {
    const m = /^bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    const info = m ? tokens.get(m[1]!) : undefined;
    return info && info.expiresAt > now() && !revoked.has(info.clientId) ? info : undefined;
  };

  const pageParams = (query: URLSearchParams): PageRequest | undefined => {
    const page: PageRequest = { limit: limitParam(query, 25, 100) };
    for (const k of ["after", "before"] as const) {
      const v = query.get(k);
      if (v === null || v === "") continue;
      const i = data.postIndex(v);
      if (i === undefined || !v.startsWith("t3_")) return undefined;
      page[k] = i;
    }
    return page;
  };

  const listingReply = (page: PostPage | undefined, raw: boolean): Reply => {
    if (!page) return { status: 200, body: toListing([], null, null, 0) };
    const children = page.items.map((i) => data.postThing(i));
    const body = toListing(children, page.after === null ? null : `t3_${data.postId(page.after)}`, page.before === null ? null : `t3_${data.postId(page.before)}`);
    return { status: 200, body: raw ? body : legacyEscape(body) };
  };

  /** Reddit's refusal of a subreddit in a non-public state: 403 with a `reason` (404 for banned). */
  const refusal = (state: SubredditState): Reply => {
    if (state === "banned") return { status: 404, body: { reason: "banned", message: "Not Found", error: 404 } };
    const body: Record<string, unknown> = { reason: state, message: "Forbidden", error: 403 };
    if (state === "quarantined") body.quarantine_message = "This community is quarantined: opt in on the website to view it.";
    if (state === "gated") body.interstitial_warning_message = "Content advisory: this community may contain sensitive content.";
    return { status: 403, body };
  };
  const stateOf = (name: string): SubredditState => states.get(name.toLowerCase()) ?? "public";

  /**
   * Subreddit indexes of `a+b` style names (`all` / `popular`: null), or the
   * answer Reddit gives instead: a refusal for a non-public one, a 302 to the
   * subreddit search (strict) or a 404 for an unknown one.
   */
  const resolveSubs = (names: string): number[] | null | Reply => {
    if (names.toLowerCase() === "all" || names.toLowerCase() === "popular") return null;
    const out: number[] = [];
    for (const n of names.split("+")) {
      const state = stateOf(n);
      if (state !== "public") return refusal(state);
      const s = data.subredditIndex(n);
      if (s === undefined) {
        if (!strictness.subredditStates) return redditError(404);
        return { status: 302, headers: { location: `/subreddits/search.json?q=${encodeURIComponent(n)}` }, body: "" };
      }
      out.push(s);
    }
    return out;
  };
  const isReply = (v: unknown): v is Reply => v !== null && typeof v === "object" && !Array.isArray(v) && "status" in v;

  const route = (req: Request, path: string, auth: TokenInfo): Reply => {
    const q = req.query;
    const raw = q.get("raw_json") === "1";
    const get = req.method === "GET" || req.method === "HEAD";
    let m: RegExpExecArray | null;

    if ((m = /^(?:\/r\/([^/]+))?(?:\/(hot|new|top|rising|best))?$/.exec(path === "/" ? "" : path))) {
      if (!get) return redditError(405);
      const subs = m[1] === undefined ? null : resolveSubs(m[1]);
      if (isReply(subs)) return subs;
      const sortName = m[2] ?? "hot";
      if (!SORTS.has(sortName)) return redditError(404);
      const sort: ListingSort = sortName === "best" ? "hot" : (sortName as ListingSort);
      const page = pageParams(q);
      return listingReply(page && data.listPosts(subs, sort, page, timeParam(q, "day")), raw);
    }

    if ((m = /^(?:\/r\/([^/]+))?\/search$/.exec(path))) {
      if (!get) return redditError(405);
      let subs: number[] | null = null;
      if (m[1] !== undefined) {
        const resolved = resolveSubs(m[1]);
        if (isReply(resolved)) return resolved;
        // Reddit searches one subreddit only when restrict_sr is set; snoowrap always sends it.
        subs = truthy(q.get("restrict_sr")) ? resolved : null;
      }
      const sortName = (q.get("sort") ?? "relevance") as SearchSort;
      const sort: SearchSort = SEARCH_SORTS.has(sortName) ? sortName : "relevance";
      const page = pageParams(q);
      return listingReply(page && data.searchPosts(q.get("q") ?? "", subs, sort, page, timeParam(q, "all")), raw);
    }

    if ((m = /^(?:\/r\/([^/]+))?\/comments\/([0-9a-z]+)(?:\/[^/]*(?:\/([0-9a-z]+))?)?$/.exec(path))) {
      if (!get) return redditError(405);
      if (m[1] !== undefined && stateOf(m[1]) !== "public") return refusal(stateOf(m[1]));
      if (m[1] !== undefined && data.subredditIndex(m[1]) === undefined) return redditError(404);
      const i = data.postIndex(m[2]!);
      if (i === undefined || !data.isVisible(i)) return redditError(404);
      const postState = stateOf(data.subredditName(data.subredditOf(i)));
      if (postState !== "public") return refusal(postState);
      const depth = q.get("depth");
      const focus = q.get("comment") ?? m[3];
      const tree = data.commentTree(i, {
        limit: limitParam(q, 200, 500),
        depth: depth !== null && /^\d+$/.test(depth) && Number(depth) > 0 ? Number(depth) : undefined,
        sort: COMMENT_SORTS[q.get("sort") ?? "confidence"] ?? "confidence",
        focus: focus || undefined,
      });
      const body = [toListing([data.postThing(i)], null, null, 1), tree ?? toListing([], null, null, null)];
      return { status: 200, body: raw ? body : legacyEscape(body) };
    }

    if (path === "/api/info") {
      if (!get) return redditError(405);
      const ids = (q.get("id") ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
      if (ids.length > 100) return redditError(400);
      // Things of a private, quarantined, gated or banned subreddit are left out, as unknown ids are.
      const children = ids
        .map((id) => data.thing(id))
        .filter((t) => t !== undefined)
        .filter((t) => t.kind === "t5" || stateOf((t.data as { subreddit: string }).subreddit) === "public");
      const body = toListing(children, null, null, children.length);
      return { status: 200, body: raw ? body : legacyEscape(body) };
    }

    if (path === "/api/morechildren") {
      const params = req.method === "POST" ? new URLSearchParams(req.body) : q;
      const link = params.get("link_id") ?? "";
      const i = data.postIndex(link);
      const ids = (params.get("children") ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "").slice(0, 100);
      const things = i !== undefined && data.isVisible(i) ? data.moreChildren(i, ids, COMMENT_SORTS[params.get("sort") ?? "confidence"] ?? "confidence") : [];
      const body = { json: { errors: [], data: { things } } };
      return { status: 200, body: raw ? body : legacyEscape(body) };
    }

    if ((m = /^\/r\/([^/]+)\/about$/.exec(path))) {
      if (!get) return redditError(405);
      if (stateOf(m[1]!) !== "public") return refusal(stateOf(m[1]!));
      const s = data.subredditIndex(m[1]!);
      if (s === undefined) return strictness.subredditStates ? { status: 302, headers: { location: `/subreddits/search.json?q=${encodeURIComponent(m[1]!)}` }, body: "" } : redditError(404);
      const about: { kind: "t5"; data: RedditSubredditData } = { kind: "t5", data: data.subreddit(s) };
      return { status: 200, body: raw ? about : legacyEscape(about) };
    }

    if (path === "/subreddits/search") {
      if (!get) return redditError(405);
      const q = (req.query.get("q") ?? "").toLowerCase();
      const found = q === "" ? [] : data.subreddits().filter((x) => x.name.toLowerCase().includes(q)).slice(0, limitParam(req.query, 25, 100));
      const body = toListing(found.map((x) => ({ kind: "t5", data: data.subreddit(x.index) })), null, null, found.length);
      return { status: 200, body: raw ? body : legacyEscape(body) };
    }

    if (path === "/api/v1/me") {
      if (!auth.username) return redditError(403);
      const u = auth.username;
      return { status: 200, body: { name: u, id: Buffer.from(u).toString("hex").slice(0, 8), created_utc: 1_500_000_000, link_karma: 1, comment_karma: 1, total_karma: 2, has_verified_email: true, is_employee: false, has_mail: false, over_18: false, icon_img: "" } };
    }

    return redditError(404);
  };

  const sandboxRoute = (req: Request): Reply => {
    const path = req.path.replace(/\/+$/, "");
    if (path === "/_sandbox/stats" && req.method === "GET") return { status: 200, body: stats };
    if (req.method !== "POST") return { status: 404, body: { error: `no sandbox endpoint ${req.method} ${req.path}` } };
    const body = parseJsonBody(req);
    if (!body) return badRequest("body must be a JSON object");
    if (path === "/_sandbox/advance") {
      const ms = body.ms;
      if (typeof ms !== "number" || !(ms >= 0)) return badRequest("ms must be a number >= 0");
      return { status: 200, body: { now: world.clock.advance(ms) } };
    }
    if (path === "/_sandbox/faults") {
      const { latencyMs, errorRate } = body;
      if (latencyMs !== undefined && (typeof latencyMs !== "number" || !(latencyMs >= 0))) return badRequest("latencyMs must be a number >= 0");
      if (errorRate !== undefined && (typeof errorRate !== "number" || !(errorRate >= 0 && errorRate <= 1))) return badRequest("errorRate must be a number in 0..1");
      if (typeof latencyMs === "number") faults.latencyMs = latencyMs;
      if (typeof errorRate === "number") faults.errorRate = errorRate;
      return { status: 200, body: faults };
    }
    if (path === "/_sandbox/ratelimit") {
      const { clientId, used, limit } = body;
      if (typeof clientId !== "string" || clientId === "") return badRequest("clientId must be a string");
      if (used !== undefined && typeof used !== "number") return badRequest("used must be a number");
      if (limit !== undefined && typeof limit !== "number") return badRequest("limit must be a number");
      try {
        return { status: 200, body: setRateLimit(clientId, { used: used as number | undefined, limit: limit as number | undefined }) };
      } catch (err) {
        return badRequest((err as Error).message);
      }
    }
    const rm = /^\/_sandbox\/posts\/([^/]+)\/remove$/.exec(path);
    if (rm) {
      const by = body.by ?? "moderator";
      if (typeof by !== "string" || !(REMOVAL_KINDS as readonly string[]).includes(by)) return badRequest(`by must be one of ${REMOVAL_KINDS.join(", ")}`);
      const id = rm[1]!;
      if (!data.removePost(id, by as RemovalKind)) return { status: 404, body: { error: `no post ${id}` } };
      return { status: 200, body: { id: id.replace(/^t3_/, ""), removed_by_category: by } };
    }
    const hold = /^\/_sandbox\/posts\/([^/]+)\/(hold|approve)$/.exec(path);
    if (hold) {
      const id = hold[1]!;
      const ok = hold[2] === "hold" ? data.holdPost(id) : data.approvePost(id);
      if (!ok) return { status: 404, body: { error: `no post ${id}` } };
      return { status: 200, body: { id: id.replace(/^t3_/, ""), held: hold[2] === "hold" } };
    }
    const st = /^\/_sandbox\/subreddits\/([A-Za-z0-9_]{1,21})\/state$/.exec(path);
    if (st) {
      const state = body.state;
      if (typeof state !== "string" || !SUBREDDIT_STATES.includes(state as SubredditState)) return badRequest(`state must be one of ${SUBREDDIT_STATES.join(", ")}`);
      setSubredditState(st[1]!, state as SubredditState);
      return { status: 200, body: { subreddit: st[1], state } };
    }
    if (path === "/_sandbox/glitches") {
      const kinds = ["html", "empty-object", "bad-item", "gzip-bomb", "redirect", "status"];
      if (typeof body.kind !== "string" || !kinds.includes(body.kind)) return badRequest(`kind must be one of ${kinds.join(", ")}`);
      if (body.path !== undefined && typeof body.path !== "string") return badRequest("path must be a string");
      if (body.count !== undefined && !(Number.isInteger(body.count) && (body.count as number) >= 1)) return badRequest("count must be a whole number >= 1");
      if (body.location !== undefined && typeof body.location !== "string") return badRequest("location must be a string");
      if (body.status !== undefined && !(Number.isInteger(body.status) && (body.status as number) >= 100 && (body.status as number) <= 599)) return badRequest("status must be 100..599");
      if (body.inflatedBytes !== undefined && !(Number.isInteger(body.inflatedBytes) && (body.inflatedBytes as number) >= 1 && (body.inflatedBytes as number) <= 1024 ** 3)) return badRequest("inflatedBytes must be 1..1 GiB");
      staged.push(body as unknown as StagedGlitch);
      return { status: 200, body: { staged: staged.length } };
    }
    const rv = /^\/_sandbox\/clients\/([^/]+)\/revoke$/.exec(path);
    if (rv) {
      revoked.add(decodeURIComponent(rv[1]!));
      return { status: 200, body: { revoked: decodeURIComponent(rv[1]!) } };
    }
    if (path === "/_sandbox/strictness") {
      for (const [k, v] of Object.entries(body)) {
        if (!(k in strictness)) return badRequest(`unknown switch ${k}`);
        if (typeof v !== typeof (strictness as unknown as Record<string, unknown>)[k]) return badRequest(`${k} must be a ${typeof (strictness as unknown as Record<string, unknown>)[k]}`);
      }
      Object.assign(strictness, body);
      return { status: 200, body: strictness };
    }
    if (path === "/_sandbox/reset") {
      reset();
      return { status: 200, body: { ok: true } };
    }
    return { status: 404, body: { error: `no sandbox endpoint ${req.method} ${req.path}` } };
  };

  const reset = (): void => {
    stats = emptyStats();
    windows.clear();
    limits.clear();
    data.resetRemovals();
    Object.assign(strictness, initialStrictness);
    initStates();
    staged = [];
    revoked.clear();
    faults.latencyMs = initialFaults.latencyMs;
    faults.errorRate = initialFaults.errorRate;
  };

  const handler = (req: Request): Reply | Promise<Reply> => {
    if (req.path.startsWith("/_sandbox/")) return sandboxRoute(req);
    const path = normalizePath(req.path);
    const endpoint = classify(path);
    stats.requests.total++;
    stats.requests.byEndpoint[endpoint]++;
    if (!req.headers["user-agent"]) return redditError(403);
    if (endpoint === "token") return tokenEndpoint(req);
    const auth = authenticate(req);
    if (!auth) return redditError(401, { "www-authenticate": 'Bearer realm="reddit", error="invalid_token"' });
    stats.requests.byClient[auth.clientId] = (stats.requests.byClient[auth.clientId] ?? 0) + 1;
    const before = rateState(auth.clientId);
    const w = windows.get(auth.clientId)!;
    w.used++;
    const state = { ...before, used: w.used, remaining: Math.max(0, before.limit - w.used) };
    const headers = rateHeaders(state);
    if (w.used > state.limit) {
      stats.rateLimited++;
      // Reddit's 429 often comes with an empty body.
      return strictness.rateLimitQuirks ? { status: 429, headers, body: "" } : redditError(429, headers);
    }
    const glitch = takeGlitch(path);
    if (glitch) {
      stats.glitches++;
      return glitchReply(glitch, headers, req, path, auth);
    }
    if (strictness.garbageRate > 0 && glitchRandom() < strictness.garbageRate) {
      stats.glitches++;
      return glitchReply({ kind: glitchRandom() < 0.5 ? "html" : "empty-object" }, headers, req, path, auth);
    }
    const reply = route(req, path, auth);
    if ((endpoint === "listing" || endpoint === "search" || endpoint === "info") && strictness.badItemRate > 0 && glitchRandom() < strictness.badItemRate && corruptOne(reply)) stats.glitches++;
    return { ...reply, headers: { ...headers, ...reply.headers } };
  };

  const takeGlitch = (path: string): StagedGlitch | undefined => {
    const k = staged.findIndex((g) => g.path === undefined || path.startsWith(normalizePath(g.path)));
    if (k < 0) return undefined;
    const g = staged[k]!;
    const left = (g.count ?? 1) - 1;
    if (left <= 0) staged.splice(k, 1);
    else staged[k] = { ...g, count: left };
    return g;
  };

  /** Gives one post of a listing answer a wrong type (`title: 12345`); false when the answer has no post. */
  const corruptOne = (reply: Reply): boolean => {
    const children = (reply.body as { data?: { children?: Array<{ kind?: string; data?: Record<string, unknown> }> } } | null)?.data?.children;
    const posts = (children ?? []).filter((c) => c.kind === "t3" && c.data);
    if (reply.status !== 200 || posts.length === 0) return false;
    const victim = posts[Math.floor(glitchRandom() * posts.length)]!;
    victim.data = { ...victim.data, title: 12345 };
    return true;
  };

  const glitchReply = async (g: StagedGlitch, headers: Record<string, string>, req: Request, path: string, auth: TokenInfo): Promise<Reply> => {
    switch (g.kind) {
      case "html":
        return { status: 200, headers: { ...headers, "content-type": "text/html; charset=utf-8" }, body: "<!doctype html><html><head><title>reddit.com: over capacity</title></head><body><h1>all of our servers are busy right now</h1></body></html>" };
      case "empty-object":
        return { status: 200, headers, body: {} };
      case "bad-item": {
        const reply = route(req, path, auth);
        corruptOne(reply);
        return { ...reply, headers: { ...headers, ...reply.headers } };
      }
      case "redirect":
        return { status: 302, headers: { ...headers, location: g.location ?? "/" }, body: "" };
      case "status":
        return { status: g.status ?? 429, body: "" };
      case "gzip-bomb":
        return { status: 200, headers: { ...headers, "content-encoding": "gzip", "content-type": "application/json; charset=UTF-8" }, body: await gzipBomb(g.inflatedBytes ?? 64 * 1024 * 1024, '{"kind": "Listing", "pad": "', '"}') };
    }
  };

  const http = await serve(handler, {
    host: options.host,
    port: options.port,
    faults,
    faultSeed: `${world.config.seed}/reddit`,
    serverError: (status) => redditError(status),
  });

  return {
    url: http.url,
    world,
    faults,
    data,
    stats: () => structuredClone(stats),
    setRateLimit,
    removePost: (id, by = "moderator") => data.removePost(id, by),
    holdPost: (id) => data.holdPost(id),
    approvePost: (id) => data.approvePost(id),
    setSubredditState,
    stage: (g) => void staged.push({ ...g }),
    revokeClient: (id) => void revoked.add(id),
    strictness,
    advance: (ms) => world.clock.advance(ms),
    reset,
    close: () => http.close(),
  };
}

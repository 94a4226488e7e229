import { createHash } from "node:crypto";
import { ADJECTIVES, FORMATS, TOPICS, mix32, sfc32, topicOf, videoId, visibleCount, type World } from "./world.js";

/**
 * The Reddit half of a generated world: subreddits, posts and comment trees as
 * Reddit's API shapes them (`t5`, `t3`, `t1`, `more`, `Listing`).
 *
 * Every item is a pure function of (seed, index). The only state kept is a few
 * typed-array indexes built once (subreddit, nominal score and comment count,
 * generated removal of each post; posts per subreddit; posts per title word),
 * a lazily filled cache of post times, and the posts removed at runtime.
 */

/** Post `i`'s id is the base36 of `POST_ID_OFFSET + i`: 7 lowercase characters, increasing with `i`, like Reddit's. */
export const POST_ID_OFFSET = parseInt("1h00000", 36);
/** Comment `j` of post `i` has the id base36 of `COMMENT_ID_OFFSET + i * MAX_COMMENTS_PER_POST + j`. */
export const COMMENT_ID_OFFSET = parseInt("m000000", 36);
/** Subreddit `s`'s id (after `t5_`) is the base36 of `SUBREDDIT_ID_OFFSET + s`. */
export const SUBREDDIT_ID_OFFSET = parseInt("2qh00", 36);
/** User `u`'s id (after `t2_`) is the base36 of `USER_ID_OFFSET + u`. */
export const USER_ID_OFFSET = parseInt("1a00000", 36);
/** At most this many comments exist in one post's tree (`num_comments` may be higher). */
export const MAX_COMMENTS_PER_POST = 200;
/** Comments of a post arrive over this long after it is created; score grows over the same time. */
export const ENGAGEMENT_SPREAD_MS = 48 * 3_600_000;

/** Reddit's time filters for `top` and search, in seconds back from the world clock. */
export const TIME_FILTERS = { hour: 3_600, day: 86_400, week: 604_800, month: 2_592_000, year: 31_536_000, all: Number.POSITIVE_INFINITY } as const;
/** `hour`, `day`, `week`, `month`, `year` or `all`. */
export type TimeFilter = keyof typeof TIME_FILTERS;
/** Listing orders the sandbox serves (`best` is served as `hot`). */
export type ListingSort = "hot" | "new" | "top" | "rising";
/** Search orders. `relevance` is served as `hot` over the matches. */
export type SearchSort = "relevance" | "hot" | "top" | "new" | "comments";
/** Comment orders. `confidence` (Reddit's "best"), `top`, `new`, `old`; others are served as `confidence`. */
export type CommentSort = "confidence" | "top" | "new" | "old";
/**
 * Why a post is gone: Reddit's `removed_by_category`, all ten values it sends
 * (`deleted` and `author`: the author deleted it; the others: removed by a
 * moderator, AutoModerator or Reddit itself).
 */
export type RemovalKind =
  | "moderator"
  | "deleted"
  | "author"
  | "automod_filtered"
  | "reddit"
  | "anti_evil_ops"
  | "community_ops"
  | "legal_operations"
  | "copyright_takedown"
  | "content_takedown";
/** Every `removed_by_category` value. */
export const REMOVAL_KINDS: readonly RemovalKind[] = ["moderator", "deleted", "author", "automod_filtered", "reddit", "anti_evil_ops", "community_ops", "legal_operations", "copyright_takedown", "content_takedown"];
const MODERATOR_REMOVALS: readonly RemovalKind[] = ["moderator", "automod_filtered", "reddit", "anti_evil_ops", "community_ops", "legal_operations", "copyright_takedown", "content_takedown"];
/** Whether a removal was the author's own deletion. */
export const isAuthorDeletion = (k: RemovalKind): boolean => k === "deleted" || k === "author";

/**
 * How much of the real Reddit's harshness the data shows. Every switch is on
 * by default (see the sandbox README for the source of each).
 */
export interface RedditDataRealism {
  /** Listings and search end after this many items, a count (Reddit: about 1,000). `0`: no cap. @defaultValue 1,000 */
  listingCap: number;
  /** Share of posts (0..1) held in the moderation queue and listed only `lateApprovalMs` after they were created. @defaultValue 0.01 */
  lateApprovalRate: number;
  /** How long a held post waits for approval, ms. @defaultValue 30 minutes (1,800,000 ms) */
  lateApprovalMs: number;
  /** Generated removals use all ten `removed_by_category` values, and removed link posts keep `selftext ""`. @defaultValue true */
  removalCategories: boolean;
  /** Every other subreddit has a stickied, distinguished AutoModerator comment first in each comment tree. @defaultValue true */
  automodSticky: boolean;
  /** One post in 1,000 has a 1 MiB selftext, another a score of 1e308, another an unparseable `created_utc`. @defaultValue true */
  hostilePosts: boolean;
}

/** Everything on: what `new RedditData(world)` starts with. */
export const STRICT_DATA: Readonly<RedditDataRealism> = Object.freeze({ listingCap: 1000, lateApprovalRate: 0.01, lateApprovalMs: 30 * 60_000, removalCategories: true, automodSticky: true, hostilePosts: true });
/** Everything off: the kind world of earlier versions. */
export const CALM_DATA: Readonly<RedditDataRealism> = Object.freeze({ listingCap: 0, lateApprovalRate: 0, lateApprovalMs: 0, removalCategories: false, automodSticky: false, hostilePosts: false });
/** The three YouTube URL forms posts and comments use. */
export type YouTubeUrlForm = "watch" | "youtu.be" | "shorts";
/** What every comment this world serves says the same: never edited, gilded, voted down to collapse or locked. */
const COMMENT_FLAGS = {
  edited: false,
  gilded: 0,
  total_awards_received: 0,
  controversiality: 0,
  collapsed: false,
  score_hidden: false,
  archived: false,
  locked: false,
} as const;

const URL_FORMS: readonly YouTubeUrlForm[] = ["watch", "youtu.be", "shorts"];

/** `{kind, data}` as Reddit wraps every thing. */
export interface RedditThing<K extends string, D> {
  kind: K;
  data: D;
}

/** Reddit's Listing. */
export interface RedditListing<T> {
  kind: "Listing";
  data: { after: string | null; dist: number | null; modhash: string; geo_filter: string; children: T[]; before: string | null };
}

/** A subreddit's `t5` data (the fields the sandbox fills). */
export interface RedditSubredditData {
  display_name: string;
  display_name_prefixed: string;
  id: string;
  name: string;
  title: string;
  public_description: string;
  description: string;
  subscribers: number;
  active_user_count: number;
  created: number;
  created_utc: number;
  subreddit_type: "public";
  over18: boolean;
  lang: string;
  url: string;
  quarantine: boolean;
  submission_type: "any";
}

/** A post's `t3` data (the fields the sandbox fills). */
export interface RedditPostData {
  id: string;
  name: string;
  title: string;
  selftext: string;
  selftext_html: string | null;
  url: string;
  permalink: string;
  domain: string;
  author: string;
  author_fullname?: string;
  subreddit: string;
  subreddit_id: string;
  subreddit_name_prefixed: string;
  subreddit_subscribers: number;
  subreddit_type: "public";
  link_flair_text: string | null;
  score: number;
  ups: number;
  downs: number;
  upvote_ratio: number;
  num_comments: number;
  /** A number, except on the hostile posts (an unparseable string). */
  created: number | string;
  created_utc: number | string;
  over_18: boolean;
  spoiler: boolean;
  stickied: boolean;
  pinned: boolean;
  is_self: boolean;
  is_video: boolean;
  post_hint?: string;
  total_awards_received: number;
  gilded: number;
  thumbnail: string;
  removed_by_category: RemovalKind | null;
  archived: boolean;
  locked: boolean;
  hidden: boolean;
  saved: boolean;
  edited: boolean;
  distinguished: string | null;
  num_crossposts: number;
  send_replies: boolean;
  media: null;
}

/** A `more` stub: comments left out of a tree (`children`), or "continue this thread" (`name` `t1__`, no children). */
export interface RedditMoreData {
  count: number;
  name: string;
  id: string;
  parent_id: string;
  depth: number;
  children: string[];
}

/** A `more` stub as it appears among comments. */
export type RedditMoreThing = RedditThing<"more", RedditMoreData>;
/** A comment as it appears in a Listing. */
export type RedditCommentThing = RedditThing<"t1", RedditCommentData>;
/** A post as it appears in a Listing. */
export type RedditPostThing = RedditThing<"t3", RedditPostData>;

/** A comment's `t1` data (the fields the sandbox fills). `replies` is `""` when there are none, like Reddit. */
export interface RedditCommentData {
  id: string;
  name: string;
  parent_id: string;
  link_id: string;
  body: string;
  body_html: string;
  author: string;
  author_fullname?: string;
  score: number;
  ups: number;
  downs: number;
  created: number;
  created_utc: number;
  depth: number;
  replies: "" | RedditListing<RedditCommentThing | RedditMoreThing>;
  permalink: string;
  subreddit: string;
  subreddit_id: string;
  subreddit_name_prefixed: string;
  subreddit_type: "public";
  is_submitter: boolean;
  stickied: boolean;
  distinguished: string | null;
  edited: boolean;
  gilded: number;
  total_awards_received: number;
  controversiality: number;
  collapsed: boolean;
  score_hidden: boolean;
  archived: boolean;
  locked: boolean;
  send_replies: boolean;
}

/** A YouTube video a post or comment links to. */
export interface YouTubeReference {
  /** The video's index in the world (always below the videos visible when the post or comment was written). */
  videoIndex: number;
  videoId: string;
  form: YouTubeUrlForm;
  url: string;
}

/** A page of a listing: post indexes in display order and the cursors Reddit would answer. */
export interface PostPage {
  items: number[];
  /** Index of the post to pass as `after` for the next page, or `null` at the end. */
  after: number | null;
  /** Index of the post to pass as `before` for the previous page, or `null`. */
  before: number | null;
}

/** Where a page starts: at the top, after a post (next page) or before a post (previous page). */
export interface PageRequest {
  limit: number;
  after?: number;
  before?: number;
}

/** How to cut a comment tree, as Reddit's `limit`, `depth` and `sort`. */
export interface CommentTreeOptions {
  /** Comments to include in total before the rest become `more` stubs. Default 200. */
  limit?: number;
  /** Levels to include; a comment at the last level with replies gets a "continue this thread" stub. Default 10. */
  depth?: number;
  sort?: CommentSort;
  /** Only this comment (id without prefix) and its replies, as `?comment=`. */
  focus?: string;
}

interface PostCore {
  sub: number;
  tpl: number;
  adj: number;
  fmt: number;
  w1: number;
  w2: number;
  isSelf: boolean;
  youtube: boolean;
  form: number;
  videoPick: number;
  score: number;
  comments: number;
  ratio: number;
  flair: number;
  user: number;
  removal: 0 | 1 | 2;
  spoiler: boolean;
  stickied: boolean;
  awards: number;
  domain: number;
  text: number;
}

interface CommentCore {
  user: number;
  score: number;
  tpl: number;
  adj: number;
  fmt: number;
  w: number;
  youtube: boolean;
  form: number;
  videoPick: number;
  removal: 0 | 1 | 2;
}

interface Tree {
  parent: Int16Array;
  depth: Int16Array;
}

const FLAIRS = ["Discussion", "Question", "News", "Video", "Guide", "Showcase", null, null, null];
const ARTICLE_DOMAINS = ["example.com", "example.org", "blog.example.net", "news.example.com"];
/**
 * Title templates. `words` lists the template's own words and the slots it
 * uses, so the search index is built without rendering 100,000 titles.
 */
const TITLE_TEMPLATES: Array<{ render: (a: string, f: string, w1: string, w2: string) => string; words: string[] }> = [
  { render: (a, f, w1) => `The ${a} ${w1} ${f}`, words: ["the", "$a", "$w1", "$f"] },
  { render: (_a, f, w1, w2) => `${w1} ${f}: ${w2} edition`, words: ["$w1", "$f", "$w2", "edition"] },
  { render: (a, f, w1, w2) => `My ${a} ${w1} ${f} (with ${w2})`, words: ["my", "$a", "$w1", "$f", "with", "$w2"] },
  { render: (a, f, w1, w2) => `${a} ${w1} vs ${w2} ${f}`, words: ["$a", "$w1", "vs", "$w2", "$f"] },
  { render: (a, f, w1) => `Is this ${w1} ${f} too ${a}?`, words: ["is", "this", "$w1", "$f", "too", "$a"] },
  { render: (a, f, w1, w2) => `${a} ${w1} ${f} and ${w2}`, words: ["$a", "$w1", "$f", "and", "$w2"] },
];
const SELF_TEXTS = [
  (a: string, f: string, w1: string, w2: string) => `I have been working on my ${w1} for a while. Here is my ${a} ${f}.\n\nAny thoughts on the ${w2}?`,
  (a: string, f: string, w1: string, w2: string) => `Quick ${f} for anyone starting with ${w1}: keep it ${a}.\n\nThe ${w2} part took me the longest.`,
  (a: string, _f: string, w1: string, w2: string) => `What is your ${a} take on ${w1} and ${w2}?`,
];
const YOUTUBE_SELF_TEXTS = [
  (a: string, _f: string, w1: string, w2: string, url: string) => `Found this ${a} ${w1} video: ${url}\n\nWhat do you think about the ${w2} part?`,
  (_a: string, f: string, w1: string, w2: string, url: string) => `Made a ${w1} ${f}, feedback welcome!\n\n${url}\n\nThe ${w2} section is new.`,
  (a: string, f: string, w1: string, _w2: string, url: string) => `This ${f} explains ${w1} in a ${a} way ${url}`,
];
const COMMENT_TEXTS = [
  (a: string, f: string, w: string) => `This ${a} ${w} ${f} is exactly what I needed.`,
  (a: string, _f: string, w: string) => `Has anyone tried the ${w} with a ${a} setup?`,
  (_a: string, f: string, w: string) => `Great ${f}. I would add more about ${w}.`,
  (a: string, _f: string, w: string) => `Honestly the ${w} part is ${a}.`,
  (_a: string, f: string, w: string) => `Saving this ${f}, thanks! The ${w} tip helped.`,
];
const YOUTUBE_COMMENT_TEXTS = [
  (_a: string, _f: string, w: string, url: string) => `There is a good video on ${w} here: ${url}`,
  (a: string, f: string, _w: string, url: string) => `Related ${a} ${f}: ${url}`,
  (_a: string, _f: string, w: string, url: string) => `${url} covers the ${w} part better.`,
];

type Key = readonly [number, number, number, number];

function keyOf(seed: string, kind: string): Key {
  const h = createHash("sha256").update(`${seed}\u0000reddit\u0000${kind}`).digest();
  return [h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12)];
}

/**
 * A seeded generator in [0, 1) for item (i, j) of one kind: sfc32 started from
 * a hash of a per-(seed, kind) key and the indexes. Much cheaper than one
 * sha256 per item, so a 100,000-post world indexes in a few tens of ms.
 */
class ItemRandom {
  readonly next: () => number;
  constructor(key: Key, i: number, j = 0) {
    this.next = sfc32(
      mix32(key[0] ^ mix32(i + 0x9e3779b9)),
      mix32(key[1] ^ mix32(j + 0x85ebca6b)),
      mix32(key[2] ^ mix32((i ^ Math.imul(j, 0x27d4eb2f)) + 0xc2b2ae35)),
      key[3] ^ 0x165667b1,
    );
    for (let k = 0; k < 10; k++) this.next();
  }
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Escapes `&`, `<`, `>` (and `"` in attributes) as Reddit's HTML fields do. */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Reddit-style markdown to HTML for the plain texts the sandbox writes: paragraphs and bare links. */
export function markdownToHtml(text: string): string {
  const paragraphs = text.split(/\n{2,}/).map((p) => {
    let out = "";
    let last = 0;
    for (const m of p.matchAll(/https?:\/\/[^\s<>()]+/g)) {
      const url = m[0];
      out += escapeHtml(p.slice(last, m.index)) + `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`;
      last = m.index + url.length;
    }
    return `<p>${out}${escapeHtml(p.slice(last))}</p>`;
  });
  return `<div class="md">${paragraphs.join("\n\n")}\n</div>`;
}

/** Reddit's URL slug of a title: lower case, runs of other characters as `_`, at most 50 characters. */
export function slugOf(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 50).replace(/_+$/g, "");
}

/** The words of a text as search sees them: lower case runs of letters and digits. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((t) => t.length > 0);
}

/** A YouTube URL of `id` in one of the three forms. */
export function youtubeUrl(id: string, form: YouTubeUrlForm): string {
  if (form === "watch") return `https://www.youtube.com/watch?v=${id}`;
  if (form === "youtu.be") return `https://youtu.be/${id}`;
  return `https://www.youtube.com/shorts/${id}`;
}

/** Reddit's hot rank: log10 of the score plus the age term, rounded to 7 places. */
export function hotRank(score: number, createdUtc: number): number {
  const order = Math.log10(Math.max(Math.abs(score), 1));
  const sign = score > 0 ? 1 : score < 0 ? -1 : 0;
  return Math.round((sign * order + (createdUtc - 1_134_028_003) / 45_000) * 1e7) / 1e7;
}

/** Number of elements of the sorted `a` that are < `x`. */
function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Wraps things in a Listing as Reddit does. */
const listing = <T>(children: T[], after: string | null = null, before: string | null = null, dist: number | null = children.length): RedditListing<T> => ({
  kind: "Listing",
  data: { after, dist, modhash: "", geo_filter: "", children, before },
});

/** Wraps things in a Listing as Reddit does. */
export const toListing = listing;

/**
 * The Reddit data of one world. Create one per sandbox (`new RedditData(world)`);
 * the world's clock decides what is visible, so advancing it shows new posts,
 * comments, and growing scores.
 */
export class RedditData {
  readonly world: World;
  /** Subreddits in the world. */
  readonly subredditCount: number;
  /** Posts over the whole timeline (visible or not yet). */
  readonly postCount: number;
  /** Distinct authors. */
  readonly userCount: number;
  private readonly keys: { post: Key; tree: Key; comment: Key; user: Key; sub: Key };
  private readonly postSub: Int32Array;
  private readonly nominalScore: Int32Array;
  private readonly nominalComments: Int32Array;
  private readonly generatedRemoval: Uint8Array;
  private readonly times: Float64Array;
  /** Posts by subreddit (CSR): posts of `s` are `subPosts[subStart[s] .. subStart[s + 1])`, ascending. */
  private readonly subStart: Int32Array;
  private readonly subPosts: Int32Array;
  private readonly wordIndex = new Map<string, Int32Array>();
  private readonly removals = new Map<number, RemovalKind>();
  /** Posts held in the moderation queue at runtime (not listed until approved). */
  private readonly held = new Set<number>();
  /** Posts approved at runtime (listed even when generated as held). */
  private readonly approved = new Set<number>();
  /** The harshness switches; change them at any time (the sandbox sets them from its `strict` option). */
  realism: RedditDataRealism = { ...STRICT_DATA };
  private readonly treeCache = new Map<number, Tree>();
  private visibleMemo = { now: Number.NaN, count: 0 };

  constructor(world: World) {
    this.world = world;
    const w = world.config;
    this.subredditCount = w.subreddits;
    this.postCount = w.posts;
    this.userCount = Math.min(50_000, Math.max(200, Math.floor(w.posts / 4)));
    this.keys = { post: keyOf(w.seed, "post"), tree: keyOf(w.seed, "tree"), comment: keyOf(w.seed, "comment"), user: keyOf(w.seed, "user"), sub: keyOf(w.seed, "subreddit") };
    const n = w.posts;
    this.postSub = new Int32Array(n);
    this.nominalScore = new Int32Array(n);
    this.nominalComments = new Int32Array(n);
    this.generatedRemoval = new Uint8Array(n);
    this.times = new Float64Array(n).fill(Number.NaN);
    const counts = new Int32Array(w.subreddits + 1);
    const words = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const c = this.core(i);
      this.postSub[i] = c.sub;
      this.nominalScore[i] = c.score;
      this.nominalComments[i] = c.comments;
      this.generatedRemoval[i] = c.removal;
      counts[c.sub + 1]!++;
      for (const t of this.titleWords(c)) {
        let list = words.get(t);
        if (!list) words.set(t, (list = []));
        list.push(i);
      }
    }
    for (let s = 0; s < w.subreddits; s++) counts[s + 1]! += counts[s]!;
    this.subStart = counts;
    this.subPosts = new Int32Array(n);
    const fill = Int32Array.from(counts.subarray(0, w.subreddits));
    for (let i = 0; i < n; i++) this.subPosts[fill[this.postSub[i]!]!++] = i;
    for (const [t, list] of words) this.wordIndex.set(t, Int32Array.from(list));
  }

  // ---- subreddits -------------------------------------------------------

  /** Subreddit `s`'s name: the topic's subreddit for the first lap over the topics, then that name and the lap number (at most 21 characters). */
  subredditName(s: number): string {
    const lap = Math.floor(s / TOPICS.length);
    const base = topicOf(s).subreddit;
    if (lap === 0) return base;
    const suffix = String(lap);
    return base.slice(0, 21 - suffix.length) + suffix;
  }

  /** The index of a subreddit by name (case-insensitive, as Reddit), or `undefined`. */
  subredditIndex(name: string): number | undefined {
    if (!/^[A-Za-z0-9_]{2,21}$/.test(name)) return undefined;
    const m = /^(.*?)(\d*)$/.exec(name);
    const digits = m?.[2] ?? "";
    const lap = digits === "" ? 0 : Number(digits);
    if (digits !== "" && (lap < 1 || String(lap) !== digits)) return undefined;
    const lower = name.toLowerCase();
    for (let t = 0; t < TOPICS.length; t++) {
      const s = lap * TOPICS.length + t;
      if (s < this.subredditCount && this.subredditName(s).toLowerCase() === lower) return s;
    }
    return undefined;
  }

  /** Subreddit `s`'s id (after `t5_`). */
  subredditId(s: number): string {
    return (SUBREDDIT_ID_OFFSET + s).toString(36);
  }

  /** Subreddit `s` as Reddit's `t5` data. */
  subreddit(s: number): RedditSubredditData {
    const r = new ItemRandom(this.keys.sub, s);
    const topic = topicOf(s);
    const name = this.subredditName(s);
    const subscribers = this.subscribers(s);
    const created = Math.floor(this.world.config.start / 1000 - (1 + r.next() * 14) * 31_536_000);
    const about = `A community for ${topic.key}: ${topic.words.slice(0, 3).join(", ")} and more.`;
    return {
      display_name: name,
      display_name_prefixed: `r/${name}`,
      id: this.subredditId(s),
      name: `t5_${this.subredditId(s)}`,
      title: `${capitalize(topic.key)} on Reddit`,
      public_description: about,
      description: `${about}\n\nBe kind. No spam.`,
      subscribers,
      active_user_count: Math.max(1, Math.floor(subscribers / 900)),
      created,
      created_utc: created,
      subreddit_type: "public",
      over18: false,
      lang: "en",
      url: `/r/${name}/`,
      quarantine: false,
      submission_type: "any",
    };
  }

  private subscribers(s: number): number {
    const r = new ItemRandom(this.keys.sub, s);
    r.next();
    return Math.round(Math.exp(8 + r.next() * 8));
  }

  /** Posts of subreddit `s` over the whole timeline, ascending (oldest first). A view: do not modify. */
  postsIn(s: number): Int32Array {
    return this.subPosts.subarray(this.subStart[s]!, this.subStart[s + 1]!);
  }

  // ---- posts --------------------------------------------------------------

  /** Post `i`'s id: base36, 7 characters, increasing with `i`. */
  postId(i: number): string {
    return (POST_ID_OFFSET + i).toString(36);
  }

  /** The index of a post by id (with or without `t3_`), or `undefined` when no such post exists in the timeline. */
  postIndex(id: string): number | undefined {
    const bare = id.startsWith("t3_") ? id.slice(3) : id;
    if (!/^[0-9a-z]{1,12}$/.test(bare)) return undefined;
    const i = parseInt(bare, 36) - POST_ID_OFFSET;
    return i >= 0 && i < this.postCount && this.postId(i) === bare ? i : undefined;
  }

  /** Posts created by the world's clock (posts `0 .. n-1`). */
  visiblePostCount(): number {
    const now = this.world.clock.now();
    if (this.visibleMemo.now !== now) this.visibleMemo = { now, count: this.world.visiblePosts() };
    return this.visibleMemo.count;
  }

  /** Whether post `i` exists by now. */
  isVisible(i: number): boolean {
    return i >= 0 && i < this.visiblePostCount();
  }

  /** Post `i`'s creation time, ms (the world's `postTime`, cached). */
  postTime(i: number): number {
    let t = this.times[i]!;
    if (Number.isNaN(t)) this.times[i] = t = this.world.postTime(i);
    return t;
  }

  /** Post `i`'s `created_utc`: whole seconds, as Reddit sends them. */
  createdUtc(i: number): number {
    return Math.floor(this.postTime(i) / 1000);
  }

  /** Subreddit of post `i`. */
  subredditOf(i: number): number {
    return this.postSub[i]!;
  }

  /**
   * Why post `i` is gone, or `null` (generated removals ~2%, plus runtime
   * ones). With `realism.removalCategories` the generated ones spread over
   * all ten categories; otherwise `moderator` or `deleted`.
   */
  removalOf(i: number): RemovalKind | null {
    const runtime = this.removals.get(i);
    if (runtime) return runtime;
    const g = this.generatedRemoval[i];
    if (g !== 1 && g !== 2) return null;
    if (!this.realism.removalCategories) return g === 1 ? "moderator" : "deleted";
    const r = new ItemRandom(this.keys.post, i, 7).next();
    return g === 1 ? MODERATOR_REMOVALS[Math.floor(r * MODERATOR_REMOVALS.length)]! : r < 0.5 ? "deleted" : "author";
  }

  /** Whether post `i` waits in the moderation queue at `now` (runtime holds, and the generated late approvals). */
  isHeld(i: number): boolean {
    if (this.held.has(i)) return true;
    if (this.approved.has(i)) return false;
    const rate = this.realism.lateApprovalRate;
    if (!(rate > 0)) return false;
    if (new ItemRandom(this.keys.post, i, 11).next() >= rate) return false;
    return this.world.clock.now() < this.postTime(i) + this.realism.lateApprovalMs;
  }

  /** Whether post `i` shows in listings and search: created by now, not removed, not waiting for approval. */
  isListed(i: number): boolean {
    return this.isVisible(i) && this.removalOf(i) === null && !this.isHeld(i);
  }

  /** Applies a runtime `change` to post `idOrIndex` (an index or an id); false, changing nothing, when there is no such post. */
  private changePost(idOrIndex: string | number, change: (i: number) => void): boolean {
    const i = typeof idOrIndex === "number" ? idOrIndex : this.postIndex(idOrIndex);
    if (i === undefined || i < 0 || i >= this.postCount) return false;
    change(i);
    return true;
  }

  /** Removes post `i` (or an id) from now on: it leaves listings and search and keeps answering `/api/info` and `/comments` with removed fields. */
  removePost(idOrIndex: string | number, by: RemovalKind = "moderator"): boolean {
    return this.changePost(idOrIndex, (i) => this.removals.set(i, by));
  }

  /** Holds post `i` (or an id) in the moderation queue: it leaves listings and search until approved. */
  holdPost(idOrIndex: string | number): boolean {
    return this.changePost(idOrIndex, (i) => {
      this.approved.delete(i);
      this.held.add(i);
    });
  }

  /** Approves post `i` (or an id): it shows in listings at its creation time, like a late approval on Reddit. */
  approvePost(idOrIndex: string | number): boolean {
    return this.changePost(idOrIndex, (i) => {
      this.held.delete(i);
      this.approved.add(i);
    });
  }

  /** Forgets the runtime removals, holds and approvals. */
  resetRemovals(): void {
    this.removals.clear();
    this.held.clear();
    this.approved.clear();
  }

  /** Which hostile shape post `i` has (with `realism.hostilePosts`): a 1 MiB selftext, a score of 1e308, an unparseable date. */
  hostileKind(i: number): "huge-text" | "huge-number" | "bad-date" | null {
    if (!this.realism.hostilePosts) return null;
    const k = i % 1000;
    return k === 777 ? "huge-text" : k === 778 ? "huge-number" : k === 779 ? "bad-date" : null;
  }

  /** The id of post `i`'s stickied AutoModerator comment (outside the generated comments' id range), or null when its subreddit has none. */
  automodCommentId(i: number): string | null {
    if (!this.realism.automodSticky || this.postSub[i]! % 2 !== 0) return null;
    return (COMMENT_ID_OFFSET - 1 - i).toString(36);
  }

  /** Post `i`'s score by now: grows from 1 to its nominal score over `ENGAGEMENT_SPREAD_MS`. */
  scoreOf(i: number): number {
    const age = this.world.clock.now() - this.postTime(i);
    if (age <= 0) return 1;
    return 1 + Math.round(this.nominalScore[i]! * Math.sqrt(Math.min(1, age / ENGAGEMENT_SPREAD_MS)));
  }

  /** Post `i`'s comments written by now (Reddit's `num_comments`; the tree holds at most `MAX_COMMENTS_PER_POST` of them). */
  commentCountOf(i: number): number {
    const n = this.nominalComments[i]!;
    const now = this.world.clock.now();
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.commentTimeOf(i, mid) <= now) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private commentTimeOf(i: number, j: number): number {
    const n = this.nominalComments[i]!;
    return this.postTime(i) + Math.ceil(ENGAGEMENT_SPREAD_MS * ((j + 1) / n) ** 2);
  }

  private core(i: number): PostCore {
    const r = new ItemRandom(this.keys.post, i);
    const S = this.subredditCount;
    const sub = Math.min(S - 1, Math.floor(S * r.next() ** 2));
    const tpl = Math.floor(r.next() * TITLE_TEMPLATES.length);
    const adj = Math.floor(r.next() * ADJECTIVES.length);
    const fmt = Math.floor(r.next() * FORMATS.length);
    const w1 = Math.floor(r.next() * 10);
    const w2 = (w1 + 1 + Math.floor(r.next() * 9)) % 10;
    const isSelf = r.next() < 0.45;
    const youtube = r.next() < 0.25;
    const form = Math.floor(r.next() * 3);
    const videoPick = r.next();
    const score = Math.floor(Math.exp(r.next() * 9)) - 1;
    const comments = Math.floor(Math.exp(r.next() * 6.2)) - 1;
    const ratio = Math.round((0.5 + r.next() * 0.5) * 100) / 100;
    const flair = Math.floor(r.next() * FLAIRS.length);
    const user = Math.floor(r.next() * this.userCount);
    const removed = r.next() < 0.02;
    const removal: 0 | 1 | 2 = removed ? (r.next() < 0.5 ? 1 : 2) : (r.next(), 0);
    const spoiler = r.next() < 0.02;
    const stickied = r.next() < 0.003;
    const awards = Math.floor(r.next() ** 6 * 6);
    const domain = Math.floor(r.next() * ARTICLE_DOMAINS.length);
    const text = Math.floor(r.next() * 3);
    return { sub, tpl, adj, fmt, w1, w2, isSelf, youtube, form, videoPick, score, comments, ratio, flair, user, removal, spoiler, stickied, awards, domain, text };
  }

  private titleOf(c: PostCore): string {
    const words = topicOf(c.sub).words;
    const tpl = TITLE_TEMPLATES[c.tpl]!;
    return capitalize(tpl.render(ADJECTIVES[c.adj]!, FORMATS[c.fmt]!, words[c.w1]!, words[c.w2]!));
  }

  /** The distinct search words of a post's title (the same as `tokenize(title)`, without rendering it). */
  private titleWords(c: PostCore): string[] {
    const words = topicOf(c.sub).words;
    const out: string[] = [];
    for (const slot of TITLE_TEMPLATES[c.tpl]!.words) {
      const w = slot === "$a" ? ADJECTIVES[c.adj]! : slot === "$f" ? FORMATS[c.fmt]! : slot === "$w1" ? words[c.w1]! : slot === "$w2" ? words[c.w2]! : slot;
      if (!out.includes(w)) out.push(w);
    }
    return out;
  }

  /** User `u`'s name: unique, at most 20 characters. */
  userName(u: number): string {
    const r = new ItemRandom(this.keys.user, u);
    const word = topicOf(Math.floor(r.next() * TOPICS.length)).words[Math.floor(r.next() * 10)]!;
    const adj = ADJECTIVES[Math.floor(r.next() * ADJECTIVES.length)]!;
    return `${word.slice(0, 7)}_${adj.slice(0, 6)}${u}`;
  }

  /** User `u`'s fullname (`t2_...`). */
  userFullname(u: number): string {
    return `t2_${(USER_ID_OFFSET + u).toString(36)}`;
  }

  /** The video a post or comment written at `time` refers to, or `null` when no video was published yet. */
  private videoAt(time: number, pick: number, form: number): YouTubeReference | null {
    const w = this.world.config;
    const published = visibleCount(w, "video", w.videos, time);
    if (published === 0) return null;
    const videoIndex = published - 1 - Math.floor(pick * pick * published);
    const id = videoId(w, videoIndex);
    const f = URL_FORMS[form]!;
    return { videoIndex, videoId: id, form: f, url: youtubeUrl(id, f) };
  }

  /** The YouTube video post `i` links to (as its URL or in its text), or `null`. Removed text no longer links. */
  postYouTube(i: number): YouTubeReference | null {
    const c = this.core(i);
    if (!c.youtube) return null;
    const ref = this.videoAt(this.postTime(i), c.videoPick, c.form);
    if (ref && c.isSelf && this.removalOf(i) !== null) return null;
    return ref;
  }

  /** Post `i` as Reddit's `t3` data, as of the world's clock. */
  post(i: number): RedditPostData {
    const c = this.core(i);
    const s = c.sub;
    const sub = this.subredditName(s);
    const topic = topicOf(s);
    const id = this.postId(i);
    const title = this.titleOf(c);
    const permalink = `/r/${sub}/comments/${id}/${slugOf(title)}/`;
    const a = ADJECTIVES[c.adj]!;
    const f = FORMATS[c.fmt]!;
    const w1 = topic.words[c.w1]!;
    const w2 = topic.words[c.w2]!;
    const yt = c.youtube ? this.videoAt(this.postTime(i), c.videoPick, c.form) : null;
    let url: string;
    let domain: string;
    let selftext = "";
    let postHint: string | undefined;
    if (c.isSelf) {
      url = `https://www.reddit.com${permalink}`;
      domain = `self.${sub}`;
      selftext = yt ? YOUTUBE_SELF_TEXTS[c.text]!(a, f, w1, w2, yt.url) : SELF_TEXTS[c.text]!(a, f, w1, w2);
      postHint = "self";
    } else if (yt) {
      url = yt.url;
      domain = yt.form === "youtu.be" ? "youtu.be" : "youtube.com";
      postHint = "rich:video";
    } else {
      const d = ARTICLE_DOMAINS[c.domain]!;
      url = `https://${d}/${topic.key}/${slugOf(title).replace(/_/g, "-")}-${id}`;
      domain = d;
      postHint = "link";
    }
    const removal = this.removalOf(i);
    let author = this.userName(c.user);
    let authorFullname: string | undefined = this.userFullname(c.user);
    if (removal) {
      // Reddit blanks a removed self post's text; a link post keeps its empty selftext.
      if (c.isSelf || !this.realism.removalCategories) selftext = isAuthorDeletion(removal) ? "[deleted]" : "[removed]";
      if (isAuthorDeletion(removal)) {
        author = "[deleted]";
        authorFullname = undefined;
      }
    }
    const hostile = removal ? null : this.hostileKind(i);
    if (hostile === "huge-text") selftext = `${selftext}\n\n${"All the details, again and again. ".repeat(32_768)}`;
    const score = hostile === "huge-number" ? 1e308 : this.scoreOf(i);
    const created: number | string = hostile === "bad-date" ? "yesterday-ish" : this.createdUtc(i);
    const data: RedditPostData = {
      id,
      name: `t3_${id}`,
      title,
      selftext,
      selftext_html: c.isSelf && hostile !== "huge-text" ? `<!-- SC_OFF -->${markdownToHtml(selftext)}<!-- SC_ON -->` : null,
      url,
      permalink,
      domain,
      author,
      subreddit: sub,
      subreddit_id: `t5_${this.subredditId(s)}`,
      subreddit_name_prefixed: `r/${sub}`,
      subreddit_subscribers: this.subscribers(s),
      subreddit_type: "public",
      link_flair_text: FLAIRS[c.flair] ?? null,
      score,
      ups: score,
      downs: 0,
      upvote_ratio: c.ratio,
      num_comments: hostile === "huge-number" ? 1e308 : this.commentCountOf(i),
      created,
      created_utc: created,
      over_18: false,
      spoiler: c.spoiler,
      stickied: c.stickied,
      pinned: false,
      is_self: c.isSelf,
      is_video: false,
      post_hint: postHint,
      total_awards_received: c.awards,
      gilded: c.awards > 3 ? 1 : 0,
      thumbnail: c.spoiler ? "spoiler" : c.isSelf ? "self" : "default",
      removed_by_category: removal,
      archived: false,
      locked: false,
      hidden: false,
      saved: false,
      edited: false,
      distinguished: null,
      num_crossposts: 0,
      send_replies: true,
      media: null,
    };
    if (authorFullname) data.author_fullname = authorFullname;
    return data;
  }

  /** Post `i` wrapped as `{kind: "t3", data}`. */
  postThing(i: number): RedditPostThing {
    return { kind: "t3", data: this.post(i) };
  }

  // ---- listings -----------------------------------------------------------

  /** The posts of some subreddits (`null`: all) over the whole timeline, ascending. */
  private scopePosts(subs: readonly number[] | null): Int32Array | null {
    if (subs === null) return null;
    if (subs.length === 1) return this.postsIn(subs[0]!);
    const parts = [...new Set(subs)].map((s) => this.postsIn(s));
    const out = new Int32Array(parts.reduce((n, p) => n + p.length, 0));
    let k = 0;
    for (const p of parts) {
      out.set(p, k);
      k += p.length;
    }
    return out.sort();
  }

  /**
   * A page of a subreddit listing (`subs`: subreddit indexes, `null` for all).
   * `new` pages by position, so any post works as a cursor; the sorted orders
   * page after/before a post present in the order (an absent cursor gives an
   * empty page, like Reddit). `t` applies to `top`.
   */
  listPosts(subs: readonly number[] | null, sort: ListingSort, page: PageRequest, t: TimeFilter = "day"): PostPage {
    const scope = this.scopePosts(subs);
    if (sort === "new") return this.pageNew(scope, page);
    const candidates = this.candidates(scope, sort === "top" ? t : sort === "rising" ? "day" : "all");
    return pageOf(this.capped(this.order(candidates, sort)), page);
  }

  /** An order cut at the listing cap. */
  private capped(order: number[]): number[] {
    const cap = this.realism.listingCap;
    return cap > 0 && order.length > cap ? order.slice(0, cap) : order;
  }

  /** Search: posts whose title has every word of `query` (case-insensitive), in `subs` (`null`: all), created within `t`. */
  searchPosts(query: string, subs: readonly number[] | null, sort: SearchSort, page: PageRequest, t: TimeFilter = "all"): PostPage {
    const tokens = [...new Set(tokenize(query))];
    if (tokens.length === 0) return { items: [], after: null, before: null };
    const lists: Int32Array[] = [];
    for (const tok of tokens) {
      const list = this.wordIndex.get(tok);
      if (!list) return { items: [], after: null, before: null };
      lists.push(list);
    }
    lists.sort((x, y) => x.length - y.length);
    const visible = this.visiblePostCount();
    const inScope = subs === null ? null : new Set(subs);
    const since = this.windowStart(t);
    const matches: number[] = [];
    for (const i of lists[0]!) {
      if (i >= visible) break;
      if (inScope && !inScope.has(this.postSub[i]!)) continue;
      if (this.removalOf(i) !== null || this.isHeld(i)) continue;
      if (since > Number.NEGATIVE_INFINITY && this.postTime(i) < since) continue;
      let all = true;
      for (let k = 1; k < lists.length && all; k++) {
        const other = lists[k]!;
        const p = lowerBound(other, i);
        all = p < other.length && other[p] === i;
      }
      if (all) matches.push(i);
    }
    return pageOf(this.capped(this.order(matches, sort === "relevance" ? "hot" : sort)), page);
  }

  private windowStart(t: TimeFilter): number {
    const seconds = TIME_FILTERS[t];
    return Number.isFinite(seconds) ? this.world.clock.now() - seconds * 1000 : Number.NEGATIVE_INFINITY;
  }

  /** Listed posts of a scope created within a time filter, ascending. */
  private candidates(scope: Int32Array | null, t: TimeFilter): number[] {
    const visible = this.visiblePostCount();
    const since = this.windowStart(t);
    // Times increase with the index: find the first post inside the window by binary search.
    let from = 0;
    if (since > Number.NEGATIVE_INFINITY) {
      let lo = 0;
      let hi = visible;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.postTime(mid) < since) lo = mid + 1;
        else hi = mid;
      }
      from = lo;
    }
    const out: number[] = [];
    if (scope === null) {
      for (let i = from; i < visible; i++) if (this.removalOf(i) === null && !this.isHeld(i)) out.push(i);
    } else {
      for (let p = lowerBound(scope, from); p < scope.length; p++) {
        const i = scope[p]!;
        if (i >= visible) break;
        if (this.removalOf(i) === null && !this.isHeld(i)) out.push(i);
      }
    }
    return out;
  }

  private order(items: number[], by: "hot" | "top" | "rising" | "new" | "comments"): number[] {
    if (by === "new") return items.sort((x, y) => y - x);
    const now = this.world.clock.now();
    const keys = new Float64Array(items.length);
    for (let p = 0; p < items.length; p++) {
      const i = items[p]!;
      if (by === "comments") keys[p] = this.commentCountOf(i);
      else {
        const score = this.scoreOf(i);
        if (by === "hot") keys[p] = hotRank(score, this.createdUtc(i));
        else if (by === "top") keys[p] = score;
        else keys[p] = score / ((now - this.postTime(i)) / 3_600_000 + 2) ** 1.5;
      }
    }
    const positions = Array.from(items.keys());
    positions.sort((x, y) => keys[y]! - keys[x]! || items[y]! - items[x]!);
    return positions.map((p) => items[p]!);
  }

  private pageNew(scope: Int32Array | null, page: PageRequest): PostPage {
    const visible = this.visiblePostCount();
    const size = scope ? lowerBound(scope, visible) : visible;
    const at = (p: number): number => (scope ? scope[p]! : p);
    const below = (k: number): number => Math.min(size, scope ? lowerBound(scope, k) : k);
    // Reddit's listings end after about 1,000 items: positions below `floor` do not exist.
    let floor = 0;
    const cap = this.realism.listingCap;
    if (cap > 0) {
      let n = 0;
      let q = size - 1;
      for (; q >= 0 && n < cap; q--) if (this.removalOf(at(q)) === null && !this.isHeld(at(q))) n++;
      floor = q + 1;
    }
    const listed = (p: number): boolean => p >= floor && this.removalOf(at(p)) === null && !this.isHeld(at(p));
    const items: number[] = [];
    if (page.before !== undefined) {
      // Newer than `before`: walk up, then show newest first.
      let p = scope ? lowerBound(scope, page.before + 1) : page.before + 1;
      for (; p < size && items.length < page.limit; p++) if (listed(p)) items.push(at(p));
      let newer = false;
      for (; p < size && !newer; p++) newer = listed(p);
      items.reverse();
      return { items, after: items.length ? items[items.length - 1]! : null, before: newer && items.length ? items[0]! : null };
    }
    let p = page.after !== undefined ? below(page.after) - 1 : size - 1;
    for (; p >= floor && items.length < page.limit; p--) if (listed(p)) items.push(at(p));
    let older = false;
    for (; p >= floor && !older; p--) older = listed(p);
    return { items, after: older && items.length ? items[items.length - 1]! : null, before: page.after !== undefined && items.length ? items[0]! : null };
  }

  // ---- comments -----------------------------------------------------------

  /** Comment `j` of post `i`: its id (without `t1_`). */
  commentId(i: number, j: number): string {
    return (COMMENT_ID_OFFSET + i * MAX_COMMENTS_PER_POST + j).toString(36);
  }

  /** `[post index, comment index]` of a comment id (with or without `t1_`), or `undefined` when it cannot exist. */
  commentIndex(id: string): [number, number] | undefined {
    const bare = id.startsWith("t1_") ? id.slice(3) : id;
    if (!/^[0-9a-z]{1,12}$/.test(bare)) return undefined;
    const k = parseInt(bare, 36) - COMMENT_ID_OFFSET;
    if (!(k >= 0) || (COMMENT_ID_OFFSET + k).toString(36) !== bare) return undefined;
    const i = Math.floor(k / MAX_COMMENTS_PER_POST);
    const j = k % MAX_COMMENTS_PER_POST;
    return i < this.postCount ? [i, j] : undefined;
  }

  /** Comments of post `i` in its tree by now (at most `MAX_COMMENTS_PER_POST`). */
  treeSize(i: number): number {
    return this.isVisible(i) ? Math.min(MAX_COMMENTS_PER_POST, this.commentCountOf(i)) : 0;
  }

  /** Whether comment `j` of post `i` exists by now. */
  commentExists(i: number, j: number): boolean {
    return j >= 0 && j < this.treeSize(i);
  }

  private tree(i: number): Tree {
    let tree = this.treeCache.get(i);
    if (tree) return tree;
    const r = new ItemRandom(this.keys.tree, i);
    const parent = new Int16Array(MAX_COMMENTS_PER_POST);
    const depth = new Int16Array(MAX_COMMENTS_PER_POST);
    for (let j = 0; j < MAX_COMMENTS_PER_POST; j++) {
      const top = r.next() < 0.35;
      const back = r.next();
      const p = j === 0 || top ? -1 : j - 1 - Math.floor(back * back * j);
      parent[j] = p;
      depth[j] = p < 0 ? 0 : depth[p]! + 1;
    }
    tree = { parent, depth };
    if (this.treeCache.size >= 512) this.treeCache.clear();
    this.treeCache.set(i, tree);
    return tree;
  }

  private commentCore(i: number, j: number): CommentCore {
    const r = new ItemRandom(this.keys.comment, i, j);
    const user = Math.floor(r.next() * this.userCount);
    const score = Math.floor(Math.exp(r.next() * 6) * (1 - j / (MAX_COMMENTS_PER_POST * 2))) - 1;
    const tpl = r.next();
    const adj = Math.floor(r.next() * ADJECTIVES.length);
    const fmt = Math.floor(r.next() * FORMATS.length);
    const w = Math.floor(r.next() * 10);
    const youtube = r.next() < 0.15;
    const form = Math.floor(r.next() * 3);
    const videoPick = r.next();
    const removed = r.next() < 0.02;
    const removal: 0 | 1 | 2 = removed ? (r.next() < 0.5 ? 1 : 2) : 0;
    return { user, score, tpl, adj, fmt, w, youtube, form, videoPick, removal };
  }

  /** The YouTube video comment `j` of post `i` mentions, or `null`. */
  commentYouTube(i: number, j: number): YouTubeReference | null {
    const c = this.commentCore(i, j);
    if (!c.youtube || c.removal) return null;
    return this.videoAt(this.commentTimeOf(i, j), c.videoPick, c.form);
  }

  /** Comment `j` of post `i` as `t1` data, `replies` `""` (the tree endpoints fill replies). */
  comment(i: number, j: number): RedditCommentData {
    const c = this.commentCore(i, j);
    const tree = this.tree(i);
    const postCore = this.core(i);
    const s = this.postSub[i]!;
    const sub = this.subredditName(s);
    const postId = this.postId(i);
    const id = this.commentId(i, j);
    const p = tree.parent[j]!;
    const topic = topicOf(s);
    const a = ADJECTIVES[c.adj]!;
    const f = FORMATS[c.fmt]!;
    const w = topic.words[c.w]!;
    const time = this.commentTimeOf(i, j);
    const yt = c.youtube && !c.removal ? this.videoAt(time, c.videoPick, c.form) : null;
    let body = yt ? YOUTUBE_COMMENT_TEXTS[Math.floor(c.tpl * YOUTUBE_COMMENT_TEXTS.length)]!(a, f, w, yt.url) : COMMENT_TEXTS[Math.floor(c.tpl * COMMENT_TEXTS.length)]!(a, f, w);
    let author = this.userName(c.user);
    let authorFullname: string | undefined = this.userFullname(c.user);
    if (c.removal) {
      body = c.removal === 1 ? "[removed]" : "[deleted]";
      author = "[deleted]";
      authorFullname = undefined;
    }
    const created = Math.floor(time / 1000);
    const data: RedditCommentData = {
      id,
      name: `t1_${id}`,
      parent_id: p < 0 ? `t3_${postId}` : `t1_${this.commentId(i, p)}`,
      link_id: `t3_${postId}`,
      body,
      body_html: markdownToHtml(body),
      author,
      score: c.score,
      ups: c.score,
      downs: 0,
      created,
      created_utc: created,
      depth: tree.depth[j]!,
      replies: "",
      permalink: `/r/${sub}/comments/${postId}/${slugOf(this.titleOf(postCore))}/${id}/`,
      subreddit: sub,
      subreddit_id: `t5_${this.subredditId(s)}`,
      subreddit_name_prefixed: `r/${sub}`,
      subreddit_type: "public",
      is_submitter: !c.removal && c.user === postCore.user,
      stickied: false,
      distinguished: null,
      ...COMMENT_FLAGS,
      send_replies: true,
    };
    if (authorFullname) data.author_fullname = authorFullname;
    return data;
  }

  /** Every comment of post `i` by now, flat in creation order (`replies` `""`). */
  comments(i: number): RedditCommentData[] {
    const out: RedditCommentData[] = [];
    for (let j = 0, m = this.treeSize(i); j < m; j++) out.push(this.comment(i, j));
    return out;
  }

  /** Children of each comment (key -1: top level) among the first `m` comments, sorted. */
  private children(i: number, m: number, sort: CommentSort): Map<number, number[]> {
    const tree = this.tree(i);
    const kids = new Map<number, number[]>();
    for (let j = 0; j < m; j++) {
      const p = tree.parent[j]!;
      let list = kids.get(p);
      if (!list) kids.set(p, (list = []));
      list.push(j);
    }
    if (sort === "old") return kids;
    if (sort === "new") {
      for (const list of kids.values()) list.reverse();
      return kids;
    }
    const score = new Map<number, number>();
    for (let j = 0; j < m; j++) score.set(j, this.commentCore(i, j).score);
    for (const list of kids.values()) list.sort((x, y) => score.get(y)! - score.get(x)! || x - y);
    return kids;
  }

  private subtreeSize(kids: Map<number, number[]>, j: number): number {
    let n = 1;
    for (const k of kids.get(j) ?? []) n += this.subtreeSize(kids, k);
    return n;
  }

  /**
   * Post `i`'s comment tree as Reddit's second Listing of `/comments/{id}`:
   * sorted siblings, at most `limit` comments (the rest of a level becomes a
   * `more` stub listing their ids), at most `depth` levels (deeper replies
   * become a "continue this thread" stub). `undefined` when `focus` is not a
   * comment of this post.
   */
  commentTree(i: number, options: CommentTreeOptions = {}): RedditListing<RedditCommentThing | RedditMoreThing> | undefined {
    const m = this.treeSize(i);
    const kids = this.children(i, m, options.sort ?? "confidence");
    let budget = Math.max(1, options.limit ?? MAX_COMMENTS_PER_POST);
    const maxDepth = Math.max(1, options.depth ?? 10);
    const postName = `t3_${this.postId(i)}`;
    const nameOf = (j: number): string => (j < 0 ? postName : `t1_${this.commentId(i, j)}`);
    let focusDepth = 0;
    const emit = (list: readonly number[], parent: number, level: number): Array<RedditCommentThing | RedditMoreThing> => {
      const out: Array<RedditCommentThing | RedditMoreThing> = [];
      for (let k = 0; k < list.length; k++) {
        const j = list[k]!;
        if (budget <= 0) {
          const rest = list.slice(k);
          const ids = rest.map((x) => this.commentId(i, x));
          out.push({
            kind: "more",
            data: { count: rest.reduce((n, x) => n + this.subtreeSize(kids, x), 0), name: `t1_${ids[0]}`, id: ids[0]!, parent_id: nameOf(parent), depth: level + focusDepth, children: ids },
          });
          break;
        }
        budget--;
        const data = this.comment(i, j);
        const replies = kids.get(j) ?? [];
        if (replies.length > 0) {
          if (level + 1 >= maxDepth) {
            data.replies = listing<RedditCommentThing | RedditMoreThing>([{ kind: "more", data: { count: 0, name: "t1__", id: "_", parent_id: data.name, depth: level + 1 + focusDepth, children: [] } }], null, null, null);
          } else {
            data.replies = listing(emit(replies, j, level + 1), null, null, null);
          }
        }
        out.push({ kind: "t1", data });
      }
      return out;
    };
    if (options.focus !== undefined) {
      const ref = this.commentIndex(options.focus);
      if (!ref || ref[0] !== i || ref[1] >= m) return undefined;
      focusDepth = this.tree(i).depth[ref[1]]!;
      return listing(emit([ref[1]], this.tree(i).parent[ref[1]]!, 0), null, null, null);
    }
    const top = emit(kids.get(-1) ?? [], -1, 0);
    const sticky = this.automodComment(i);
    return listing(sticky ? [sticky, ...top] : top, null, null, null);
  }

  /** Post `i`'s stickied AutoModerator comment (distinguished as moderator), or null (see `automodCommentId`). */
  automodComment(i: number): RedditCommentThing | null {
    const id = this.automodCommentId(i);
    if (id === null) return null;
    const s = this.postSub[i]!;
    const sub = this.subredditName(s);
    const postId = this.postId(i);
    const created = this.createdUtc(i);
    const body = `Welcome to r/${sub}! Please read the rules in the sidebar before commenting. Posts that break them are removed.\n\n*I am a bot, and this action was performed automatically. Please contact the moderators of this subreddit if you have any questions or concerns.*`;
    return {
      kind: "t1",
      data: {
        id,
        name: `t1_${id}`,
        parent_id: `t3_${postId}`,
        link_id: `t3_${postId}`,
        body,
        body_html: markdownToHtml(body),
        author: "AutoModerator",
        score: 1,
        ups: 1,
        downs: 0,
        created,
        created_utc: created,
        depth: 0,
        replies: "",
        permalink: `/r/${sub}/comments/${postId}/${slugOf(this.titleOf(this.core(i)))}/${id}/`,
        subreddit: sub,
        subreddit_id: `t5_${this.subredditId(s)}`,
        subreddit_name_prefixed: `r/${sub}`,
        subreddit_type: "public",
        is_submitter: false,
        stickied: true,
        distinguished: "moderator",
        ...COMMENT_FLAGS,
        send_replies: false,
      },
    };
  }

  /**
   * Reddit's `/api/morechildren`: the asked comments of post `i` and all their
   * replies, flat (each with `replies` `""`), in tree order; snoowrap threads
   * them by `parent_id`. Unknown ids are skipped.
   */
  moreChildren(i: number, ids: readonly string[], sort: CommentSort = "confidence"): RedditCommentThing[] {
    const m = this.treeSize(i);
    const kids = this.children(i, m, sort);
    const out: RedditCommentThing[] = [];
    const seen = new Set<number>();
    const walk = (j: number): void => {
      if (seen.has(j)) return;
      seen.add(j);
      out.push({ kind: "t1", data: this.comment(i, j) });
      for (const k of kids.get(j) ?? []) walk(k);
    };
    for (const id of ids) {
      const ref = this.commentIndex(id);
      if (ref && ref[0] === i && ref[1] < m) walk(ref[1]);
    }
    return out;
  }

  // ---- lookups --------------------------------------------------------------

  /** A thing by fullname (`t3_`, `t1_`, `t5_`) as `/api/info` answers it, or `undefined` when it does not exist by now. */
  thing(fullname: string): RedditThing<"t3", RedditPostData> | RedditThing<"t1", RedditCommentData> | RedditThing<"t5", RedditSubredditData> | undefined {
    if (fullname.startsWith("t3_")) {
      const i = this.postIndex(fullname);
      return i !== undefined && this.isVisible(i) ? this.postThing(i) : undefined;
    }
    if (fullname.startsWith("t1_")) {
      const ref = this.commentIndex(fullname);
      return ref && this.commentExists(ref[0], ref[1]) ? { kind: "t1", data: this.comment(ref[0], ref[1]) } : undefined;
    }
    if (fullname.startsWith("t5_")) {
      const bare = fullname.slice(3);
      if (!/^[0-9a-z]{1,12}$/.test(bare)) return undefined;
      const s = parseInt(bare, 36) - SUBREDDIT_ID_OFFSET;
      return s >= 0 && s < this.subredditCount && this.subredditId(s) === bare ? { kind: "t5", data: this.subreddit(s) } : undefined;
    }
    return undefined;
  }

  /** Every subreddit: index, name and fullname. */
  subreddits(): Array<{ index: number; name: string; fullname: string }> {
    return Array.from({ length: this.subredditCount }, (_, s) => ({ index: s, name: this.subredditName(s), fullname: `t5_${this.subredditId(s)}` }));
  }

  /**
   * Ids of the listed posts (created by now, not removed), newest first: what
   * paging through `new` returns. In one subreddit (name or index) when given;
   * `undefined` for an unknown subreddit name.
   */
  postIds(sub?: string | number): string[] {
    if (typeof sub === "string") {
      const s = this.subredditIndex(sub);
      return s === undefined ? [] : this.postIds(s);
    }
    const visible = this.visiblePostCount();
    const out: string[] = [];
    if (sub === undefined) {
      for (let i = visible - 1; i >= 0; i--) if (this.removalOf(i) === null && !this.isHeld(i)) out.push(this.postId(i));
    } else {
      const posts = this.postsIn(sub);
      for (let p = lowerBound(posts, visible) - 1; p >= 0; p--) {
        const i = posts[p]!;
        if (this.removalOf(i) === null && !this.isHeld(i)) out.push(this.postId(i));
      }
    }
    return out;
  }
}

/** Cuts a page out of an ordered list of post indexes, by position of the `after`/`before` post. */
export function pageOf(order: readonly number[], page: PageRequest): PostPage {
  let start: number;
  let end: number;
  if (page.after !== undefined) {
    const p = order.indexOf(page.after);
    if (p < 0) return { items: [], after: null, before: null };
    start = p + 1;
    end = Math.min(order.length, start + page.limit);
  } else if (page.before !== undefined) {
    const p = order.indexOf(page.before);
    if (p < 0) return { items: [], after: null, before: null };
    end = p;
    start = Math.max(0, end - page.limit);
  } else {
    start = 0;
    end = Math.min(order.length, page.limit);
  }
  const items = order.slice(start, end);
  if (items.length === 0) return { items, after: null, before: null };
  return { items, after: end < order.length ? items[items.length - 1]! : null, before: start > 0 ? items[0]! : null };
}

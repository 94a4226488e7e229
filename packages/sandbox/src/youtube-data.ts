import { createHash } from "node:crypto";
import { ADJECTIVES, FORMATS, TOPICS, channelId, idFor, itemTime, mix32, rng, sfc32, topicOf, videoId, visibleCount, type Topic, World, type WorldOptions } from "./world.js";

/*
 * The YouTube half of the generated world. Every video, channel and comment is
 * a pure function of (seed, index) and of the world clock: construction fills a
 * few typed arrays (about 40 bytes a video), everything else (resources, the
 * search index, the popularity order, the id -> index map) is built on demand.
 */

/** Longest duration (seconds) of a generated Short. About 30% of the videos are Shorts. */
export const SHORT_MAX_SECONDS = 60;
/** The most comment threads a video has, however many comments its statistics count. */
export const MAX_COMMENT_THREADS = 40;
/** `chart=mostPopular` lists at most this many videos, like the real chart. */
export const MOST_POPULAR_LIMIT = 200;

/** A thumbnail of a video or channel. */
export interface Thumbnail {
  url: string;
  width: number;
  height: number;
}

/** The `default`, `medium` and `high` thumbnails of a resource. */
export interface Thumbnails {
  default: Thumbnail;
  medium: Thumbnail;
  high: Thumbnail;
}

/** The snippet fields of every resource that stands for a video: the video's, as its channel published it. */
export interface VideoSnippetBase {
  publishedAt: string;
  channelId: string;
  title: string;
  description: string;
  thumbnails: Thumbnails;
  channelTitle: string;
}

/** `snippet` of a `youtube#video`. */
export interface VideoSnippet extends VideoSnippetBase {
  tags: string[];
  categoryId: string;
  liveBroadcastContent: "none" | "live" | "upcoming";
  defaultAudioLanguage: string;
  localized: { title: string; description: string };
}

/** `statistics` of a `youtube#video`: counts are strings, as in the real API. */
export interface VideoStatistics {
  /** Absent while a broadcast is upcoming. */
  viewCount?: string;
  likeCount: string;
  favoriteCount: string;
  /** Absent when comments are off. */
  commentCount?: string;
}

/** `contentDetails` of a `youtube#video`. */
export interface VideoContentDetails {
  /** ISO 8601, e.g. `PT45S`, `PT12M3S`, `PT1H2M5S`. */
  duration: string;
  dimension: "2d";
  definition: "hd";
  caption: "false";
  licensedContent: boolean;
  contentRating: Record<string, never>;
  projection: "rectangular";
}

/** `status` of a `youtube#video`. */
export interface VideoStatus {
  uploadStatus: "processed";
  privacyStatus: "public";
  license: "youtube";
  embeddable: boolean;
  publicStatsViewable: boolean;
  madeForKids: boolean;
}

/** A `youtube#video` resource; only the requested parts are present. */
export interface VideoResource {
  kind: "youtube#video";
  etag: string;
  id: string;
  snippet?: VideoSnippet;
  contentDetails?: VideoContentDetails;
  status?: VideoStatus;
  statistics?: VideoStatistics;
  player?: { embedHtml: string };
  liveStreamingDetails?: { scheduledStartTime: string; actualStartTime?: string; concurrentViewers?: string };
}

/** A `youtube#channel` resource; only the requested parts are present. */
export interface ChannelResource {
  kind: "youtube#channel";
  etag: string;
  id: string;
  snippet?: {
    title: string;
    description: string;
    customUrl: string;
    publishedAt: string;
    thumbnails: Thumbnails;
    localized: { title: string; description: string };
    country: string;
  };
  contentDetails?: { relatedPlaylists: { likes: string; uploads: string } };
  statistics?: { viewCount: string; subscriberCount: string; hiddenSubscriberCount: boolean; videoCount: string };
  status?: { privacyStatus: "public"; isLinked: boolean; longUploadsStatus: "longUploadsUnspecified"; madeForKids: boolean };
  brandingSettings?: { channel: { title: string; description: string; keywords: string; country: string } };
}

/** A `youtube#playlistItem` of an uploads playlist. */
export interface PlaylistItemResource {
  kind: "youtube#playlistItem";
  etag: string;
  id: string;
  snippet?: VideoSnippetBase & {
    playlistId: string;
    position: number;
    resourceId: { kind: "youtube#video"; videoId: string };
    videoOwnerChannelTitle: string;
    videoOwnerChannelId: string;
  };
  contentDetails?: { videoId: string; videoPublishedAt: string };
  status?: { privacyStatus: "public" };
}

/** A `youtube#searchResult` for a video. */
export interface SearchResultResource {
  kind: "youtube#searchResult";
  etag: string;
  id: { kind: "youtube#video"; videoId: string };
  snippet?: VideoSnippetBase & {
    liveBroadcastContent: "none" | "live" | "upcoming";
    publishTime: string;
  };
}

/** A `youtube#comment`: a thread's top-level comment or a reply. */
export interface CommentResource {
  kind: "youtube#comment";
  etag: string;
  id: string;
  snippet: {
    channelId: string;
    videoId: string;
    textDisplay: string;
    textOriginal: string;
    parentId?: string;
    authorDisplayName: string;
    authorProfileImageUrl: string;
    authorChannelUrl: string;
    authorChannelId: { value: string };
    canRate: boolean;
    viewerRating: "none";
    likeCount: number;
    publishedAt: string;
    updatedAt: string;
  };
}

/** A `youtube#commentThread`; `replies` only with `part=replies` and when the thread has replies. */
export interface CommentThreadResource {
  kind: "youtube#commentThread";
  etag: string;
  id: string;
  snippet?: {
    channelId: string;
    videoId: string;
    topLevelComment: CommentResource;
    canReply: boolean;
    totalReplyCount: number;
    isPublic: boolean;
  };
  replies?: { comments: CommentResource[] };
}

/** The plain facts about one video, for tests and tools (not an API shape). */
export interface VideoInfo {
  index: number;
  id: string;
  channelIndex: number;
  channelId: string;
  /** Publication time, ms since the epoch. */
  publishedAt: number;
  title: string;
  description: string;
  tags: string[];
  categoryId: string;
  topic: Topic["key"];
  durationSeconds: number;
  isShort: boolean;
  /** Deleted videos (about 1%, plus `deleteVideo`) are omitted everywhere. */
  deleted: boolean;
  /** Published by the world clock's now. */
  visible: boolean;
}

/** The plain facts about one channel (not an API shape). */
export interface ChannelInfo {
  index: number;
  id: string;
  /** `@<topic key><index>`, e.g. `@tech0`. */
  handle: string;
  /** The legacy username (`youtube.com/user/<username>`, `forUsername`): the title without spaces and the index, e.g. `LaptopLab0`. */
  username: string;
  title: string;
  description: string;
  /** `UU` + the channel id without `UC`. */
  uploadsPlaylistId: string;
  topic: Topic["key"];
  /** Creation time, ms: before the timeline. */
  publishedAt: number;
}

/** How `search` orders its results (`search.list`'s `order`, `videoCount` counts as `relevance`). */
export type SearchOrder = "date" | "rating" | "relevance" | "title" | "viewCount";

/** A `search.list` query, already validated. */
export interface SearchQuery {
  /** Lower-case words; a video matches when any of them is in its title, tags or description. Empty: every video. */
  terms: string[];
  /**
   * With {@link YouTubeDataRealism.allTermsMatch}: the query's terms as groups, each group the
   * alternatives of one term (`a|b`); a video must match one word of every group.
   */
  groups?: string[][];
  /** Lower-case words a video must not contain (`-word` in `q`). */
  excluded: string[];
  /** Only this channel's videos; `null` for an unknown channel (no results). */
  channelIndex?: number | null;
  /** Published at or after (ms). */
  publishedAfter?: number;
  /** Published at or before (ms). */
  publishedBefore?: number;
  /** short: < 4 min, medium: 4..20 min, long: > 20 min. */
  videoDuration?: "short" | "medium" | "long";
  videoCategoryId?: string;
  order: SearchOrder;
}

/**
 * How real the data behaves (see the sandbox README for each behaviour's source).
 * The sandbox's `strict` option sets these; `YouTubeData` alone starts strict.
 */
export interface YouTubeDataRealism {
  /** search.list: every term of `q` must match (`a|b` for either). Off: any single word matches. @defaultValue true */
  allTermsMatch: boolean;
  /** search.list: a video is found only some time after publishing, between 2 minutes and this (ms, seeded per video). 0: at once. @defaultValue 3 hours (10,800,000 ms) */
  indexingLagMs: number;
  /** Share of videos (0..1) that are live broadcasts: `upcoming` for 4 h after `publishedAt`, then `live` for 2 h (duration `P0D`, no `viewCount` while upcoming). @defaultValue 0.02 */
  liveShare: number;
  /** Share of videos (0..1) whose comments are off (`commentThreads` 403 `commentsDisabled`); half of them are made for kids. @defaultValue 0.05 */
  commentsDisabledShare: number;
}

/** Every realism switch on. */
export const STRICT_YOUTUBE_DATA: Readonly<YouTubeDataRealism> = Object.freeze({ allTermsMatch: true, indexingLagMs: 3 * 3_600_000, liveShare: 0.02, commentsDisabledShare: 0.05 });
/** Every realism switch off: the calm data of earlier versions. */
export const CALM_YOUTUBE_DATA: Readonly<YouTubeDataRealism> = Object.freeze({ allTermsMatch: false, indexingLagMs: 0, liveShare: 0, commentsDisabledShare: 0 });

/** A live broadcast's state: `none` for an ordinary video. */
export type LiveState = "none" | "live" | "upcoming";

const UPCOMING_MS = 4 * 3_600_000;
const LIVE_MS = 2 * 3_600_000;

interface Key {
  a: number;
  b: number;
  c: number;
  d: number;
}

function keyFor(seed: string, kind: string): Key {
  const h = createHash("sha256").update(`${seed}\u0000${kind}`).digest();
  return { a: h.readUInt32LE(0), b: h.readUInt32LE(4), c: h.readUInt32LE(8), d: h.readUInt32LE(12) };
}

/** A fast seeded generator (sfc32) for item `i` (and sub-item `j`): no hashing per item, so 100,000 videos take milliseconds. */
function fastRng(k: Key, i: number, j = 0): () => number {
  const next = sfc32(
    mix32(k.a ^ i),
    mix32(k.b ^ Math.imul(i, 0x9e3779b9) ^ mix32(j + 0x632be5ab)),
    mix32((k.c + i) ^ Math.imul(j + 1, 0x85ebca6b)),
    k.d ^ mix32(i + Math.imul(j, 0x27d4eb2f)),
  );
  for (let n = 0; n < 12; n++) next();
  return next;
}

const normal = (r: () => number): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
const at = <T>(list: readonly T[], i: number): T => list[i] as T;

/** ISO 8601 without milliseconds, like the API: `2026-01-03T10:15:00Z`. */
export const isoTime = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");

/** ISO 8601 duration as the API writes it: `PT45S`, `PT12M3S`, `PT1H2M5S`, `PT12M`. */
export function isoDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (seconds === 0) return "P0D";
  return `PT${h ? `${h}H` : ""}${m ? `${m}M` : ""}${s ? `${s}S` : ""}`;
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** Splits text into lower-case words, as search matches them. */
export const searchTokens = (text: string): string[] => text.toLowerCase().split(/[^a-z0-9]+/).filter((t) => t.length > 0);

// Templates: `{name}` is a value, `{Name}` the same value capitalised. Every value is one search token.
const TITLES = [
  "The {Adj} {W1} {Format}",
  "{W1} vs {W2}: {Adj} {Format}",
  "I tried {w1} for {n} days ({format})",
  "{n} {adj} {w1} mistakes to avoid",
  "{Adj} {w1} {format} for {w2} fans",
  "{W1} {format}: the {adj} {w2} edition",
  "Why {w1} beats {w2} | {Adj} {Format}",
  "{W1} in {n} minutes - {adj} {format}",
  "My {adj} {w1} setup ({format})",
  "{W1} + {w2} {format} #{topic}",
] as const;
const SHORT_TITLES = ["{Adj} {w1} hack #shorts", "{W1} {format} in 60 seconds #shorts", "Wait for the {w1}... #shorts", "{W1} vs {w2} #shorts"] as const;
const SENTENCES = [
  "{W1} and {w2}: the {format} edition.",
  "A {adj} take on {w3}, start to finish.",
  "Chapters are below; the {w2} gear is linked in the comments.",
  "Subscribe for more {topic} videos every week.",
  "Filmed over {n} days with far too much {w1}.",
  "Tell us your best {w3} story in the comments!",
  "Questions about {w1}? Ask below and we might answer them in the next video ({format}).",
] as const;
const COMMENTS = [
  "Great {format}! The {w1} part was {adj}.",
  "Been waiting for a {w1} video like this for ages.",
  "First time I actually understood {w1}. Thank you!",
  "{n}:{ss} is the best moment of the whole video",
  "Honestly the {adj} {w2} bit deserves its own video.",
  "Who else is watching this in {year}?",
  "I disagree about {w1}, but the {format} is still {adj}.",
  "Can you do a {w2} {format} next?",
] as const;
const MENTIONS = [
  "This pairs well with {url} - same {w1} idea.",
  "Anyone else here after {url}?",
  "Related: {url}",
  "The {w2} part reminded me of {url}",
] as const;
const REPLIES = ["Agreed!", "Same here.", "Not sure about that, the {w1} part was fine for me.", "Thanks, will try it.", "This.", "Timestamp?"] as const;
const CHANNEL_SUFFIXES = ["Lab", "Corner", "Daily", "Academy", "Studio", "Works", "Channel", "TV", "Hub", "Show", "Notes", "Club"] as const;
const COUNTRIES = ["US", "GB", "CA", "AU", "DE", "IN", "IE", "NZ"] as const;
const NAME_A = ["alex", "sam", "jo", "kim", "lee", "max", "ria", "tom", "ana", "ben", "eva", "noah", "mia", "leo", "zoe", "ivan"] as const;
const NAME_B = ["Makes", "Plays", "Cooks", "Codes", "Runs", "Builds", "Reads", "Draws", "Rides", "Fixes"] as const;

/** Tokens of a template's fixed text and the names of its values. */
function templateTokens(tpl: string): { fixed: string[]; values: string[] } {
  const values = [...tpl.matchAll(/\{(\w+)\}/g)].map((m) => (m[1] as string).toLowerCase());
  return { fixed: searchTokens(tpl.replace(/\{\w+\}/g, " ")), values };
}

function render(tpl: string, values: Record<string, string>): string {
  return tpl.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const v = values[name.toLowerCase()] ?? "";
    return name[0] === name[0]?.toUpperCase() ? cap(v) : v;
  });
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** `textDisplay` with `textFormat=html`: escaped, links as anchors, like the API. */
function commentHtml(text: string): string {
  return escapeHtml(text)
    .replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`)
    .replace(/\n/g, "<br>");
}

/** A short opaque etag of any JSON value. */
export function etagOf(value: unknown): string {
  return createHash("sha1").update(JSON.stringify(value)).digest("base64url").slice(0, 27);
}

const round3 = (n: number): number => {
  if (n < 1000) return Math.floor(n);
  const p = 10 ** (Math.floor(Math.log10(n)) - 2);
  return Math.floor(n / p) * p;
};

function thumbnails(base: string, kind: "video" | "channel"): Thumbnails {
  if (kind === "video")
    return {
      default: { url: `${base}/default.jpg`, width: 120, height: 90 },
      medium: { url: `${base}/mqdefault.jpg`, width: 320, height: 180 },
      high: { url: `${base}/hqdefault.jpg`, width: 480, height: 360 },
    };
  return {
    default: { url: `${base}=s88-c-k-c0x00ffffff-no-rj`, width: 88, height: 88 },
    medium: { url: `${base}=s240-c-k-c0x00ffffff-no-rj`, width: 240, height: 240 },
    high: { url: `${base}=s800-c-k-c0x00ffffff-no-rj`, width: 800, height: 800 },
  };
}

function lowerBound(arr: Int32Array, value: number): number {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((arr[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Stages `value` for video `i` in `overrides`; false, staging nothing, for an unknown video. */
function stage<T>(overrides: Map<number, T>, i: number | undefined, value: T): boolean {
  if (i === undefined) return false;
  overrides.set(i, value);
  return true;
}

const FLAG_DELETED = 1;
const FLAG_SHORT = 2;
const FLAG_LICENSED = 4;

interface Thread {
  t: number;
  time: number;
  likeCount: number;
}

/**
 * The YouTube data of a world: videos, channels, uploads playlists and comment
 * threads, as API resources or as plain facts. One instance per sandbox (it
 * holds the runtime deletions); the same seed always gives the same data.
 */
export class YouTubeData {
  /** The world (config and shared clock). */
  readonly world: World;
  private readonly seed: string;
  private readonly videoKey: Key;
  private readonly commentKey: Key;
  private readonly channelOf: Int32Array;
  private readonly flags: Uint8Array;
  private readonly duration: Int32Array;
  private readonly baseViews: Float64Array;
  private readonly likeRate: Float32Array;
  private readonly commentRate: Float32Array;
  /** w1, w2, w3, adj, format, n, title template, description mask (bit k: sentence k). */
  private readonly words: Uint8Array;
  private readonly tagMask: Uint16Array;
  private readonly channelVideos: Int32Array[];
  private readonly channels: ChannelInfo[];
  private readonly handles = new Map<string, number>();
  private readonly channelIds = new Map<string, number>();
  private readonly uploadsIds = new Map<string, number>();
  private readonly ids: Array<string | undefined>;
  private idIndex: Map<string, number> | undefined;
  private searchIndex: Map<string, Int32Array> | undefined;
  private readonly cache = new Map<string, Int32Array>();
  private readonly step: number;
  private readonly usernames = new Map<string, number>();
  private readonly liveOverrides = new Map<number, LiveState>();
  private readonly commentOverrides = new Map<number, boolean>();
  /** The realism switches (live: the sandbox changes them at run time). */
  realism: YouTubeDataRealism = { ...STRICT_YOUTUBE_DATA };

  /** Generates the per-video arrays (a few ms per 10,000 videos). */
  constructor(world: World | WorldOptions = {}) {
    this.world = World.of(world);
    const cfg = this.world.config;
    this.seed = cfg.seed;
    this.step = cfg.spanMs / cfg.videos;
    this.videoKey = keyFor(cfg.seed, "youtube-video");
    this.commentKey = keyFor(cfg.seed, "youtube-comment");
    const n = cfg.videos;
    this.channelOf = new Int32Array(n);
    this.flags = new Uint8Array(n);
    this.duration = new Int32Array(n);
    this.baseViews = new Float64Array(n);
    this.likeRate = new Float32Array(n);
    this.commentRate = new Float32Array(n);
    this.words = new Uint8Array(n * 8);
    this.tagMask = new Uint16Array(n);
    this.ids = new Array<string | undefined>(n);

    // Channel sizes are skewed (a few big channels, a long tail); which channel is big depends on the seed.
    const permRng = rng(cfg.seed, "youtube-channel-order");
    const perm = Array.from({ length: cfg.channels }, (_, c) => c);
    for (let k = perm.length - 1; k > 0; k--) {
      const j = Math.floor(permRng() * (k + 1));
      [perm[k], perm[j]] = [perm[j] as number, perm[k] as number];
    }
    const boost = new Float64Array(cfg.channels);
    this.channels = [];
    for (let c = 0; c < cfg.channels; c++) {
      const info = this.makeChannel(c);
      this.channels.push(info);
      this.handles.set(info.handle.slice(1).toLowerCase(), c);
      this.usernames.set(info.username.toLowerCase(), c);
      this.channelIds.set(info.id, c);
      this.uploadsIds.set(info.uploadsPlaylistId, c);
      boost[c] = rng(cfg.seed, "youtube-channel-boost", c)() * 2.5;
    }

    const counts = new Int32Array(cfg.channels);
    for (let i = 0; i < n; i++) {
      const r = fastRng(this.videoKey, i);
      const c = perm[Math.min(cfg.channels - 1, Math.floor(cfg.channels * r() ** 1.7))] as number;
      this.channelOf[i] = c;
      let flags = 0;
      if (r() < 0.01) flags |= FLAG_DELETED;
      const short = r() < 0.3;
      if (short) flags |= FLAG_SHORT;
      if (r() < 0.6) flags |= FLAG_LICENSED;
      this.flags[i] = flags;
      const u = r();
      let seconds: number;
      if (short) seconds = 10 + Math.floor(u * (SHORT_MAX_SECONDS - 9));
      else if (u < 0.15) seconds = 61 + Math.floor(r() * 179);
      else if (u < 0.7) seconds = 240 + Math.floor(r() * 961);
      else if (u < 0.92) seconds = 1201 + Math.floor(r() * 2400);
      else seconds = 3601 + Math.floor(r() * 7200);
      this.duration[i] = seconds;
      const views = Math.exp(Math.log(2500) + (boost[c] as number) + 1.3 * normal(r)) * (short ? 2 : 1);
      this.baseViews[i] = Math.min(2e8, Math.max(12, views));
      this.likeRate[i] = 0.015 + r() * 0.045;
      this.commentRate[i] = 0.0008 + r() * 0.0052;
      const w1 = Math.floor(r() * 10);
      const w2 = (w1 + 1 + Math.floor(r() * 9)) % 10;
      let w3 = Math.floor(r() * 10);
      while (w3 === w1 || w3 === w2) w3 = (w3 + 1) % 10;
      const o = i * 8;
      this.words[o] = w1;
      this.words[o + 1] = w2;
      this.words[o + 2] = w3;
      this.words[o + 3] = Math.floor(r() * ADJECTIVES.length);
      this.words[o + 4] = Math.floor(r() * FORMATS.length);
      this.words[o + 5] = 2 + Math.floor(r() * 29);
      this.words[o + 6] = Math.floor(r() * (short ? SHORT_TITLES.length : TITLES.length));
      let desc = 1;
      const sentences = 1 + Math.floor(r() * 3);
      while (bitCount(desc) < sentences + 1) desc |= 1 << (1 + Math.floor(r() * (SENTENCES.length - 1)));
      this.words[o + 7] = desc;
      let tags = (1 << w1) | (1 << w2);
      const tagCount = 3 + Math.floor(r() * 6);
      while (bitCount(tags) < tagCount) tags |= 1 << Math.floor(r() * 10);
      this.tagMask[i] = tags;
      if (!(flags & FLAG_DELETED)) counts[c] = (counts[c] as number) + 1;
    }
    this.channelVideos = Array.from(counts, (k) => new Int32Array(k));
    const fill = new Int32Array(cfg.channels);
    for (let i = 0; i < n; i++) {
      if ((this.flags[i] as number) & FLAG_DELETED) continue;
      const c = this.channelOf[i] as number;
      (this.channelVideos[c] as Int32Array)[fill[c] as number] = i;
      fill[c] = (fill[c] as number) + 1;
    }
  }

  private makeChannel(c: number): ChannelInfo {
    const cfg = this.world.config;
    const topic = topicOf(c);
    const r = rng(cfg.seed, "youtube-channel", c);
    const word = at(topic.words, Math.floor(r() * topic.words.length));
    const title = `${cap(word)} ${at(CHANNEL_SUFFIXES, Math.floor(r() * CHANNEL_SUFFIXES.length))}`;
    const others = [...topic.words].sort(() => r() - 0.5).slice(0, 3);
    const id = channelId(cfg, c);
    return {
      index: c,
      id,
      handle: `@${topic.key}${c}`,
      username: `${title.replace(/\s+/g, "")}${c}`,
      title,
      description: `${title}: new ${topic.key} videos every week about ${others.join(", ")} and more.`,
      uploadsPlaylistId: `UU${id.slice(2)}`,
      topic: topic.key,
      publishedAt: cfg.start - Math.floor((30 + r() * 3000) * 86_400_000) - Math.floor(r() * 86_400_000),
    };
  }

  // ---- counts, ids and lookups ----

  /** Videos in the whole timeline, visible or not, deleted or not. */
  get videoCount(): number {
    return this.world.config.videos;
  }

  /** Channels in the world. */
  get channelCount(): number {
    return this.channels.length;
  }

  /**
   * Adds a channel with no uploads at run time (a new or emptied channel: its
   * uploads playlist does not exist for the API). Returns its facts.
   */
  addEmptyChannel(options: { handle?: string; username?: string } = {}): ChannelInfo {
    const c = this.channels.length;
    const base = this.makeChannel(c);
    const info: ChannelInfo = {
      ...base,
      handle: options.handle ? `@${options.handle.replace(/^@/, "")}` : base.handle,
      username: options.username ?? base.username,
    };
    if (this.handles.has(info.handle.slice(1).toLowerCase())) throw new RangeError(`handle ${info.handle} is taken`);
    this.channels.push(info);
    this.channelVideos.push(new Int32Array(0));
    this.handles.set(info.handle.slice(1).toLowerCase(), c);
    this.usernames.set(info.username.toLowerCase(), c);
    this.channelIds.set(info.id, c);
    this.uploadsIds.set(info.uploadsPlaylistId, c);
    return info;
  }

  /** The channel index of a legacy username (any case), or `undefined`. */
  channelByUsername(username: string): number | undefined {
    return this.usernames.get(username.toLowerCase());
  }

  /** A seeded number in [0, 1) for video `i` and a purpose. */
  private unit(i: number, salt: number): number {
    return mix32(mix32(i ^ this.videoKey.b) ^ salt) / 4_294_967_296;
  }

  /** Video `i`'s live state at `t`: staged by `setLive`, else by {@link YouTubeDataRealism.liveShare}. */
  liveState(i: number, t: number = this.world.clock.now()): LiveState {
    const staged = this.liveOverrides.get(i);
    if (staged !== undefined) return staged;
    if (!(this.unit(i, 0x11ce) < this.realism.liveShare)) return "none";
    const age = t - this.publishedAt(i);
    return age < UPCOMING_MS ? "upcoming" : age < UPCOMING_MS + LIVE_MS ? "live" : "none";
  }

  /** Stages a video's live state (`none` makes it an ordinary video again). False when unknown. */
  setLive(id: string, state: LiveState): boolean {
    return stage(this.liveOverrides, this.videoIndex(id), state);
  }

  /** Whether video `i`'s comments are off: staged by `setCommentsDisabled`, else by {@link YouTubeDataRealism.commentsDisabledShare}. */
  commentsDisabled(i: number): boolean {
    return this.commentOverrides.get(i) ?? this.unit(i, 0xc0de) < this.realism.commentsDisabledShare;
  }

  /** Whether video `i` is made for kids (half of the videos with comments off: their comments are always off). */
  madeForKids(i: number): boolean {
    return this.commentsDisabled(i) && this.unit(i, 0x41d5) < 0.5;
  }

  /** Turns a video's comments off or on. False when unknown. */
  setCommentsDisabled(id: string, disabled: boolean): boolean {
    return stage(this.commentOverrides, this.videoIndex(id), disabled);
  }

  /** When video `i` becomes findable by search (ms): its publication plus a seeded indexing lag. */
  indexedAt(i: number): number {
    const lag = this.realism.indexingLagMs;
    if (!(lag > 0)) return this.publishedAt(i);
    const min = Math.min(120_000, lag);
    return this.publishedAt(i) + min + Math.floor(this.unit(i, 0x1a6) * (lag - min));
  }

  /** Clears staged live states and comment switches. */
  clearStaged(): void {
    this.liveOverrides.clear();
    this.commentOverrides.clear();
  }

  /** Videos published by time `t` (default: the world clock's now), deleted ones included. */
  visibleAt(t: number = this.world.clock.now()): number {
    const cfg = this.world.config;
    return visibleCount(cfg, "video", cfg.videos, t);
  }

  /** Video `i`'s id (cached). */
  videoId(i: number): string {
    let id = this.ids[i];
    if (id === undefined) {
      id = videoId(this.world.config, i);
      this.ids[i] = id;
    }
    return id;
  }

  /** The index of a video id, or `undefined` (the id map is built on first use). */
  videoIndex(id: string): number | undefined {
    if (!this.idIndex) {
      const map = new Map<string, number>();
      for (let i = 0; i < this.videoCount; i++) map.set(this.videoId(i), i);
      this.idIndex = map;
    }
    return this.idIndex.get(id);
  }

  /** Whether video `i` exists for the API now: published by the clock and not deleted. */
  isAvailable(i: number, t: number = this.world.clock.now()): boolean {
    return i >= 0 && i < this.videoCount && !this.isDeleted(i) && this.publishedAt(i) <= t;
  }

  /** Whether video `i` is deleted (seeded, about 1%, or by `deleteVideo`). */
  isDeleted(i: number): boolean {
    return ((this.flags[i] as number) & FLAG_DELETED) !== 0;
  }

  /** Ids of the available videos (published, not deleted), oldest first. */
  videoIds(t: number = this.world.clock.now()): string[] {
    const v = this.visibleAt(t);
    const out: string[] = [];
    for (let i = 0; i < v; i++) if (!this.isDeleted(i)) out.push(this.videoId(i));
    return out;
  }

  /** Ids of the deleted videos published by `t` (ones `videos.list` silently omits). */
  deletedVideoIds(t: number = this.world.clock.now()): string[] {
    const v = this.visibleAt(t);
    const out: string[] = [];
    for (let i = 0; i < v; i++) if (this.isDeleted(i)) out.push(this.videoId(i));
    return out;
  }

  /** Deletes a video at runtime: it disappears from every answer. False when unknown or already deleted. */
  deleteVideo(id: string): boolean {
    const i = this.videoIndex(id);
    if (i === undefined || this.isDeleted(i)) return false;
    this.flags[i] = (this.flags[i] as number) | FLAG_DELETED;
    const c = this.channelOf[i] as number;
    const list = this.channelVideos[c] as Int32Array;
    const at = lowerBound(list, i);
    const next = new Int32Array(list.length - 1);
    next.set(list.subarray(0, at));
    next.set(list.subarray(at + 1), at);
    this.channelVideos[c] = next;
    this.cache.clear();
    return true;
  }

  /** Channel `c`'s facts. */
  channel(c: number): ChannelInfo {
    const info = this.channels[c];
    if (!info) throw new RangeError(`no channel ${c} (the world has ${this.channelCount})`);
    return info;
  }

  /** The channel index of a channel id, or `undefined`. */
  channelIndex(id: string): number | undefined {
    return this.channelIds.get(id);
  }

  /** The channel index of a handle (`@tech0` or `tech0`, any case), or `undefined`. */
  channelByHandle(handle: string): number | undefined {
    return this.handles.get(handle.replace(/^@/, "").toLowerCase());
  }

  /** The channel index of an uploads playlist id (`UU...`), or `undefined`. */
  channelByUploads(playlistId: string): number | undefined {
    return this.uploadsIds.get(playlistId);
  }

  /** The channel index of video `i`. */
  channelOfVideo(i: number): number {
    return this.channelOf[i] as number;
  }

  /** Indexes of channel `c`'s available videos at `t`, newest first (its uploads playlist). */
  uploadIndexes(c: number, t: number = this.world.clock.now()): number[] {
    const list = this.channelVideos[c];
    if (!list) throw new RangeError(`no channel ${c} (the world has ${this.channelCount})`);
    const end = lowerBound(list, this.visibleAt(t));
    const out: number[] = [];
    for (let k = end - 1; k >= 0; k--) out.push(list[k] as number);
    return out;
  }

  /** Ids of channel `c`'s available videos at `t`, newest first: what its uploads playlist lists. */
  uploads(c: number, t: number = this.world.clock.now()): string[] {
    return this.uploadIndexes(c, t).map((i) => this.videoId(i));
  }

  /** How many videos channel `c` has at `t` (its uploads playlist's length). */
  uploadCount(c: number, t: number = this.world.clock.now()): number {
    const list = this.channelVideos[c];
    if (!list) throw new RangeError(`no channel ${c} (the world has ${this.channelCount})`);
    return lowerBound(list, this.visibleAt(t));
  }

  /** One page of channel `c`'s uploads at `t`: video indexes newest first, from `offset`. */
  uploadPage(c: number, t: number, offset: number, size: number): { total: number; indexes: number[] } {
    const list = this.channelVideos[c] as Int32Array;
    const total = lowerBound(list, this.visibleAt(t));
    const indexes: number[] = [];
    for (let k = offset; k < Math.min(total, offset + size); k++) indexes.push(list[total - 1 - k] as number);
    return { total, indexes };
  }

  // ---- per-video values ----

  /** When video `i` is published (ms). */
  publishedAt(i: number): number {
    return this.world.videoTime(i);
  }

  /** Video `i`'s duration in seconds. */
  durationSeconds(i: number): number {
    return this.duration[i] as number;
  }

  /** View count of video `i` at `t`: grows quickly after publication, then slowly. */
  viewCount(i: number, t: number = this.world.clock.now()): number {
    const age = t - (this.world.config.start + i * this.step);
    if (age < 0) return 0;
    const hours = age / 3_600_000;
    return Math.floor((this.baseViews[i] as number) * (1 - Math.exp(-(hours + 1) / 36)) * (1 + hours / 2400));
  }

  /** Like count of video `i` at `t`. */
  likeCount(i: number, t: number = this.world.clock.now()): number {
    return Math.floor(this.viewCount(i, t) * (this.likeRate[i] as number));
  }

  /** Comment count of video `i` at `t` (its statistics; the threads listed are at most 40). */
  commentCount(i: number, t: number = this.world.clock.now()): number {
    return Math.floor(this.viewCount(i, t) * (this.commentRate[i] as number));
  }

  private values(i: number): Record<string, string> {
    const o = i * 8;
    const topic = topicOf(this.channelOf[i] as number);
    const w = this.words;
    return {
      w1: at(topic.words, w[o] as number),
      w2: at(topic.words, w[o + 1] as number),
      w3: at(topic.words, w[o + 2] as number),
      adj: at(ADJECTIVES, w[o + 3] as number),
      format: at(FORMATS, w[o + 4] as number),
      n: String(w[o + 5] as number),
      topic: topic.key,
    };
  }

  private titleTemplate(i: number): string {
    const k = this.words[i * 8 + 6] as number;
    return (this.flags[i] as number) & FLAG_SHORT ? at(SHORT_TITLES, k) : at(TITLES, k);
  }

  private sentenceTemplates(i: number): string[] {
    const mask = this.words[i * 8 + 7] as number;
    return SENTENCES.filter((_s, k) => (mask & (1 << k)) !== 0);
  }

  /** Video `i`'s title. */
  title(i: number): string {
    return render(this.titleTemplate(i), this.values(i));
  }

  /** Video `i`'s description: 2 to 4 sentences. */
  description(i: number): string {
    const values = this.values(i);
    return this.sentenceTemplates(i)
      .map((s) => render(s, values))
      .join(" ");
  }

  /** Video `i`'s tags: 3 to 8 words of its topic. */
  tags(i: number): string[] {
    const topic = topicOf(this.channelOf[i] as number);
    const mask = this.tagMask[i] as number;
    return topic.words.filter((_w, k) => (mask & (1 << k)) !== 0);
  }

  /** The plain facts about video `i`. */
  video(i: number): VideoInfo {
    if (!(i >= 0 && i < this.videoCount)) throw new RangeError(`no video ${i} (the world has ${this.videoCount})`);
    const c = this.channelOf[i] as number;
    const topic = topicOf(c);
    return {
      index: i,
      id: this.videoId(i),
      channelIndex: c,
      channelId: this.channel(c).id,
      publishedAt: this.publishedAt(i),
      title: this.title(i),
      description: this.description(i),
      tags: this.tags(i),
      categoryId: topic.youtubeCategoryId,
      topic: topic.key,
      durationSeconds: this.durationSeconds(i),
      isShort: ((this.flags[i] as number) & FLAG_SHORT) !== 0,
      deleted: this.isDeleted(i),
      visible: this.publishedAt(i) <= this.world.clock.now(),
    };
  }

  // ---- API resources ----

  private videoThumbnails(i: number): Thumbnails {
    return thumbnails(`https://i.ytimg.com/vi/${this.videoId(i)}`, "video");
  }

  /** Video `i` as a `youtube#video` with the given parts (snippet, contentDetails, status, statistics, player; id is always there). */
  videoResource(i: number, parts: ReadonlySet<string>, t: number = this.world.clock.now()): VideoResource {
    const id = this.videoId(i);
    const c = this.channelOf[i] as number;
    const ch = this.channel(c);
    const out: Omit<VideoResource, "etag"> = { kind: "youtube#video", id };
    const live = this.liveState(i, t);
    if (parts.has("snippet")) {
      const title = this.title(i);
      const description = this.description(i);
      out.snippet = {
        publishedAt: isoTime(this.publishedAt(i)),
        channelId: ch.id,
        title,
        description,
        thumbnails: this.videoThumbnails(i),
        channelTitle: ch.title,
        tags: this.tags(i),
        categoryId: topicOf(c).youtubeCategoryId,
        liveBroadcastContent: live,
        defaultAudioLanguage: "en",
        localized: { title, description },
      };
    }
    if (parts.has("contentDetails")) {
      out.contentDetails = {
        // A broadcast has no length until it ends.
        duration: live === "none" ? isoDuration(this.durationSeconds(i)) : "P0D",
        dimension: "2d",
        definition: "hd",
        caption: "false",
        licensedContent: ((this.flags[i] as number) & FLAG_LICENSED) !== 0,
        contentRating: {},
        projection: "rectangular",
      };
    }
    if (parts.has("status")) {
      out.status = { uploadStatus: "processed", privacyStatus: "public", license: "youtube", embeddable: true, publicStatsViewable: true, madeForKids: this.madeForKids(i) };
    }
    if (parts.has("statistics")) {
      // An upcoming broadcast has no views yet: the API leaves viewCount out.
      out.statistics =
        live === "upcoming"
          ? { likeCount: "0", favoriteCount: "0" }
          : {
              viewCount: String(this.viewCount(i, t)),
              likeCount: String(this.likeCount(i, t)),
              favoriteCount: "0",
              ...(this.commentsDisabled(i) ? {} : { commentCount: String(this.commentCount(i, t)) }),
            };
    }
    if (parts.has("liveStreamingDetails") && live !== "none") {
      const start = this.publishedAt(i) + UPCOMING_MS;
      out.liveStreamingDetails = { scheduledStartTime: isoTime(start), ...(live === "live" ? { actualStartTime: isoTime(start), concurrentViewers: String(Math.floor((this.baseViews[i] as number) / 50)) } : {}) };
    }
    if (parts.has("player")) {
      out.player = {
        embedHtml: `<iframe width="480" height="270" src="//www.youtube.com/embed/${id}" frameborder="0" allow="accelerometer; autoplay; clipboard-write; encrypted-media; gyroscope; picture-in-picture; web-share" referrerpolicy="strict-origin-when-cross-origin" allowfullscreen></iframe>`,
      };
    }
    return withEtag(out);
  }

  /** Sum of the views of channel `c`'s available videos at `t`. */
  channelViews(c: number, t: number = this.world.clock.now()): number {
    const list = this.channelVideos[c] as Int32Array;
    const end = lowerBound(list, this.visibleAt(t));
    let sum = 0;
    for (let k = 0; k < end; k++) sum += this.viewCount(list[k] as number, t);
    return sum;
  }

  /** Channel `c` as a `youtube#channel` with the given parts (snippet, contentDetails, statistics, status, brandingSettings). */
  channelResource(c: number, parts: ReadonlySet<string>, t: number = this.world.clock.now()): ChannelResource {
    const ch = this.channel(c);
    const r = rng(this.seed, "youtube-channel-extra", c);
    const country = at(COUNTRIES, Math.floor(r() * COUNTRIES.length));
    const subRate = 0.002 + r() * 0.018;
    const out: Omit<ChannelResource, "etag"> = { kind: "youtube#channel", id: ch.id };
    if (parts.has("snippet")) {
      out.snippet = {
        title: ch.title,
        description: ch.description,
        customUrl: ch.handle.toLowerCase(),
        publishedAt: isoTime(ch.publishedAt),
        thumbnails: thumbnails(`https://yt3.ggpht.com/${idFor(this.seed, "youtube-channel-avatar", c, 32)}`, "channel"),
        localized: { title: ch.title, description: ch.description },
        country,
      };
    }
    if (parts.has("contentDetails")) out.contentDetails = { relatedPlaylists: { likes: "", uploads: ch.uploadsPlaylistId } };
    if (parts.has("statistics")) {
      const views = this.channelViews(c, t);
      out.statistics = {
        viewCount: String(views),
        subscriberCount: String(round3(views * subRate + 40)),
        hiddenSubscriberCount: false,
        videoCount: String(this.uploadCount(c, t)),
      };
    }
    if (parts.has("status")) out.status = { privacyStatus: "public", isLinked: true, longUploadsStatus: "longUploadsUnspecified", madeForKids: false };
    if (parts.has("brandingSettings")) {
      const topic = topicOf(c);
      out.brandingSettings = { channel: { title: ch.title, description: ch.description, keywords: [topic.key, ...topic.words.slice(0, 4)].join(" "), country } };
    }
    return withEtag(out);
  }

  /** Video `i` as item `position` of its channel's uploads playlist. */
  playlistItemResource(i: number, position: number, parts: ReadonlySet<string>): PlaylistItemResource {
    const id = this.videoId(i);
    const ch = this.channel(this.channelOf[i] as number);
    const published = isoTime(this.publishedAt(i));
    const out: Omit<PlaylistItemResource, "etag"> = {
      kind: "youtube#playlistItem",
      id: Buffer.from(`${ch.uploadsPlaylistId}.${id}`).toString("base64"),
    };
    if (parts.has("snippet")) {
      out.snippet = {
        publishedAt: published,
        channelId: ch.id,
        title: this.title(i),
        description: this.description(i),
        thumbnails: this.videoThumbnails(i),
        channelTitle: ch.title,
        playlistId: ch.uploadsPlaylistId,
        position,
        resourceId: { kind: "youtube#video", videoId: id },
        videoOwnerChannelTitle: ch.title,
        videoOwnerChannelId: ch.id,
      };
    }
    if (parts.has("contentDetails")) out.contentDetails = { videoId: id, videoPublishedAt: published };
    if (parts.has("status")) out.status = { privacyStatus: "public" };
    return withEtag(out);
  }

  /** Video `i` as a `youtube#searchResult` (the snippet's description is shortened, like the real one). */
  searchResultResource(i: number, parts: ReadonlySet<string>): SearchResultResource {
    const ch = this.channel(this.channelOf[i] as number);
    const out: Omit<SearchResultResource, "etag"> = { kind: "youtube#searchResult", id: { kind: "youtube#video", videoId: this.videoId(i) } };
    if (parts.has("snippet")) {
      const published = isoTime(this.publishedAt(i));
      const description = this.description(i);
      out.snippet = {
        publishedAt: published,
        channelId: ch.id,
        title: this.title(i),
        description: description.length > 160 ? `${description.slice(0, 157).trimEnd()}...` : description,
        thumbnails: this.videoThumbnails(i),
        channelTitle: ch.title,
        liveBroadcastContent: this.liveState(i),
        publishTime: published,
      };
    }
    return withEtag(out);
  }

  // ---- comments ----

  /** Video `i`'s comment threads at `t`, oldest first: min(commentCount, 40), each published after the video. */
  private threads(i: number, t: number): Thread[] {
    const published = this.publishedAt(i);
    const max = Math.min(MAX_COMMENT_THREADS, this.commentCount(i, t));
    const out: Thread[] = [];
    for (let k = 0; k < max; k++) {
      const r = fastRng(this.commentKey, i, k);
      const time = published + Math.floor((k + r()) ** 2 * 120_000) + 30_000;
      if (time > t) break;
      const likeCount = Math.floor(Math.exp(1.5 + 1.4 * normal(r)) * (1 + (MAX_COMMENT_THREADS - k) / 8));
      out.push({ t: k, time, likeCount });
    }
    return out;
  }

  /** How many comment threads video `i` lists at `t`. */
  commentThreadCount(i: number, t: number = this.world.clock.now()): number {
    return this.threads(i, t).length;
  }

  /** Thread numbers of video `i` at `t` in API order: `time` newest first, `relevance` by likes. */
  commentThreadOrder(i: number, order: "time" | "relevance", t: number = this.world.clock.now()): number[] {
    const threads = this.threads(i, t);
    if (order === "time") return threads.map((th) => th.t).reverse();
    return [...threads].sort((a, b) => b.likeCount - a.likeCount || b.time - a.time).map((th) => th.t);
  }

  private commenter(k: number): { name: string; channelId: string; image: string } {
    const name = `@${at(NAME_A, k % NAME_A.length)}${at(NAME_B, Math.floor(k / NAME_A.length) % NAME_B.length)}${k}`;
    return {
      name,
      channelId: `UC${idFor(this.seed, "youtube-commenter", k, 22)}`,
      image: `https://yt3.ggpht.com/ytc/${idFor(this.seed, "youtube-commenter-avatar", k, 32)}=s48-c-k-c0x00ffffff-no-rj`,
    };
  }

  /** A video other than `i`, published before it and not deleted, for comments to link to; `undefined` for the first videos. */
  private mentioned(i: number, r: () => number): number | undefined {
    if (i === 0) return undefined;
    let j = Math.floor(r() * i);
    for (let tries = 0; tries < 20 && j >= 0; tries++, j--) if (!this.isDeleted(j)) return j;
    return undefined;
  }

  private comment(
    i: number,
    id: string,
    time: number,
    likeCount: number,
    text: string,
    author: number,
    textFormat: "html" | "plainText",
    parentId?: string,
  ): CommentResource {
    const who = this.commenter(author);
    const out: Omit<CommentResource, "etag"> = {
      kind: "youtube#comment",
      id,
      snippet: {
        channelId: this.channel(this.channelOf[i] as number).id,
        videoId: this.videoId(i),
        textDisplay: textFormat === "html" ? commentHtml(text) : text,
        textOriginal: text,
        ...(parentId ? { parentId } : {}),
        authorDisplayName: who.name,
        authorProfileImageUrl: who.image,
        authorChannelUrl: `http://www.youtube.com/${who.name}`,
        authorChannelId: { value: who.channelId },
        canRate: true,
        viewerRating: "none",
        likeCount,
        publishedAt: isoTime(time),
        updatedAt: isoTime(time),
      },
    };
    return withEtag(out);
  }

  /** Thread `k` of video `i` as a `youtube#commentThread` (`replies` only when asked for and present). */
  commentThreadResource(i: number, k: number, options: { replies: boolean; textFormat: "html" | "plainText"; t?: number }): CommentThreadResource {
    const t = options.t ?? this.world.clock.now();
    const thread = this.threads(i, t)[k];
    if (!thread) throw new RangeError(`video ${i} has no comment thread ${k} at ${isoTime(t)}`);
    const r = fastRng(this.commentKey, i, 1000 + k);
    const values = this.values(i);
    const ss = String(Math.floor(r() * 60)).padStart(2, "0");
    const mention = r() < 0.15 ? this.mentioned(i, r) : undefined;
    let text: string;
    if (mention !== undefined) {
      const id = this.videoId(mention);
      const url = r() < 0.5 ? `https://www.youtube.com/watch?v=${id}` : `https://youtu.be/${id}`;
      text = render(at(MENTIONS, Math.floor(r() * MENTIONS.length)), { ...values, url });
    } else {
      const minute = Math.min(Math.floor((this.durationSeconds(i) - 1) / 60), Math.floor(r() * 12));
      text = render(at(COMMENTS, Math.floor(r() * COMMENTS.length)), { ...values, n: String(Math.max(0, minute)), ss, year: String(new Date(t).getUTCFullYear()) });
    }
    const author = Math.floor(r() * 5000);
    const threadId = `Ug${idFor(this.seed, `youtube-thread-${i}`, k, 20)}4AaABAg`;
    const top = this.comment(i, threadId, thread.time, thread.likeCount, text, author, options.textFormat);
    const replyTotal = r() < 0.6 ? 0 : 1 + Math.floor(r() * 8);
    const replies: CommentResource[] = [];
    for (let n = 0; n < replyTotal; n++) {
      const time = thread.time + (n + 1) * 17 * 60_000 + Math.floor(r() * 600_000);
      if (time > t) break;
      const replyText = render(at(REPLIES, Math.floor(r() * REPLIES.length)), values);
      replies.push(this.comment(i, `${threadId}.${idFor(this.seed, `youtube-reply-${i}-${k}`, n, 22)}`, time, Math.floor(r() * 5), replyText, Math.floor(r() * 5000), options.textFormat, threadId));
    }
    const out: Omit<CommentThreadResource, "etag"> = {
      kind: "youtube#commentThread",
      id: threadId,
      snippet: { channelId: top.snippet.channelId, videoId: top.snippet.videoId, topLevelComment: top, canReply: true, totalReplyCount: replies.length, isPublic: true },
    };
    // The API returns at most 5 replies with a thread; the rest need comments.list.
    if (options.replies && replies.length > 0) out.replies = { comments: replies.slice(0, 5) };
    return withEtag(out);
  }

  // ---- search and charts ----

  private buildSearchIndex(): Map<string, Int32Array> {
    const titleTokens = TITLES.map(templateTokens);
    const shortTokens = SHORT_TITLES.map(templateTokens);
    const sentenceTokens = SENTENCES.map(templateTokens);
    const lists = new Map<string, number[]>();
    const seen = new Map<string, number>();
    const add = (token: string, i: number): void => {
      if (seen.get(token) === i) return;
      seen.set(token, i);
      let list = lists.get(token);
      if (!list) lists.set(token, (list = []));
      list.push(i);
    };
    for (let i = 0; i < this.videoCount; i++) {
      const values = this.values(i);
      const k = this.words[i * 8 + 6] as number;
      const parts = [at((this.flags[i] as number) & FLAG_SHORT ? shortTokens : titleTokens, k)];
      const mask = this.words[i * 8 + 7] as number;
      sentenceTokens.forEach((s, n) => {
        if (mask & (1 << n)) parts.push(s);
      });
      for (const part of parts) {
        for (const token of part.fixed) add(token, i);
        for (const name of part.values) add(values[name] as string, i);
      }
      for (const tag of this.tags(i)) add(tag, i);
    }
    const index = new Map<string, Int32Array>();
    for (const [token, list] of lists) index.set(token, Int32Array.from(list));
    return index;
  }

  /** Videos containing a search token (lower case), any time, deleted included: ascending indexes. */
  postings(token: string): Int32Array {
    this.searchIndex ??= this.buildSearchIndex();
    return this.searchIndex.get(token) ?? new Int32Array(0);
  }

  /** First video index published at or after `ms`. */
  private firstAtOrAfter(ms: number): number {
    let lo = 0;
    let hi = this.videoCount;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (itemTime(this.world.config, "video", mid, this.videoCount) < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private remember(key: string, make: () => Int32Array): Int32Array {
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const value = make();
    this.cache.set(key, value);
    if (this.cache.size > 32) this.cache.delete(this.cache.keys().next().value as string);
    return value;
  }

  /**
   * The videos matching a search at time `t`, in the query's order (indexes).
   * Results are cached per (query, t), so paging through them is cheap.
   */
  search(query: SearchQuery, t: number = this.world.clock.now()): Int32Array {
    const r = this.realism;
    return this.remember(`search ${JSON.stringify(query)} ${t} ${r.allTermsMatch} ${r.indexingLagMs}`, () => this.runSearch(query, t));
  }

  private runSearch(q: SearchQuery, t: number): Int32Array {
    if (q.channelIndex === null) return new Int32Array(0);
    let lo = q.publishedAfter === undefined ? 0 : this.firstAtOrAfter(q.publishedAfter);
    let hi = this.visibleAt(t);
    if (q.publishedBefore !== undefined) hi = Math.min(hi, this.firstAtOrAfter(q.publishedBefore + 1));
    lo = Math.max(0, lo);
    if (lo >= hi) return new Int32Array(0);
    const terms = [...new Set(q.terms)];
    const matches = new Map<number, number>();
    let candidates: Iterable<number>;
    if (terms.length > 0) {
      for (const term of terms) {
        const list = this.postings(term);
        for (let k = lowerBound(list, lo); k < list.length; k++) {
          const i = list[k] as number;
          if (i >= hi) break;
          matches.set(i, (matches.get(i) ?? 0) + 1);
        }
      }
      candidates = matches.keys();
    } else if (q.channelIndex !== undefined) {
      const list = this.channelVideos[q.channelIndex] as Int32Array;
      candidates = list.subarray(lowerBound(list, lo), lowerBound(list, hi));
    } else {
      candidates = (function* () {
        for (let i = lo; i < hi; i++) yield i;
      })();
    }
    const excluded = [...new Set(q.excluded)].map((e) => this.postings(e));
    const has = (list: Int32Array, i: number): boolean => list[lowerBound(list, i)] === i;
    const groups = this.realism.allTermsMatch && q.groups && q.groups.length > 0 ? q.groups.map((g) => g.map((w) => this.postings(w))) : undefined;
    const lag = this.realism.indexingLagMs > 0;
    const out: number[] = [];
    for (const i of candidates) {
      if (this.isDeleted(i)) continue;
      if (groups && !groups.every((g) => g.some((list) => has(list, i)))) continue;
      if (lag && this.indexedAt(i) > t) continue;
      if (q.channelIndex !== undefined && this.channelOf[i] !== q.channelIndex) continue;
      if (q.videoCategoryId !== undefined && topicOf(this.channelOf[i] as number).youtubeCategoryId !== q.videoCategoryId) continue;
      if (q.videoDuration !== undefined) {
        const d = this.duration[i] as number;
        const kind = d < 240 ? "short" : d <= 1200 ? "medium" : "long";
        if (kind !== q.videoDuration) continue;
      }
      if (excluded.some((list) => list[lowerBound(list, i)] === i)) continue;
      out.push(i);
    }
    return Int32Array.from(this.sortVideos(out, q.order, t, matches));
  }

  private sortVideos(list: number[], order: SearchOrder, t: number, matches: Map<number, number>): number[] {
    if (order === "date") return list.sort((a, b) => b - a);
    if (order === "title") {
      const titles = new Map(list.map((i) => [i, this.title(i).toLowerCase()]));
      return list.sort((a, b) => {
        const x = titles.get(a) as string;
        const y = titles.get(b) as string;
        return x < y ? -1 : x > y ? 1 : a - b;
      });
    }
    const score = new Map<number, number>();
    for (const i of list) score.set(i, order === "rating" ? this.likeCount(i, t) : this.viewCount(i, t));
    if (order === "relevance" && matches.size > 0) {
      return list.sort((a, b) => (matches.get(b) ?? 0) - (matches.get(a) ?? 0) || (score.get(b) as number) - (score.get(a) as number) || b - a);
    }
    return list.sort((a, b) => (score.get(b) as number) - (score.get(a) as number) || b - a);
  }

  /** Whether video `i` charts in `regionCode` (about 70% of the videos chart in any one region). */
  chartsIn(i: number, regionCode: string): boolean {
    let h = 0x811c9dc5;
    for (const ch of regionCode.toUpperCase()) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
    return mix32(h ^ mix32(i ^ this.videoKey.a)) / 4_294_967_296 < 0.7;
  }

  /**
   * `chart=mostPopular` at `t`: the available videos that chart in the region
   * (and category), by view count, at most 200. Cached per (region, category, t).
   */
  mostPopular(regionCode: string, videoCategoryId: string | undefined, t: number = this.world.clock.now()): Int32Array {
    const region = regionCode.toUpperCase();
    return this.remember(`popular ${region} ${videoCategoryId ?? ""} ${t}`, () => {
      const v = this.visibleAt(t);
      const views: number[] = [];
      const list: number[] = [];
      for (let i = 0; i < v; i++) {
        if (this.isDeleted(i) || !this.chartsIn(i, region)) continue;
        if (videoCategoryId !== undefined && topicOf(this.channelOf[i] as number).youtubeCategoryId !== videoCategoryId) continue;
        list.push(i);
        views.push(this.viewCount(i, t));
      }
      const order = list.map((_i, k) => k).sort((a, b) => (views[b] as number) - (views[a] as number) || (list[b] as number) - (list[a] as number));
      return Int32Array.from(order.slice(0, MOST_POPULAR_LIMIT), (k) => list[k] as number);
    });
  }
}

function bitCount(n: number): number {
  let c = 0;
  for (let x = n; x; x &= x - 1) c++;
  return c;
}

function withEtag<T extends { kind: string }>(resource: T): T & { etag: string } {
  const { kind, ...rest } = resource;
  return { kind, etag: etagOf(resource), ...rest } as T & { etag: string };
}

/** The real YouTube category ids the world's topics use. */
export const WORLD_CATEGORY_IDS: readonly string[] = [...new Set(TOPICS.map((t) => t.youtubeCategoryId))];

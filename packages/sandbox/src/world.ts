import { createHash } from "node:crypto";

/**
 * The generated world both sandboxes serve: one seed, one timeline, one clock,
 * so that Reddit posts link to videos that exist in the YouTube sandbox.
 * Everything is a pure function of (seed, kind, index): nothing is stored per
 * item, so a world of 100,000 videos costs only its indexes.
 */
export interface WorldOptions {
  /** Same seed, same data. @defaultValue `prismq` */
  seed?: string;
  /** YouTube channels, a count (1 to 10,000,000). @defaultValue 24 */
  channels?: number;
  /** Videos over the whole timeline, a count (1 to 10,000,000). @defaultValue 2,400 */
  videos?: number;
  /** Subreddits, a count (1 to 10,000,000). @defaultValue 12 */
  subreddits?: number;
  /** Reddit posts over the whole timeline, a count (1 to 10,000,000). @defaultValue 3,000 */
  posts?: number;
  /** Start of the timeline, ms since the epoch. @defaultValue 2026-01-01T00:00:00Z */
  start?: number;
  /** Length of the timeline, ms. @defaultValue 30 days (2,592,000,000 ms) */
  spanMs?: number;
  /** The world's clock at creation, as a fraction of the timeline (0..1). A fifth of the items then appear as time advances. @defaultValue 0.8 */
  visibleFraction?: number;
}

export type ResolvedWorld = Required<WorldOptions>;

export function resolveWorld(options: WorldOptions = {}): ResolvedWorld {
  const w: ResolvedWorld = {
    seed: options.seed ?? "prismq",
    channels: options.channels ?? 24,
    videos: options.videos ?? 2_400,
    subreddits: options.subreddits ?? 12,
    posts: options.posts ?? 3_000,
    start: options.start ?? Date.UTC(2026, 0, 1),
    spanMs: options.spanMs ?? 30 * 86_400_000,
    visibleFraction: options.visibleFraction ?? 0.8,
  };
  for (const k of ["channels", "videos", "subreddits", "posts"] as const) {
    if (!Number.isInteger(w[k]) || w[k] < 1 || w[k] > 10_000_000) throw new RangeError(`world.${k} must be a whole number in 1..10,000,000, got ${w[k]}`);
  }
  if (!(w.spanMs > 0)) throw new RangeError(`world.spanMs must be > 0, got ${w.spanMs}`);
  if (!(w.visibleFraction > 0 && w.visibleFraction <= 1)) throw new RangeError(`world.visibleFraction must be in (0, 1], got ${w.visibleFraction}`);
  return w;
}

/** A seeded generator of numbers in [0, 1) (sfc32), keyed by any path of strings and numbers. */
export function rng(seed: string, ...keys: Array<string | number>): () => number {
  const h = createHash("sha256").update([seed, ...keys].join("\u0000")).digest();
  return sfc32(h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12));
}

/** The sfc32 generator of numbers in [0, 1) from four 32-bit words of state (taken modulo 2^32). */
export function sfc32(a: number, b: number, c: number, d: number): () => number {
  a |= 0;
  b |= 0;
  c |= 0;
  d |= 0;
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4_294_967_296;
  };
}

/** A 32-bit integer hash (unsigned result), to key generators by item index without hashing strings. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

export const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)] as T;
export const int = (r: () => number, min: number, max: number): number => min + Math.floor(r() * (max - min + 1));

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** A URL-safe id of `length` characters, the same for the same key. */
export function idFor(seed: string, kind: string, i: number, length: number): string {
  if (!Number.isInteger(length) || length < 1 || length > 32) throw new RangeError(`id length must be 1..32, got ${length}`);
  const bytes = createHash("sha256").update(`${seed}\u0000${kind}\u0000${i}`).digest();
  let out = "";
  for (let k = 0; k < length; k++) out += ID_ALPHABET[(bytes[k] as number) & 63];
  return out;
}

/** Video `i`'s 11-character id. */
export const videoId = (w: ResolvedWorld, i: number): string => idFor(w.seed, "video", i, 11);
/** Channel `c`'s id: `UC` and 22 characters. */
export const channelId = (w: ResolvedWorld, c: number): string => `UC${idFor(w.seed, "channel", c, 22)}`;

/**
 * When item `i` of `count` appears: evenly spread over the timeline with a
 * little jitter, always increasing with `i`, so "newest first" is "highest
 * index first".
 */
export function itemTime(w: ResolvedWorld, kind: string, i: number, count: number): number {
  const step = w.spanMs / count;
  return Math.floor(w.start + i * step + rng(w.seed, kind, "t", i)() * step * 0.9);
}

/** The number of items of `count` that have appeared by `now` (binary search over `itemTime`). */
export function visibleCount(w: ResolvedWorld, kind: string, count: number, now: number): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (itemTime(w, kind, mid, count) <= now) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The world's clock. `advance` moves it forward so new uploads and posts appear. */
export class WorldClock {
  private offset = 0;
  readonly base: number;
  constructor(w: ResolvedWorld) {
    this.base = w.start + Math.floor(w.spanMs * w.visibleFraction);
  }
  now(): number {
    return this.base + this.offset;
  }
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`advance needs ms >= 0, got ${ms}`);
    this.offset += ms;
    return this.now();
  }
}

/** One topic of {@link TOPICS}: `words` are its ten title words, space-separated. */
function topic<K extends string>(key: K, youtubeCategoryId: string, subreddit: string, words: string) {
  return { key, youtubeCategoryId, subreddit, words: words.split(" ") as readonly string[] } as const;
}

/**
 * Topics shared by both platforms, so a video's title words find Reddit posts
 * and the other way round. `youtubeCategoryId` is the real YouTube video
 * category of the topic. Two topics a line keep the table short.
 */
export const TOPICS = [
  topic("tech", "28", "technology", "laptop smartphone linux keyboard server battery chip camera router display"), topic("gaming", "20", "gaming", "speedrun boss indie console strategy multiplayer quest arcade controller puzzle"),
  topic("cooking", "26", "Cooking", "sourdough ramen curry pasta knife roast dumplings spice soup pancakes"), topic("music", "10", "WeAreTheMusicMakers", "guitar synth drums melody chord mixing vinyl piano bass vocals"),
  topic("science", "28", "science", "telescope fusion genome volcano quantum fossil climate neuron comet enzyme"), topic("education", "27", "learnprogramming", "algebra history typescript grammar calculus python physics statistics biology economics"),
  topic("fitness", "17", "Fitness", "deadlift marathon mobility protein squat cardio stretching kettlebell cycling yoga"), topic("travel", "19", "travel", "backpacking train island hostel mountains desert ferry roadtrip museum market"),
  topic("finance", "22", "personalfinance", "budget index savings mortgage taxes retirement inflation dividend credit rent"), topic("comedy", "23", "funny", "sketch standup prank parody bloopers roast improv satire meme sitcom"),
  topic("diy", "26", "DIY", "woodworking plywood drill garden shelf paint solder workbench tiles lamp"), topic("space", "28", "space", "rocket orbit mars satellite moon launch astronaut nebula eclipse station"),
] as const;

export type Topic = (typeof TOPICS)[number];

/** The topic of channel `c` or subreddit `s`: the same list, so channel 0 and subreddit 0 share one. */
export const topicOf = (n: number): Topic => TOPICS[n % TOPICS.length] as Topic;

export const ADJECTIVES = ["ultimate", "honest", "quick", "complete", "surprising", "beginner", "advanced", "weird", "budget", "perfect", "real", "tiny", "huge", "hidden", "classic"];
export const FORMATS = ["guide", "review", "challenge", "explained", "tutorial", "story", "tips", "mistakes", "comparison", "experiment"];

/** A world: its resolved options and its clock. Pass the same one to both sandboxes so they share time. */
export class World {
  readonly config: ResolvedWorld;
  readonly clock: WorldClock;
  constructor(options: WorldOptions = {}) {
    this.config = resolveWorld(options);
    this.clock = new WorldClock(this.config);
  }
  /** Videos published by now. */
  visibleVideos(): number {
    return visibleCount(this.config, "video", this.config.videos, this.clock.now());
  }
  /** Posts created by now. */
  visiblePosts(): number {
    return visibleCount(this.config, "post", this.config.posts, this.clock.now());
  }
  /** When video `i` is published (ms). */
  videoTime(i: number): number {
    return itemTime(this.config, "video", i, this.config.videos);
  }
  /** When post `i` is created (ms). */
  postTime(i: number): number {
    return itemTime(this.config, "post", i, this.config.posts);
  }
  /** Accepts a World or its options. */
  static of(world: World | WorldOptions | undefined): World {
    return world instanceof World ? world : new World(world);
  }
}

import { buildCatalog, type AnyTaskTypeDef } from "./build-catalog.js";
import { defineTaskType, type Platform, type TaskRole } from "./define.js";
import { MAX_HOPS, type HopParams } from "./hops.js";
import type { ParamSchema } from "./schema.js";

const HOPS: ParamSchema = { type: "integer", minimum: 0, maximum: MAX_HOPS };
const NAME = "PrismQ.IdeaInspiration";
const ISO_UTC = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,3})?Z$";
const SUBREDDIT = "^[A-Za-z0-9_]{2,21}$";
const REDDIT_TIME_FILTERS = ["hour", "day", "week", "month", "year", "all"] as const;

/** Reddit's time window for `top` and search results. */
export type RedditTimeFilter = (typeof REDDIT_TIME_FILTERS)[number];

// ---- YouTube -------------------------------------------------------------

/** One YouTube video to process. */
export interface YouTubeVideoParams extends HopParams {
  /** The 11-character video id, e.g. `dQw4w9WgXcQ`. */
  video_id: string;
}

/** A YouTube channel's uploads to discover. */
export interface YouTubeChannelParams extends HopParams {
  /** A channel id (`UC` + 22 characters) or a handle (`@name`, 3-30 characters). */
  channel_id: string;
  /** Newest uploads to take, 1-500. */
  max_videos?: number;
}

/** A YouTube search to run. */
export interface YouTubeSearchParams extends HopParams {
  /** 1-200 characters. */
  query: string;
  /** Results to take, 1-500. */
  max_results?: number;
  /** Only videos published after this instant: ISO 8601 UTC, e.g. `2024-05-01T00:00:00Z`. */
  published_after?: string;
}

/** YouTube's most popular chart of a region. */
export interface YouTubeMostPopularParams extends HopParams {
  /** ISO 3166-1 alpha-2, upper case, e.g. `US`. */
  region_code: string;
  /** A video category id as digits, e.g. `10`. */
  category_id?: string;
  /** Results to take, 1-200. */
  max_results?: number;
}

// ---- Reddit --------------------------------------------------------------

/** Listing order of a subreddit. */
export type RedditSort = "hot" | "new" | "top" | "rising";

/** Result order of a Reddit search. */
export type RedditSearchSort = "relevance" | "hot" | "top" | "new" | "comments";

/** One Reddit post to process. */
export interface RedditPostParams extends HopParams {
  /** The base36 post id without the `t3_` prefix, e.g. `1abc2d`. */
  post_id: string;
}

/** A subreddit listing to discover. */
export interface RedditSubredditParams extends HopParams {
  /** The name without `r/`, 2-21 characters of `[A-Za-z0-9_]`. */
  subreddit: string;
  sort: RedditSort;
  /** The window of `top`. */
  time_filter?: RedditTimeFilter;
  /** Posts to take, 1-1000. */
  limit?: number;
}

/** A Reddit search to run, site-wide or in one subreddit. */
export interface RedditSearchParams extends HopParams {
  /** 1-512 characters. */
  query: string;
  /** Restricts the search to this subreddit (name without `r/`). */
  subreddit?: string;
  sort?: RedditSearchSort;
  time_filter?: RedditTimeFilter;
  /** Posts to take, 1-1000. */
  limit?: number;
}

/**
 * Defines one built-in task type: every built-in type has version `1.0.0`, is
 * claimed by `<platform>-processor` (items) or `<platform>-discovery`, and
 * takes an object of the given properties plus `hops`, nothing else.
 */
function builtIn<P extends object>(
  platform: Platform,
  label: string,
  what: string,
  role: TaskRole,
  required: readonly string[],
  properties: Readonly<Record<string, ParamSchema>>,
) {
  return defineTaskType<P>({
    name: `${NAME}.${label}.${what}`,
    version: "1.0.0",
    platform,
    role,
    claimedBy: `${platform}-${role === "item" ? "processor" : "discovery"}`,
    schema: { type: "object", required, properties: { ...properties, hops: HOPS }, additionalProperties: false },
  });
}

const YouTubeVideo = builtIn<YouTubeVideoParams>("youtube", "YouTube", "Video", "item", ["video_id"], {
  video_id: { type: "string", pattern: "^[A-Za-z0-9_-]{11}$" },
});

const YouTubeChannel = builtIn<YouTubeChannelParams>("youtube", "YouTube", "Channel", "discovery", ["channel_id"], {
  channel_id: { type: "string", pattern: "^(UC[A-Za-z0-9_-]{22}|@[A-Za-z0-9._-]{3,30})$" },
  max_videos: { type: "integer", minimum: 1, maximum: 500 },
});

const YouTubeSearch = builtIn<YouTubeSearchParams>("youtube", "YouTube", "Search", "discovery", ["query"], {
  query: { type: "string", minLength: 1, maxLength: 200 },
  max_results: { type: "integer", minimum: 1, maximum: 500 },
  published_after: { type: "string", pattern: ISO_UTC },
});

const YouTubeMostPopular = builtIn<YouTubeMostPopularParams>("youtube", "YouTube", "MostPopular", "discovery", ["region_code"], {
  region_code: { type: "string", pattern: "^[A-Z]{2}$" },
  category_id: { type: "string", pattern: "^[0-9]{1,4}$" },
  max_results: { type: "integer", minimum: 1, maximum: 200 },
});

const RedditPost = builtIn<RedditPostParams>("reddit", "Reddit", "Post", "item", ["post_id"], {
  post_id: { type: "string", pattern: "^[a-z0-9]{1,12}$" },
});

const RedditSubreddit = builtIn<RedditSubredditParams>("reddit", "Reddit", "Subreddit", "discovery", ["subreddit", "sort"], {
  subreddit: { type: "string", pattern: SUBREDDIT },
  sort: { type: "string", enum: ["hot", "new", "top", "rising"] },
  time_filter: { type: "string", enum: REDDIT_TIME_FILTERS },
  limit: { type: "integer", minimum: 1, maximum: 1000 },
});

const RedditSearch = builtIn<RedditSearchParams>("reddit", "Reddit", "Search", "discovery", ["query"], {
  query: { type: "string", minLength: 1, maxLength: 512 },
  subreddit: { type: "string", pattern: SUBREDDIT },
  sort: { type: "string", enum: ["relevance", "hot", "top", "new", "comments"] },
  time_filter: { type: "string", enum: REDDIT_TIME_FILTERS },
  limit: { type: "integer", minimum: 1, maximum: 1000 },
});

/** The YouTube task types. */
export const YouTube = Object.freeze({
  Video: YouTubeVideo,
  Channel: YouTubeChannel,
  Search: YouTubeSearch,
  MostPopular: YouTubeMostPopular,
});

/** The Reddit task types. */
export const Reddit = Object.freeze({
  Post: RedditPost,
  Subreddit: RedditSubreddit,
  Search: RedditSearch,
});

const BUILT_IN = buildCatalog([...Object.values(YouTube), ...Object.values(Reddit)]);

/**
 * The task types of the built-in platforms (YouTube, Reddit): what `registerAll`
 * registers by default. A platform of its own package builds its catalog with
 * {@link buildCatalog} from its descriptors instead.
 */
export const CATALOG: readonly AnyTaskTypeDef[] = BUILT_IN.types;

/** The catalog type of that name, or `undefined` (e.g. to check the type of a claimed task). */
export const typeByName: (name: string) => AnyTaskTypeDef | undefined = BUILT_IN.byName;

/** The catalog types of one platform and role, in catalog order. */
export const typesFor: (platform: Platform, role: TaskRole) => readonly AnyTaskTypeDef[] = BUILT_IN.typesFor;

/** The discovery types of each built-in platform (what a discovery app claims). */
export const DISCOVERY_TYPES: Readonly<Record<Platform, readonly AnyTaskTypeDef[]>> = BUILT_IN.discoveryTypes;

/** The item types of each built-in platform (what a processor app claims). */
export const ITEM_TYPES: Readonly<Record<Platform, readonly AnyTaskTypeDef[]>> = BUILT_IN.itemTypes;

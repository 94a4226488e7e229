import { z } from "zod";
import { YouTube, type YouTubeChannelParams, type YouTubeMostPopularParams, type YouTubeSearchParams } from "@prismq/task-types";
import { parseSourceList, readDocument, sourceSlug, sourceWhen, type ScheduleSpec } from "@prismq/worker-kit";
import { parseChannelRef } from "@prismq/youtube-source";

/**
 * A channel as users paste it: a `youtube.com/@x`, `/channel/UC…`, `/c/x` or
 * `/user/x` URL becomes the task's `@x` or `UC…` (a `/c/` or `/user/` name is
 * then tried as a handle and as a legacy username). Anything else is kept as
 * written, for the task's schema to judge.
 */
export function channelParam(text: string): string {
  if (!/youtube\.com\//i.test(text)) return text;
  const ref = parseChannelRef(text);
  if (!ref) return text;
  return ref.kind === "id" ? ref.value : `@${ref.value}`;
}

/** One configured source: what to discover and when. */
export type Source = { id: string; schedule: ScheduleSpec; /** Priority of the tasks the source creates (none: the server's 0). */ priority?: number } & (
  | { kind: "channel"; params: YouTubeChannelParams }
  | { kind: "search"; params: YouTubeSearchParams }
  | { kind: "most_popular"; params: YouTubeMostPopularParams }
);

const WHAT = "YouTube sources";
const entry = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("channel"), channel: z.string(), max_videos: z.number().int().optional(), ...sourceWhen }),
  z.strictObject({ kind: z.literal("search"), query: z.string(), max_results: z.number().int().optional(), published_after: z.string().optional(), ...sourceWhen }),
  z.strictObject({ kind: z.literal("most_popular"), region: z.string(), category: z.string().optional(), max_results: z.number().int().optional(), ...sourceWhen }),
]);

/**
 * Parses a sources document (already read from JSON or YAML). Every entry is
 * checked (shape, then the task type's own schema, then its schedule), and one
 * `SourcesError` names every bad entry: a bad file starts nothing.
 */
export function parseSources(doc: unknown): Source[] {
  return parseSourceList(WHAT, doc, entry, (e) =>
    e.kind === "channel"
      ? { kind: e.kind, id: e.id ?? `channel:${sourceSlug(e.channel)}`, params: YouTube.Channel.params({ channel_id: channelParam(e.channel), max_videos: e.max_videos }) }
      : e.kind === "search"
        ? { kind: e.kind, id: e.id ?? `search:${sourceSlug(e.query)}`, params: YouTube.Search.params({ query: e.query, max_results: e.max_results, published_after: e.published_after }) }
        : {
            kind: e.kind,
            id: e.id ?? `most_popular:${e.region}:${e.category ?? "all"}`,
            params: YouTube.MostPopular.params({ region_code: e.region, category_id: e.category, max_results: e.max_results }),
          },
  ) as Source[];
}

/** Reads and parses a sources file: `.yaml`/`.yml` as YAML, anything else as JSON. */
export async function loadSources(path: string): Promise<Source[]> {
  return parseSources(await readDocument(path, WHAT));
}

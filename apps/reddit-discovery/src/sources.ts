import { z } from "zod";
import { Reddit, type RedditSearchParams, type RedditSubredditParams } from "@prismq/task-types";
import { parseSourceList, readDocument, sourceSlug, sourceWhen, type ScheduleSpec } from "@prismq/worker-kit";

/** One configured source: what to discover and when. */
export type Source = { id: string; schedule: ScheduleSpec; /** Priority of the tasks the source creates (none: the server's 0). */ priority?: number } & (
  | { kind: "subreddit"; params: RedditSubredditParams }
  | { kind: "search"; params: RedditSearchParams }
);

const WHAT = "Reddit sources";
const entry = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("subreddit"), subreddit: z.string(), sort: z.string().default("new"), time_filter: z.string().optional(), limit: z.number().int().optional(), ...sourceWhen }),
  z.strictObject({ kind: z.literal("search"), query: z.string(), subreddit: z.string().optional(), sort: z.string().optional(), time_filter: z.string().optional(), limit: z.number().int().optional(), ...sourceWhen }),
]);

/** Parses a sources document; the task types' schemas check the values, and one `SourcesError` names every bad entry. */
export function parseSources(doc: unknown): Source[] {
  return parseSourceList(WHAT, doc, entry, (e) =>
    e.kind === "subreddit"
      ? {
          kind: e.kind,
          id: e.id ?? `r:${sourceSlug(e.subreddit)}:${e.sort}`,
          params: Reddit.Subreddit.params({ subreddit: e.subreddit, sort: e.sort as RedditSubredditParams["sort"], time_filter: e.time_filter as RedditSubredditParams["time_filter"], limit: e.limit }),
        }
      : {
          kind: e.kind,
          id: e.id ?? `search:${sourceSlug(e.query)}${e.subreddit ? `:${sourceSlug(e.subreddit)}` : ""}`,
          params: Reddit.Search.params({
            query: e.query,
            subreddit: e.subreddit,
            sort: e.sort as RedditSearchParams["sort"],
            time_filter: e.time_filter as RedditSearchParams["time_filter"],
            limit: e.limit,
          }),
        },
  ) as Source[];
}

/** Reads and parses a sources file (YAML or JSON). */
export async function loadSources(path: string): Promise<Source[]> {
  return parseSources(await readDocument(path, WHAT));
}

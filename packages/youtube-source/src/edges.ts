import { Reddit, defineEdge } from "@prismq/task-types";

/** Terms in a cross-module Reddit query (Reddit matches every term). */
export const REDDIT_QUERY_TERMS = 2;

/**
 * The Reddit query for an idea: its strongest single-word keywords, tags first; `null` when none fits.
 * @param terms - the most keywords in the query, a count
 * @defaultValue terms: {@link REDDIT_QUERY_TERMS} (2)
 */
export function redditQuery(keywords: readonly string[], terms: number = REDDIT_QUERY_TERMS): string | null {
  const words = keywords.filter((k) => /^[\p{L}\p{N}][\p{L}\p{N}-]*$/u.test(k) && k.length >= 3).slice(0, terms);
  return words.length ? words.join(" ") : null;
}

/** Each YouTube video spawns one Reddit search for its strongest terms, one hop further. */
export const toRedditSearch = defineEdge({
  from: "youtube",
  to: Reddit.Search,
  targets(source) {
    const query = redditQuery(source.keywords);
    return query ? [{ query, sort: "relevance" as const, time_filter: "month" as const, limit: 25 }] : [];
  },
});

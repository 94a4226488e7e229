/**
 * The fixture platform "gazette", a newspaper, as a plug-in: its task types,
 * variables, budget, API client, item -> idea mapping and its edge to YouTube,
 * written only with the public plug-in API. No shared file names it.
 */
import { MAX_HOPS, YouTube, defineEdge, defineTaskType, extractYouTubeIds, type HopParams } from "@prismq/task-types";
import { definePlatform, env } from "@prismq/worker-kit";
import type { IdeaInput } from "@prismq/idea-store";
import { NewspaperApi, type Article } from "./upstream.js";

const HOPS = { type: "integer", minimum: 0, maximum: MAX_HOPS } as const;

/** One article to process. */
export interface ArticleParams extends HopParams {
  article_id: string;
}

/** A section whose articles to discover. */
export interface SectionParams extends HopParams {
  section: string;
}

export const Gazette = Object.freeze({
  Article: defineTaskType<ArticleParams>({
    name: "PrismQ.IdeaInspiration.Gazette.Article",
    version: "1.0.0",
    platform: "gazette",
    role: "item",
    claimedBy: "gazette-processor",
    schema: { type: "object", required: ["article_id"], properties: { article_id: { type: "string", pattern: "^a[0-9]{1,6}$" }, hops: HOPS }, additionalProperties: false },
  }),
  Section: defineTaskType<SectionParams>({
    name: "PrismQ.IdeaInspiration.Gazette.Section",
    version: "1.0.0",
    platform: "gazette",
    role: "discovery",
    claimedBy: "gazette-discovery",
    schema: { type: "object", required: ["section"], properties: { section: { type: "string", pattern: "^[a-z]{1,20}$" }, hops: HOPS }, additionalProperties: false },
  }),
});

/** The platform's variables. */
export const gazetteEnv = {
  GAZETTE_API_URL: env.httpUrl().describe("The newspaper API's base URL."),
  GAZETTE_API_KEY: env.checked(() => undefined).describe("The newspaper API key."),
  GAZETTE_REQUESTS_PER_MINUTE: env.int(600, 1, 10_000).describe("Requests per minute to the newspaper API."),
};

/** The platform's variables, parsed. */
export interface GazetteConfig {
  GAZETTE_API_URL: string;
  GAZETTE_API_KEY: string;
  GAZETTE_REQUESTS_PER_MINUTE: number;
}

/** Each YouTube video an article links becomes a Video task, one hop further. */
const toYouTubeVideos = defineEdge({
  from: "gazette",
  to: YouTube.Video,
  targets: (source) => source.texts.flatMap((text) => extractYouTubeIds(text)).map((video_id) => ({ video_id })),
});

export const platform = definePlatform({
  name: "gazette",
  taskTypes: Object.values(Gazette),
  config: gazetteEnv,
  budget: (c: GazetteConfig) => ({ name: "gazette-requests", limit: c.GAZETTE_REQUESTS_PER_MINUTE, window: { kind: "fixed", ms: 60_000 } }),
  createApi: async (c: GazetteConfig, ports) => new NewspaperApi({ url: c.GAZETTE_API_URL, key: c.GAZETTE_API_KEY, budget: ports.budget }),
  toIdea: (article: Article, related: readonly string[], _now: number): IdeaInput => ({
    title: article.title,
    content: [article.body, ...related].join("\n\n"),
    sourceType: "text",
    sourceId: article.id,
    sourcePlatform: "gazette",
    sourceUrl: `https://gazette.example/articles/${article.id}`,
    sourceCreatedBy: article.author,
    sourceCreatedAt: article.published,
    keywords: article.title.toLowerCase().split(/\W+/).filter((w) => w.length > 3),
  }),
  edges: [toYouTubeVideos],
});

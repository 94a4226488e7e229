import type { ClaimedTask } from "@prismq/taskmanager-client";
import { ideaInputSchema, type IdeaInput, type IdeaStore } from "@prismq/idea-store";
import { Reddit, nextHop, type YouTubeVideoParams } from "@prismq/task-types";
import type { BatchOutcome, Logger, Outbox } from "@prismq/worker-kit";
import { QuotaExhaustedError, videoToIdea, type CommentThread, type Video, type YouTubeApi } from "@prismq/youtube-source";

export type VideoTask = ClaimedTask<YouTubeVideoParams>;

export interface ProcessorDeps {
  api: YouTubeApi;
  ideas: IdeaStore;
  outbox: Outbox;
  logger: Logger;
  /** Top comments fetched per video (1 quota unit each). 0 turns comments off. Default 0. */
  commentsPerVideo?: number;
  /** Create Reddit Search tasks for each video's strongest terms. Default true. */
  crossModule?: boolean;
  /** Terms in a cross-module Reddit query (Reddit matches every term). Default 2. */
  queryTerms?: number;
  now?: () => number;
}

/** The Reddit query for an idea: its strongest single-word keywords, tags first. */
export function redditQuery(keywords: readonly string[], terms: number): string | null {
  const words = keywords.filter((k) => /^[\p{L}\p{N}][\p{L}\p{N}-]*$/u.test(k) && k.length >= 3).slice(0, terms);
  return words.length ? words.join(" ") : null;
}

/**
 * Handles a batch of Video tasks with one `videos.list` call (1 unit for up to
 * 50 videos): a video the API no longer has fails its task for good; the others
 * become ideas, upserted in one transaction, and each may spawn a Reddit Search
 * task for its strongest terms (one hop further, deduplicated).
 */
export class YouTubeProcessor {
  constructor(private readonly deps: ProcessorDeps) {}

  async handle(batch: VideoTask[], signal?: AbortSignal): Promise<Array<BatchOutcome<VideoTask>>> {
    const { api, ideas, outbox, logger } = this.deps;
    const now = (this.deps.now ?? Date.now)();
    const ids = [...new Set(batch.map((t) => t.params.video_id))];
    const videos = new Map<string, Video>();
    for (const v of await api.videos(ids, signal)) if (v.id) videos.set(v.id, v);

    const comments = new Map<string, CommentThread[]>();
    const perVideo = this.deps.commentsPerVideo ?? 0;
    if (perVideo > 0) {
      for (const id of videos.keys()) {
        try {
          comments.set(id, await api.topComments(id, perVideo, signal));
        } catch (err) {
          // Comments enrich an idea but are not needed for it: without quota or access, go on without them.
          if (err instanceof QuotaExhaustedError) break;
          logger.warn({ err, videoId: id }, "comments unavailable");
        }
      }
    }

    // Each idea is checked on its own first: one video the store refuses fails only its task, not the batch.
    const outcomes: Array<BatchOutcome<VideoTask>> = [];
    const found: VideoTask[] = [];
    const inputs: IdeaInput[] = [];
    for (const task of batch) {
      const video = videos.get(task.params.video_id);
      if (!video) {
        outcomes.push({ task, ok: false, retryable: false, error: `YouTube video ${task.params.video_id} not found: deleted, private or never existed` });
        continue;
      }
      const idea = videoToIdea(video, comments.get(task.params.video_id) ?? [], now);
      const check = ideaInputSchema.safeParse(idea);
      if (!check.success) {
        const why = check.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
        outcomes.push({ task, ok: false, retryable: false, error: `YouTube video ${task.params.video_id} gives an idea the store refuses: ${why}` });
        continue;
      }
      found.push(task);
      inputs.push(idea);
    }
    const stored = inputs.length ? await ideas.upsertMany(inputs) : [];

    for (const [i, task] of found.entries()) {
      const idea = inputs[i];
      const row = stored[i];
      if (!idea || !row) continue;
      let redditQueryText: string | null = null;
      if (this.deps.crossModule !== false) {
        const hops = nextHop(task.params, "cross-platform");
        redditQueryText = hops === null ? null : redditQuery(idea.keywords ?? [], this.deps.queryTerms ?? 2);
        if (hops !== null && redditQueryText) {
          await outbox.create(Reddit.Search.name, Reddit.Search.params({ query: redditQueryText, sort: "relevance", time_filter: "month", limit: 25, hops }));
        }
      }
      outcomes.push({
        task,
        ok: true,
        result: { idea_id: row.id, created: row.created, score: idea.score ?? null, category: idea.category ?? null, reddit_search: redditQueryText },
      });
    }
    return outcomes;
  }
}

import type { ClaimedTask } from "@prismq/taskmanager-client";
import type { IdeaStore } from "@prismq/idea-store";
import type { AnyCrossModuleEdge, YouTubeVideoParams } from "@prismq/task-types";
import { storeItems, type BatchOutcome, type Logger, type Outbox, type PipelineItem } from "@prismq/worker-kit";
import { QuotaExhaustedError, YouTubeError, platform, videoProblem, videoToIdea, type CommentThread, type Video, type YouTubeApi } from "@prismq/youtube-source";

export type VideoTask = ClaimedTask<YouTubeVideoParams>;

export interface ProcessorDeps {
  api: YouTubeApi;
  ideas: IdeaStore;
  outbox: Outbox;
  logger: Logger;
  /** Top comments fetched per video (1 quota unit each). 0 turns comments off. Default 0. */
  commentsPerVideo?: number;
  /** Create the cross-module tasks of `edges` (Reddit Search tasks for each video's strongest terms). Default true. */
  crossModule?: boolean;
  /** The cross-module edges leaving YouTube. Default: the YouTube platform's. */
  edges?: readonly AnyCrossModuleEdge[];
  now?: () => number;
}

/**
 * Handles a batch of Video tasks with one `videos.list` call (1 unit for up to
 * 50 videos): a video the API no longer has fails its task for good; the others
 * become ideas, upserted in one transaction, and each may spawn a Reddit Search
 * task for its strongest terms (one hop further, deduplicated). Every item is
 * isolated: a malformed item, a failed comments call or an idea the store
 * refuses fails only its own task, named, retryable when upstream may answer
 * better later. A refused API key stops the processor (see `keyRefused`).
 */
export class YouTubeProcessor {
  private refused: YouTubeError | undefined;
  constructor(private readonly deps: ProcessorDeps) {}

  /** The key error that stopped processing, if any: claim nothing while it is set (the key will not work until it is fixed). */
  get keyRefused(): YouTubeError | undefined {
    return this.refused;
  }

  private refuse(err: YouTubeError, batch: VideoTask[]): Array<BatchOutcome<VideoTask>> {
    if (!this.refused) {
      this.refused = err;
      this.deps.logger.error(
        { reason: err.reason, status: err.status },
        `YouTube refused the API key (${err.reason ?? "unknown"}): processing stopped; fix YOUTUBE_API_KEY (or enable the YouTube Data API for its project) and restart`,
      );
    }
    // Handed back: the videos are fine, the key is not.
    return batch.map((task) => ({ task, ok: false, retryable: true, error: `YouTube refused the API key (${err.reason ?? "unknown"})` }));
  }

  async handle(batch: VideoTask[], signal?: AbortSignal): Promise<Array<BatchOutcome<VideoTask>>> {
    const { api, ideas, outbox, logger } = this.deps;
    if (this.refused) return this.refuse(this.refused, batch);
    const now = (this.deps.now ?? Date.now)();
    const ids = [...new Set(batch.map((t) => t.params.video_id))];
    const videos = new Map<string, unknown>();
    let listed: Video[];
    try {
      listed = await api.videos(ids, signal);
    } catch (err) {
      if (err instanceof YouTubeError && err.keyRejected) return this.refuse(err, batch);
      throw err;
    }
    // Keyed by the ids asked for: an item whose id is not a string cannot be matched and is reported by the check below.
    for (const v of listed) {
      const id = (v as { id?: unknown }).id;
      if (typeof id === "string" && id) videos.set(id, v);
    }
    const problems = new Map<string, string>();
    for (const [id, v] of videos) {
      const problem = videoProblem(v);
      if (problem) problems.set(id, problem);
    }

    const comments = new Map<string, CommentThread[]>();
    const commentErrors = new Map<string, YouTubeError>();
    const perVideo = this.deps.commentsPerVideo ?? 0;
    if (perVideo > 0) {
      for (const id of videos.keys()) {
        if (problems.has(id)) continue;
        try {
          comments.set(id, await api.topComments(id, perVideo, signal));
        } catch (err) {
          // Comments enrich an idea but are not needed for it: without quota or access, go on without them.
          if (err instanceof QuotaExhaustedError) break;
          if (err instanceof YouTubeError && err.keyRejected) return this.refuse(err, batch);
          // Rate limited after the retries: only this video waits for another try, with its comments.
          if (err instanceof YouTubeError && err.retryable) commentErrors.set(id, err);
          else logger.warn({ err, videoId: id }, "comments unavailable");
        }
      }
    }

    // Each item is checked on its own first: one video the platform or the store refuses fails only its task, not the batch.
    const outcomes: Array<BatchOutcome<VideoTask>> = [];
    const items: Array<PipelineItem<VideoTask>> = [];
    for (const task of batch) {
      const id = task.params.video_id;
      const video = videos.get(id) as Video | undefined;
      if (!video) {
        outcomes.push({ task, ok: false, retryable: false, error: `YouTube video ${id} not found: deleted, private or never existed` });
        continue;
      }
      const problem = problems.get(id);
      if (problem) {
        // A malformed item in an otherwise whole answer: upstream's glitch of this one item, so asked again later.
        outcomes.push({ task, ok: false, retryable: true, error: `YouTube video ${id}: the API answered a malformed item (${problem})` });
        continue;
      }
      const commentError = commentErrors.get(id);
      if (commentError) {
        outcomes.push({ task, ok: false, retryable: true, error: `YouTube video ${id}: comments unavailable for now (${commentError.reason ?? commentError.code})` });
        continue;
      }
      items.push({ task, label: `YouTube video ${id}`, map: () => videoToIdea(video, comments.get(id) ?? [], now) });
    }
    const edges = this.deps.crossModule === false ? false : (this.deps.edges ?? platform.edges);
    outcomes.push(
      ...(await storeItems({ ideas, outbox, platform: "youtube", edges }, items, (spawned) => ({
        reddit_search: spawned.map((t) => (t.params as { query?: string }).query).find((q) => q !== undefined) ?? null,
      }))),
    );
    return outcomes;
  }
}

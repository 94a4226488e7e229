import type { ClaimedTask } from "@prismq/taskmanager-client";
import type { IdeaInput, IdeaStore } from "@prismq/idea-store";
import type { AnyCrossModuleEdge, RedditPostParams } from "@prismq/task-types";
import { storeItems, type BatchOutcome, type Logger, type Outbox, type PipelineItem } from "@prismq/worker-kit";
import { RedditError, isRemoved, platform, postTexts, postToIdea, type RedditApi, type RedditComment, type RedditPost } from "@prismq/reddit-source";

export type PostTask = ClaimedTask<RedditPostParams>;

export interface ProcessorDeps {
  api: RedditApi;
  ideas: IdeaStore;
  outbox: Outbox;
  logger: Logger;
  /** Top comments read per post (one `/comments` request each). 0 turns comments off. Default 10. */
  commentsPerPost?: number;
  /** Comment tree depth read. Default 2. */
  commentDepth?: number;
  /** Comment requests in flight at once. Default 4. */
  commentConcurrency?: number;
  /** Create the cross-module tasks of `edges` (YouTube Video tasks for linked videos). Default true. */
  crossModule?: boolean;
  /** The cross-module edges leaving Reddit. Default: the Reddit platform's. */
  edges?: readonly AnyCrossModuleEdge[];
  now?: () => number;
}

/**
 * Handles a batch of Post tasks with one `/api/info` request (up to 100
 * posts), then the top comments of each post that has any (a few requests at
 * a time): a removed or deleted post fails its task for good, naming its
 * `removed_by_category`; the others become ideas, upserted in one
 * transaction; every YouTube video linked from a post or its top comments
 * becomes a Video task, one hop further (deduplicated).
 *
 * Each task stands alone: an entry Reddit sent garbled (`title: 12345`) fails
 * only its task (retryable, the reason names the field); a comments request
 * that fails for a transient reason fails only its post's task (retryable);
 * one Reddit refuses for good (403 private, 404) leaves that idea without
 * comments; a post the mapping or the store's schema refuses fails alone. When
 * the `/api/info` request itself fails (after the API's retries, e.g. an HTML
 * page instead of JSON) `handle` throws and the worker hands the whole batch
 * back: never "not found".
 */
export class RedditProcessor {
  constructor(private readonly deps: ProcessorDeps) {}

  async handle(batch: PostTask[], signal?: AbortSignal): Promise<Array<BatchOutcome<PostTask>>> {
    const { api, ideas, outbox } = this.deps;
    const now = (this.deps.now ?? Date.now)();
    const posts = new Map<string, RedditPost>();
    // The one request of the batch: when it fails after the API's own retries (a 5xx, or an HTML page instead of
    // JSON: RD_ERR_BAD_ANSWER) it throws, and the worker hands every task back for a later attempt: never "not found".
    const { posts: listed, invalid } = await api.lookup([...new Set(batch.map((t) => t.params.post_id))], signal);
    for (const p of listed) posts.set(p.id, p);

    // Top comments, a few posts at a time; a post with no comments needs no request. Each post's request stands alone.
    const perPost = this.deps.commentsPerPost ?? 10;
    const commentsOf = new Map<string, RedditComment[]>();
    const commentErrors = new Map<string, RedditError | Error>();
    const wanted = [...posts.values()].filter((p) => perPost > 0 && p.numComments > 0 && !isRemoved(p));
    const concurrency = this.deps.commentConcurrency ?? 4;
    for (let i = 0; i < wanted.length; i += concurrency) {
      const slice = wanted.slice(i, i + concurrency);
      const settled = await Promise.allSettled(slice.map((p) => api.comments(p.id, { depth: this.deps.commentDepth ?? 2, limit: perPost, sort: "top" }, signal)));
      signal?.throwIfAborted();
      for (const [k, r] of settled.entries()) {
        const id = slice[k]!.id;
        if (r.status === "fulfilled") commentsOf.set(id, r.value.comments);
        else commentErrors.set(id, r.reason instanceof Error ? r.reason : new Error(String(r.reason)));
      }
    }

    const outcomes: Array<BatchOutcome<PostTask>> = [];
    const items: Array<PipelineItem<PostTask>> = [];
    for (const task of batch) {
      const id = task.params.post_id;
      const post = posts.get(id);
      if (!post) {
        const garbled = invalid.get(id);
        // A garbled entry is Reddit's glitch, not the post's state: retry it.
        if (garbled !== undefined) outcomes.push({ task, ok: false, retryable: true, error: `Reddit post ${id}: Reddit sent an entry that is not a post: ${garbled}` });
        else outcomes.push({ task, ok: false, retryable: false, error: `Reddit post ${id} not found: deleted, in a private or banned subreddit, or never existed` });
        continue;
      }
      if (isRemoved(post)) {
        const how = post.removedByCategory ?? (post.selftext.trim() === "[deleted]" ? "deleted" : "removed");
        const verb = how === "deleted" || how === "author" ? "deleted by its author" : "removed";
        outcomes.push({ task, ok: false, retryable: false, error: `Reddit post ${id} was ${verb} (removed_by_category: ${how}): nothing to process` });
        continue;
      }
      const commentError = commentErrors.get(id);
      const commentsRetryable = commentError instanceof RedditError ? commentError.retryable : commentError !== undefined && !(commentError instanceof RangeError || commentError instanceof TypeError);
      if (commentError && commentsRetryable) {
        outcomes.push({ task, ok: false, retryable: true, error: `Reddit post ${id}: reading its comments failed: ${commentError.message}` });
        continue;
      }
      const comments = commentsOf.get(id) ?? [];
      const map = (): IdeaInput => {
        const idea = postToIdea(post, comments, now);
        // Reddit refused the comments for good (a 403 or 404): the idea stands without them, and says so.
        if (!commentError) return idea;
        return { ...idea, metadata: { ...idea.metadata, commentsError: `${commentError instanceof RedditError ? commentError.code : commentError.name}: ${commentError.message}`.slice(0, 500) } };
      };
      items.push({ task, label: `Reddit post ${id}`, map, texts: () => postTexts(post, comments) });
    }
    const edges = this.deps.crossModule === false ? false : (this.deps.edges ?? platform.edges);
    outcomes.push(...(await storeItems({ ideas, outbox, platform: "reddit", edges }, items, (spawned) => ({ youtube_videos: spawned.length }))));
    return outcomes;
  }
}

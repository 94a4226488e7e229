import type { ClaimedTask } from "@prismq/taskmanager-client";
import { ideaInputSchema, type IdeaInput, type IdeaStore } from "@prismq/idea-store";
import { YouTube, nextHop, type RedditPostParams } from "@prismq/task-types";
import type { BatchOutcome, Logger, Outbox } from "@prismq/worker-kit";
import { isRemoved, postToIdea, youtubeLinks, type RedditApi, type RedditComment, type RedditPost } from "@prismq/reddit-source";

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
  /** Create YouTube Video tasks for linked videos. Default true. */
  crossModule?: boolean;
  now?: () => number;
}

/**
 * Handles a batch of Post tasks with one `/api/info` request (up to 100
 * posts), then the top comments of each post that has any (a few requests at
 * a time): a removed or deleted post fails its
 * task for good; the others become ideas, upserted in one transaction; every
 * YouTube video linked from a post or its top comments becomes a Video task,
 * one hop further (deduplicated).
 */
export class RedditProcessor {
  constructor(private readonly deps: ProcessorDeps) {}

  async handle(batch: PostTask[], signal?: AbortSignal): Promise<Array<BatchOutcome<PostTask>>> {
    const { api, ideas, outbox } = this.deps;
    const now = (this.deps.now ?? Date.now)();
    const posts = new Map<string, RedditPost>();
    for (const p of await api.info([...new Set(batch.map((t) => t.params.post_id))], signal)) posts.set(p.id, p);

    // Top comments, a few posts at a time; a post with no comments needs no request.
    const perPost = this.deps.commentsPerPost ?? 10;
    const commentsOf = new Map<string, RedditComment[]>();
    const wanted = [...posts.values()].filter((p) => perPost > 0 && p.numComments > 0 && !isRemoved(p));
    const concurrency = this.deps.commentConcurrency ?? 4;
    for (let i = 0; i < wanted.length; i += concurrency) {
      await Promise.all(
        wanted.slice(i, i + concurrency).map(async (p) => {
          commentsOf.set(p.id, (await api.comments(p.id, { depth: this.deps.commentDepth ?? 2, limit: perPost, sort: "top" }, signal)).comments);
        }),
      );
    }

    const outcomes: Array<BatchOutcome<PostTask>> = [];
    const found: Array<{ task: PostTask; idea: IdeaInput; links: string[] }> = [];
    for (const task of batch) {
      const id = task.params.post_id;
      const post = posts.get(id);
      if (!post) {
        outcomes.push({ task, ok: false, retryable: false, error: `Reddit post ${id} not found` });
        continue;
      }
      if (isRemoved(post)) {
        outcomes.push({ task, ok: false, retryable: false, error: `Reddit post ${id} was ${post.removedByCategory === "deleted" || post.author === "[deleted]" ? "deleted" : "removed"}: nothing to process` });
        continue;
      }
      const comments = commentsOf.get(id) ?? [];
      const idea = postToIdea(post, comments, now);
      const check = ideaInputSchema.safeParse(idea);
      if (!check.success) {
        const why = check.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
        outcomes.push({ task, ok: false, retryable: false, error: `Reddit post ${id} gives an idea the store refuses: ${why}` });
        continue;
      }
      found.push({ task, idea, links: youtubeLinks(post, comments) });
    }
    const stored = found.length ? await ideas.upsertMany(found.map((f) => f.idea)) : [];

    for (const [i, { task, idea, links }] of found.entries()) {
      const row = stored[i];
      if (!row) continue;
      let videos = 0;
      const hops = this.deps.crossModule === false ? null : nextHop(task.params, "cross-platform");
      if (hops !== null) {
        for (const videoId of links) {
          await outbox.create(YouTube.Video.name, YouTube.Video.params({ video_id: videoId, hops }));
          videos++;
        }
      }
      outcomes.push({ task, ok: true, result: { idea_id: row.id, created: row.created, score: idea.score ?? null, category: idea.category ?? null, youtube_videos: videos } });
    }
    return outcomes;
  }
}

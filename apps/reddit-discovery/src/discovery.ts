import { createHash } from "node:crypto";
import { Reddit, nextHop, type RedditSearchParams, type RedditSubredditParams } from "@prismq/task-types";
import type { AppState, Logger, Outbox, RunReport } from "@prismq/worker-kit";
import type { Page, RedditApi, RedditPost } from "@prismq/reddit-source";

export interface DiscoveryDeps {
  api: RedditApi;
  outbox: Outbox;
  state: AppState;
  logger: Logger;
  /** Most posts a run walks when its params name no limit. Default 100. */
  defaultLimit?: number;
}

const ALL_POSTS = "posts";

/**
 * Subreddit listings and searches, 100 posts a request. A newest-first walk
 * (`new`, or a search sorted by `new`) stops at the first post it already knows;
 * other orders walk to the limit and skip known posts. Each new post becomes a
 * `Post` task through the outbox.
 */
export class RedditDiscovery {
  constructor(private readonly deps: DiscoveryDeps) {}

  async subreddit(params: RedditSubredditParams, signal?: AbortSignal): Promise<RunReport> {
    return this.walk(
      (after, limit) => this.deps.api.listing(params.subreddit, params.sort, { t: params.time_filter, limit, after }, signal),
      params.limit,
      params.sort === "new",
      params.hops,
      `r:${params.subreddit.toLowerCase()}:${params.sort}`,
    );
  }

  async search(params: RedditSearchParams, signal?: AbortSignal): Promise<RunReport> {
    // A search's seen-set is named by a hash: queries may be long and hold any character.
    const key = createHash("sha256")
      .update(JSON.stringify([params.query, params.subreddit?.toLowerCase() ?? null, params.time_filter ?? null]))
      .digest("base64url")
      .slice(0, 32);
    return this.walk(
      (after, limit) => this.deps.api.search({ query: params.query, subreddit: params.subreddit, sort: params.sort, t: params.time_filter, limit, after }, signal),
      params.limit,
      params.sort === "new",
      params.hops,
      params.sort === "new" ? `search:${key}` : undefined,
    );
  }

  private async walk(
    page: (after: string | undefined, limit: number) => Promise<Page<RedditPost>>,
    limitParam: number | undefined,
    newestFirst: boolean,
    hops: number | undefined,
    seenSet: string | undefined,
  ): Promise<RunReport> {
    const limit = limitParam ?? this.deps.defaultLimit ?? 100;
    const report: RunReport = { listed: 0, sent: 0, pages: 0, stoppedAtKnown: false };
    let after: string | undefined;
    do {
      const p = await page(after, Math.min(100, limit - report.listed));
      report.pages++;
      let items = p.items.slice(0, limit - report.listed);
      if (newestFirst && seenSet) {
        const fresh = new Set(await this.deps.state.unseen(seenSet, items.map((i) => i.id)));
        const firstKnown = items.findIndex((i) => !fresh.has(i.id));
        if (firstKnown !== -1) {
          items = items.slice(0, firstKnown);
          report.stoppedAtKnown = true;
        }
      }
      report.listed += items.length;
      report.sent += await this.send(items, hops);
      if (seenSet) await this.deps.state.markSeen(seenSet, items.map((i) => i.id));
      after = p.after ?? undefined;
      if (report.stoppedAtKnown || p.items.length === 0) break;
    } while (after && report.listed < limit);
    return report;
  }

  /** Creates a Post task for each post not sent before; returns how many. The hop count is the source's (same platform). */
  private async send(items: readonly RedditPost[], hops: number | undefined): Promise<number> {
    const fresh = await this.deps.state.unseen(ALL_POSTS, items.map((i) => i.id));
    const hop = nextHop({ hops }, "same-platform") ?? 0;
    for (const postId of fresh) {
      await this.deps.outbox.create(Reddit.Post.name, Reddit.Post.params({ post_id: postId, hops: hop }));
      await this.deps.state.markSeen(ALL_POSTS, [postId]);
    }
    return fresh.length;
  }
}
